#!/usr/bin/env bash
# Fuzzes every target in fuzz/ for a bounded time with cargo fuzz (libFuzzer).
#
#   scripts/fuzz.sh                    # 30 s per target
#   scripts/fuzz.sh 300                # 5 min per target
#   scripts/fuzz.sh 60 verify_json     # only some targets
#   FUZZ_BUILD=dev scripts/fuzz.sh 15  # unoptimised build: quick to build, slow to run (CI)
#
# Exits non-zero if any target crashes: a panic or failed assertion, an input slower than
# the timeout (a hang) or one that needs more memory than the limit. libFuzzer saves each
# such input under fuzz/artifacts/<target>/ and prints the command that replays it.
#
# Each target starts from its committed seeds (fuzz/corpus/<target>/, only read) and from
# what earlier runs on this machine found (fuzz/target/corpus/<target>/, where new inputs
# go; never committed). See fuzz/README.md.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

SECONDS_PER_TARGET=${1:-30}
shift || true
CARGO_FUZZ_VERSION=0.13.2

# cargo fuzz passes flags only nightly accepts (-Z...); this machine has the stable toolchain
# alone, which accepts them under RUSTC_BOOTSTRAP.
export RUSTC_BOOTSTRAP=1
export CARGO_INCREMENTAL=0

# The fuzz crate has a lock file of its own; like every other build here, it must not drift.
if ! cargo metadata --locked --format-version 1 --manifest-path fuzz/Cargo.toml >/dev/null; then
    echo "fuzz/Cargo.lock is out of date: run 'cp Cargo.lock fuzz/Cargo.lock &&" \
        "cargo metadata --manifest-path fuzz/Cargo.toml >/dev/null' (which keeps the" \
        "main crate's versions) and commit fuzz/Cargo.lock" >&2
    exit 1
fi

if ! cargo fuzz --version 2>/dev/null | grep -qF "$CARGO_FUZZ_VERSION"; then
    cargo install --locked "cargo-fuzz@$CARGO_FUZZ_VERSION"
fi

# No sanitizer (`-s none`): the crate is #![forbid(unsafe_code)], so what fuzzing can find
# here is panics, failed assertions, hangs and runaway memory, which libFuzzer catches
# without one. AddressSanitizer would only watch our dependencies' unsafe code (std is not
# rebuilt with it), and costs, measured here (2 cores, unoptimised build): 210 s to build
# instead of 155 s, and 59 verify_json inputs/s instead of 466 (8x fewer), at 5x the memory.
# Debug assertions and overflow checks stay on (cargo fuzz's default), as in the test suite.
# Every dependency is compiled again with coverage instrumentation, so the build dominates a
# short run: FUZZ_BUILD=dev skips optimisation (3 CPU-minutes to build instead of 13.5) and
# runs about 20x fewer inputs/s (verify_json: 466 against 10,800); the default, optimised
# build is for real fuzzing.
BUILD=(--sanitizer none --debug-assertions --fuzz-dir fuzz)
case ${FUZZ_BUILD:-release} in
    release) ;;
    dev) BUILD+=(--dev) ;;
    *) echo "FUZZ_BUILD must be release or dev" >&2; exit 2 ;;
esac

# Inputs: a signed credential is about 4 KB and a baked seed image at most 10 KB, so 64 KiB
# leaves room to grow. An input that takes 10 s (a debug-free build verifies a credential in
# milliseconds) is a hang; 2 GiB is far beyond what any input should need.
# FUZZ_SEED fixes libFuzzer's random seed (0, the default, picks one): CI sets it, so a run
# replays the same mutations and fails only on a finding it reproduces, not by chance.
RUN=(
    "-seed=${FUZZ_SEED:-0}"
    "-max_total_time=$SECONDS_PER_TARGET"
    -max_len=65536
    -timeout=10
    -rss_limit_mb=2048
    "-dict=$PWD/fuzz/dict"
    -print_final_stats=1
)

if [ $# -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo fuzz list --fuzz-dir fuzz)
fi

cargo fuzz build "${BUILD[@]}"

# libFuzzer reports every new input; that goes to a log per target, and only its summary
# (or, on a crash, its end) is printed.
mkdir -p fuzz/target/logs
failed=()
for target in "${targets[@]}"; do
    printf '\n--- fuzzing %s for %s s\n' "$target" "$SECONDS_PER_TARGET"
    mkdir -p "fuzz/target/corpus/$target"
    log=fuzz/target/logs/$target.log
    if cargo fuzz run "${BUILD[@]}" "$target" \
        "fuzz/target/corpus/$target" "fuzz/corpus/$target" -- "${RUN[@]}" >"$log" 2>&1; then
        grep -E '^#[0-9]+[[:space:]]+DONE' "$log" || true
    else
        tail -n 80 "$log"
        failed+=("$target")
    fi
done

if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzzing found crashes in: ${failed[*]} (inputs under fuzz/artifacts/)" >&2
    exit 1
fi
echo "fuzzing: ${#targets[@]} targets, ${SECONDS_PER_TARGET} s each, no crash"
