# shellcheck shell=bash
# scripts/bench.d/release.sh - `scripts/bench release`, sourced by scripts/bench.
#: the deployable binary: release build, size (<= 40 MB), no debug info or symbols, --version with the commit
#
# Builds the release binary ([profile.release]: no debug info, stripped), prints its size and
# `deskmail --version`. Fails when it is larger than DM_BENCH_RELEASE_MAX_MB (40) MB (10^6 bytes, as issue 17 counts), still carries
# debug sections or a symbol table (checked with readelf when binutils is installed), or --version names
# no commit (a build outside a git checkout says "unknown": a warning only).
#
# Knobs: DM_BENCH_RELEASE_MAX_MB, DM_BENCH_NO_BUILD=1 (see scripts/bench).

bench_release() {
  local max=${DM_BENCH_RELEASE_MAX_MB:-40} bytes mib version sections
  [[ $max =~ ^[1-9][0-9]*$ ]] || dm_die "DM_BENCH_RELEASE_MAX_MB must be a positive number (got '$max')"
  bench_build
  bench_header
  bytes=$(stat -c %s "$BENCH_BIN")
  mib=$(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1048576 }')
  version=$("$BENCH_BIN" --version)
  bench_result "release binary: $BENCH_BIN, $mib MiB ($bytes bytes; limit $max MB)"
  bench_result "version: $version"
  if command -v readelf >/dev/null; then
    sections=$(readelf -SW "$BENCH_BIN" | grep -oE '\.(debug_[a-z_]+|symtab)\b' | sort -u | tr '\n' ' ' || true)
    [[ -z $sections ]] || dm_die "$BENCH_BIN is not stripped: $sections([profile.release] in Cargo.toml)"
  else
    bench_warn "readelf not found (apt-get install binutils): debug sections not checked"
  fi
  (( bytes <= max * 1000000 )) || dm_die "$BENCH_BIN is $bytes bytes, over the $max MB limit"
  if [[ $version == *"(commit unknown)" ]]; then
    bench_warn "--version names no commit (not built from a git checkout?): $version"
  elif ! [[ $version =~ \(commit\ [0-9a-f]{12}(-dirty)?\)$ ]]; then
    dm_die "--version should end in '(commit <12 hex digits>[-dirty])': $version"
  fi
  bench_log "release binary ok: $mib MiB, $version"
}
