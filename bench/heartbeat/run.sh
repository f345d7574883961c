#!/usr/bin/env bash
# bench/heartbeat/run.sh: the heartbeat benchmark of docs/heartbeat.md (not a pass/fail test).
# Builds hbsim (into $XPUSH_BUILD, default build/) and prints the tables: T = 300 s over 7
# simulated days (and the worst single day), then T = 120 s and T = 1800 s. Takes ~1 s.
#   bench/heartbeat/run.sh [hbsim options, e.g. --seed 5 --pushes 200]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${XPUSH_BUILD:-$ROOT/build}
[[ -f $BUILD/build.ninja ]] || meson setup "$BUILD" "$ROOT" >/dev/null
ninja -C "$BUILD" bench/heartbeat/hbsim >/dev/null
SIM=$BUILD/bench/heartbeat/hbsim

echo "## T = 300 s (China Mobile's NAT), 7 days from a cold start"
"$SIM" --nat-s 300 --days 7 --markdown "$@"
"$SIM" --nat-s 300 --days 7 "$@" | grep '^goal'
echo
echo "## Each of the first 5 days alone (cold start: the learner starts at heartbeat_min_ms)"
for seed in 1 2 3 4 5; do
	"$SIM" --nat-s 300 --days 1 --seed "$seed" "$@" | grep '^goal' | sed "s/^/seed $seed: /"
done
echo
echo "## Other networks (7 days): a stricter NAT and a lenient one"
"$SIM" --nat-s 120 --days 7 --markdown "$@"
echo
"$SIM" --nat-s 1800 --days 7 --markdown "$@"
