#!/usr/bin/env bash
# Staging a ~500 MB venv onto the nodes of one job, on the multi-node test cluster
# (tests/cluster/multinode.sh, started by this script if needed), and kjupyter's time to its URL
# on a node. For 1, 2 and 3 nodes, with two tasks per node:
#   - per node:  one loader per node, the step `kpy load NAME --all-nodes` runs (what kbatch --venv
#                and krun's per-node lock amount to);
#   - per task:  every task unpacks its own copy (`kpy load --as`), what a job does without kpy's
#                per-node sharing.
# Wall time is measured around the step in the batch script; CPU time is the step's TotalCPU from
# sacct (every loader on every node). The nodes share this machine's cores, so wall time grows
# with the node count here where it would not on real nodes: the CPU column is the one to scale.
# Run as root (it starts the cluster and acts as the test user). Results: bench/results/multinode.md
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
runs="${RUNS:-3}"
user=slurmtest
[ "$(id -u)" = 0 ] || { echo "multinode.sh: run as root (it starts the multi-node cluster)" >&2; exit 1; }
[ -x "$root/dist/kpy" ] || { echo "multinode.sh: build first (./build.sh publish)" >&2; exit 1; }
bash "$root/tests/cluster/multinode.sh" up 2>/dev/null
eval "$(bash "$root/tests/cluster/multinode.sh" env)"
shared="${KSLURM_MN_DIR:-/var/tmp/kslurm-multinode}/project/bench-multinode"   # every node sees it
res="$root/bench/results"
mkdir -p "$res" "$shared/bin"
cp "$root"/dist/{kpy,kslurm,kjupyter,kbatch} "$shared/bin/"
chown -R "$user:" "$shared"
as_user() {
  runuser -u "$user" -- env -i PATH="$shared/bin:/usr/bin:/bin" HOME="$shared/home" USER="$user" LANG=C.UTF-8 \
    SLURM_CONF="$SLURM_CONF" TMPDIR="$shared/home/tmp" KSLURM_SITE_CONFIG="$shared/site.toml" "$@"
}
as_user mkdir -p "$shared/home/tmp"
as_user kslurm config pipdir "$shared/pipdir" >/dev/null

# The venv: a real venv with Debian's scientific packages copied in (numpy, scipy, pandas,
# matplotlib, sklearn, statsmodels, ...), sympy left out to stay near 500 MB.
if ! as_user kpy list 2>/dev/null | grep -q '^big '; then
  venv="$shared/home/tmp/kpy-$user/big"
  as_user mkdir -p "$(dirname "$venv")"
  as_user /usr/bin/python3 -m venv "$venv"
  sp=$(echo "$venv"/lib/python3*/site-packages)
  as_user bash -c "cd /usr/lib/python3/dist-packages && tar --exclude=./sympy --exclude='./sympy-*' -cf - . | tar -xf - -C '$sp'"
  echo "$(du -sm "$venv" | cut -f1) MB, $(find "$venv" | wc -l) files" >"$shared/big.size"
  echo "== saving the venv ($(cat "$shared/big.size"))"
  as_user env VIRTUAL_ENV="$venv" kpy save big >/dev/null 2>&1
  rm -rf "$venv"
fi
archive=$(echo "$shared"/pipdir/venv_archives/big.tar.zst)
venv_size=$(cat "$shared/big.size" 2>/dev/null || echo "? MB")

seconds() { # sacct's [D-]HH:MM:SS(.mmm) or MM:SS.mmm -> seconds
  awk -v t="$1" 'BEGIN { d = 0; if (index(t, "-")) { split(t, a, "-"); d = a[1]; t = a[2] }
    n = split(t, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; printf "%.2f", s + d * 86400 }'
}

step_cpu() { # step_cpu JOB: TotalCPU of step 0, once slurmdbd has it
  local v i
  for ((i = 0; i < 60; i++)); do
    v=$(as_user sacct -n -P -j "$1.0" -o TotalCPU 2>/dev/null | head -n 1)
    [ -n "$v" ] && [ "$v" != "00:00:00" ] && { seconds "$v"; return; }
    sleep 0.5
  done
  echo "?"
}

# one_job NODES MODE: prints "wall cpu"
one_job() {
  local nodes=$1 mode=$2 job out wall
  # per node: the step `kpy load big --all-nodes` runs (written out, so that one node is a step too
  # and sacct has its CPU time); per task: every task its own copy
  local step='srun --ntasks-per-node=1 kpy _load big big 2>/dev/null'
  [ "$mode" = task ] && step="srun --ntasks-per-node=2 sh -c 'kpy _load big t\$SLURM_PROCID' 2>/dev/null"
  job=$(cd "$shared" && as_user sbatch --parsable --wait -N "$nodes" --ntasks-per-node=2 --mem=6G -t 10 -o "$shared/job-%j.out" \
    --wrap "t0=\$(date +%s%N); $step || echo FAILED; t1=\$(date +%s%N); echo wall \$(( (t1 - t0) / 1000000 ))")
  out=$(cat "$shared/job-$job.out")
  case $out in *FAILED*) echo "multinode.sh: job $job failed: $out" >&2; exit 1 ;; esac
  wall=$(sed -n 's/^wall //p' <<<"$out")
  echo "$(awk -v w="$wall" 'BEGIN { printf "%.2f", w / 1000 }') $(step_cpu "$job")"
}

median() { tr ' ' '\n' | grep . | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

table="| nodes | tasks | staging | loaders | archive bytes read | wall s (median of $runs) | CPU s (median) |
|---|---|---|---|---|---|---|"
asize=$(stat -c %s "$archive")
for nodes in 1 2 3; do
  for mode in node task; do
    walls="" cpus=""
    for ((r = 0; r < runs; r++)); do
      read -r w c < <(one_job "$nodes" "$mode")
      walls+="$w " cpus+="$c "
      echo "   $nodes node(s), per $mode: wall $w s, cpu $c s" >&2
    done
    loaders=$nodes
    [ "$mode" = task ] && loaders=$((nodes * 2))
    table+=$'\n'"| $nodes | $((nodes * 2)) | per $mode | $loaders | $((loaders * asize / 1000000)) MB | $(median <<<"$walls") | $(median <<<"$cpus") |"
  done
done

# kjupyter: submit to URL printed, the classic Notebook on a node
jwalls=""
for ((r = 0; r < runs; r++)); do
  t0=$(date +%s%N)
  out=$(cd "$shared" && as_user kjupyter 0:10 1 1G --detach 2>/dev/null)
  t1=$(date +%s%N)
  job=$(sed -n 's/.*running in job \([0-9]*\) on \([a-z0-9]*\).*/\1/p' <<<"$out" | head -n 1)
  node=$(sed -n 's/.*running in job [0-9]* on \([a-z0-9]*\).*/\1/p' <<<"$out" | head -n 1)
  as_user kjupyter stop "$job" >/dev/null 2>&1 || true
  jwalls+="$(awk -v d=$(((t1 - t0) / 1000000)) 'BEGIN { printf "%.2f", d / 1000 }') "
  echo "   kjupyter: URL after $(awk -v d=$(((t1 - t0) / 1000000)) 'BEGIN { printf "%.2f", d / 1000 }') s, on $node (job $job)" >&2
done

cat >"$res/multinode.md" <<EOF
# Staging a venv onto the nodes of one job (bench/multinode.sh)

Multi-node test cluster (tests/cluster/multinode.sh): 3 nodes, each a network/mount namespace of
the same 2-core VM, node-local scratch on tmpfs, the archive on the shared disk.
Archive: $((asize / 1000000)) MB zstd (big.tar.zst); the venv: $venv_size. Two tasks per node.
Per node = \`kpy load big --all-nodes\` (one loader per node, in parallel); per task = each task
unpacks its own copy. CPU = sacct TotalCPU of the step (all loaders, all nodes).
$(date -u +%Y-%m-%d), $(nproc) cores, load average at the end: $(cut -d' ' -f1-3 /proc/loadavg).

$table

kjupyter (classic Notebook 6, detached) from submission to the URL printed, on a node: median
$(median <<<"$jwalls") s over $runs runs ($jwalls s).
EOF
cat "$res/multinode.md"
