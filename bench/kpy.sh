#!/usr/bin/env bash
# kpy save/load on a realistic venv, side by side with the shell pipelines and with rebuilding
# the venv by pip from a local wheelhouse.
#   - venv: a real `python3 -m venv` with all of Debian's dist-packages (numpy, scipy, pandas,
#     matplotlib and everything else installed) copied into its site-packages: ~20k files, ~450 MB;
#   - wheelhouse: every package folder zipped as a wheel, so `pip install --no-index` can rebuild it.
# Needs root once for `apt-get install` of those packages; results in bench/results/kpy.md.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
res="$root/bench/results/kpy"
runs="${RUNS:-5}"
kpy="$root/dist/kpy"
mkdir -p "$res"
for t in hyperfine zstd python3 tar; do command -v "$t" >/dev/null || { echo "kpy.sh: $t not found" >&2; exit 1; }; done
[ -x "$kpy" ] || { echo "kpy.sh: build first (./build.sh publish)" >&2; exit 1; }

pkgs=(python3-numpy python3-scipy python3-pandas python3-matplotlib python3-sympy python3-sklearn python3-statsmodels python3-venv)
missing=(); for p in "${pkgs[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || { echo "kpy.sh: install ${missing[*]} first (as root)" >&2; exit 1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi

export HOME="$res/home" TMPDIR="$res/tmp" KSLURM_SITE_CONFIG="$res/site.toml"
mkdir -p "$HOME" "$TMPDIR"
"$root/dist/kslurm" config pipdir "$res/pipdir" >/dev/null
venv="$TMPDIR/kpy-$(id -un)/bench"
site=/usr/lib/python3/dist-packages

if [ ! -d "$venv" ]; then
  echo "== building the venv $venv"
  mkdir -p "$(dirname "$venv")"
  /usr/bin/python3 -m venv "$venv"
  sp=$(echo "$venv"/lib/python3*/site-packages)
  cp -a "$site"/. "$sp/"
  printf '{"format": 1, "name": "bench", "original_paths": ["%s"]}\n' "$venv" > "$venv/.kpy.json"
fi
files=$(find "$venv" | wc -l); bytes=$(du -sb "$venv" | cut -f1)
echo "   $files files, $((bytes / 1000000)) MB"

wheels="$res/wheels"
if [ ! -d "$wheels" ]; then
  echo "== zipping the same packages as wheels (for the pip rebuild)"
  mkdir -p "$wheels"
  /usr/bin/python3 - "$site" "$wheels" <<'PY'
import base64, hashlib, os, sys, zipfile
site, out = sys.argv[1], sys.argv[2]
for m in sorted(os.listdir(site)):
    src = os.path.join(site, m)
    if not os.path.isfile(os.path.join(src, "__init__.py")) or m.startswith("_") \
            or m in ("pip", "setuptools", "pkg_resources", "wheel"):  # the venv's own tools stay
        continue
    name = m.replace("-", "_")
    dist = f"{name}-0.0.0.dist-info"
    path = os.path.join(out, f"{name}-0.0.0-py3-none-any.whl")
    records = []
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        def add(arc, data):
            z.writestr(arc, data)
            h = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            records.append(f"{arc},sha256={h},{len(data)}")
        for dirpath, _, files in os.walk(src):
            for f in files:
                full = os.path.join(dirpath, f)
                if os.path.islink(full):
                    continue
                with open(full, "rb") as fh:
                    add(os.path.relpath(full, site), fh.read())
        add(f"{dist}/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.0.0\n".encode())
        add(f"{dist}/WHEEL", b"Wheel-Version: 1.0\nGenerator: kslurm-bench\nRoot-Is-Purelib: false\nTag: py3-none-any\n")
        z.writestr(f"{dist}/RECORD", "\n".join(records + [f"{dist}/RECORD,,"]) + "\n")
PY
fi

archive="$res/pipdir/venv_archives/bench.tar.zst"
echo "== save (level 3, all cores: $(nproc))"
hyperfine -N --warmup 1 --runs "$runs" --export-markdown "$res/save.md" \
  -n "kpy save" "env VIRTUAL_ENV=$venv $kpy save -f bench" \
  -n "tar | zstd -3 -T0" "bash -c 'tar -cf - -C $venv . | zstd -q -3 -T0 -f -o $res/pipe.tar.zst'" \
  -n "tar -czf" "tar -czf $res/pipe.tar.gz -C $venv ."
ours=$(stat -c %s "$archive"); pipe=$(stat -c %s "$res/pipe.tar.zst"); gz=$(stat -c %s "$res/pipe.tar.gz")
python3 -c "print(f'   sizes: kpy {$ours/1e6:.1f} MB, tar|zstd -3 {$pipe/1e6:.1f} MB ({($ours-$pipe)/$pipe*100:+.2f} %), tar -czf {$gz/1e6:.1f} MB')" | tee "$res/sizes.txt"

echo "== load"
hyperfine -N --warmup 1 --runs "$runs" --export-markdown "$res/load.md" \
  --prepare "rm -rf $TMPDIR/kpy-$(id -un)/loaded $res/x $res/rebuilt" \
  -n "kpy load" "$kpy load bench --as loaded" \
  -n "zstd -dc | tar -xf" "bash -c 'mkdir $res/x && zstd -dc $res/pipe.tar.zst | tar -xf - -C $res/x'" \
  -n "venv + pip install --no-index" "bash -c '/usr/bin/python3 -m venv $res/rebuilt && $res/rebuilt/bin/pip install -q --no-index --no-deps $wheels/*.whl'"
cat "$res/save.md" "$res/sizes.txt" "$res/load.md" > "$root/bench/results/kpy.md"
echo "results: bench/results/kpy.md"
