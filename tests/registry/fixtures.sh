#!/usr/bin/env bash
# Test images for the local registries (registry.sh up runs this), made without any network:
# small OCI image layouts written by hand (tar + gzip + sha256sum), pushed with skopeo.
#   anonymous 127.0.0.1:5000:
#     test/single:1.0, test/single:same   one OCI manifest (3 layers, one of 2 MiB), under two tags
#     test/multi:1.0                      OCI index: linux/amd64, linux/arm64, unknown/unknown (attestation-like)
#     test/docker:1.0                     Docker v2 schema 2 manifest (skopeo --format v2s2)
#     test/dockerlist:1.0                 Docker manifest list (skopeo --all --format v2s2)
#     test/artifact:1.0                   an OCI artifact whose config is not an image config
#   basic 127.0.0.1:5001:  test/single:1.0
#   token 127.0.0.1:5002:  test/single:1.0, public/single:1.0, public/access-token-only:1.0
# The layout (KSLURM_REGISTRY_DIR/fixtures/layout) also holds tags "moved-a"/"moved-b" for tests
# that move a tag themselves. Idempotent: a marker in each registry's storage says it is done.
set -Eeuo pipefail

DIR=${KSLURM_REGISTRY_DIR:-/tmp/kslurm-registry}
VERSION=1
LAYOUT=$DIR/fixtures/layout-v$VERSION
REG_USER=kslurm REG_PASS=Pull-Me-7431
say() { printf '[kslurm-registry] %s\n' "$*" >&2; }
trap 'say "ERROR: fixtures.sh line $LINENO failed: $BASH_COMMAND"' ERR

WORK=
sha() { sha256sum "$1" | cut -d' ' -f1; }

# blob FILE: move FILE into the layout; sets DIGEST and SIZE.
blob() {
    DIGEST=sha256:$(sha "$1")
    SIZE=$(stat -c %s "$1")
    mv -f "$1" "$LAYOUT/blobs/sha256/${DIGEST#sha256:}"
}

# layer SRCDIR: a gzip layer of SRCDIR's content; sets DIGEST, SIZE and DIFF (uncompressed digest).
layer() {
    tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$1" -cf "$WORK/layer.tar" .
    DIFF=sha256:$(sha "$WORK/layer.tar")
    gzip -n -c "$WORK/layer.tar" >"$WORK/layer.tgz"
    blob "$WORK/layer.tgz"
}

# image OUTVAR ARCH CONFIG-MEDIA-TYPE LAYERDIR...: config + OCI manifest; OUTVAR gets a descriptor
# body ("digest":...,"size":...) for the manifest.
image() {
    local out=$1 arch=$2 cmt=$3 layers="" diffs="" d
    shift 3
    for d in "$@"; do
        layer "$d"
        layers+="${layers:+,}{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"$DIGEST\",\"size\":$SIZE}"
        diffs+="${diffs:+,}\"$DIFF\""
    done
    printf '{"architecture":"%s","os":"linux","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["/bin/hello"]},"rootfs":{"type":"layers","diff_ids":[%s]},"history":[{"created_by":"kslurm tests/registry/fixtures.sh"}]}' \
        "$arch" "$diffs" >"$WORK/config.json"
    blob "$WORK/config.json"
    printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"%s","digest":"%s","size":%s},"layers":[%s]}' \
        "$cmt" "$DIGEST" "$SIZE" "$layers" >"$WORK/manifest.json"
    blob "$WORK/manifest.json"
    printf -v "$out" '"digest":"%s","size":%s' "$DIGEST" "$SIZE"
}

# rootfs NAME FILE=CONTENT...: a folder with those files.
rootfs() {
    local d=$WORK/$1 kv
    shift
    mkdir -p "$d"
    for kv in "$@"; do
        mkdir -p "$d/$(dirname "${kv%%=*}")"
        printf '%s\n' "${kv#*=}" >"$d/${kv%%=*}"
    done
    echo "$d"
}

build_layout() {
    say "building test images in $LAYOUT"
    WORK=$(mktemp -d)
    rm -rf "$LAYOUT.tmp"
    LAYOUT=$LAYOUT.tmp
    mkdir -p "$LAYOUT/blobs/sha256"
    printf '{"imageLayoutVersion":"1.0.0"}' >"$LAYOUT/oci-layout"
    local M="application/vnd.oci.image.manifest.v1+json" IMG="application/vnd.oci.image.config.v1+json"
    local base motd data amd arm att single moved artifact multi
    base=$(rootfs base "bin/hello=#!/bin/sh
echo hello from the kslurm test image" "etc/os-release=NAME=kslurm-test")
    chmod +x "$base/bin/hello"
    data=$WORK/data
    mkdir -p "$data/data"
    # 2 MiB of deterministic noise (incompressible, so the layer is big enough to cut mid-way)
    head -c $((2 * 1024 * 1024)) /dev/zero | openssl enc -aes-128-ctr -nosalt -K 00112233445566778899aabbccddeeff \
        -iv 00000000000000000000000000000000 >"$data/data/random.bin"
    motd=$(rootfs motd "etc/motd=single image")
    image single amd64 "$IMG" "$base" "$data" "$motd"
    image moved amd64 "$IMG" "$base" "$(rootfs motd2 "etc/motd=the tag moved here")"
    image amd amd64 "$IMG" "$base" "$(rootfs arch-amd64 "etc/arch=amd64")"
    image arm arm64 "$IMG" "$base" "$(rootfs arch-arm64 "etc/arch=arm64")"
    image att unknown "$IMG" "$(rootfs att "attestation.json={}")"
    image artifact amd64 "application/vnd.kslurm.test.config.v1+json" "$(rootfs artifact "payload.txt=not an image")"
    printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"%s",%s,"platform":{"architecture":"amd64","os":"linux"}},{"mediaType":"%s",%s,"platform":{"architecture":"arm64","os":"linux","variant":"v8"}},{"mediaType":"%s",%s,"platform":{"architecture":"unknown","os":"unknown"}}]}' \
        "$M" "$amd" "$M" "$arm" "$M" "$att" >"$WORK/index.json"
    blob "$WORK/index.json"
    multi="\"digest\":\"$DIGEST\",\"size\":$SIZE"
    ref() { printf '{"mediaType":"%s",%s,"annotations":{"org.opencontainers.image.ref.name":"%s"}}' "$1" "$2" "$3"; }
    printf '{"schemaVersion":2,"manifests":[%s,%s,%s,%s,%s]}' \
        "$(ref "$M" "$single" single)" "$(ref "$M" "$moved" moved-b)" "$(ref "$M" "$amd" moved-a)" \
        "$(ref "$M" "$artifact" artifact)" "$(ref application/vnd.oci.image.index.v1+json "$multi" multi)" >"$LAYOUT/index.json"
    rm -rf "$WORK"
    LAYOUT=${LAYOUT%.tmp}
    rm -rf "$LAYOUT"
    mv "$LAYOUT.tmp" "$LAYOUT"
}

# push SRC-TAG DEST [skopeo options...]
push() {
    local src=$1 dest=$2
    shift 2
    skopeo --insecure-policy copy -q --dest-tls-verify=false "$@" "oci:$LAYOUT:$src" "docker://$dest" >/dev/null
}

[[ -s $LAYOUT/index.json ]] || build_layout

if [[ ! -e $DIR/anonymous/data/fixtures-pushed ]]; then
    say "pushing test images to 127.0.0.1:5000"
    R=127.0.0.1:5000
    push single $R/test/single:1.0
    push single $R/test/single:same
    push multi $R/test/multi:1.0 --all
    push single $R/test/docker:1.0 --format v2s2
    push multi $R/test/dockerlist:1.0 --all --format v2s2
    push artifact $R/test/artifact:1.0
    touch "$DIR/anonymous/data/fixtures-pushed"
fi
if [[ ! -e $DIR/basic/data/fixtures-pushed ]]; then
    say "pushing test images to 127.0.0.1:5001"
    push single 127.0.0.1:5001/test/single:1.0 --dest-creds "$REG_USER:$REG_PASS"
    touch "$DIR/basic/data/fixtures-pushed"
fi
if [[ ! -e $DIR/token/data/fixtures-pushed ]]; then
    say "pushing test images to 127.0.0.1:5002"
    for repo in test/single public/single public/access-token-only; do
        push single "127.0.0.1:5002/$repo:1.0" --dest-creds "$REG_USER:$REG_PASS"
    done
    touch "$DIR/token/data/fixtures-pushed"
fi
