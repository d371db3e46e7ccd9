#!/usr/bin/env bash
# Benchmarks kslurm's zstd layer (src/Common/Archive, driven by bench/zstdbench) against the
# zstd CLI with hyperfine, on a ~400 MB tar of system files built once in bench/results/.
#
#   bench/zstd.sh                 # all cores, 5 runs each
#   RUNS=10 SIZE_MB=300 bench/zstd.sh
#
# Needs: dotnet, zstd, hyperfine, and zig for the NativeAOT link (KSLURM_ZIG=/path/to/zig when
# it is not in .tools/, or KSLURM_LINKER=system to link with the system toolchain).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
res="$root/bench/results"
runs="${RUNS:-5}"
size_mb="${SIZE_MB:-400}"
input="$res/input.tar"
bin="$res/bin/zstdbench"
mkdir -p "$res"

for tool in zstd hyperfine dotnet; do
  command -v "$tool" >/dev/null || { echo "zstd.sh: $tool not found" >&2; exit 1; }
done

if [[ ! -s "$input" ]]; then
  echo "== building ${size_mb} MB test input $input"
  # Sorted so the input is the same from run to run on a given machine; cut to size.
  tar --sort=name -cf - /usr/lib/python3* /usr/share/dotnet 2>/dev/null \
    | head -c "$((size_mb * 1024 * 1024))" >"$input.tmp" || true
  mv "$input.tmp" "$input"
fi

echo "== publishing bench/zstdbench (NativeAOT)"
dotnet publish "$root/bench/zstdbench" -c Release -o "$res/bin" --nologo -v quiet >/dev/null
echo "   $(ldd "$bin" | grep -c zstd || true) libzstd entries in ldd (0 = statically linked);" \
  "max glibc: $(objdump -T "$bin" | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -1)"

# Reference compressed files for the decompression runs, and the ratios.
zstd -q -f -3 -T0 "$input" -o "$res/input.cli.zst"
"$bin" c "$input" "$res/input.ours.zst"
zstd -q -t "$res/input.ours.zst"
in_bytes=$(stat -c %s "$input")
for f in cli ours; do
  z=$(stat -c %s "$res/input.$f.zst")
  printf '   %-4s %d -> %d bytes (ratio %.3f)\n' "$f" "$in_bytes" "$z" "$(echo "$in_bytes / $z" | bc -l)"
done
echo "   cores: $(nproc)"

echo "== compression (level 3)"
# -N: no intermediate shell; `sync` before each run so one run's write-back does not slow the next.
hyperfine -N --warmup 1 --runs "$runs" --prepare sync --export-markdown "$res/compress.md" \
  -n "zstd -3 -T0" "zstd -q -f -3 -T0 '$input' -o '$res/tmp.zst'" \
  -n "zstd -3 -T1" "zstd -q -f -3 -T1 '$input' -o '$res/tmp.zst'" \
  -n "ours, all cores" "'$bin' c '$input' '$res/tmp.zst'" \
  -n "ours, -T 1" "'$bin' c '$input' '$res/tmp.zst' -T 1"

echo "== decompression (to /dev/null: decoder speed without page-cache write costs)"
hyperfine -N --warmup 1 --runs "$runs" --export-markdown "$res/decompress.md" \
  -n "zstd -d, CLI file" "zstd -q -d -c '$res/input.cli.zst' -o /dev/null" \
  -n "zstd -d, our file" "zstd -q -d -c '$res/input.ours.zst' -o /dev/null" \
  -n "ours, CLI file" "'$bin' d '$res/input.cli.zst' /dev/null" \
  -n "ours, our file" "'$bin' d '$res/input.ours.zst' /dev/null" \
  -n "ours -T 1, our file" "'$bin' d '$res/input.ours.zst' /dev/null -T 1"

echo "== round-trip check"
"$bin" d "$res/input.ours.zst" "$res/tmp.out"
cmp "$input" "$res/tmp.out"
"$bin" d "$res/input.cli.zst" "$res/tmp.out"
cmp "$input" "$res/tmp.out"
echo "   ok"
rm -f "$res/tmp.zst" "$res/tmp.out"
echo "== results in $res/compress.md and $res/decompress.md"
