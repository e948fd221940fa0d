#!/bin/bash
# Sets everything up on a fresh Debian machine and runs the whole suite: the normal
# build, the same suite under AddressSanitizer + UBSan, the unit, CGI, hostile-input and
# fault tests under valgrind, each fuzz target for 30 s, and make distcheck. Ends with
# "N passed, N failed[, N skipped]".
set -uo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)

if ! bash scripts/setup.sh; then
	echo "setup failed"
	echo "0 passed, 1 failed"
	exit 1
fi

logs=()
step_failures=0

# Runs "make check" with extra arguments in a build folder and remembers its log.
check() {
	local name=$1 dir=$2
	shift 2
	echo "== $name"
	if ! make -C "$dir" -s -j2 check "$@" >"$top/.check-$name.out" 2>&1; then
		echo "   $name: make check failed"
	fi
	grep -E '^(PASS|FAIL|ERROR|XPASS|SKIP):' "$top/.check-$name.out" | grep -v '^PASS' | head -40 || true
	if [ -f "$dir/test-suite.log" ]; then
		cp "$dir/test-suite.log" "$top/.check-$name.log"
		logs+=("$top/.check-$name.log")
		grep -E '^# (TOTAL|PASS|SKIP|FAIL|ERROR):' "$dir/test-suite.log" | tr '\n' ' '
		echo
	else
		step_failures=$((step_failures + 1))
		tail -30 "$top/.check-$name.out"
	fi
}

check main "$top/build"

echo "== building with AddressSanitizer + UndefinedBehaviorSanitizer"
mkdir -p build-san
if (cd build-san && { [ -f Makefile ] || ../configure -q --enable-sanitizers --enable-werror; } &&
	make -s -j2 >/dev/null); then
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=99 UBSAN_OPTIONS=print_stacktrace=1 \
		check sanitizers "$top/build-san"
else
	echo "   sanitizer build failed"
	step_failures=$((step_failures + 1))
fi

# valgrind: every unit test and the CGI end-to-end tests (the servers' tests would take too long).
VG="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite"
unit_list=$(make -s -C "$top/build" print-unit-tests 2>/dev/null)
hostile_list=$(make -s -C "$top/build" print-hostile-tests 2>/dev/null)
check valgrind "$top/build" TESTS="$unit_list tests/e2e/cgi.test $hostile_list" LOG_COMPILER="$VG" \
	IMAGEHOOK_WRAPPER="$VG"

# Fuzzing: each libFuzzer target for a bounded time (5 x 30 s); each counts as a test,
# passed when it found no crash and no broken property.
echo "== fuzzing (fuzz/run.sh)"
fuzz_pass=0 fuzz_fail=0
if make -s -C "$top/build" fuzz >"$top/.check-fuzz-build.out" 2>&1; then
	bash fuzz/run.sh "$top/build" "${IMAGEHOOK_FUZZ_SECONDS:-30}" | tee "$top/.check-fuzz.out"
	fuzz_pass=$(grep -c '^PASS: fuzz_' "$top/.check-fuzz.out")
	fuzz_fail=$(grep -c '^FAIL: fuzz_' "$top/.check-fuzz.out")
else
	echo "   building the fuzz targets failed (clang with libFuzzer: clang, libclang-rt-14-dev)"
	tail -20 "$top/.check-fuzz-build.out"
	fuzz_fail=5
fi

echo "== make distcheck"
if make -s -C "$top/build" distcheck >"$top/.check-distcheck.out" 2>&1; then
	echo "   distcheck passed"
	distcheck_pass=1
else
	tail -40 "$top/.check-distcheck.out"
	distcheck_pass=0
	step_failures=$((step_failures + 1))
fi

passed=0 failed=0 skipped=0
for l in "${logs[@]}"; do
	p=$(sed -n 's/^# PASS: *//p' "$l"); s=$(sed -n 's/^# SKIP: *//p' "$l")
	f=$(sed -n 's/^# FAIL: *//p' "$l"); e=$(sed -n 's/^# ERROR: *//p' "$l")
	x=$(sed -n 's/^# XPASS: *//p' "$l")
	passed=$((passed + ${p:-0})); skipped=$((skipped + ${s:-0}))
	failed=$((failed + ${f:-0} + ${e:-0} + ${x:-0}))
done
passed=$((passed + distcheck_pass + fuzz_pass))
failed=$((failed + step_failures + fuzz_fail))
if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
