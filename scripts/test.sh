#!/usr/bin/env bash
# Everything fieldseal tests, in one command (`make test`, `.ci/run`).
# Exits non-zero if any step fails.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

FIELDSEAL_SETUP_WEB=1 scripts/setup.sh

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

vectors=${FIELDSEAL_VECTORS:-$root/../shared/vectors/dbesdk}
if [ ! -d "$vectors" ]; then
  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!" >&2
  echo "!! Official DB-ESDK test vectors not found at $vectors" >&2
  echo "!! The vector tests cannot run. Set FIELDSEAL_VECTORS or check out ../shared." >&2
  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!" >&2
  [ -n "${CI:-}" ] && exit 1
fi

step "format"
cargo fmt --all -- --check

step "clippy (workspace, all targets, -D warnings; the binding layer on wasm32)"
cargo clippy --workspace --exclude fieldseal-wasm --all-targets -- -D warnings
cargo clippy -p fieldseal-wasm --target wasm32-unknown-unknown --all-targets -- -D warnings

step "build for wasm32-unknown-unknown (default features, and minimal)"
cargo build -p fieldseal --target wasm32-unknown-unknown
cargo build -p fieldseal --target wasm32-unknown-unknown --no-default-features

step "unit, property, tamper and CLI tests"
cargo test --workspace --exclude fieldseal-wasm

step "fuzz targets: build, then 20 s each (README \"Fuzzing\"; long runs: scripts/fuzz.sh 600)"
scripts/fuzz.sh 20

if [ -d "$vectors" ]; then
  step "official DB-ESDK vectors"
  cargo build --release -q --bin fieldseal-vectors
  for manifest in "$vectors"/decrypt_*.json; do
    echo "--- $(basename "$manifest")"
    target/release/fieldseal-vectors decrypt "$manifest"
  done
fi

step "interop oracle against the official aws-db-esdk crate"
(cd tests/interop && cargo clippy --all-targets -- -D warnings && cargo test --release)

if [ -d "$vectors" ]; then
  step "a decrypt manifest written by fieldseal opens with the official SDK"
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  cp "$vectors/keys.json" tests/manifests/encrypt_interop.json "$work/"
  target/release/fieldseal-vectors encrypt "$work/encrypt_interop.json" "$work/decrypt.json"
  (cd tests/interop && cargo run --release -q --bin official_decrypt_manifest -- "$work/decrypt.json")
fi

step "binding layer tests: wasm-pack test in Node and in headless Chromium"
(cd wasm && wasm-pack test --node)
(cd wasm && WASM_BINDGEN_USE_BROWSER=1 wasm-pack test --headless --chrome --chromedriver "$(command -v chromedriver)")

step "npm package: build, size budget"
npm --prefix pkg run build
npm --prefix pkg run size

if [ -d "$vectors" ]; then
  step "items sealed through the npm package (WebCrypto ECDSA, AES-GCM, SHA-384) open with the official SDK"
  node tests/js/tools/encrypt-manifest.mjs "$work/encrypt_interop.json" "$work/decrypt-npm.json"
  (cd tests/interop && cargo run --release -q --bin official_decrypt_manifest -- "$work/decrypt-npm.json")
fi

step "TypeScript consumer compiles under --strict"
npx --no-install tsc --noEmit --strict -p tests/types

step "JS tests (node --test): vectors, records, custom keyrings, errors, concurrency, memory, KMS, cross-runtime, the demo page end to end"
npm test

step "all test steps passed"
