#!/usr/bin/env bash
# A burst on fresh instances: starts two instances of the release-built
# example on PostgreSQL (+ Redis for sessions), logs in on the first, and
# at once sends 8 connections of logged-in requests to each for 5 s with
# wrk; repeats ROUNDS times and prints the answers that were not 2xx/3xx
# (a 503 here is a request that waited out the database timeout).
#
#   AUTH_BENCH_POSTGRES_URL=... [AUTH_BENCH_REDIS_URL=...] bench/cold_start.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$PWD/target/release/accounts"
pg=${AUTH_BENCH_POSTGRES_URL:?set AUTH_BENCH_POSTGRES_URL}
rounds=${1:-10}
password="bench-password-1234"
failures=0
for round in $(seq 1 "$rounds"); do
  schema="cold_$(date +%s)_$round"
  psql -q "$pg" -c "CREATE SCHEMA $schema"
  work=$(mktemp -d)
  sep='?'; case "$pg" in *\?*) sep='&' ;; esac
  export DATABASE_URL="${pg}${sep}options=-c%20search_path%3D${schema}" REDIS_URL="${AUTH_BENCH_REDIS_URL:-}"
  export AUTH_SESSION_REDIS_KEY_PREFIX="$schema:" AUTH_SECRET_KEY="benchmark-secret-key-benchmark-secret-key-0123"
  export RUST_LOG=warn AUTH_USER_PASSWORD="$password"
  (cd "$work" && "$bin" createuser --noinput --username bench >/dev/null)
  (cd "$work" && exec "$bin" serve --bind 127.0.0.1:18180 2>"$work/one.log") & one=$!
  (cd "$work" && exec "$bin" serve --bind 127.0.0.1:18181 2>"$work/two.log") & two=$!
  for _ in $(seq 1 100); do curl -sf http://127.0.0.1:18181/ >/dev/null && curl -sf http://127.0.0.1:18180/ >/dev/null && break; sleep 0.05; done
  jar="$work/jar"
  token=$(curl -s -c "$jar" -b "$jar" http://127.0.0.1:18180/login/ | sed -n 's/.*name="csrfmiddlewaretoken" value="\([A-Za-z0-9]*\)".*/\1/p' | head -1)
  curl -s -o /dev/null -c "$jar" -b "$jar" -d "csrfmiddlewaretoken=$token&username=bench&password=$password" http://127.0.0.1:18180/login/
  session=$(awk '$6 == "sessionid" { print $7 }' "$jar")
  wrk -t1 -c8 -d5s -H "Cookie: sessionid=$session" http://127.0.0.1:18181/profile/ > "$work/w2.txt" & w=$!
  wrk -t1 -c8 -d5s -H "Cookie: sessionid=$session" http://127.0.0.1:18180/profile/ > "$work/w1.txt"
  wait "$w"
  bad=$(awk '/Non-2xx or 3xx responses/ { n += $NF } END { print n + 0 }' "$work/w1.txt" "$work/w2.txt")
  echo "round $round: $bad answers not 2xx/3xx"
  failures=$((failures + bad))
  kill "$one" "$two"; wait "$one" "$two" 2>/dev/null || true
  psql -q "$pg" -c "DROP SCHEMA $schema CASCADE" 2>/dev/null
done
echo "total: $failures answers not 2xx/3xx over $rounds rounds"
