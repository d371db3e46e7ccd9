#!/usr/bin/env bash
# Installs what the tests need and starts the real Slurm test cluster (tests/cluster/slurm.sh).
# Called by `./build.sh test`; safe to run again.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# Test-only packages: Lmod (modulefile and kernel tests), curl (installer test), python3 (local HTTP server),
# util-linux's `script` (a pseudo-terminal for prompts) and `flock`, zstd CLI (interop checks), strace
# (AtomicFile's fsync-before-rename, seen from outside), GNU time (peak memory of save/load); for the venv
# relocation tests: venv and virtualenv with Debian's offline seed wheels, and the csh and fish shells;
# for the Jupyter tests: jupyter-server, notebook, ipykernel and jupyter_client (all started for real),
# and for the browser tests an sshd of their own, socat, iproute2, Chromium and selenium; for kpy's images
# squashfs-tools (mksquashfs), squashfuse and fuse3 (fusermount3).
need=(lmod curl python3 util-linux zstd binutils strace time
      python3-venv python3-virtualenv python3-pip-whl python3-setuptools-whl python3-wheel-whl tcsh fish zsh
      jupyter-server jupyter-notebook python3-ipykernel python3-jupyter-client
      openssh-server openssh-client socat iproute2 chromium chromium-driver python3-selenium
      squashfs-tools squashfuse fuse3)
missing=()
for p in "${need[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "tests/setup.sh: error: missing packages ${missing[*]}; install them as root (apt-get install ${missing[*]}) or run make test as root" >&2
    exit 1
  fi
  say "apt-get install ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null \
    || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null; }
fi

# Clusters that offer squashfuse let users open /dev/fuse (0666); Debian leaves it 0600 (root only).
if [ "$(id -u)" = 0 ] && [ -c /dev/fuse ]; then chmod 0666 /dev/fuse; fi

# The Slurm integration tests need the real cluster, which only root can start: the multi-node
# one (tests/cluster/multinode.sh) unless KSLURM_TEST_CLUSTER=onenode picks tests/cluster/slurm.sh.
cluster=tests/cluster/multinode.sh conf=${KSLURM_MN_DIR:-/var/tmp/kslurm-multinode}/etc/slurm.conf
[ "${KSLURM_TEST_CLUSTER:-multinode}" = onenode ] && cluster=tests/cluster/slurm.sh conf=
if [ "$(id -u)" = 0 ]; then
  say "starting the Slurm test cluster ($cluster)"
  bash "$cluster" up
  say "starting the local container registries"
  bash tests/registry/registry.sh up
elif ! env ${conf:+SLURM_CONF="$conf"} sinfo -h >/dev/null 2>&1; then
  echo "tests/setup.sh: note: not root, so the Slurm test cluster cannot be started; the Slurm integration tests will fail." >&2
  echo "tests/setup.sh: note: run \`sudo bash $cluster up\` once, or run make test as root." >&2
fi
if [ "$(id -u)" != 0 ] && ! bash tests/registry/registry.sh status >/dev/null 2>&1; then
  echo "tests/setup.sh: note: the local container registries are not running; the registry tests will fail." >&2
  echo "tests/setup.sh: note: run \`sudo bash tests/registry/registry.sh up\` once, or run make test as root." >&2
fi
