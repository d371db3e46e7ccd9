#!/usr/bin/env bash
# kpy's SquashFS images (issue 15), side by side with unpacking the same save:
#   - time to a working venv: `kpy load NAME` (mounts the image) vs `kpy load --unpack NAME`,
#     each followed by the venv's python running, with the page cache warm and dropped;
#   - a heavy first import, `import scipy, pandas, sklearn, matplotlib`, from the mounted venv vs
#     from the unpacked copy, cold (page cache dropped before each run) and warm.
# The venv: `python3 -m venv` + Debian's dist-packages copied in (as bench/goals.sh builds "big").
# Archive, image and both loaded venvs live on disk (BENCH_DIR, default /var/tmp), so "cold"
# reads from the disk. Needs root (drop_caches), hyperfine, squashfs-tools, squashfuse, fuse3,
# and python3-{numpy,scipy,pandas,matplotlib,sklearn}. Results: bench/results/mount.md.
#
#   bench/mount.sh                 # RUNS=3 for loads, IMPORT_RUNS=5 for imports
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
runs="${RUNS:-3}"
import_runs="${IMPORT_RUNS:-5}"
kpy="${KPY:-$root/dist/kpy}"
work="${BENCH_DIR:-/var/tmp/kslurm-mount-bench-$(id -un)}"
out="$root/bench/results"
for t in hyperfine mksquashfs squashfuse fusermount3 /usr/bin/python3; do
  command -v "$t" >/dev/null || { echo "mount.sh: $t not found" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "mount.sh: skipped: run it as root (it drops the page cache between cold runs)" >&2; exit 0; }
[ -x "$kpy" ] || { echo "mount.sh: build first (./build.sh publish)" >&2; exit 1; }
/usr/bin/python3 -c 'import scipy, pandas, sklearn, matplotlib' 2>/dev/null \
  || { echo "mount.sh: apt-get install python3-scipy python3-pandas python3-sklearn python3-matplotlib" >&2; exit 1; }

export HOME="$work/home" TMPDIR="$work/tmp" KSLURM_SITE_CONFIG="$work/site.toml"
unset VIRTUAL_ENV SLURM_JOB_ID SLURM_TMPDIR
mkdir -p "$HOME" "$TMPDIR" "$out"
live="$TMPDIR/kpy-$(id -un)"
cleanup() {
  "$kpy" deactivate big >/dev/null 2>&1 || true
  [ "${KEEP:-0}" = 1 ] || rm -rf "$work"
}
trap cleanup EXIT
"$root/dist/kslurm" config pipdir "$work/pipdir" >/dev/null

src="$work/src/big"
if [ ! -d "$src" ]; then
  /usr/bin/python3 -m venv "$src"
  cp -a /usr/lib/python3/dist-packages/. "$(echo "$src"/lib/python3*/site-packages)/"
fi
echo "== venv: $(find "$src" | wc -l) entries, $(du -sm "$src" | cut -f1) MB"
echo "== kpy save --image (once)"
/usr/bin/time -f '   %e s, peak RSS %M KB (kpy; mksquashfs is its child)' env VIRTUAL_ENV="$src" "$kpy" save -f --image big
ls -l "$work/pipdir/venv_archives"

drop='sync; echo 3 > /proc/sys/vm/drop_caches'
reset="$kpy deactivate big >/dev/null 2>&1; rm -rf $live/big"
py="$live/big/bin/python -c pass"
hyperfine --runs "$runs" --export-markdown "$work/load.md" \
  --command-name "mount, warm" --prepare "$reset" "$kpy load big </dev/null 2>/dev/null && $py" \
  --command-name "unpack, warm" --prepare "$reset" "$kpy load --unpack big </dev/null 2>/dev/null && $py" \
  --command-name "mount, cold" --prepare "$reset; $drop" "$kpy load big </dev/null 2>/dev/null && $py" \
  --command-name "unpack, cold" --prepare "$reset; $drop" "$kpy load --unpack big </dev/null 2>/dev/null && $py"

eval "$reset"
"$kpy" load big </dev/null
"$kpy" load --unpack big --as bigu </dev/null
grep -q " $live/.big.image fuse.squashfuse" /proc/mounts || { echo "mount.sh: big is not mounted" >&2; exit 1; }
imp="-c 'import scipy, pandas, sklearn, matplotlib'"
hyperfine --runs "$import_runs" --export-markdown "$work/import-cold.md" --prepare "$drop" \
  --command-name "import from the mount, cold" "$live/big/bin/python $imp" \
  --command-name "import from the unpacked copy, cold" "$live/bigu/bin/python $imp"
hyperfine --runs "$import_runs" --export-markdown "$work/import-warm.md" --warmup 1 \
  --command-name "import from the mount, warm" "$live/big/bin/python $imp" \
  --command-name "import from the unpacked copy, warm" "$live/bigu/bin/python $imp"

{
  echo "# bench/mount.sh, $(date -u +%Y-%m-%d) on $(nproc) cores"
  echo
  echo "Venv: $(find "$src" | wc -l) entries, $(du -sm "$src" | cut -f1) MB; archive $(du -m "$work/pipdir/venv_archives/big.tar.zst" | cut -f1) MB, image $(du -m "$work/pipdir/venv_archives/big.sqfs" | cut -f1) MB."
  echo
  echo "## Time to a working venv (kpy load, then python -c pass)"
  echo
  cat "$work/load.md"
  echo
  echo "## First import of scipy, pandas, sklearn, matplotlib"
  echo
  cat "$work/import-cold.md"
  tail -n +3 "$work/import-warm.md"
} > "$out/mount.md"
"$kpy" deactivate big
cat "$out/mount.md"
