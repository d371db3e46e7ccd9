#!/usr/bin/env bash
# Time from `kjupyter` (submission) to the URL printed, i.e. job start + Jupyter start + first
# answer (goal <= 2 s once the job runs), on the test cluster (sudo bash tests/cluster/slurm.sh up);
# beside it the part Slurm takes: a batch job from sbatch until its script runs.
# Jupyter refuses to run as root, so as root this runs as the cluster's test user.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
res="$root/bench/results/kjupyter"
runs="${RUNS:-5}"
mkdir -p "$res"
command -v hyperfine >/dev/null || { echo "kjupyter.sh: hyperfine not found" >&2; exit 1; }
bin="$root/dist"
as=()
if [ "$(id -u)" = 0 ]; then
  bin="$res/bin"; mkdir -p "$bin"; cp "$root"/dist/k* "$bin/"; chmod -R a+rX "$res"
  home="$res/home-slurmtest"; mkdir -p "$home"; chown slurmtest: "$home"
  as=(runuser -u slurmtest -- env -i PATH=/usr/bin:/bin HOME="$home" USER=slurmtest)
fi
# sbatch, then wait until the job's script has written its mark: Slurm's share of the start
mark="$res/mark"; rm -f "$mark"; touch "$mark"; chmod 0666 "$mark"
cat > "$res/sbatch-start.sh" <<EOF
: > "$mark"
${as[*]} sbatch -Q -t 1 -o /dev/null -D /tmp --wrap "echo started > $mark"
until [ -s "$mark" ]; do sleep 0.01; done
EOF
cd /tmp
hyperfine --runs "$runs" --export-markdown "$res/start.md" \
  --prepare "${as[*]} $bin/kjupyter stop >/dev/null 2>&1 || true" \
  --cleanup "${as[*]} $bin/kjupyter stop >/dev/null 2>&1 || true" \
  -n "kjupyter -d (submit -> URL)" "${as[*]} $bin/kjupyter 0:10 1 1G -d" \
  -n "sbatch (submit -> script runs)" "bash $res/sbatch-start.sh"
cp "$res/start.md" "$root/bench/results/kjupyter.md"
echo "results: bench/results/kjupyter.md"
