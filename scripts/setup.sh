#!/usr/bin/env bash
# Install what fieldseal's build and tests need, skipping whatever is present.
# Safe to run any number of times; CI and `make` call it first.
set -euo pipefail

log() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

have_rust_target() { rustup target list --installed 2>/dev/null | grep -qx "$1"; }
have_component() { rustup component list --installed 2>/dev/null | grep -q "^$1"; }

command -v cargo >/dev/null || { echo "cargo not found: install Rust with rustup first" >&2; exit 1; }

for component in rustfmt clippy; do
  have_component "$component" || { log "adding rustup component $component"; rustup component add "$component"; }
done
have_rust_target wasm32-unknown-unknown || { log "adding target wasm32-unknown-unknown"; rustup target add wasm32-unknown-unknown; }

# Debian packages. Installed only when missing, with one apt-get update at most.
apt_updated=0
need_deb() {
  local pkg=$1
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" && return 0
  if ! command -v apt-get >/dev/null; then
    echo "missing system package $pkg and no apt-get to install it" >&2; exit 1
  fi
  local sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  if [ "$apt_updated" -eq 0 ]; then log "apt-get update"; $sudo apt-get update -qq; apt_updated=1; fi
  log "installing $pkg"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$pkg" >/dev/null
}

# Extra Debian packages, if a machine needs any (the official SDK builds with gcc alone).
for pkg in ${FIELDSEAL_DEB_PACKAGES:-}; do need_deb "$pkg"; done

# The web toolchain: only when a step needs it (FIELDSEAL_SETUP_WEB=1, set by
# the web build, test and demo commands), since it takes minutes to install.
if [ "${FIELDSEAL_SETUP_WEB:-0}" = 1 ]; then
  # wasm-bindgen-cli must be exactly the wasm-bindgen version the binding crate pins.
  wb_version=$(sed -n 's/^wasm-bindgen = { version = "=\([0-9.]*\)".*/\1/p; s/^wasm-bindgen = "=\([0-9.]*\)"/\1/p' wasm/Cargo.toml | head -1)
  [ -n "$wb_version" ] || { echo "cannot read the pinned wasm-bindgen version from wasm/Cargo.toml" >&2; exit 1; }
  if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$wb_version" ]; then
    log "installing wasm-bindgen-cli $wb_version (about 4 minutes)"
    # --locked first; the registry mirror has been seen to lack a crate
    # version that the CLI's lockfile names, so fall back to fresh resolution.
    cargo install -q wasm-bindgen-cli --version "$wb_version" --locked --force ||
      cargo install -q wasm-bindgen-cli --version "$wb_version" --force
  fi
  if ! command -v wasm-pack >/dev/null; then
    log "installing wasm-pack (about 3.5 minutes)"
    cargo install -q wasm-pack --locked
  fi
  # Headless browser tests: Debian's Chromium and its WebDriver.
  need_deb chromium
  need_deb chromium-driver
  # The moto virtualenv (tests/support/moto/setup_venv.sh) of the KMS tests and the demo.
  need_deb python3-venv
  # JavaScript dependencies of the package, tests and demo (npm workspaces).
  if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    log "npm ci"
    npm ci --no-audit --no-fund --loglevel=error
  fi
fi

log "toolchain ready"
