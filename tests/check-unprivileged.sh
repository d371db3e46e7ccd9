#!/usr/bin/env bash
# Shows that `make check` needs no root and nothing left over from earlier builds: a fresh clone of
# the committed HEAD, owned by `nobody`, run as `nobody` with an empty HOME (so an empty NuGet
# cache too), then once more after `make clean` (warm cache). Prints both wall times.
# Run as root:  sudo bash tests/check-unprivileged.sh
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
[ "$(id -u)" = 0 ] || { echo "check-unprivileged.sh: error: run as root (it switches to the user nobody)" >&2; exit 1; }
user="${KSLURM_CHECK_USER:-nobody}"
work="$(mktemp -d /tmp/kslurm-check.XXXXXX)"
trap 'rm -rf "$work"' EXIT
git clone -q "$ROOT" "$work/kslurm"
mkdir "$work/home"
chown -R "$user:" "$work"
chmod 755 "$work"
# The toml-test corpus is looked up next to the repository; the clone is elsewhere, so name it.
corpus="${KSLURM_TOML_TEST_DIR:-$(cd "$ROOT/.." && pwd)/shared/toml-test/tests}"
as_user() {
  runuser -u "$user" -- env -i PATH="$(dirname "$(readlink -f "$(command -v dotnet)")"):/usr/bin:/bin" \
    HOME="$work/home" LANG=C.UTF-8 KSLURM_TOML_TEST_DIR="$corpus" bash -c "cd '$work/kslurm' && $1"
}
as_user 'id; test ! -w /root && echo "not root: cannot write /root"'
for run in cold warm; do
  [ "$run" = warm ] && as_user 'make clean >/dev/null'
  start=$(date +%s.%N)
  as_user 'make check'
  awk -v s="$start" -v e="$(date +%s.%N)" -v r="$run" -v u="$user" \
    'BEGIN { printf "make check (%s NuGet cache, as %s, from a clean tree): %.1f s\n", r, u, e - s }' </dev/null
done
