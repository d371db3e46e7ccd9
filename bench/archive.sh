#!/usr/bin/env bash
# Benchmarks kslurm's archive layer (TreeArchive + zstd, driven by `zstdbench tar-c/tar-x`)
# against GNU tar piped through the zstd CLI, and tar -z, on a venv-like tree built once in
# bench/results/tree: the lib/ folder of the Python that `python3` runs on (stdlib +
# site-packages), Debian's dist-packages, a hard-linked copy of it (uv installs packages as
# hard links) and bin/ symlinks.
#
#   bench/archive.sh                 # 5 runs each
#   RUNS=10 bench/archive.sh
#   TREE_SRC="/path/a /path/b" bench/archive.sh   # other source folders (rebuild: rm -rf bench/results/tree)
#   EXTRACT_DIR=/dev/shm/kslurm-bench bench/archive.sh   # extract elsewhere (default: bench/results/out)
#
# Needs: dotnet, tar, zstd, gzip, hyperfine, python3 (to find its lib/), and zig for the
# NativeAOT link (KSLURM_ZIG=/path/to/zig when it is not in .tools/, or KSLURM_LINKER=system).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
res="$root/bench/results"
runs="${RUNS:-5}"
tree="$res/tree"
bin="$res/bin/zstdbench"
out="${EXTRACT_DIR:-$res/out}"
mkdir -p "$res"

for tool in tar zstd gzip hyperfine dotnet python3; do
  command -v "$tool" >/dev/null || { echo "archive.sh: $tool not found" >&2; exit 1; }
done

if [[ ! -d "$tree" ]]; then
  src="${TREE_SRC:-$(python3 -c 'import sys; print(sys.base_prefix)')/lib /usr/lib/python3/dist-packages}"
  echo "== building the test tree $tree from: $src"
  mkdir -p "$tree.tmp/bin"
  for s in $src; do
    [[ -d "$s" ]] && cp -a "$s" "$tree.tmp/$(basename "$s")"
  done
  # Hard links and symlinks as a uv-made venv has them.
  first="$(ls "$tree.tmp" | grep -v '^bin$' | tail -1)"
  cp -al "$tree.tmp/$first" "$tree.tmp/$first-hardlinked"
  ln -s /usr/bin/python3 "$tree.tmp/bin/python3"
  ln -s python3 "$tree.tmp/bin/python"
  mv "$tree.tmp" "$tree"
fi
echo "   $(find "$tree" | wc -l) entries, $(du -sh "$tree" | cut -f1), $(find "$tree" -type f -links +1 | wc -l) hard-linked files; cores: $(nproc)"

echo "== publishing bench/zstdbench (NativeAOT)"
dotnet publish "$root/bench/zstdbench" -c Release -o "$res/bin" --nologo -v quiet >/dev/null

echo "== archive sizes"
"$bin" tar-c "$tree" "$res/ours.tar.zst"
tar -cf - -C "$tree" . | zstd -q -3 -T0 -o "$res/gnu.tar.zst" -f
tar --sort=name -cf - -C "$tree" . | zstd -q -3 -T0 -o "$res/gnu-sorted.tar.zst" -f
tar -czf "$res/gnu.tar.gz" -C "$tree" .
zstd -q -t "$res/ours.tar.zst"
ref=$(stat -c %s "$res/gnu.tar.zst")
{
  echo "| archive | bytes | vs tar \| zstd -3 |"
  echo "|---|---:|---:|"
  for f in ours.tar.zst gnu.tar.zst gnu-sorted.tar.zst gnu.tar.gz; do
    b=$(stat -c %s "$res/$f")
    printf '| %s | %d | %+.2f %% |\n' "$f" "$b" "$(echo "($b - $ref) * 100 / $ref" | bc -l)"
  done
} | tee "$res/sizes.md"

echo "== writing (tree -> archive file)"
# Through bash for all (the CLI pipelines need it); `sync` before each run so one run's
# write-back does not slow the next.
hyperfine --warmup 1 --runs "$runs" --prepare sync --export-markdown "$res/write.md" \
  -n "ours (TreeArchive.Write + zstd -3)" "'$bin' tar-c '$tree' '$res/tmp.tar.zst'" \
  -n "tar -cf - | zstd -3 -T0" "tar -cf - -C '$tree' . | zstd -q -3 -T0 -f -o '$res/tmp.tar.zst'" \
  -n "tar -czf" "tar -czf '$res/tmp.tar.gz' -C '$tree' ."

echo "== extracting (archive file -> empty folder)"
echo "   into $out ($(df --output=fstype "$(dirname "$out")" | tail -1))"
hyperfine --warmup 1 --runs "$runs" --prepare "rm -rf '$out' && mkdir '$out' && sync" \
  --export-markdown "$res/extract.md" \
  -n "ours (ArchiveFile.OpenRead + TreeArchive.Extract)" "'$bin' tar-x '$res/ours.tar.zst' '$out'" \
  -n "zstd -dc | tar -xf -" "zstd -q -dc '$res/ours.tar.zst' | tar -xf - -C '$out'" \
  -n "tar -xzf" "tar -xzf '$res/gnu.tar.gz' -C '$out'"

echo "== check: our extraction of our archive = GNU tar's extraction of it"
rm -rf "$out" "$out-gnu"
mkdir "$out-gnu"
"$bin" tar-x "$res/ours.tar.zst" "$out"
zstd -q -dc "$res/ours.tar.zst" | tar -xpf - -C "$out-gnu"
# A sorted tar of each tree's contents (not of the root folder, which the archive does not
# store) covers names, types, modes, mtimes, link targets and hard links.
contents() { (cd "$1" && find . -mindepth 1 -maxdepth 1 -printf '%P\0' | sort -z | tar --sort=name --null -T - -cf -); }
cmp <(contents "$out") <(contents "$out-gnu")
cmp <(contents "$out") <(contents "$tree")
echo "   identical"
rm -rf "$out" "$out-gnu" "$res/tmp.tar.zst" "$res/tmp.tar.gz"
echo "== results in $res/sizes.md, write.md, extract.md"
