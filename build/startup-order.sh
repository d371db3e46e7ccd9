#!/usr/bin/env bash
# Regenerates build/startup-order.txt: the managed methods every tool runs before it answers
# (--help, --version; an unknown command of kpy, kapp and kslurm; `kslurm config --list`), which
# the NativeAOT compiler then places side by side at the front of the code (IlcOrderFile in
# Directory.Build.targets).
# Scattered over 1-2 MB of code, they touched ~16 more pages per start: 0.5 ms of the ~1 ms a
# tool adds to the runtime's own start (docs/decisions.md, "Start-up code side by side").
#
# Run after ./build.sh publish, when start-up code or the ILCompiler version changed (names not
# found are ignored: a stale list only stops helping; BinaryTests checks ours still exist).
# It samples, so two runs differ by a few dozen short methods; either list works.
# Needs perf (linux-perf) and binutils; samples user-space code only.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
die() { echo "startup-order.sh: error: $*" >&2; exit 1; }
command -v perf >/dev/null || die "perf is not installed (apt-get install linux-perf)"
tfm=net10.0
tools=(krun kbatch kjupyter kpy kapp kslurm)
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
export HOME="$tmp/home" KSLURM_SITE_CONFIG="$tmp/site.toml"
mkdir -p "$HOME"

for t in "${tools[@]}"; do
  pub="src/$t/bin/Release/$tfm/linux-x64/publish"
  obj="src/$t/obj/Release/$tfm/linux-x64/native/$t.o"   # the compiler's output: managed code only
  [ -x "$pub/$t" ] && [ -f "$pub/$t.dbg" ] && [ -f "$obj" ] || die "no $pub/$t with its .dbg, or no $obj: run ./build.sh publish first"
  cp "$pub/$t" "$tmp/$t"
  cat > "$tmp/run.sh" <<EOF
#!/bin/bash
for i in \$(seq 200); do
  "$tmp/$t" --help; "$tmp/$t" --version
  case $t in  # krun, kbatch, kjupyter would start a job for an unknown word
    kpy|kapp) "$tmp/$t" no-such-command ;;
    kslurm) "$tmp/$t" no-such-command; "$tmp/$t" config --list ;;
  esac
done >/dev/null 2>&1
exit 0
EOF
  chmod +x "$tmp/run.sh"
  perf record -q -F 20000 -e cpu-clock:u -o "$tmp/$t.data" "$tmp/run.sh" >/dev/null 2>&1 || die "perf record failed for $t"
  nm --defined-only "$obj" | awk '$2 ~ /^[tT]$/ {print $3}' | sort -u > "$tmp/$t.managed"
  perf script -i "$tmp/$t.data" -F ip,dso 2>/dev/null | awk -v bin="($tmp/$t)" '$2 == bin {print "0x" $1}' \
    | addr2line -f -e "$pub/$t.dbg" | awk 'NR % 2 == 1' | sort -u > "$tmp/$t.hit"
  comm -12 "$tmp/$t.hit" "$tmp/$t.managed" > "$tmp/$t.order"
  [ -s "$tmp/$t.order" ] || die "no managed method of $t was sampled (is perf allowed? kernel.perf_event_paranoid)"
  echo "$t: $(wc -l < "$tmp/$t.order") methods" >&2
done
sort -u "$tmp"/*.order > build/startup-order.txt
echo "build/startup-order.txt: $(wc -l < build/startup-order.txt) methods" >&2
