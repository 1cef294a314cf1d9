#!/usr/bin/env bash
# Two builds of the example against each other, loads interleaved, medians
# of several rounds: what a change costs (or saves) per request, measured
# in the same run.
#
#   bench/ab.sh REV            # the example at REV (A) against this checkout (B)
#   BENCH_ROUNDS=9 BENCH_DURATION=3 bench/ab.sh main~3
#
# A is built from a worktree of REV into a target directory of its own
# (target/ab: sharing this checkout's would let cargo take one side's
# workspace crates for the other's, as their paths differ but not their
# names), kept between runs; B is the working tree. Both serve at once on SQLite with the cache on; each
# round loads (a) the logged-in profile, (b) the login redirect, (h) the
# home page, (c) the bare route and (l) logins (successful ones per
# second, bench/login.lua) on one, then the other. Prints the median
# requests/s of each and B / A.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
rev=${1:?usage: bench/ab.sh REV}
rounds=${BENCH_ROUNDS:-7}
duration=${BENCH_DURATION:-3}
password="bench-password-1234"
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  git -C "$root" worktree remove --force "$work/a-src" 2>/dev/null || true
}
trap cleanup EXIT

if ! command -v wrk >/dev/null 2>&1; then
  echo "== installing wrk"
  apt-get update -qq >/dev/null && apt-get install -y -qq wrk >/dev/null
fi

echo "== building A ($rev) and B (this checkout)"
git -C "$root" worktree add --detach -q "$work/a-src" "$rev"
(cd "$work/a-src" && CARGO_TARGET_DIR="$root/target/ab" cargo build --release -q -p accounts --bin accounts)
cp "$root/target/ab/release/accounts" "$work/accounts-a"
cargo build --release -q -p accounts --bin accounts
cp "$root/target/release/accounts" "$work/accounts-b"

export REDIS_URL="" AUTH_SECRET_KEY="benchmark-secret-key-benchmark-secret-key-0123"
export ACCOUNTS_BENCH_BASELINE=1 RUST_LOG=warn AUTH_USER_PASSWORD="$password"
declare -A port=([a]=18190 [b]=18191) cookie=() token=() secret=()
for side in a b; do
  mkdir -p "$work/$side"
  (cd "$work/$side" && DATABASE_URL="sqlite://$work/$side/auth.db?mode=rwc" "$work/accounts-$side" createuser --noinput --username bench >/dev/null)
  (cd "$work/$side" && DATABASE_URL="sqlite://$work/$side/auth.db?mode=rwc" exec "$work/accounts-$side" serve --bind "127.0.0.1:${port[$side]}") & pids+=($!)
done
for side in a b; do
  base="http://127.0.0.1:${port[$side]}"
  for _ in $(seq 1 100); do curl -sf "$base/__bench/profile/" >/dev/null && break; sleep 0.1; done
  jar="$work/$side/jar"
  token=$(curl -s -c "$jar" -b "$jar" "$base/login/" | sed -n 's/.*name="csrfmiddlewaretoken" value="\([A-Za-z0-9]*\)".*/\1/p' | head -1)
  curl -s -o /dev/null -c "$jar" -b "$jar" -d "csrfmiddlewaretoken=$token&username=bench&password=$password" "$base/login/"
  cookie[$side]="Cookie: sessionid=$(awk '$6 == "sessionid" { print $7 }' "$jar")"
  curl -sf -o /dev/null -H "${cookie[$side]}" "$base/profile/" || { echo "!! $side: the logged-in page did not answer" >&2; exit 1; }
  # A form token and its secret for the login load (no session cookie:
  # every request is a fresh login).
  ljar="$work/$side/login-jar"
  token[$side]=$(curl -s -c "$ljar" "$base/login/" | sed -n 's/.*name="csrfmiddlewaretoken" value="\([A-Za-z0-9]*\)".*/\1/p' | head -1)
  secret[$side]=$(awk '$6 == "csrftoken" { print $7 }' "$ljar")
done

rate() { wrk -t1 -c16 -d"${duration}s" "$@" | awk '/Requests\/sec/ { print $2 }'; }
# Successful logins (303s) per second, with a timeout no login outlives.
logins() { # side
  local side=$1
  CSRF_TOKEN="${token[$side]}" CSRF_SECRET="${secret[$side]}" BENCH_PASSWORD="$password" \
    wrk -t1 -c8 -d"${duration}s" --timeout 30s -s "$root/bench/login.lua" "http://127.0.0.1:${port[$side]}/login/" \
    | awk -v d="$duration" '/requests in/ { total = $1 } /Non-2xx or 3xx/ { bad = $5 } END { printf "%.1f\n", (total - bad) / d }'
}
for _ in $(seq 1 "$rounds"); do
  for side in a b; do
    base="http://127.0.0.1:${port[$side]}"
    echo "$side a $(rate -H "${cookie[$side]}" "$base/profile/")"
    echo "$side b $(rate "$base/profile/")"
    echo "$side h $(rate "$base/")"
    echo "$side c $(rate "$base/__bench/profile/")"
    echo "$side l $(logins "$side")"
  done
done > "$work/rates"

python3 - "$work/rates" "$rounds" "$rev" <<'EOF'
import statistics, sys
rates = {}
for line in open(sys.argv[1]):
    side, load, value = line.split()
    rates.setdefault((side, load), []).append(float(value))
print(f"medians of {sys.argv[2]} interleaved rounds (requests/s); A = {sys.argv[3]}, B = this checkout")
print(f"{'load':>24} {'A':>9} {'B':>9} {'B/A':>6}")
names = {"a": "a: logged in", "b": "b: login redirect", "h": "h: home (anonymous)", "c": "c: bare route", "l": "l: logins"}
med = {key: statistics.median(values) for key, values in rates.items()}
for load in "abhcl":
    a, b = med[("a", load)], med[("b", load)]
    print(f"{names[load]:>24} {a:9.0f} {b:9.0f} {b / a:6.2f}")
EOF
