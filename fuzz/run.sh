#!/usr/bin/env bash
# Runs the given targets (default: all) one after the other for SECONDS each (default 300),
# on stable Rust through RUSTC_BOOTSTRAP=1, one job each, and prints libFuzzer's final
# stats line per target. Logs: fuzz/logs/<target>.log; findings: fuzz/artifacts/<target>/.
# Usage: fuzz/run.sh [SECONDS] [TARGET...]   (SANITIZER=none to skip AddressSanitizer)
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here/.."
secs="${1:-300}"
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(geotiff png jpeg parquet hdf5)
# Always a target dir of its own (instrumented builds would evict the main ones).
export CARGO_TARGET_DIR="${FUZZ_TARGET_DIR:-$HOME/.cache/panopticon-fuzz-target}"
[ -d "$here/corpus" ] || "$here/seed.sh"
mkdir -p "$here/logs"
for t in "${targets[@]}"; do
    RUSTC_BOOTSTRAP=1 cargo fuzz run -O -s "${SANITIZER:-address}" --fuzz-dir fuzz "$t" -- \
        -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
        >"$here/logs/$t.log" 2>&1
    rc=$?
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$here/logs/$t.log" | grep -o '[0-9]*$')
    speed=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$here/logs/$t.log" | grep -o '[0-9]*$')
    echo "$t: exit $rc, ${execs:-?} executions, ${speed:-?} exec/s, artifacts: $(ls "$here/artifacts/$t" 2>/dev/null | wc -l)"
done
