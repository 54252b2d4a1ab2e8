#!/usr/bin/env bash
# Creates the moto virtualenv once and installs the pinned requirements only
# when they change. Prints the venv's python. Safe to run any number of times.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
venv=${FIELDSEAL_MOTO_VENV:-$(cd "$here/../../.." && pwd)/.venv-moto}
stamp="$venv/.requirements.sha256"
want=$(sha256sum "$here/requirements.txt" | cut -d' ' -f1)
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv" >&2
fi
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "[moto] installing $(grep -v '^#' "$here/requirements.txt" | xargs) into $venv" >&2
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$here/requirements.txt" >&2
  echo "$want" > "$stamp"
fi
echo "$venv/bin/python"
