#!/usr/bin/env bash
# What a newcomer waits for (#44 §5): a fresh clone, an empty cargo home
# (every crate downloaded), then the README's first command,
# `cargo run -p accounts`, until the example answers on port 8000.
#
#   bench/fresh_clone.sh [REV]      # this checkout's HEAD, or REV
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
work=$(mktemp -d)
pid=
cleanup() {
  [ -n "$pid" ] && kill -- -"$pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
git clone -q "$root" "$work/src"
[ -n "${1:-}" ] && git -C "$work/src" checkout -q "$1"
if curl -s -o /dev/null http://127.0.0.1:8000/; then
  echo "!! something already answers on port 8000" >&2
  exit 1
fi
export CARGO_HOME="$work/cargo-home" CARGO_TARGET_DIR="$work/target"
start=$(date +%s.%N)
(cd "$work/src" && set -m && exec setsid cargo run -q -p accounts > "$work/run.log" 2>&1) & pid=$!
until curl -s -o /dev/null http://127.0.0.1:8000/; do
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "!! cargo run stopped:" >&2
    tail -20 "$work/run.log" >&2
    exit 1
  fi
  sleep 0.5
done
end=$(date +%s.%N)
downloaded=$(find "$CARGO_HOME/registry/cache" -name '*.crate' | wc -l)
printf 'fresh clone to serving: %.0f s (%d crates downloaded)\n' "$(echo "$end - $start" | bc)" "$downloaded"
