#!/bin/bash
# fuzz/run.sh - runs each libFuzzer target for a bounded time (scripts/test.sh calls it).
# usage: fuzz/run.sh BUILDDIR [SECONDS_EACH]   (the targets come from `make -C BUILDDIR fuzz`)
# Prints one "PASS: fuzz_<name> ..." or "FAIL: ..." line per target, then "fuzz: P passed,
# F failed". New inputs go to a scratch corpus, never into the source tree; a crash's
# input is copied to BUILDDIR/fuzz-crashes/: add it to fuzz/regressions/<name>/, where
# `make check` replays it from then on.
set -uo pipefail
build=${1:?usage: fuzz/run.sh BUILDDIR [SECONDS_EACH]}
secs=${2:-30}
src=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/ih-fuzz-XXXXXX")
trap 'rm -rf "$work"' EXIT
passed=0 failed=0
for name in payload image base64 auth links; do
	bin=$build/fuzz/fuzz_$name
	if [ ! -x "$bin" ]; then
		echo "FAIL: fuzz_$name was not built"
		failed=$((failed + 1))
		continue
	fi
	mkdir -p "$work/$name"
	dirs=("$work/$name" "$src/fuzz/corpus/$name")
	[ -d "$src/fuzz/regressions/$name" ] && dirs+=("$src/fuzz/regressions/$name")
	[ "$name" = payload ] && dirs+=("$src/tests/golden")
	dict=()
	[ -f "$src/fuzz/$name.dict" ] && dict=("-dict=$src/fuzz/$name.dict")
	# The time limit bounds the run; -timeout and -rss_limit_mb turn a hang or a memory
	# blow-up into a failure with its input saved.
	ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 "$bin" -max_total_time="$secs" -timeout=10 \
		-rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$work/$name-" "${dict[@]}" \
		"${dirs[@]}" >"$work/$name.log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$name.log")
	cov=$(grep -o 'cov: [0-9]*' "$work/$name.log" | tail -1)
	if [ $rc -eq 0 ]; then
		echo "PASS: fuzz_$name: ${runs:-?} inputs in ${secs}s, ${cov:-cov: ?}, no crash"
		passed=$((passed + 1))
	else
		mkdir -p "$build/fuzz-crashes"
		cp "$work/$name"-* "$build/fuzz-crashes/" 2>/dev/null
		echo "FAIL: fuzz_$name (exit $rc); input(s) in $build/fuzz-crashes/:"
		ls "$work/$name"-* 2>/dev/null | sed 's|.*/|   |'
		grep -E 'ERROR|property failed|SUMMARY' "$work/$name.log" | head -5 | sed 's/^/   /'
		failed=$((failed + 1))
	fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
