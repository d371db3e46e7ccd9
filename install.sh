#!/bin/sh
# kslurm installer:  curl -fsSL <url>/install.sh | sh   [-s -- --prefix DIR]
# Downloads the release tarball, checks its sha256, and installs the binaries into ~/bin (or
# DIR/bin for a shared install). Nothing already installed is touched unless every check passed.
#
# Options:   --prefix DIR   shared install: DIR/bin, DIR/etc/kslurm/config.toml (site settings stub),
#                           DIR/modulefiles/kslurm/<version>.lua; group-readable
#            --version V    install version V instead of the latest
# Env:       KSLURM_INSTALL_URL  where releases are served (default: the project's GitHub releases)
#            KSLURM_VERSION      same as --version
# Later:     kslurm self update (from the same URL, recorded in BINDIR/.kslurm-install), kslurm self uninstall
set -eu

BASE="${KSLURM_INSTALL_URL:-https://github.com/kslurm/kslurm-native/releases/latest/download}"
VERSION="${KSLURM_VERSION:-}"
PREFIX=""

die() { printf 'kslurm install: error: %s\n' "$*" >&2; exit 1; }
say() { printf 'kslurm install: %s\n' "$*" >&2; }

while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) [ $# -ge 2 ] || die "--prefix needs a folder"; PREFIX="$2"; shift 2 ;;
    --prefix=*) PREFIX="${1#--prefix=}"; shift ;;
    --version) [ $# -ge 2 ] || die "--version needs a value"; VERSION="$2"; shift 2 ;;
    --version=*) VERSION="${1#--version=}"; shift ;;
    -h|--help) sed -n '2,13p' "$0" 2>/dev/null || true; exit 0 ;;
    *) die "unknown option '$1' (use --prefix DIR or --version V)" ;;
  esac
done

os="$(uname -s)"; arch="$(uname -m)"
case "$os/$arch" in
  Linux/x86_64|Linux/amd64) platform=linux-x86_64 ;;
  *) die "no kslurm build for $os/$arch (releases exist for Linux x86_64 only); nothing was installed" ;;
esac

if command -v curl >/dev/null 2>&1; then fetch() { curl -fsSL --retry 2 -o "$2" "$1"; }
elif command -v wget >/dev/null 2>&1; then fetch() { wget -q -O "$2" "$1"; }
else die "neither curl nor wget is available to download kslurm"; fi

if command -v sha256sum >/dev/null 2>&1; then sha256() { sha256sum "$1" | cut -d' ' -f1; }
elif command -v shasum >/dev/null 2>&1; then sha256() { shasum -a 256 "$1" | cut -d' ' -f1; }
else die "neither sha256sum nor shasum is available to verify the download"; fi

tmp="$(mktemp -d "${TMPDIR:-/tmp}/kslurm-install.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT INT TERM

if [ -z "$VERSION" ]; then
  fetch "$BASE/LATEST" "$tmp/LATEST" || die "cannot reach $BASE/LATEST (set KSLURM_INSTALL_URL or --version)"
  VERSION="$(tr -d ' \t\r\n' < "$tmp/LATEST")"
fi
case "$VERSION" in ''|*[!0-9A-Za-z.+-]*) die "invalid version '$VERSION'" ;; esac

name="kslurm-$VERSION-$platform"
say "downloading $name.tar.gz from $BASE"
fetch "$BASE/$name.tar.gz" "$tmp/$name.tar.gz" || die "download of $BASE/$name.tar.gz failed; nothing was installed"
fetch "$BASE/$name.tar.gz.sha256" "$tmp/$name.tar.gz.sha256" || die "download of the checksum file failed; nothing was installed"
expected="$(cut -d' ' -f1 < "$tmp/$name.tar.gz.sha256")"
actual="$(sha256 "$tmp/$name.tar.gz")"
[ -n "$expected" ] && [ "$expected" = "$actual" ] \
  || die "checksum mismatch for $name.tar.gz (expected $expected, got $actual); nothing was installed"

mkdir "$tmp/x"
tar -xzf "$tmp/$name.tar.gz" -C "$tmp/x" || die "the tarball is damaged; nothing was installed"
src="$tmp/x/$name"
for t in krun kbatch kjupyter kpy kapp kslurm; do
  [ -f "$src/bin/$t" ] || die "the tarball lacks bin/$t; nothing was installed"
done

if [ -n "$PREFIX" ]; then
  umask 022
  case "$PREFIX" in /*) ;; *) PREFIX="$(pwd)/$PREFIX" ;; esac
  bindir="$PREFIX/bin"
else
  umask 077
  bindir="$HOME/bin"
fi
mkdir -p "$bindir" || die "cannot create $bindir"

# copy beside, then rename: a binary someone is running is never rewritten in place
for t in krun kbatch kjupyter kpy kapp kslurm; do
  cp "$src/bin/$t" "$bindir/.$t.new" && chmod 0755 "$bindir/.$t.new" && mv -f "$bindir/.$t.new" "$bindir/$t" \
    || die "cannot write $bindir/$t"
done

# The install record: where this came from, for `kslurm self update` and `kslurm self uninstall`.
printf '# kslurm install record: written by install.sh and `kslurm self update`, read by `kslurm self update|uninstall`\nurl=%s\nversion=%s\nprefix=%s\n' \
  "$BASE" "$VERSION" "$PREFIX" > "$bindir/.kslurm-install.new" && mv -f "$bindir/.kslurm-install.new" "$bindir/.kslurm-install" \
  || die "cannot write $bindir/.kslurm-install"

if [ -n "$PREFIX" ]; then
  mkdir -p "$PREFIX/etc/kslurm" "$PREFIX/modulefiles/kslurm" "$PREFIX/share/kslurm"
  cp "$src/etc/kslurm/config.toml.example" "$PREFIX/share/kslurm/config.toml.example"
  # the site settings stub: created once, never overwritten (the lab's settings live there)
  [ -e "$PREFIX/etc/kslurm/config.toml" ] || cp "$src/etc/kslurm/config.toml.example" "$PREFIX/etc/kslurm/config.toml"
  sed "s#@PREFIX@#$PREFIX#g" "$src/share/kslurm/kslurm.lua" > "$PREFIX/modulefiles/kslurm/$VERSION.lua"
  chmod -R g+rX,o+rX "$bindir" "$PREFIX/etc/kslurm" "$PREFIX/modulefiles" "$PREFIX/share/kslurm" 2>/dev/null || true
  say "installed kslurm $VERSION into $PREFIX (site settings: $PREFIX/etc/kslurm/config.toml)"
  say "users add one of these to their ~/.bashrc:"
  printf '    export PATH="%s:$PATH"\n' "$bindir"
  printf '    module use %s/modulefiles && module load kslurm\n' "$PREFIX"
else
  say "installed kslurm $VERSION into $bindir"
  case ":$PATH:" in
    *":$bindir:"*) ;;
    *) say "add this line to your ~/.bashrc:"; printf '    export PATH="%s:$PATH"\n' "$bindir" ;;
  esac
fi
