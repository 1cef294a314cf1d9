#!/usr/bin/env bash
# The soak (README "Soak"): two release instances of the example on
# PostgreSQL + Redis under mixed traffic for SOAK_MINUTES (30), with a
# PostgreSQL restart at one third and a Redis restart at two thirds.
#
#   bench/soak.sh
#   SOAK_MINUTES=5 SOAK_USERS=500 bench/soak.sh
#
# Not run by CI (it takes half an hour, and restarts the local servers).
# Writes target/soak/minutes.csv and docs/soak.png (with matplotlib).
set -euo pipefail
cd "$(dirname "$0")/.."
.ci/services
cargo build --release -q -p accounts --bin accounts
exec python3 bench/soak.py
