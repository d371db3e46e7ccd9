#!/usr/bin/env bash
# kapp pull of a multi-layer image from the local test registry, side by side with
# `skopeo copy` of the same image to a folder; and `kapp path` on a cache hit (goal: <= 5 ms).
# Needs the test registries (sudo bash tests/registry/registry.sh up), umoci, skopeo, hyperfine.
# The image is built with umoci from Debian's numpy/scipy/pandas (one layer each, ~150 MB).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
res="$root/bench/results/kapp"
runs="${RUNS:-5}"
reg=127.0.0.1:5000
image="$reg/bench/big:1"
mkdir -p "$res"
for t in hyperfine skopeo umoci; do command -v "$t" >/dev/null || { echo "kapp.sh: $t not found" >&2; exit 1; }; done
bash "$root/tests/registry/registry.sh" status >/dev/null || { echo "kapp.sh: start the registries: sudo bash tests/registry/registry.sh up" >&2; exit 1; }

if ! skopeo inspect --tls-verify=false "docker://$image" >/dev/null 2>&1; then
  echo "== building $image"
  rm -rf "$res/layout" "$res/bundle"
  umoci init --layout "$res/layout"
  umoci new --image "$res/layout:big"
  for pkg in numpy scipy pandas; do
    umoci unpack --image "$res/layout:big" "$res/bundle" >/dev/null
    cp -a "/usr/lib/python3/dist-packages/$pkg" "$res/bundle/rootfs/"
    umoci repack --image "$res/layout:big" "$res/bundle" >/dev/null
    rm -rf "$res/bundle"
  done
  skopeo copy -q --dest-tls-verify=false "oci:$res/layout:big" "docker://$image"
fi

export HOME="$res/home" KSLURM_SITE_CONFIG="$res/site.toml" PATH="$root/tests/standin:$root/dist:$PATH"
mkdir -p "$HOME"
kslurm config pipdir "$res/pipdir" >/dev/null
echo "== pull ($(skopeo inspect --tls-verify=false "docker://$image" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["Layers"]))') layers; the build is the Apptainer stand-in's, which checks every blob)"
hyperfine --warmup 1 --runs "$runs" --export-markdown "$res/pull.md" \
  --prepare "rm -rf $res/pipdir/containers $res/copy $res/x.tar $res/x.tar.blobs" \
  -n "kapp pull" "kapp pull $image" \
  -n "kapp download + verify + OCI archive (no build)" "kapp _resolve $image $res/x.tar" \
  -n "skopeo copy to dir:" "skopeo copy -q --src-tls-verify=false docker://$image dir:$res/copy"
kapp pull "$image" -a big >/dev/null 2>&1
echo "== path on a cache hit"
hyperfine -N --warmup 20 --runs 300 --export-markdown "$res/path.md" \
  -n "/bin/true" "/bin/true" -n "kapp path ALIAS" "$root/dist/kapp path big" -n "kapp path URI" "$root/dist/kapp path $image"
cat "$res/pull.md" "$res/path.md" > "$root/bench/results/kapp.md"
echo "results: bench/results/kapp.md"
