#!/usr/bin/env bash
# HTTP load benchmark (README "Performance"), every figure from one run on
# this machine, so the ratios compare like with like.
#
#   bench/http.sh
#
# Builds examples/accounts and the reference app (bench/reference:
# axum-login 0.18 + tower-sessions' SQLite store) in release, logs one user
# in, and drives each with wrk at a fixed concurrency:
#   (a) authenticated GET /profile/          (session + user + hash check + render)
#   (b) anonymous GET /profile/              (the login redirect)
#   (c) GET /__bench/profile/                (same template, no session or auth layer)
#   (h) anonymous GET /                      (home page, no form)
#   (d) POST /login/ with 8 connections      (argon2 verification + new session)
# Suites: ours on SQLite with the coherent cache (the default), the same
# with AUTH_EVENT_LOG=off (what the audit log costs), ours with
# AUTH_CACHE=off, the reference, and two instances of ours on PostgreSQL +
# Redis (the load split over both) whenever those servers answer: the
# local ones `.ci/run` starts, or AUTH_BENCH_POSTGRES_URL and
# AUTH_BENCH_REDIS_URL. Prints requests/s, p50 and p99 per load and
# the ratios the README reports. Tunables: BENCH_DURATION (s, default 10),
# BENCH_CONNECTIONS (default 16), BENCH_PORT (default 18080).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

duration=${BENCH_DURATION:-10}
connections=${BENCH_CONNECTIONS:-16}
port=${BENCH_PORT:-18080}
port2=$((port + 1))
base="http://127.0.0.1:${port}"
password="bench-password-1234"
results=$(mktemp -d)

if ! command -v wrk >/dev/null 2>&1; then
  echo "== installing wrk"
  apt-get update -qq >/dev/null && apt-get install -y -qq wrk >/dev/null
fi
echo "== building (release)"
cargo build --release -q -p accounts --bin accounts
cargo build --release -q -p contrib-auth --example hash_rate
(cd bench/reference && cargo build --release -q)
bin="$root/target/release/accounts"
reference="$root/bench/reference/target/release/reference"
"$root/target/release/examples/hash_rate" 2 5 > "$results/hash_rate.txt"

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT

load() { # suite, label, wrk arguments...
  local suite=$1 label=$2; shift 2
  mkdir -p "$results/$suite"
  wrk -t1 --latency "$@" > "$results/$suite/$label.txt"
  python3 "$root/bench/wrk_summary.py" "$label" "$results/$suite/$label.txt"
}

wait_up() { for _ in $(seq 1 100); do curl -sf "$1/__bench/profile/" >/dev/null && return; sleep 0.1; done; echo "!! $1 did not start" >&2; exit 1; }

csrf_token() { sed -n 's/.*name="csrfmiddlewaretoken" value="\([A-Za-z0-9]*\)".*/\1/p' | head -1; }

ours() { # suite name, DATABASE_URL, REDIS_URL (may be empty), instances (1 or 2)
  local suite=$1 database_url=$2 redis_url=$3 instances=$4
  local work; work=$(mktemp -d)
  echo
  echo "== $suite"
  export DATABASE_URL="$database_url" REDIS_URL="$redis_url"
  export AUTH_SECRET_KEY="benchmark-secret-key-benchmark-secret-key-0123"
  export ACCOUNTS_BENCH_BASELINE=1 RUST_LOG=warn AUTH_USER_PASSWORD="$password"
  (cd "$work" && "$bin" createuser --noinput --username bench >/dev/null)
  (cd "$work" && exec "$bin" serve --bind "127.0.0.1:${port}") & pids+=($!)
  wait_up "$base"
  local second=""
  if [ "$instances" = 2 ]; then
    (cd "$work" && exec "$bin" serve --bind "127.0.0.1:${port2}") & pids+=($!)
    second="http://127.0.0.1:${port2}"
    wait_up "$second"
  fi

  local jar="$work/cookies" token session csrf
  token=$(curl -s -c "$jar" -b "$jar" "$base/login/" | csrf_token)
  curl -s -o /dev/null -c "$jar" -b "$jar" -d "csrfmiddlewaretoken=$token&username=bench&password=$password" "$base/login/"
  session=$(awk '$6 == "sessionid" { print $7 }' "$jar")
  csrf=$(awk '$6 == "csrftoken" { print $7 }' "$jar")
  [ -n "$session" ] || { echo "!! login failed" >&2; exit 1; }
  token=$(curl -s -b "$jar" "$base/profile/" | csrf_token)
  local cookie="Cookie: sessionid=$session; csrftoken=$csrf"

  wrk -t1 -c "$connections" -d 2s -H "$cookie" "$base/profile/" >/dev/null
  if [ -z "$second" ]; then
    load "$suite" baseline -c "$connections" -d "${duration}s" "$base/__bench/profile/"
    load "$suite" authenticated -c "$connections" -d "${duration}s" -H "$cookie" "$base/profile/"
    load "$suite" anonymous -c "$connections" -d "${duration}s" "$base/profile/"
    load "$suite" home -c "$connections" -d "${duration}s" "$base/"
    # The hash rate right before and after the logins: this VM's speed
    # drifts by a third over minutes, so a rate taken at the start of the
    # run is no baseline for logins measured later.
    mkdir -p "$results/$suite"
    "$root/target/release/examples/hash_rate" 2 3 > "$results/$suite/hash_rate_before.txt"
    CSRF_TOKEN="$token" CSRF_SECRET="$csrf" BENCH_PASSWORD="$password" \
      load "$suite" logins -c 8 -d "${duration}s" -s "$root/bench/login.lua" "$base/login/"
    "$root/target/release/examples/hash_rate" 2 3 > "$results/$suite/hash_rate_after.txt"
  else
    # Half the connections on each instance, at once; the figures add up.
    local half=$((connections / 2))
    for label in baseline authenticated anonymous home; do
      local path="/profile/" header=()
      case $label in baseline) path="/__bench/profile/" ;; authenticated) header=(-H "$cookie") ;; home) path="/" ;; esac
      wrk -t1 --latency -c "$half" -d "${duration}s" "${header[@]}" "$second$path" > "$work/second.txt" &
      local other=$!
      load "$suite" "$label" -c "$half" -d "${duration}s" "${header[@]}" "$base$path" >/dev/null
      wait "$other"
      python3 "$root/bench/wrk_summary.py" --add "$label" "$results/$suite/$label.txt" "$work/second.txt"
    done
  fi
  cleanup; pids=()
  wait 2>/dev/null || true
}

reference_suite() {
  local suite="reference" work; work=$(mktemp -d)
  echo
  echo "== $suite: axum-login 0.18 + tower-sessions SQLite store"
  "$reference" serve "127.0.0.1:${port}" "$work/reference.db" bench "$password" & pids+=($!)
  wait_up "$base"
  local jar="$work/cookies" session
  curl -s -o /dev/null -c "$jar" -b "$jar" -d "username=bench&password=$password" "$base/login/"
  session=$(awk '$6 == "id" { print $7 }' "$jar")
  [ -n "$session" ] || { echo "!! reference login failed" >&2; exit 1; }
  wrk -t1 -c "$connections" -d 2s -H "Cookie: id=$session" "$base/profile/" >/dev/null
  load "$suite" baseline -c "$connections" -d "${duration}s" "$base/__bench/profile/"
  load "$suite" authenticated -c "$connections" -d "${duration}s" -H "Cookie: id=$session" "$base/profile/"
  load "$suite" anonymous -c "$connections" -d "${duration}s" "$base/profile/"
  load "$suite" home -c "$connections" -d "${duration}s" "$base/"
  cleanup; pids=()
  wait 2>/dev/null || true
}

cached_dir=$(mktemp -d)
AUTH_CACHE=on ours cached "sqlite://$cached_dir/bench.db?mode=rwc" "" 1
uncached_dir=$(mktemp -d)
AUTH_CACHE=off ours uncached "sqlite://$uncached_dir/bench.db?mode=rwc" "" 1
# The cached suite again without the audit log: what the log costs logins.
no_log_dir=$(mktemp -d)
AUTH_CACHE=on AUTH_EVENT_LOG=off ours no_event_log "sqlite://$no_log_dir/bench.db?mode=rwc" "" 1
reference_suite

[ -n "${AUTH_BENCH_POSTGRES_URL:-}" ] || "$root/.ci/services" >/dev/null
postgres_url=${AUTH_BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}
redis_url=${AUTH_BENCH_REDIS_URL:-redis://127.0.0.1:6379/0}
if psql -q "$postgres_url" -c "SELECT 1" >/dev/null 2>&1 && [ "$(redis-cli -u "$redis_url" ping 2>/dev/null)" = PONG ]; then
  AUTH_BENCH_POSTGRES_URL=$postgres_url AUTH_BENCH_REDIS_URL=$redis_url
  schema="bench_$(date +%s)"
  psql -q "$AUTH_BENCH_POSTGRES_URL" -c "CREATE SCHEMA $schema" >/dev/null
  sep='?'; case "$AUTH_BENCH_POSTGRES_URL" in *\?*) sep='&' ;; esac
  AUTH_CACHE=on ours postgres_redis "${AUTH_BENCH_POSTGRES_URL}${sep}options=-c%20search_path%3D${schema}" "$AUTH_BENCH_REDIS_URL" 2
  psql -q "$AUTH_BENCH_POSTGRES_URL" -c "DROP SCHEMA $schema CASCADE" >/dev/null
  redis-cli -u "$AUTH_BENCH_REDIS_URL" --scan --pattern 'auth:session:*' | xargs -r redis-cli -u "$AUTH_BENCH_REDIS_URL" del >/dev/null
else
  echo
  echo "!! PostgreSQL + Redis: no server answers at $postgres_url and $redis_url" >&2
  exit 1
fi

echo
python3 "$root/bench/wrk_summary.py" --report "$results"
