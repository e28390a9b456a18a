#!/usr/bin/env bash
# Runs the given targets (default: every target of fuzz/Cargo.toml) one after the other for
# SECONDS each (default 300), on stable Rust through RUSTC_BOOTSTRAP=1, one job each, with
# debug assertions and overflow checks on (`-a`), and prints libFuzzer's executions and speed
# per target; each run is also appended to fuzz/logs/summary.tsv (target, sanitizer, seconds,
# executions, exec/s, new artifacts, exit status, date) so totals add up across runs.
# Logs: fuzz/logs/<target>.log; findings: fuzz/artifacts/<target>/.
# Usage: fuzz/run.sh [SECONDS] [TARGET...]   (RUNS=N: stop at N executions; EXTRA=flags; SANITIZER=address for AddressSanitizer; default
# none: on a 2-core machine ASan builds and runs cost 2–3× more; NOBUILD=1 runs the binaries
# already built by `cargo fuzz build -O -a -s $SANITIZER --fuzz-dir fuzz`)
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here/.."
secs="${1:-300}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(grep -A1 '^\[\[bin\]\]' "$here/Cargo.toml" | grep -o 'name = "[a-z_0-9]*"' | cut -d'"' -f2)
fi
san="${SANITIZER:-none}"
# Always a target dir of its own (instrumented builds would evict the main ones).
export CARGO_TARGET_DIR="${FUZZ_TARGET_DIR:-$HOME/.cache/panopticon-fuzz-target}"
[ -d "$here/corpus" ] || "$here/seed.sh"
mkdir -p "$here/logs"
for t in "${targets[@]}"; do
    before=$(ls "$here/artifacts/$t" 2>/dev/null | wc -l)
    # -close_fd_mask=1: the CLI target's `sensors`/`presets` would print to stdout.
    flags=(-max_total_time="$secs" -rss_limit_mb=2048 -malloc_limit_mb=1024 -timeout=10
        -print_final_stats=1 -close_fd_mask=1)
    # RUNS=N stops a target after N executions (SECONDS stays the cap).
    [ -n "${RUNS:-}" ] && flags+=(-runs="$RUNS")
    # EXTRA="-fork=1 -ignore_crashes=1": more libFuzzer flags (e.g. to run past a known finding).
    # shellcheck disable=SC2206
    [ -n "${EXTRA:-}" ] && flags+=($EXTRA)
    if [ -n "${NOBUILD:-}" ]; then
        # The binary `cargo fuzz build -O -a -s $san` left (no cargo lock wait while another
        # build runs); same corpus and artifact folders as `cargo fuzz run`.
        mkdir -p "$here/corpus/$t" "$here/artifacts/$t"
        "$CARGO_TARGET_DIR/x86_64-unknown-linux-gnu/release/$t" "$here/corpus/$t" \
            -artifact_prefix="$here/artifacts/$t/" "${flags[@]}" >"$here/logs/$t.log" 2>&1
    else
        RUSTC_BOOTSTRAP=1 cargo fuzz run -O -a -s "$san" --fuzz-dir fuzz "$t" -- "${flags[@]}" \
            >"$here/logs/$t.log" 2>&1
    fi
    rc=$?
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$here/logs/$t.log" | grep -o '[0-9]*$')
    speed=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$here/logs/$t.log" | grep -o '[0-9]*$')
    if [ -z "$execs" ]; then
        # -fork=N prints no final stats: its "fuzzed for N iterations" line and time instead.
        execs=$(grep -o 'fuzzed for [0-9]* iterations' "$here/logs/$t.log" | tail -1 | grep -o '[0-9]*')
        took=$(grep -o 'INFO: exiting: [0-9]* time: [0-9]*s' "$here/logs/$t.log" | tail -1 | grep -o '[0-9]*s$' | tr -d s)
        [ -n "$execs" ] && [ -n "$took" ] && [ "$took" -gt 0 ] && speed=$((execs / took))
    fi
    found=$(($(ls "$here/artifacts/$t" 2>/dev/null | wc -l) - before))
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$san" "$secs" "${execs:-?}" "${speed:-?}" \
        "$found" "$rc" "$(date -u +%FT%TZ)" >>"$here/logs/summary.tsv"
    echo "$t: exit $rc, ${execs:-?} executions, ${speed:-?} exec/s, new artifacts: $found"
done
