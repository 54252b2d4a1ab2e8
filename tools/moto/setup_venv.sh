#!/usr/bin/env bash
# Creates the moto virtualenv if it is missing and pip-installs requirements.txt
# only when they are not installed yet (or the pins changed), then prints the
# venv's python on stdout (all other output goes to stderr). Idempotent: a
# second run does nothing but print the path.
#
# Where: $FIELDSEAL_MOTO_VENV if set, else $FIELDSEAL_CACHE/.venv-moto if
# $FIELDSEAL_CACHE is set, else .venv-moto at the repository root (gitignored).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
if [ -n "${FIELDSEAL_MOTO_VENV:-}" ]; then
  venv=$FIELDSEAL_MOTO_VENV
elif [ -n "${FIELDSEAL_CACHE:-}" ]; then
  venv=$FIELDSEAL_CACHE/.venv-moto
else
  venv=$root/.venv-moto
fi
requirements=$here/requirements.txt
stamp=$venv/.requirements.sha256
want=$(sha256sum "$requirements" | cut -d' ' -f1)

if [ ! -x "$venv/bin/python" ]; then
  mkdir -p "$(dirname "$venv")"
  python3 -m venv "$venv" >&2
fi
# Installed = the stamp matches the pins and the packages still import.
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ] ||
  ! "$venv/bin/python" -c 'import moto, moto.server, boto3' 2>/dev/null; then
  echo "[moto] installing $(grep -v '^#' "$requirements" | xargs) into $venv" >&2
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$requirements" >&2
  echo "$want" >"$stamp"
fi
echo "$venv/bin/python"
