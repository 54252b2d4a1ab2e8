#!/usr/bin/env bash
# Everything fieldseal tests, as named steps (`make test`, `.ci/run`).
#
#   scripts/test.sh              every step, in the order below
#   scripts/test.sh STEP...      only these steps, in the order given
#   scripts/test.sh --list       the steps, one per line, with what each runs
#   scripts/test.sh --fail-fast  stop at the first failing step
#
# Every step installs what it needs first (scripts/setup.sh with its parts),
# builds what it needs, and prints its name and the time it took; a step
# that fails does not stop the later ones (unless --fail-fast). The last line
# is a summary; the exit code is 0 only if every step passed, 2 for an
# unknown step.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
# free_mib, frugal, release_dir, release_outputs: what a step leaves on disk.
. scripts/disk.sh

# name|what it runs (for --list), in the order of a full run.
steps=(
  "rust|format, clippy (workspace; the binding layer on wasm32), wasm32 builds, cargo tests"
  "fuzz|the cargo-fuzz targets: property unit tests, then 20 s each (scripts/fuzz.sh 20)"
  "vectors|the official DB-ESDK decrypt vectors through fieldseal-vectors"
  "interop|the oracle against aws-db-esdk (the item matrix; the branch key store and hierarchical keyring against moto, in Rust and through the npm package; the official DbEsdkInterceptor and the fieldseal/dynamodb plug-in reading each other's items through moto, and finding each other's items by beacon with byte-equal beacons; fieldseal/sql rows sealed into a throw-away PostgreSQL opened by the official item encryptor, and its items inserted as rows opened by fieldseal/sql; the raw ECDH keyring, and the KMS RSA and KMS ECDH keyrings through moto, both ways), and manifests sealed by fieldseal-vectors and by the npm package opened by the official SDK"
  "wasm|the binding layer's wasm-pack tests in Node and in headless Chromium"
  "js|npm package build and size budget, the strict TypeScript consumer, the JS tests (node --test)"
  "sql|fieldseal/sql against a live PostgreSQL (Debian's, a throw-away cluster from scripts/pg.sh) through pg: column types, 10,000 rows, search by beacon, tampers, KMS and hierarchical keyrings (moto), the README's SQL quick start"
)
step_names=()
for s in "${steps[@]}"; do step_names+=("${s%%|*}"); done

bold() { printf '\033[1m%s\033[0m\n' "$*"; }
say() { printf '\n\033[1m--> %s\033[0m\n' "$*"; }

# The official vectors, or the loud warning (a failure under CI) when missing.
vectors=${FIELDSEAL_VECTORS:-$root/../shared/vectors/dbesdk}
have_vectors() {
  [ -d "$vectors" ] && return 0
  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!" >&2
  echo "!! Official DB-ESDK test vectors not found at $vectors" >&2
  echo "!! The vector tests cannot run. Set FIELDSEAL_VECTORS or check out ../shared." >&2
  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!" >&2
  if [ -n "${CI:-}" ]; then exit 1; fi
  return 1
}

# The npm package (pkg/dist), built at most once per run: the interop and js
# steps both need it, and each builds it if it has not been built yet.
run_state=$(mktemp -d)
trap 'rm -rf "$run_state"' EXIT
build_package() {
  if [ -e "$run_state/package-built" ]; then
    echo "npm package: already built in this run"
    return
  fi
  scripts/setup.sh web
  npm --prefix pkg run build
  touch "$run_state/package-built"
}

step_rust() {
  scripts/setup.sh
  say "format"
  cargo fmt --all -- --check
  say "clippy (workspace, all targets, -D warnings; the binding layer on wasm32)"
  cargo clippy --workspace --exclude fieldseal-wasm --all-targets -- -D warnings
  cargo clippy -p fieldseal-wasm --target wasm32-unknown-unknown --all-targets -- -D warnings
  say "build for wasm32-unknown-unknown (default features, and minimal)"
  cargo build -p fieldseal --target wasm32-unknown-unknown
  cargo build -p fieldseal --target wasm32-unknown-unknown --no-default-features
  say "unit, property, tamper and CLI tests"
  cargo test --workspace --exclude fieldseal-wasm
}

step_fuzz() {
  scripts/setup.sh
  # README "Fuzzing"; long runs: scripts/fuzz.sh 600.
  scripts/fuzz.sh 20
}

step_vectors() {
  scripts/setup.sh
  have_vectors || return 0
  cargo build --release -q --bin fieldseal-vectors
  for manifest in "$vectors"/decrypt_*.json; do
    echo "--- $(basename "$manifest")"
    target/release/fieldseal-vectors decrypt "$manifest"
  done
}

# An aws-dbesdk-decrypt manifest written by `writer` (a command that takes
# ENCRYPT.json OUT.json) from tests/manifests/encrypt_interop.json, opened by
# the official SDK. Its own temporary folder, removed afterwards.
official_opens() (
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  cp "$vectors/keys.json" tests/manifests/encrypt_interop.json "$work/"
  "$@" "$work/encrypt_interop.json" "$work/decrypt.json"
  cd tests/interop
  cargo run --release -q --bin official_decrypt_manifest -- "$work/decrypt.json"
)

step_interop() {
  # moto: python3-venv for the key store test (tests/interop/tests/keystore.rs),
  # which starts moto itself through tools/moto/launch.py.
  # postgres: the sealed SQL rows test (tests/interop/tests/sql.rs) needs a
  # server; the crate's tests run inside a throw-away cluster (scripts/pg.sh run).
  scripts/setup.sh moto postgres
  # The npm package: the key store test opens and seals items through it in
  # Node (tests/js/tools/open-hierarchy-items.mjs), and fails under CI without it.
  build_package
  say "interop oracle against the official aws-db-esdk crate (the key store, KMS RSA and KMS ECDH tests against moto, the first two also through the npm package; fieldseal/sql rows in PostgreSQL)"
  (cd tests/interop && cargo clippy --all-targets -- -D warnings)
  # The lint's output (0.66 GB) is not what the tests run: it goes before the
  # release build, which is this step's, and a run's, disk peak (scripts/disk.sh).
  if frugal; then release_dir tests/interop/target/debug; fi
  (cd tests/interop && ../../scripts/pg.sh run cargo test --release)
  have_vectors || return 0
  say "a decrypt manifest written by fieldseal opens with the official SDK"
  cargo build --release -q --bin fieldseal-vectors
  official_opens target/release/fieldseal-vectors encrypt
  say "items sealed through the npm package (WebCrypto ECDSA, AES-GCM, SHA-384) open with the official SDK"
  official_opens node tests/js/tools/encrypt-manifest.mjs
}

step_wasm() {
  scripts/setup.sh web wasm-pack browser
  (cd wasm && wasm-pack test --node)
  (cd wasm && WASM_BINDGEN_USE_BROWSER=1 wasm-pack test --headless --chrome --chromedriver "$(command -v chromedriver)")
}

step_js() {
  # postgres: installed, not started; tests/js/test-steps.test.mjs runs scripts/pg.sh.
  scripts/setup.sh web browser moto postgres
  say "npm package: build, size budget"
  build_package
  npm --prefix pkg run size
  say "TypeScript consumer compiles under --strict"
  npx --no-install tsc --noEmit --strict -p tests/types
  npx --no-install tsc --noEmit --strict -p tests/types/kms
  say "JS tests (node --test): vectors, records, custom keyrings, errors, concurrency, memory, KMS, the DynamoDB plug-in against moto (Node and Chromium), the README quick starts (DynamoDB, KMS RSA browser-to-server), cross-runtime, the demo page end to end"
  # tests/js/sql.test.mjs needs a PostgreSQL server, which only the sql step
  # starts: here it skips, saying so, instead of failing as it does under CI
  # when no server is given.
  FIELDSEAL_SQL_STEP=separate npm test
}

step_sql() {
  scripts/setup.sh web moto postgres
  build_package
  say "fieldseal/sql against a throw-away PostgreSQL cluster (scripts/pg.sh run), moto for KMS and the branch key store"
  (cd tests/js && ../../scripts/pg.sh run node --test sql.test.mjs)
}

fail_fast=0
selected=()
for arg in "$@"; do
  case $arg in
    --list)
      for s in "${steps[@]}"; do printf '%-8s %s\n' "${s%%|*}" "${s#*|}"; done
      exit 0
      ;;
    --fail-fast) fail_fast=1 ;;
    -h | --help)
      sed -n '2,13s/^# \{0,1\}//p' "$0"
      exit 0
      ;;
    *)
      if [[ " ${step_names[*]} " != *" $arg "* ]]; then
        echo "scripts/test.sh: unknown step \"$arg\"; the steps are: ${step_names[*]} (scripts/test.sh --list)" >&2
        exit 2
      fi
      selected+=("$arg")
      ;;
  esac
done
[ ${#selected[@]} -eq 0 ] && selected=("${step_names[@]}")

duration() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }
results=()
failed=()
started=$(date +%s)
for name in "${selected[@]}"; do
  printf '\n'
  bold "==> step $name"
  t0=$(date +%s)
  # A subshell with errexit of its own: `set -e` is ignored inside anything
  # run as the condition of if, && or ||, so the status is read afterwards.
  set +e
  (
    set -euo pipefail
    "step_$name"
  )
  status=$?
  set -e
  took=$(duration $(($(date +%s) - t0)))
  release_outputs "$name"
  echo "disk: $(free_mib) MiB free"
  if [ "$status" -eq 0 ]; then
    bold "<== step $name passed in $took"
    results+=("$name ok $took")
  else
    bold "<== step $name FAILED (exit $status) in $took" >&2
    results+=("$name FAILED $took")
    failed+=("$name")
    [ "$fail_fast" = 1 ] && break
  fi
done

total=$(duration $(($(date +%s) - started)))
printf '\n'
if [ ${#failed[@]} -eq 0 ]; then
  bold "test.sh: all ${#results[@]} steps passed in $total: $(IFS=,; echo "${results[*]}" | sed 's/,/, /g')"
else
  bold "test.sh: ${#failed[@]} of ${#results[@]} steps FAILED (${failed[*]}) in $total: $(IFS=,; echo "${results[*]}" | sed 's/,/, /g')" >&2
  exit 1
fi
