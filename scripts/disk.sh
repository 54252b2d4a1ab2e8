# shellcheck shell=bash
# Disk. A full run from a fresh clone writes several GB of build products, and
# a CI machine once ran out of disk in the interop step. With
# FIELDSEAL_FREE_DISK=1 (.ci/run sets it: a CI machine is thrown away), or
# when less than 10 GiB is left, the build products of a step that no later
# step reads are removed after it; a developer's machine with room keeps them,
# so a second `make test` builds nothing again. scripts/test.sh ends every step
# with a line of what is left. Sourced, with the repository root as the
# working folder; tests/js/test-steps.test.mjs tests it.
free_mib() { df -Pm . | awk 'NR == 2 { print $4 }'; }
private_output() {
  case $1 in
    rust) echo target/debug ;; # host test and clippy builds; vectors and interop use target/release
    fuzz) echo fuzz/target ;;
    interop) echo tests/interop/target ;;
  esac
}
# Whether to remove build products no later step reads (see above).
frugal() {
  case ${FIELDSEAL_FREE_DISK:-auto} in
    1) return 0 ;;
    auto) [ "$(free_mib)" -lt 10240 ] ;;
    *) return 1 ;;
  esac
}
release_dir() {
  [ -d "$1" ] || return 0
  echo "disk: removing $1 ($(du -sm "$1" | cut -f1) MiB), which no later step reads"
  rm -rf "$1"
}
# After step $1: its private output, if frugal.
release_outputs() {
  local dir
  dir=$(private_output "$1")
  [ -n "$dir" ] && frugal || return 0
  release_dir "$dir"
}
