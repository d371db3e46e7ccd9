#!/usr/bin/env bash
# The rows of issue 15, side by side in one run: kpy load/save against `zstd -dc | tar -x`,
# `tar | zstd -3 -T0`, `tar -czf` and a pip reinstall, on three venvs, onto disk and tmpfs, with
# peak RSS per row. Each round runs every command of a row once (hyperfine --runs 1, one after
# the other), so a noisy machine hits them alike; a round marked "after delete" first deletes
# TRASH_COPIES unpacked copies of the big venv on the same file system (the inodes freed are
# what slows the next creations on ext4 without a journal, see README "Measured").
#
#   bench/goals.sh                        # ROUNDS=10, TRASH_COPIES=2, every row
#   ROWS="load-disk shell" bench/goals.sh # some rows: load-disk load-tmpfs many save small-save shell startup
#   BENCH_DIR=/scratch/x bench/goals.sh   # data on another disk (default /var/tmp/kslurm-bench-$USER)
#
# Venvs: "big" = `python3 -m venv` + Debian's dist-packages (numpy, scipy, pandas, matplotlib,
# sympy, scikit-learn, statsmodels, ...: no PyPI here, so real packages from apt, copied);
# "small" = a bare `python3 -m venv` (pip only); "many" = 200,000 small files, synthesized by
# copying the big venv's .py files into numbered packages. Results: bench/results/goals.md.
# Everything under BENCH_DIR is deleted at the end unless KEEP=1.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
rounds="${ROUNDS:-10}"
trash_copies="${TRASH_COPIES:-2}"
rows="${ROWS:-load-disk load-tmpfs many save small-save shell startup}"
kpy="${KPY:-$root/dist/kpy}"
before="${KPY_BEFORE:-}"   # an older kpy binary to compare with (load-disk, load-tmpfs, save rows)
work="${BENCH_DIR:-/var/tmp/kslurm-bench-$(id -un)}"
shm="${SHM_DIR:-/dev/shm/kslurm-bench-$(id -un)}"
out="$root/bench/results"
for t in hyperfine zstd tar python3 /usr/bin/time; do command -v "$t" >/dev/null || { echo "goals.sh: $t not found" >&2; exit 1; }; done
[ -x "$kpy" ] || { echo "goals.sh: build first (./build.sh publish)" >&2; exit 1; }
mkdir -p "$work" "$shm" "$out"
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$work" "$shm"' EXIT
json="$work/json"; rss="$work/rss"; mkdir -p "$json" "$rss"

export HOME="$work/home" TMPDIR="$work/tmp" KSLURM_SITE_CONFIG="$work/site.toml"
mkdir -p "$HOME" "$TMPDIR"
"$root/dist/kslurm" config pipdir "$work/pipdir" >/dev/null
live="$TMPDIR/kpy-$(id -un)"
mkdir -p "$live"
site=/usr/lib/python3/dist-packages

record() { printf '{"format": 1, "name": "%s", "original_paths": ["%s"]}\n' "$1" "$live/$1" > "$live/$1/.kpy.json"; }
if [ ! -d "$live/big" ]; then
  echo "== venvs in $live"
  /usr/bin/python3 -m venv "$live/big"
  cp -a "$site"/. "$(echo "$live"/big/lib/python3*/site-packages)/"
  record big
  /usr/bin/python3 -m venv "$live/small"; record small
  /usr/bin/python3 -m venv "$live/many"; record many
  /usr/bin/python3 - "$live/big" "$(echo "$live"/many/lib/python3*/site-packages)" <<'PY'
import os, shutil, sys
src, dst = sys.argv[1], sys.argv[2]
pys = [os.path.join(d, f) for d, _, fs in os.walk(src) for f in fs if f.endswith(".py") and not os.path.islink(os.path.join(d, f))]
n, k = 0, 0
while n < 200_000:
    pkg = os.path.join(dst, f"synth{k:03d}")
    for p in pys:
        if n >= 200_000:
            break
        t = os.path.join(pkg, os.path.relpath(p, src))
        os.makedirs(os.path.dirname(t), exist_ok=True)
        shutil.copyfile(p, t)
        n += 1
    k += 1
PY
fi
for v in big small many; do
  echo "   $v: $(find "$live/$v" | wc -l) entries, $(du -sm "$live/$v" | cut -f1) MB"
done

# Every command runs under /usr/bin/time (peak RSS of the process or of the pipeline's largest).
timed() { echo "/usr/bin/time -a -o $rss/$1 -f %M $2"; }
# run ROW ROUND PREPARE name1 cmd1 name2 cmd2 ...: one hyperfine run of each, in order.
run() {
  local row=$1 round=$2 prep=$3; shift 3
  local args=() i=0
  while [ $# -gt 0 ]; do
    args+=(-n "$1" "$(timed "$row.$i" "$2")"); shift 2; i=$((i + 1))
  done
  hyperfine -N --runs 1 --prepare "$prep" --export-json "$json/$row.$round.json" "${args[@]}" >/dev/null 2>&1 \
    || hyperfine -N --runs 1 --prepare "$prep" --export-json "$json/$row.$round.json" "${args[@]}"
}
# fast ROW name1 cmd1 ...: millisecond commands, one hyperfine run of 200 each (no wrapper).
fast() {
  local row=$1; shift
  local args=()
  while [ $# -gt 0 ]; do args+=(-n "$1" "$2"); shift 2; done
  hyperfine -N --warmup 20 --runs 200 --export-json "$json/$row.1.json" "${args[@]}" >/dev/null
}
archives="$work/pipdir/venv_archives"
save_all() {
  for v in big small many; do env VIRTUAL_ENV="$live/$v" "$kpy" save -f "$v" >/dev/null 2>&1; done
  for v in big small many; do tar -cf - -C "$live/$v" . | zstd -q -3 -T0 -f -o "$work/$v.tar.zst"; done
}
[ -f "$archives/many.tar.zst" ] || save_all
# Deleting: TRASH_COPIES unpacked copies of the big venv, made (untimed) then removed.
trash() { echo "bash -c 'for i in \$(seq $trash_copies); do mkdir -p $work/trash/\$i && zstd -q -dc $work/big.tar.zst | tar -xf - -C $work/trash/\$i; done; rm -rf $work/trash $*'"; }

for row in $rows; do
  echo "== $row ($rounds rounds)"
  for r in $(seq "$rounds"); do
    case $row in
      load-disk)
        # Odd rounds right after a large delete, even rounds on a quiet file system (sync first).
        if [ $((r % 2)) = 1 ]; then prep="$(trash "$live/loaded" "$live/x" "$live/loaded2" "$live/x2" "$live/loaded3")"; else prep="bash -c 'rm -rf $live/loaded $live/x $live/loaded2 $live/x2 $live/loaded3; sync'"; fi
        run $row $r "$prep" ${before:+"kpy load big (before)" "$before load big --as loaded3"} \
          "kpy load big" "$kpy load big --as loaded" \
          "zstd -dc | tar -x" "bash -c 'mkdir $live/x && zstd -dc $work/big.tar.zst | tar -xf - -C $live/x'" \
          "kpy load small" "$kpy load small --as loaded2" \
          "zstd -dc | tar -x (small)" "bash -c 'mkdir $live/x2 && zstd -dc $work/small.tar.zst | tar -xf - -C $live/x2'" ;;
      load-tmpfs)
        run $row $r "bash -c 'rm -rf $shm/kpy-$(id -un) $shm/x'" ${before:+"kpy load big (before)" "env TMPDIR=$shm $before load big --as loaded3"} \
          "kpy load big" "env TMPDIR=$shm $kpy load big --as loaded" \
          "zstd -dc | tar -x" "bash -c 'mkdir $shm/x && zstd -dc $work/big.tar.zst | tar -xf - -C $shm/x'" ;;
      many)
        if [ $((r % 2)) = 1 ]; then prep="$(trash "$live/loaded" "$live/x")"; else prep="bash -c 'rm -rf $live/loaded $live/x; sync'"; fi
        run $row $r "$prep" \
          "kpy load many" "$kpy load many --as loaded" \
          "zstd -dc | tar -x" "bash -c 'mkdir $live/x && zstd -dc $work/many.tar.zst | tar -xf - -C $live/x'" ;;
      save)
        run $row $r "sync" ${before:+"kpy save big (before)" "env VIRTUAL_ENV=$live/big $before save -f big"} \
          "kpy save big" "env VIRTUAL_ENV=$live/big $kpy save -f big" \
          "tar | zstd -3 -T0" "bash -c 'tar -cf - -C $live/big . | zstd -q -3 -T0 -f -o $work/pipe.tar.zst'" \
          "tar -czf" "tar -czf $work/pipe.tar.gz -C $live/big ." ;;
      small-save)
        run $row $r "sync" \
          "kpy save small" "env VIRTUAL_ENV=$live/small $kpy save -f small" \
          "tar | zstd -3 -T0; sync FILE" "bash -c 'tar -cf - -C $live/small . | zstd -q -3 -T0 -f -o $work/pipe.tar.zst && sync $work/pipe.tar.zst'" \
          "tar | zstd -3 -T0" "bash -c 'tar -cf - -C $live/small . | zstd -q -3 -T0 -f -o $work/pipe.tar.zst'" ;;
      shell)
        [ "$r" = 1 ] || continue
        line="$("$kpy" bash 2>/dev/null)"
        printf '%s\n' "$line" > "$work/line.bash"; "$kpy" zsh 2>/dev/null > "$work/line.zsh"
        printf 'eval "$(%s init bash)"\n' "$kpy" > "$work/eval.bash"
        fast $row \
          "bash (no line)" "bash --norc -c :" \
          "bash + kpy line" "bash --norc -c '. $work/line.bash'" \
          "bash + eval \"\$(kpy init bash)\" (old line)" "bash --norc -c '. $work/eval.bash'" \
          "zsh (no line)" "zsh -f -c :" \
          "zsh + kpy line" "zsh -f -c '. $work/line.zsh'" ;;
      startup)
        [ "$r" = 1 ] || continue
        fast $row "/bin/true" "/bin/true" "kpy --help" "$kpy --help" "kpy list" "$kpy list" ;;
    esac
  done
done

# One table per row: median, min, max of each command, its worst round against the reference
# (the row's second command), and peak RSS.
python3 - "$json" "$rss" "$rows" "$rounds" "$trash_copies" <<'PY' | tee "$out/goals${SUFFIX-}.md"
import json, os, statistics, sys
jdir, rdir, rows, rounds, trash = sys.argv[1], sys.argv[2], sys.argv[3].split(), int(sys.argv[4]), sys.argv[5]
fast = {"shell", "startup"}  # one hyperfine run of 200 each: median = its median
for row in rows:
    runs = []
    for r in range(1, rounds + 1):
        p = os.path.join(jdir, f"{row}.{r}.json")
        if os.path.exists(p):
            runs.append([(x["command"], x["median"]) for x in json.load(open(p))["results"]])
    if not runs:
        continue
    names = [n for n, _ in max(runs, key=len)]
    runs = [run for run in runs if len(run) == len(names)]  # rounds cut short are left out
    times = {n: [dict(run)[n] for run in runs] for n in names}
    ref = next((n for n in names if not n.startswith("kpy")), None)
    unit, k = ("ms", 1000) if row in fast else ("s", 1)
    print(f"\n### {row} ({len(runs)} rounds" + (f"; odd rounds right after deleting {trash} unpacked copies of the big venv" if row in ("load-disk", "many") else "") + ")\n")
    print(f"| command | median {unit} | min | max | vs {ref.replace('|', chr(92) + '|')}: worst round / median | peak RSS MB |")
    print("|---|---:|---:|---:|---:|---:|")
    for i, n in enumerate(names):
        t = times[n]
        r_ = next((m for m in names if not m.startswith("kpy") and ("small" in m) == ("small" in n)), ref)
        worst = "" if r_ is None or not n.startswith("kpy") else f"{max(a / b for a, b in zip(t, times[r_])):.2f}x / {statistics.median(t) / statistics.median(times[r_]):.2f}x"
        f = os.path.join(rdir, f"{row}.{i}")
        peak = max(int(x) for x in open(f).read().split()) / 1024 if os.path.exists(f) else 0
        print(f"| {n.replace('|', chr(92) + '|')} | {statistics.median(t) * k:.3g} | {min(t) * k:.3g} | {max(t) * k:.3g} | {worst} | {peak:.0f} |")
PY
echo "results: bench/results/goals${SUFFIX-}.md"
