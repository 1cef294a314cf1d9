#!/usr/bin/env bash
# Ours and the reference side by side, loads interleaved, medians of
# several rounds: on a machine whose speed drifts from minute to minute
# (a shared VM), a ratio between two back-to-back 10 s runs can be off by
# 15%, while alternating short runs of both keeps them on the same footing.
#
#   bench/interleaved.sh            # BENCH_ROUNDS=7 BENCH_DURATION=3
#
# Both servers run at once on SQLite (ours with the cache on, its
# default); each round loads (a) the logged-in profile, (b) the login
# redirect, (h) the home page and (c) the bare route on one, then the
# other. Prints the median requests/s of each and ours / reference, and
# each load's p99/p50 (median and worst over the rounds): a tail that the
# bare route, which has no auth layer, shows as well is the machine's.
# The reference runs twice: with Django's four security headers set
# through tower-http (the comparison #44 settled on: both stacks do the
# same work) and without them (the headerless column).
# Build first: bench/http.sh builds both.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
rounds=${BENCH_ROUNDS:-7}
duration=${BENCH_DURATION:-3}
password="bench-password-1234"
ours_port=18180
ref_port=18181
bare_port=18182
bin="$root/target/release/accounts"
reference="$root/bench/reference/target/release/reference"
work=$(mktemp -d)
pids=()
trap 'for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done' EXIT

export DATABASE_URL="sqlite://$work/ours.db?mode=rwc" REDIS_URL=""
export AUTH_SECRET_KEY="benchmark-secret-key-benchmark-secret-key-0123"
export ACCOUNTS_BENCH_BASELINE=1 RUST_LOG=warn AUTH_USER_PASSWORD="$password"
(cd "$work" && "$bin" createuser --noinput --username bench >/dev/null)
(cd "$work" && exec "$bin" serve --bind "127.0.0.1:$ours_port") & pids+=($!)
"$reference" serve "127.0.0.1:$ref_port" "$work/reference.db" bench "$password" & pids+=($!)
REFERENCE_SECURITY_HEADERS=0 "$reference" serve "127.0.0.1:$bare_port" "$work/bare.db" bench "$password" & pids+=($!)
for port in $ours_port $ref_port $bare_port; do
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/__bench/profile/" >/dev/null && break; sleep 0.1; done
done

jar="$work/jar"
token=$(curl -s -c "$jar" -b "$jar" "http://127.0.0.1:$ours_port/login/" | sed -n 's/.*name="csrfmiddlewaretoken" value="\([A-Za-z0-9]*\)".*/\1/p' | head -1)
curl -s -o /dev/null -c "$jar" -b "$jar" -d "csrfmiddlewaretoken=$token&username=bench&password=$password" "http://127.0.0.1:$ours_port/login/"
ours_cookie="Cookie: sessionid=$(awk '$6 == "sessionid" { print $7 }' "$jar")"
curl -s -o /dev/null -c "$work/refjar" -d "username=bench&password=$password" "http://127.0.0.1:$ref_port/login/"
ref_cookie="Cookie: id=$(awk '$6 == "id" { print $7 }' "$work/refjar")"
curl -s -o /dev/null -c "$work/barejar" -d "username=bench&password=$password" "http://127.0.0.1:$bare_port/login/"
bare_cookie="Cookie: id=$(awk '$6 == "id" { print $7 }' "$work/barejar")"
if ! curl -sI -H "$ref_cookie" "http://127.0.0.1:$ref_port/profile/" | grep -qi '^x-frame-options: DENY' \
  || curl -sI -H "$bare_cookie" "http://127.0.0.1:$bare_port/profile/" | grep -qi '^x-frame-options'; then
  echo "!! the reference's security headers are not as configured" >&2
  exit 1
fi

rate() {
  wrk -t1 -c16 --latency -d"${duration}s" "$@" > "$work/wrk.txt"
  python3 "$root/bench/wrk_summary.py" --fields "$work/wrk.txt"
}
for round in $(seq 1 "$rounds"); do
  for side in ours ref bare; do
    case $side in
      ours) port=$ours_port cookie=$ours_cookie ;;
      ref) port=$ref_port cookie=$ref_cookie ;;
      bare) port=$bare_port cookie=$bare_cookie ;;
    esac
    base="http://127.0.0.1:$port"
    echo "$side a $(rate -H "$cookie" "$base/profile/")"
    echo "$side b $(rate "$base/profile/")"
    echo "$side h $(rate "$base/")"
    echo "$side c $(rate "$base/__bench/profile/")"
  done
done > "$work/rates"

python3 - "$work/rates" "$rounds" <<'EOF'
import statistics, sys
rates, tails = {}, {}
for line in open(sys.argv[1]):
    side, load, value, p50, p99 = line.split()
    rates.setdefault((side, load), []).append(float(value))
    tails.setdefault((side, load), []).append(float(p99) / float(p50))
print(f"medians of {sys.argv[2]} interleaved rounds (requests/s)")
print(f"{'load':>24} {'ours':>9} {'reference':>10} {'ours/ref':>9} {'no headers':>11} {'ours/that':>10}")
names = {"a": "a: logged in", "b": "b: login redirect", "h": "h: home (anonymous)", "c": "c: bare route"}
med = {key: statistics.median(values) for key, values in rates.items()}
for load in "abhc":
    o, r, b = med[("ours", load)], med[("ref", load)], med[("bare", load)]
    print(f"{names[load]:>24} {o:9.0f} {r:10.0f} {o / r:9.2f} {b:11.0f} {o / b:10.2f}")
for side in ("ours", "ref"):
    print(f"{side}: a/c {med[(side, 'a')] / med[(side, 'c')]:.2f}, b/c {med[(side, 'b')] / med[(side, 'c')]:.2f}")
print("p99/p50 per load, median (worst) of the rounds")
print(f"{'load':>24} {'ours':>14} {'reference':>14}")
for load in "abhc":
    cells = []
    for side in ("ours", "ref"):
        values = tails[(side, load)]
        cells.append(f"{statistics.median(values):.1f} ({max(values):.1f})")
    print(f"{names[load]:>24} {cells[0]:>14} {cells[1]:>14}")
a, c = statistics.median(tails[("ours", "a")]), statistics.median(tails[("ours", "c")])
print(f"ours: logged-in p99/p50 over the bare route's, same run: {a / c:.2f}")
EOF
