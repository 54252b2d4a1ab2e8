#!/usr/bin/env bash
# Run the cargo-fuzz targets in fuzz/ (README "Fuzzing").
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#
# SECONDS per target (default 60); all targets unless some are named.
# Environment: FUZZ_SANITIZER (address, the default, or none: faster, for
# long runs of this memory-safe code), FUZZ_ARGS (extra libFuzzer flags,
# e.g. "-runs=10000000", which then ends a target before SECONDS).
#
# Generates the seed corpora first (fuzz/corpus/<target>/seed-*), prints the
# executions per target at the end, and exits non-zero on any crash or
# property violation, printing the artifact path (fuzz/artifacts/<target>/).
# The last run's log of each target is fuzz/artifacts/<target>.log.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
shift || true
case $seconds in '' | *[!0-9]*)
  echo "usage: scripts/fuzz.sh [SECONDS] [TARGET...]" >&2
  exit 2
  ;;
esac
all_targets=(decrypt_mutated header_footer_parse ddb_json number_normalize)
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=("${all_targets[@]}")
sanitizer=${FUZZ_SANITIZER:-address}

# cargo-fuzz passes -Z flags (the sanitizer, coverage instrumentation), which
# need a nightly compiler or the installed stable one with RUSTC_BOOTSTRAP=1.
# A nightly already installed is used; none is installed unless asked for
# (FUZZ_TOOLCHAIN=nightly): it would add 1.5 GB to the disk and a download to
# every fresh machine, for the same sanitizer runtime stable ships.
if [ "${FUZZ_TOOLCHAIN:-}" = nightly ] && ! rustup toolchain list | grep -q '^nightly'; then
  rustup toolchain install nightly --profile minimal
fi
if rustup toolchain list | grep -q '^nightly'; then
  export RUSTUP_TOOLCHAIN=nightly
  echo "fuzz: toolchain nightly ($(rustc +nightly --version))"
else
  export RUSTC_BOOTSTRAP=1
  echo "fuzz: the default toolchain with RUSTC_BOOTSTRAP=1 ($(rustc --version))"
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz: installing cargo-fuzz"
  cargo install cargo-fuzz --locked || cargo install cargo-fuzz
fi

echo "fuzz: unit tests of the targets' property checks (each must catch a planted violation)"
cargo test -q --manifest-path fuzz/Cargo.toml --lib

echo "fuzz: generating seed corpora"
cargo run -q --manifest-path fuzz/Cargo.toml --example gen_seeds -- fuzz/corpus

echo "fuzz: building ${targets[*]} (sanitizer: $sanitizer)"
for t in "${targets[@]}"; do
  cargo fuzz build --sanitizer "$sanitizer" "$t"
done

# Each run's full libFuzzer log stays next to the target's artifacts.
mkdir -p fuzz/artifacts
failed=()
summary=()
for t in "${targets[@]}"; do
  echo "fuzz: running $t for ${seconds}s"
  log=fuzz/artifacts/$t.log
  status=0
  # shellcheck disable=SC2086 # FUZZ_ARGS is a list of flags
  cargo fuzz run --sanitizer "$sanitizer" "$t" -- \
    -max_total_time="$seconds" -print_final_stats=1 ${FUZZ_ARGS:-} >"$log" 2>&1 || status=$?
  # libFuzzer ends with "Done N runs in S second(s)"; after a crash, the last
  # "#N" status line is the count reached.
  runs=$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\1 \2/p' "$log" | tail -1)
  if [ -n "$runs" ]; then
    set -- $runs
    rate=$(($1 / ($2 > 0 ? $2 : 1)))
    summary+=("$(printf '%-20s %12s runs in %5ss  %8s exec/s' "$t" "$1" "$2" "$rate")")
  else
    last=$(grep -o '^#[0-9]*' "$log" | tail -1)
    summary+=("$(printf '%-20s %12s runs (stopped)' "$t" "${last#\#}")")
  fi
  if [ "$status" -ne 0 ] || grep -q 'Test unit written to' "$log"; then
    failed+=("$t")
    echo "!! $t FAILED (exit $status); the end of its log ($log):" >&2
    tail -n 40 "$log" >&2
    grep 'Test unit written to' "$log" | sed 's/^.*Test unit written to /!! artifact: /' >&2 || true
  fi
done

echo
echo "fuzz: executions per target (sanitizer: $sanitizer, ${seconds}s each)"
printf '  %s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: FAILED: ${failed[*]} (artifacts above; replay: cargo +nightly fuzz run <target> <artifact>)" >&2
  exit 1
fi
echo "fuzz: no crashes"
