#!/usr/bin/env bash
# HTTP load benchmark: what a guarded request and a login cost against a
# baseline route in the same binary (README "Performance").
#
#   bench/http.sh
#
# Builds examples/accounts in release, logs one user in, and drives it with
# wrk at a fixed concurrency for a fixed duration:
#   (a) authenticated GET /profile/          (session + user + hash check + render)
#   (b) anonymous GET /profile/              (the login redirect)
#   (c) GET /__bench/profile/                (same template, no session or auth layer)
#   (d) POST /login/ with 8 connections      (argon2 verification + new session)
# on SQLite as configured by default, on SQLite with the in-process cache
# (AUTH_CACHE_TTL=5),
# and prints requests/s, p50 and p99 for each, a/c and b/c, and logins/s
# against the raw argon2 rate of 2 threads; and on
# PostgreSQL + Redis when AUTH_BENCH_POSTGRES_URL and AUTH_BENCH_REDIS_URL
# are set. Tunables: BENCH_DURATION (s, default 10), BENCH_CONNECTIONS
# (default 16), BENCH_PORT (default 18080).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

duration=${BENCH_DURATION:-10}
connections=${BENCH_CONNECTIONS:-16}
port=${BENCH_PORT:-18080}
base="http://127.0.0.1:${port}"
password="bench-password-1234"

if ! command -v wrk >/dev/null 2>&1; then
  echo "== installing wrk"
  apt-get update -qq >/dev/null && apt-get install -y -qq wrk >/dev/null
fi
echo "== building (release)"
cargo build --release -q -p accounts --bin accounts
cargo build --release -q -p auth --example hash_rate
bin="$root/target/release/accounts"

server_pid=""
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true; }
trap cleanup EXIT

load() { # label, wrk arguments...
  local label=$1; shift
  wrk -t1 --latency "$@" > "$work/$label.txt"
  python3 "$root/bench/wrk_summary.py" "$label" "$work/$label.txt"
}

suite() { # name, DATABASE_URL, REDIS_URL (may be empty)
  local name=$1 database_url=$2 redis_url=$3
  work=$(mktemp -d)
  echo
  echo "== $name"
  export DATABASE_URL="$database_url" REDIS_URL="$redis_url"
  export AUTH_SECRET_KEY="benchmark-secret-key-benchmark-secret-key-0123"
  export ACCOUNTS_BENCH_BASELINE=1 RUST_LOG=warn AUTH_USER_PASSWORD="$password"
  (cd "$work" && "$bin" createuser --noinput --username bench >/dev/null)
  (cd "$work" && exec "$bin" serve --bind "127.0.0.1:${port}") &
  server_pid=$!
  for _ in $(seq 1 100); do curl -sf "$base/" >/dev/null && break; sleep 0.1; done

  local jar="$work/cookies"
  local token
  token=$(curl -s -c "$jar" -b "$jar" "$base/login/" | sed -n 's/.*name="csrfmiddlewaretoken" value="\([A-Za-z0-9]*\)".*/\1/p' | head -1)
  curl -s -o /dev/null -c "$jar" -b "$jar" -d "csrfmiddlewaretoken=$token&username=bench&password=$password" "$base/login/"
  local session csrf
  session=$(awk '$6 == "sessionid" { print $7 }' "$jar")
  csrf=$(awk '$6 == "csrftoken" { print $7 }' "$jar")
  [ -n "$session" ] || { echo "!! login failed" >&2; exit 1; }
  token=$(curl -s -b "$jar" "$base/profile/" | sed -n 's/.*name="csrfmiddlewaretoken" value="\([A-Za-z0-9]*\)".*/\1/p' | head -1)

  # Warm up, then measure.
  wrk -t1 -c "$connections" -d 2s -H "Cookie: sessionid=$session" "$base/profile/" >/dev/null
  load baseline -c "$connections" -d "${duration}s" "$base/__bench/profile/"
  load authenticated -c "$connections" -d "${duration}s" -H "Cookie: sessionid=$session; csrftoken=$csrf" "$base/profile/"
  load anonymous -c "$connections" -d "${duration}s" "$base/profile/"
  CSRF_TOKEN="$token" CSRF_SECRET="$csrf" BENCH_PASSWORD="$password" \
    load logins -c 8 -d "${duration}s" -s "$root/bench/login.lua" "$base/login/"

  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
  "$root/target/release/examples/hash_rate" 2 5 > "$work/hash_rate.txt"
  python3 "$root/bench/wrk_summary.py" --report "$work"
}

sqlite_dir=$(mktemp -d)
export AUTH_CACHE_TTL=0
suite "SQLite, sessions in the database (the default)" "sqlite://$sqlite_dir/bench.db?mode=rwc" ""
cached_dir=$(mktemp -d)
AUTH_CACHE_TTL=5 suite "SQLite with AUTH_CACHE_TTL=5 (in-process cache, single instance)" \
  "sqlite://$cached_dir/bench.db?mode=rwc" ""

if [ -n "${AUTH_BENCH_POSTGRES_URL:-}" ] && [ -n "${AUTH_BENCH_REDIS_URL:-}" ]; then
  schema="bench_$(date +%s)"
  psql -q "$AUTH_BENCH_POSTGRES_URL" -c "CREATE SCHEMA $schema" >/dev/null
  sep='?'; case "$AUTH_BENCH_POSTGRES_URL" in *\?*) sep='&' ;; esac
  suite "PostgreSQL + Redis sessions" "${AUTH_BENCH_POSTGRES_URL}${sep}options=-c%20search_path%3D${schema}" "$AUTH_BENCH_REDIS_URL"
  psql -q "$AUTH_BENCH_POSTGRES_URL" -c "DROP SCHEMA $schema CASCADE" >/dev/null
  redis-cli -u "$AUTH_BENCH_REDIS_URL" --scan --pattern 'auth:session:*' | xargs -r redis-cli -u "$AUTH_BENCH_REDIS_URL" del >/dev/null
else
  echo
  echo "== PostgreSQL + Redis: skipped (set AUTH_BENCH_POSTGRES_URL and AUTH_BENCH_REDIS_URL)"
fi
