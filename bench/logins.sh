#!/usr/bin/env bash
# Logins per second with the audit log on and off (#25): two instances of
# the example's release build on SQLite, one with AUTH_EVENT_LOG=off,
# 3 s login loads (8 connections, bench/login.lua) alternated between
# them, medians of several rounds.
#
#   bench/logins.sh            # BENCH_ROUNDS=7 BENCH_DURATION=3
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
rounds=${BENCH_ROUNDS:-7}
duration=${BENCH_DURATION:-3}
password="bench-password-1234"
work=$(mktemp -d)
pids=()
trap 'for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done' EXIT
if ! command -v wrk >/dev/null 2>&1; then
  apt-get update -qq >/dev/null && apt-get install -y -qq wrk >/dev/null
fi
cargo build --release -q -p accounts --bin accounts
bin="$root/target/release/accounts"

export REDIS_URL="" AUTH_SECRET_KEY="benchmark-secret-key-benchmark-secret-key-0123"
export RUST_LOG=warn AUTH_USER_PASSWORD="$password"
declare -A port=([on]=18192 [off]=18193) token=() secret=()
for side in on off; do
  mkdir -p "$work/$side"
  export DATABASE_URL="sqlite://$work/$side/auth.db?mode=rwc"
  (cd "$work/$side" && "$bin" createuser --noinput --username bench >/dev/null)
  (cd "$work/$side" && AUTH_EVENT_LOG=$side exec "$bin" serve --bind "127.0.0.1:${port[$side]}") & pids+=($!)
done
for side in on off; do
  base="http://127.0.0.1:${port[$side]}"
  for _ in $(seq 1 100); do curl -sf "$base/" >/dev/null && break; sleep 0.1; done
  jar="$work/$side/jar"
  token[$side]=$(curl -s -c "$jar" "$base/login/" | sed -n 's/.*name="csrfmiddlewaretoken" value="\([A-Za-z0-9]*\)".*/\1/p' | head -1)
  secret[$side]=$(awk '$6 == "csrftoken" { print $7 }' "$jar")
done

# Successful logins (303s) per second: a refused attempt (429, 503) is
# fast and must not count. A generous timeout, so wrk never abandons a
# login mid-hash (the throttle counts an abandoned attempt as a failure).
rate() { # side
  local side=$1
  CSRF_TOKEN="${token[$side]}" CSRF_SECRET="${secret[$side]}" BENCH_PASSWORD="$password" \
    wrk -t1 -c8 -d"${duration}s" --timeout 30s -s "$root/bench/login.lua" "http://127.0.0.1:${port[$side]}/login/" \
    | awk -v d="$duration" '/requests in/ { total = $1 } /Non-2xx or 3xx/ { bad = $5 } END { printf "%.1f %d\n", (total - bad) / d, bad }'
}
for _ in $(seq 1 "$rounds"); do
  for side in on off; do echo "$side $(rate "$side")"; done
done > "$work/rates"
rows=$(sqlite3 "$work/on/auth.db" "SELECT COUNT(*) FROM auth_event" 2>/dev/null || echo "?")

python3 - "$work/rates" "$rounds" "$rows" <<'PY'
import statistics, sys
rates = {}
refused = 0
for line in open(sys.argv[1]):
    side, value, bad = line.split()
    rates.setdefault(side, []).append(float(value))
    refused += int(bad)
on, off = (statistics.median(rates[s]) for s in ("on", "off"))
print(f"successful logins/s, medians of {sys.argv[2]} interleaved rounds: log on {on:.1f}, off {off:.1f}, "
      f"on/off {on / off:.2f} ({sys.argv[3]} events logged, {refused} attempts refused)")
if refused:
    sys.exit("!! some logins were refused: the figures above count only the successful ones")
PY
