#!/usr/bin/env bash
# Fuzzes Atelier's file loaders with libFuzzer and AddressSanitizer, one target at a time on one core.
#
#   scripts/fuzz.sh [seconds-per-target] [target...]     targets: images checkpoints idx cifar brushes (default: all)
#   scripts/fuzz.sh 0                                    build and replay the regression inputs only
#
# Builds the separate package in Fuzz/ (so the main package's builds never see it) into .build-fuzz, replays every
# file under Fuzz/regressions/<target>/ (each must be refused cleanly), then fuzzes from Fuzz/corpus/<target>/ into
# a working corpus in .build-fuzz/corpus/<target>/ (the committed seeds stay as they are) and prints executions per
# second and coverage. A finding is written to .build-fuzz/artifacts/<target>/; once fixed, copy it into
# Fuzz/regressions/<target>/ so that this script and `swift test` (FuzzRegressionTests) replay it from then on.
# Reproduce one input: ATELIER_FUZZ_TARGET=<target> .build-fuzz/debug/atelier-fuzz <file>
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then targets=(images checkpoints idx cifar brushes); fi

# swiftc keeps only the last -sanitize= it is given, so `--sanitize fuzzer --sanitize address` would build Swift code
# without coverage: SwiftPM's fuzzer mode (libFuzzer's main at link) is followed by one combined flag for swiftc and
# AddressSanitizer for the C kernels. ld.gold warns once per AddressSanitizer helper symbol, and every compiled file
# is a progress line: both are left out of the output. -O and -O2 (the last optimisation level given wins) keep
# the engine optimised in this debug build, as the package no longer forces it.
mkdir -p .build-fuzz
swift build -j 1 --package-path Fuzz --scratch-path .build-fuzz --sanitize fuzzer \
    -Xswiftc -sanitize=fuzzer,address -Xcc -fsanitize=address -Xswiftc -O -Xcc -O2 \
    --product atelier-fuzz >.build-fuzz/build.log 2>&1 || build=$?
grep -v -e "Cannot export local symbol" -e "^\[[0-9]*/[0-9]*\] Compiling" .build-fuzz/build.log || true
[ "${build:-0}" -eq 0 ] || { echo "fuzz.sh: the build failed (status $build)" >&2; exit 1; }
binary=.build-fuzz/debug/atelier-fuzz

failed=()
for target in "${targets[@]}"; do
    [ -d "Fuzz/corpus/$target" ] || { echo "fuzz.sh: unknown target '$target' (no Fuzz/corpus/$target)" >&2; exit 2; }
    log=.build-fuzz/logs/$target.log
    mkdir -p .build-fuzz/logs ".build-fuzz/corpus/$target" ".build-fuzz/artifacts/$target"

    # Each regression file runs once; libFuzzer stops with a non-zero status at the first crash.
    regressions=(Fuzz/regressions/"$target"/*)
    if [ -e "${regressions[0]}" ]; then
        if ATELIER_FUZZ_TARGET=$target "$binary" -artifact_prefix=".build-fuzz/artifacts/$target/" \
            "${regressions[@]}" >"$log.replay" 2>&1; then
            echo "$target: ${#regressions[@]} regression inputs replayed, none crashed"
        else
            echo "$target: a regression input crashed; see $log.replay"
            failed+=("$target")
            continue
        fi
    fi
    [ "$seconds" -gt 0 ] || continue

    # -rss_limit_mb: the decoders may legitimately allocate 400 MB (100 Mpx RGBA) plus the sanitizer's overhead.
    status=0
    ATELIER_FUZZ_TARGET=$target "$binary" -max_total_time="$seconds" -print_final_stats=1 -timeout=20 \
        -rss_limit_mb=3072 -artifact_prefix=".build-fuzz/artifacts/$target/" \
        ".build-fuzz/corpus/$target" "Fuzz/corpus/$target" >"$log" 2>&1 || status=$?
    last=$(grep -E "^#[0-9]+.*cov:" "$log" | tail -1 || true)
    # A leak report prints the final statistics twice; the last copy counts.
    rate=$(grep -E "^stat::average_exec_per_sec" "$log" | tail -1 | awk '{print $2}' || true)
    runs=$(grep -E "^stat::number_of_executed_units" "$log" | tail -1 | awk '{print $2}' || true)
    cov=$(echo "$last" | grep -oE "cov: [0-9]+" || true)
    ft=$(echo "$last" | grep -oE "ft: [0-9]+" || true)
    corpus=$(echo "$last" | grep -oE "corp: [0-9]+/[0-9a-zA-Z]+" || true)
    echo "$target: ${seconds}s, ${runs:-?} runs, ${rate:-?} exec/s, ${cov:-cov: ?}, ${ft:-ft: ?}, ${corpus:-corp: ?} (log $log)"
    if [ "$status" -ne 0 ]; then
        echo "$target: libFuzzer stopped with status $status; the input is in .build-fuzz/artifacts/$target/"
        grep -E "^==[0-9]+==ERROR|SUMMARY|Fatal error|deadly signal|timeout|out-of-memory" "$log" | head -5 || true
        failed+=("$target")
    fi
done

if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz.sh: findings in ${failed[*]}" >&2
    exit 1
fi
