#!/usr/bin/env bash
# Start-up cost of the binaries, side by side with /bin/true: --help, a config read (the user
# file laid over a site file, as on a shared install), and what kpy's shell line adds to a new
# bash (goal: under 10 ms). Needs hyperfine (apt).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
command -v hyperfine >/dev/null || { echo "bench/startup.sh: hyperfine is not installed (apt-get install hyperfine)" >&2; exit 1; }
[ -x dist/kslurm ] || { echo "bench/startup.sh: dist/ is empty; run ./build.sh publish first" >&2; exit 1; }

tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
export HOME="$tmp/home" KSLURM_SITE_CONFIG="$tmp/site.toml"
mkdir -p "$HOME/.config/kslurm"
printf 'pipdir = "/project/def-lab/shared/.kslurm"\n[templates.gpu]\ncpus = 4\nmem = "16G"\ntime = "1:00"\n' > "$KSLURM_SITE_CONFIG"
printf '[account]\ndefault = "def-lab"\ncpu = "def-lab"\ngpu = "rrg-lab"\n' > "$HOME/.config/kslurm/config.toml"

mkdir -p bench/results
hyperfine -N --warmup 20 --runs 300 --export-markdown bench/results/startup.md \
  -n '/bin/true' '/bin/true' \
  -n 'kslurm --help' 'dist/kslurm --help' \
  -n 'krun --help' 'dist/krun --help' \
  -n 'kslurm config account (user over site)' 'dist/kslurm config account' \
  -n 'kslurm config --list' 'dist/kslurm config --list' \
  -n 'bash -c : (baseline for the next)' "bash --norc -c :" \
  -n 'bash: eval "$(kpy init bash)"' "bash --norc -c 'eval \"\$(dist/kpy init bash)\"'"
echo "results: bench/results/startup.md"
