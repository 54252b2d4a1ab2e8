#!/usr/bin/env bash
# Install what fieldseal's build and tests need, skipping whatever is present.
# Safe to run any number of times; CI, `make` and scripts/test.sh call it first.
#
#   scripts/setup.sh [PART...]
#
# Always: the rustup components (rustfmt, clippy) and the wasm32 target, which
# every Rust step needs. Each PART adds what only some steps need, so that a
# Rust-only contributor (`make test-rust`) installs no browser:
#
#   web        the pinned wasm-bindgen-cli and the npm workspaces (npm ci):
#              what building the npm package (pkg/) and running its JS needs
#   wasm-pack  wasm-pack, for the binding layer's tests (wasm/tests/web.rs)
#   browser    Debian's chromium and chromium-driver (headless browser tests)
#   moto       python3-venv, for the local KMS + DynamoDB (tools/moto/)
#   postgres   Debian's postgresql (server and psql), for the throw-away
#              clusters of the SQL tests (scripts/pg.sh); nothing is started
#   all        every part above
#
# FIELDSEAL_SETUP_WEB=1 still means `all`, as before the parts existed.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

parts=("$@")
[ "${FIELDSEAL_SETUP_WEB:-0}" = 1 ] && parts+=(all)
want_web=0 want_wasm_pack=0 want_browser=0 want_moto=0 want_postgres=0
for part in "${parts[@]}"; do
  case $part in
    web) want_web=1 ;;
    wasm-pack) want_wasm_pack=1 ;;
    browser) want_browser=1 ;;
    moto) want_moto=1 ;;
    postgres) want_postgres=1 ;;
    all) want_web=1 want_wasm_pack=1 want_browser=1 want_moto=1 want_postgres=1 ;;
    *)
      echo "scripts/setup.sh: unknown part \"$part\" (known: web wasm-pack browser moto postgres all)" >&2
      exit 2
      ;;
  esac
done

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

if [ "$want_web" = 1 ]; then
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
  # JavaScript dependencies of the package, tests and demo (npm workspaces).
  if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    log "npm ci"
    npm ci --no-audit --no-fund --loglevel=error
  fi
fi

if [ "$want_wasm_pack" = 1 ] && ! command -v wasm-pack >/dev/null; then
  log "installing wasm-pack (about 3.5 minutes)"
  cargo install -q wasm-pack --locked
fi

# Headless browser tests: Debian's Chromium and its WebDriver.
if [ "$want_browser" = 1 ]; then
  need_deb chromium
  need_deb chromium-driver
fi

# The moto virtualenv (tools/moto/setup_venv.sh, made on first use) of the KMS tests and the demo.
[ "$want_moto" = 1 ] && need_deb python3-venv

# PostgreSQL for the SQL tests: the server binaries that scripts/pg.sh runs
# from /usr/lib/postgresql/VERSION/bin. The package's own cluster is not used.
if [ "$want_postgres" = 1 ]; then
  need_deb postgresql
fi

log "toolchain ready${parts[*]:+ (${parts[*]})}"
