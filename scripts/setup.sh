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

log "toolchain ready"
