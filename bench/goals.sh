#!/usr/bin/env bash
# The rows of issue 15, side by side in one run: kpy load/save against `zstd -dc | tar -x` and
# `tar | zstd -3 -T0` (+ `sync FILE` for small saves), on three venvs, onto disk and tmpfs, with peak RSS per row.
# A round runs every command of a row once (hyperfine --runs 1, one after the other; the order
# flips every round), so a noisy machine hits them alike; compare ratios, not seconds. The small
# load (0.1 s) runs SMALL_RUNS (5) times per round, kpy and tar taking turns, and a round counts
# each command's median: timed once, a 0.1 s command's ratio is the VM's noise (0.7-1.3x).
#
#   bench/goals.sh                       # ROUNDS=10, every row (37 min on 2 busy cores, load 8-11)
#   ROUNDS=2 BIG_DELETE_GB=2 bench/goals.sh      # a quick check that everything runs
#   ROWS="many many-tmpfs many-save" bench/goals.sh
#       rows: load-disk load-small load-tmpfs many many-tmpfs many-save save small-save shell startup
#   BENCH_DIR=/scratch/x bench/goals.sh  # data on another disk (default /var/tmp/kslurm-bench-$USER)
#   SUFFIX=-ext4-journal BENCH_DIR=/mnt/j/bench ROUNDS=6 QUIET_ROUNDS=3 BIG_DELETE_GB=6 ROWS="load-disk load-small many" bench/goals.sh
#       # a journaled ext4 (as root: truncate -s 40G f; mkfs.ext4 -i 4096 f; mount -o loop f /mnt/j),
#       # where ext4 does not scan recently deleted inodes; results in bench/results/goals-ext4-journal.md
#   KPY_BEFORE=/path/old/kpy bench/goals.sh      # an older kpy as an extra column (load, save rows)
#
# Deletes and the disk rows (see README "Load steadiness"): on ext4 without a journal a file
# created within 60 s of a delete (360 s while the inode table block waits for write-back) scans
# the recently freed inodes of its group, so a load's cost depends on what was deleted just
# before. Hence two kinds of rounds, and nothing deleted on disk during the quiet ones:
#   - the first QUIET_ROUNDS (6 of 10) are quiet: every load goes into a fresh folder, nothing
#     is deleted;
#   - the others run right after a delete: before each disk command (untimed) TRASH_COPIES (2)
#     copies of the big venv are made and deleted (TRASH_COPIES x 30k inodes);
#   - BIG_ROUNDS (default: the last round) delete BIG_DELETE_GB GB instead: TRASH_COPIES copies
#     of the big venv (the inodes) plus 1 GiB files of real data (compressed archives) up to
#     that size, written without a sync so their write-back still runs during the load (not
#     before the small loads: 10 commands a round would write 200 GB);
# Loaded trees are kept until the end (deleting them would be a delete before the next round);
# the run checks there is room for them first.
#
# Venvs: "big" = `python3 -m venv` + Debian's dist-packages (numpy, scipy, pandas, matplotlib,
# sympy, scikit-learn, ...: real packages from apt, copied; no PyPI here); "small" = a bare
# `python3 -m venv`; "many" = MANY_FILES (200,000) entries: copies of the whole dist-packages
# tree (its folders, symlinks, .py/.pyc/.so/data files, modes) under numbered packages, each
# file cut to its first MANY_CAP (4096) bytes, so the row measures the cost per entry, not the
# bytes. Results: bench/results/goals.md. Everything under BENCH_DIR is deleted at the end unless
# KEEP=1.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
die() { echo "goals.sh: error: $*" >&2; exit 1; }
rounds="${ROUNDS:-10}"
trash_copies="${TRASH_COPIES:-2}"
big_gb="${BIG_DELETE_GB:-20}"
big_rounds="${BIG_ROUNDS:-$rounds}"
many_files="${MANY_FILES:-200000}"
many_cap="${MANY_CAP:-4096}"
small_runs="${SMALL_RUNS:-5}"
rows="${ROWS:-load-disk load-small load-tmpfs many many-tmpfs many-save save small-save shell startup}"
kpy="${KPY:-$root/dist/kpy}"
kslurm="$(dirname "$kpy")/kslurm"
before="${KPY_BEFORE:-}"
work="${BENCH_DIR:-/var/tmp/kslurm-bench-$(id -un)}"
shm="${SHM_DIR:-/dev/shm/kslurm-bench-$(id -un)}"
out="$root/bench/results"
site=/usr/lib/python3/dist-packages
after=$(( rounds * 2 / 5 )); [ "$after" -ge 1 ] || after=1
quiet_rounds="${QUIET_ROUNDS:-$(( rounds > 1 ? rounds - after : 1 ))}"  # rounds 1..quiet_rounds delete nothing on disk

for t in hyperfine zstd tar python3 /usr/bin/time; do command -v "$t" >/dev/null || die "$t not found"; done
[ -x "$kpy" ] && [ -x "$kslurm" ] || die "no $kpy or $kslurm: build first (./build.sh publish)"
[ -z "$before" ] || [ -x "$before" ] || die "KPY_BEFORE=$before is not an executable"
[ -d "$site" ] || die "$site not found (the big venv is a copy of Debian's Python packages)"
for n in "$rounds" "$trash_copies" "$big_gb" "$many_files" "$many_cap" "$quiet_rounds" "$small_runs"; do
  [[ "$n" =~ ^[0-9]+$ ]] || die "ROUNDS, QUIET_ROUNDS, TRASH_COPIES, BIG_DELETE_GB, MANY_FILES, MANY_CAP, SMALL_RUNS must be whole numbers (got '$n')"
done
[ "$rounds" -ge 1 ] && [ "$small_runs" -ge 1 ] || die "ROUNDS and SMALL_RUNS must be at least 1"
for row in $rows; do
  case $row in load-disk|load-small|load-tmpfs|many|many-tmpfs|many-save|save|small-save|shell|startup) ;;
    *) die "unknown row '$row' (rows: load-disk load-small load-tmpfs many many-tmpfs many-save save small-save shell startup)" ;;
  esac
done

mkdir -p "$work" "$shm" "$out"
[ "${KEEP:-0}" = 1 ] || trap 'echo "== cleaning up $work $shm" >&2; rm -rf "$work" "$shm"' EXIT
trap 'exit 130' INT TERM
json="$work/json"; rss="$work/rss"; kept="$work/kept"; trash_dir="$work/trash"
rm -rf "$json" "$rss"; mkdir -p "$json" "$rss"

export HOME="$work/home" TMPDIR="$work/tmp" KSLURM_SITE_CONFIG="$work/site.toml"
mkdir -p "$HOME" "$TMPDIR"
"$kslurm" config pipdir "$work/pipdir" >/dev/null
live="$TMPDIR/kpy-$(id -un)"
mkdir -p "$live"

record() { printf '{"format": 1, "name": "%s", "original_paths": ["%s"]}\n' "$1" "$live/$1" > "$live/$1/.kpy.json"; }
if [ ! -f "$live/many/.kpy.json" ]; then
  echo "== venvs in $live"
  rm -rf "$live/big" "$live/small" "$live/many"
  /usr/bin/python3 -m venv "$live/big"
  cp -a "$site"/. "$(echo "$live"/big/lib/python3*/site-packages)/"
  record big
  /usr/bin/python3 -m venv "$live/small"; record small
  /usr/bin/python3 -m venv "$live/many"
  /usr/bin/python3 - "$site" "$(echo "$live"/many/lib/python3*/site-packages)" "$many_files" "$many_cap" <<'PY'
import os, sys
src, dst, total, cap = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
tree = []  # (relative path, kind, payload), parents before their contents
for d, dirs, files in os.walk(src):
    rd = os.path.relpath(d, src)
    for name in sorted(dirs) + sorted(files):
        p = os.path.join(d, name)
        rel = name if rd == "." else os.path.join(rd, name)
        if os.path.islink(p):
            tree.append((rel, "l", os.readlink(p)))
        elif name in dirs:
            tree.append((rel, "d", None))
        else:
            with open(p, "rb") as f:
                tree.append((rel, "f", (f.read(cap), os.stat(p).st_mode & 0o777)))
n = k = 0
while n < total:
    top = os.path.join(dst, f"synth{k:03d}")
    os.mkdir(top)
    n += 1
    for rel, kind, payload in tree:
        if n >= total:
            break
        t = os.path.join(top, rel)
        if kind == "d":
            os.mkdir(t)
        elif kind == "l":
            os.symlink(payload, t)
        else:
            fd = os.open(t, os.O_WRONLY | os.O_CREAT | os.O_EXCL, payload[1])
            os.write(fd, payload[0])
            os.close(fd)
        n += 1
    k += 1
PY
  record many
fi
for v in big small many; do
  echo "   $v: $(find "$live/$v" | wc -l) entries, $(du -sm "$live/$v" | cut -f1) MB on disk"
done

archives="$work/pipdir/venv_archives"
if [ ! -f "$work/many.tar.zst" ] || [ ! -f "$archives/many.tar.zst" ]; then
  for v in big small many; do
    env VIRTUAL_ENV="$live/$v" "$kpy" save -f "$v" >/dev/null 2>"$work/err" || die "kpy save $v failed: $(tail -1 "$work/err")"
    tar -cf - -C "$live/$v" . | zstd -q -3 -T0 -f -o "$work/$v.tar.zst"
  done
fi
# 1 GiB of real, incompressible data (archives) for the big deletes.
if [ "$big_gb" -gt 0 ] && [ ! -f "$work/blob" ]; then
  python3 - "$work/blob" "$work/big.tar.zst" "$work/many.tar.zst" <<'PY'
import sys
parts = [open(p, "rb").read() for p in sys.argv[2:]]
left = 1 << 30
with open(sys.argv[1], "wb") as f:
    while left > 0:
        for data in parts:
            f.write(data[:left])
            left -= min(left, len(data))
PY
fi

# Trees left by an earlier run (KEEP=1): deleted, then a minute's wait so that the quiet rounds are.
stale=$(find "$live" -mindepth 1 -maxdepth 1 ! -name big ! -name small ! -name many | head -1)
if [ -n "$stale" ] || [ -d "$kept" ] || [ -d "$trash_dir" ]; then
  echo "== deleting the trees of an earlier run, then waiting 65 s"
  find "$live" -mindepth 1 -maxdepth 1 ! -name big ! -name small ! -name many -exec rm -rf {} +
  rm -rf "$kept" "$trash_dir"; sync; sleep 65
fi
mkdir -p "$kept"

# Room for the trees kept until the end (two per disk load and round) and the big delete.
mb() { du -sm "$1" | cut -f1; }
need=$(( 2 * rounds * ($(mb "$live/big") + small_runs * $(mb "$live/small") + $(mb "$live/many")) / 1024 + big_gb + 2 ))
avail=$(( $(df -Pk "$work" | awk 'NR==2 {print $4}') / 1024 / 1024 ))
[ "$avail" -ge "$need" ] || die "$work has $avail GB free, the run needs about $need GB (fewer ROUNDS, a smaller BIG_DELETE_GB, or another BENCH_DIR)"
entries() { find "$1" | wc -l; }
need_inodes=$(( 2 * rounds * ($(entries "$live/big") + small_runs * $(entries "$live/small") + $(entries "$live/many")) + (trash_copies + 1) * $(entries "$live/big") ))
free_inodes=$(df -Pi "$work" | awk 'NR==2 {print $4}')
[[ "$free_inodes" =~ ^[0-9]+$ ]] && [ "$free_inodes" -lt "$need_inodes" ] \
  && die "$work has $free_inodes free inodes, the run needs about $need_inodes (fewer ROUNDS, or a file system made with more: mkfs.ext4 -i 4096)"

# Every command runs under /usr/bin/time (peak RSS of the process or of the pipeline's largest).
timed() { echo "/usr/bin/time -a -o $rss/$1 -f %M $2"; }
# run ROW ROUND PREPARE name1 cmd1 name2 cmd2 ...: one hyperfine run of each, in order in odd
# rounds and in reverse order in even ones, so that neither kpy nor the reference always runs
# first after a PREPARE or a setup step (the first command pays for write-back still running).
# A name given more than once is one command run several times (its peak RSS file is shared).
run() {
  local row=$1 round=$2 prep=$3; shift 3
  local args=() one
  local -A index=()
  while [ $# -gt 0 ]; do
    [ -n "${index[$1]+set}" ] || index[$1]=${#index[@]}
    one=(-n "$1" "$(timed "$row.${index[$1]}" "$2")"); shift 2
    if [ $((round % 2)) = 0 ]; then args=("${one[@]}" "${args[@]}"); else args+=("${one[@]}"); fi
  done
  hyperfine -N --runs 1 ${prep:+--prepare "$prep"} --export-json "$json/$row.$round.json" "${args[@]}" >"$work/hf.out" 2>&1 \
    || die "$row, round $round: $(grep -iE 'error|terminated' "$work/hf.out" | head -1) (log: $work/hf.out)"
}
# fast ROW name1 cmd1 ...: millisecond commands, one hyperfine run of 200 each (no wrapper).
fast() {
  local row=$1; shift
  local args=()
  while [ $# -gt 0 ]; do args+=(-n "$1" "$2"); shift 2; done
  hyperfine -N --warmup 20 --runs 200 --export-json "$json/$row.1.json" "${args[@]}" >"$work/hf.out" 2>&1 \
    || die "$row: $(grep -iE 'error|terminated' "$work/hf.out" | head -1) (log: $work/hf.out)"
}

# The delete before a disk command of the second half (see the top). The small load, run
# SMALL_RUNS times a round, is spared the big delete (2 x SMALL_RUNS x BIG_DELETE_GB GB written).
trash() {
  local r=$1 row=$2 files=""
  if [ "$big_gb" -gt 0 ] && [[ " $big_rounds " == *" $r "* ]] && [ "$row" != load-small ]; then
    files="for i in \$(seq $(( big_gb - trash_copies * $(mb "$live/big") / 1024 ))); do cp $work/blob $trash_dir/blob\$i; done;"
  fi
  echo "bash -c 'mkdir -p $trash_dir && for i in \$(seq $trash_copies); do cp -a $live/big $trash_dir/venv\$i; done; $files rm -rf $trash_dir'"
}
# Quiet rounds: a sync before each command, so none pays for the write-back of the one before.
disk_prep() { [ "$1" -le "$quiet_rounds" ] && echo "sync" || trash "$1" "$2"; }
describe() {
  local b=""
  [ "$big_gb" -gt 0 ] && b=", round $big_rounds instead $big_gb GB ($trash_copies copies of the big venv + 1 GiB files)"
  if [ "$rounds" -gt "$quiet_rounds" ]; then
    echo "rounds 1-$quiet_rounds quiet; $((quiet_rounds + 1))-$rounds right after deleting $trash_copies unpacked copies of the big venv$b"
  else
    echo "all quiet"
  fi
}

# Rounds outside, rows inside: the quiet rounds of every row come before any disk delete.
started=$(date +%s)
for r in $(seq "$rounds"); do
  echo "== round $r of $rounds ($(( $(date +%s) - started )) s so far)"
  for row in $rows; do
    k="$kept/$r"; mkdir -p "$k"
    case $row in
      load-disk)
        run $row $r "$(disk_prep $r $row)" ${before:+"kpy load big (before)" "$before load big --as b$r-before"} \
          "kpy load big" "$kpy load big --as b$r" \
          "zstd -dc | tar -x" "bash -c 'mkdir $k/big && zstd -dc $work/big.tar.zst | tar -xf - -C $k/big'" ;;
      load-small)
        pairs=()
        for j in $(seq "$small_runs"); do
          pairs+=("kpy load small" "$kpy load small --as s$r-$j" \
            "zstd -dc | tar -x (small)" "bash -c 'mkdir $k/small$j && zstd -dc $work/small.tar.zst | tar -xf - -C $k/small$j'")
        done
        run $row $r "$(disk_prep $r $row)" "${pairs[@]}" ;;
      load-tmpfs)
        run $row $r "bash -c 'rm -rf $shm/kpy-$(id -un) $shm/x; sync'" ${before:+"kpy load big (before)" "env TMPDIR=$shm $before load big --as b$r-before"} \
          "kpy load big" "env TMPDIR=$shm $kpy load big --as b$r" \
          "zstd -dc | tar -x" "bash -c 'mkdir $shm/x && zstd -dc $work/big.tar.zst | tar -xf - -C $shm/x'" ;;
      many)
        run $row $r "$(disk_prep $r $row)" ${before:+"kpy load many (before)" "$before load many --as m$r-before"} \
          "kpy load many" "$kpy load many --as m$r" \
          "zstd -dc | tar -x" "bash -c 'mkdir $k/many && zstd -dc $work/many.tar.zst | tar -xf - -C $k/many'" ;;
      many-tmpfs)
        run $row $r "bash -c 'rm -rf $shm/kpy-$(id -un) $shm/x; sync'" ${before:+"kpy load many (before)" "env TMPDIR=$shm $before load many --as m$r-before"} \
          "kpy load many" "env TMPDIR=$shm $kpy load many --as m$r" \
          "zstd -dc | tar -x" "bash -c 'mkdir $shm/x && zstd -dc $work/many.tar.zst | tar -xf - -C $shm/x'" ;;
      many-save)
        run $row $r "sync" ${before:+"kpy save many (before)" "env VIRTUAL_ENV=$live/many $before save -f many"} \
          "kpy save many" "env VIRTUAL_ENV=$live/many $kpy save -f many" \
          "tar | zstd -3 -T0" "bash -c 'tar -cf - -C $live/many . | zstd -q -3 -T0 -f -o $work/pipe.tar.zst'" ;;
      save)
        run $row $r "sync" ${before:+"kpy save big (before)" "env VIRTUAL_ENV=$live/big $before save -f big"} \
          "kpy save big" "env VIRTUAL_ENV=$live/big $kpy save -f big" \
          "tar | zstd -3 -T0" "bash -c 'tar -cf - -C $live/big . | zstd -q -3 -T0 -f -o $work/pipe.tar.zst'" ;;
      small-save)
        run $row $r "sync" \
          "kpy save small" "env VIRTUAL_ENV=$live/small $kpy save -f small" \
          "tar | zstd -3 -T0; sync FILE" "bash -c 'tar -cf - -C $live/small . | zstd -q -3 -T0 -f -o $work/pipe.tar.zst && sync $work/pipe.tar.zst'" \
          "tar | zstd -3 -T0" "bash -c 'tar -cf - -C $live/small . | zstd -q -3 -T0 -f -o $work/pipe.tar.zst'" ;;
      shell)
        [ "$r" = 1 ] || continue
        "$kpy" bash > "$work/line.bash" 2>/dev/null || die "kpy bash failed"
        "$kpy" zsh > "$work/line.zsh" 2>/dev/null || die "kpy zsh failed"
        printf 'eval "$(%s init bash)"\n' "$kpy" > "$work/eval.bash"
        command -v zsh >/dev/null || die "zsh not found (the shell row measures bash and zsh)"
        fast $row \
          "bash (no line)" "bash --norc -c :" \
          "bash + kpy line" "bash --norc -c '. $work/line.bash'" \
          "bash + eval \"\$(kpy init bash)\" (old line)" "bash --norc -c '. $work/eval.bash'" \
          "zsh (no line)" "zsh -f -c :" \
          "zsh + kpy line" "zsh -f -c '. $work/line.zsh'" ;;
      startup)
        [ "$r" = 1 ] || continue
        # the runtime's own start-up, built as the tools are (same settings, same linker)
        floor="$work/empty-aot/EmptyAot"
        [ -x "$floor" ] || dotnet publish "$root/bench/empty-aot" -c Release -nologo -clp:ErrorsOnly \
          -p:KSLURM_LINKER="$(cat "$(dirname "$kpy")/.linker" 2>/dev/null || echo zig)" -o "$work/empty-aot" >"$work/publish.out" 2>&1 \
          || die "building bench/empty-aot failed (log: $work/publish.out)"
        fast $row "empty NativeAOT program" "$floor" "/bin/true" "/bin/true" "kpy --help" "$kpy --help" "kpy list" "$kpy list" ;;
    esac
  done
done
echo "== rounds done in $(( $(date +%s) - started )) s"

# One table per row: median, min, max of each command, its worst round against the reference
# (the row's first command that is not kpy's, the small one for small commands), and peak RSS.
python3 - "$json" "$rss" "$rows" "$rounds" "$(describe)" "$small_runs" <<'PY' | tee "$out/goals${SUFFIX-}.md"
import json, os, statistics, sys
jdir, rdir, rows, rounds, rounds_text, small_runs = sys.argv[1], sys.argv[2], sys.argv[3].split(), int(sys.argv[4]), sys.argv[5], sys.argv[6]
fast = {"shell", "startup"}  # one hyperfine run of 200 each: median = its median
for row in rows:
    runs = []
    for r in range(1, rounds + 1):
        p = os.path.join(jdir, f"{row}.{r}.json")
        try:
            per = {}  # a command run several times in a round (the small load) counts its median
            for x in json.load(open(p))["results"]:
                per.setdefault(x["command"], []).append(x["median"])
            run = [(n, statistics.median(t)) for n, t in per.items()]
            runs.append(run if r % 2 else run[::-1])  # even rounds ran in reverse: back to the given order
        except (OSError, ValueError, KeyError):
            pass  # a round not run, or cut short
    if not runs:
        continue
    names = [n for n, _ in max(runs, key=len)]
    runs = [run for run in runs if len(run) == len(names)]  # rounds cut short are left out
    times = {n: [dict(run)[n] for run in runs] for n in names}
    ref = next((n for n in names if not n.startswith("kpy")), None)
    unit, k = ("ms", 1000) if row in fast else ("s", 1)
    print(f"\n### {row} ({len(runs)} rounds" + (f"; {rounds_text}" if row in ("load-disk", "load-small", "many") else "")
          + (f"; each round the median of {small_runs} runs" if row == "load-small" else "") + ")\n")
    print(f"| command | median {unit} | min | max | vs {ref.replace('|', chr(92) + '|')}: worst round / median | peak RSS MB |")
    print("|---|---:|---:|---:|---:|---:|")
    for i, n in enumerate(names):
        t = times[n]
        r_ = next((m for m in names if not m.startswith("kpy") and ("small" in m) == ("small" in n)), ref)
        worst = "" if r_ is None or not n.startswith("kpy") else f"{max(a / b for a, b in zip(t, times[r_])):.2f}x / {statistics.median(t) / statistics.median(times[r_]):.2f}x"
        f = os.path.join(rdir, f"{row}.{i}")
        peak = max(int(x) for x in open(f).read().split()) / 1024 if os.path.exists(f) else 0
        print(f"| {n.replace('|', chr(92) + '|')} | {statistics.median(t) * k:.3g} | {min(t) * k:.3g} | {max(t) * k:.3g} | {worst} | {peak:.0f} |")
    if len(runs) > 1:  # which rounds a ratio comes from
        print()
        for n in names:
            r_ = next((m for m in names if not m.startswith("kpy") and ("small" in m) == ("small" in n)), ref)
            if n.startswith("kpy") and r_ is not None:
                print(f"- {n} / {r_.replace('|', chr(92) + '|')}, round by round: " + " ".join(f"{a / b:.2f}" for a, b in zip(times[n], times[r_])))
PY
echo "results: bench/results/goals${SUFFIX-}.md"
