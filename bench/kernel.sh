#!/usr/bin/env bash
# What a kslurm kernel adds to a kernel's start (goal: <= 200 ms): jupyter_client starts a kernel
# and waits for its first reply, for a plain kernelspec (python3 -m ipykernel_launcher) and for
# kjupyter kernels of the same python: --python, and --venv (a saved venv already on scratch, i.e.
# every start after the first on a node; the first start also unpacks it, see bench/kpy.sh).
# Needs Debian's python3-ipykernel and python3-jupyter-client, and hyperfine.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
res="$root/bench/results/kernel"
runs="${RUNS:-10}"
for t in hyperfine /usr/bin/python3; do command -v "$t" >/dev/null || { echo "kernel.sh: $t not found" >&2; exit 1; }; done
/usr/bin/python3 -c "import jupyter_client, ipykernel" 2>/dev/null || { echo "kernel.sh: needs python3-ipykernel and python3-jupyter-client" >&2; exit 1; }

rm -rf "$res"; mkdir -p "$res/home" "$res/tmp"
export HOME="$res/home" TMPDIR="$res/tmp" PATH="$root/dist:/usr/bin:/bin" PYDEVD_DISABLE_FILE_VALIDATION=1
unset XDG_CONFIG_HOME XDG_DATA_HOME XDG_STATE_HOME JUPYTER_PATH JUPYTER_DATA_DIR VIRTUAL_ENV
kernels="$HOME/.local/share/jupyter/kernels"

# the plain kernelspec, as `python3 -m ipykernel install --user --name plain` writes it
mkdir -p "$kernels/plain"
printf '{"argv": ["/usr/bin/python3", "-m", "ipykernel_launcher", "-f", "{connection_file}"], "display_name": "plain", "language": "python"}\n' > "$kernels/plain/kernel.json"

kjupyter kernel install kj-python --python /usr/bin/python3 >/dev/null
kslurm config pipdir "$res/pipdir" >/dev/null
/usr/bin/python3 -m venv --without-pip --system-site-packages "$res/made"
VIRTUAL_ENV="$res/made" kpy save bench >/dev/null
rm -rf "$res/made"
kjupyter kernel install kj-venv --venv bench >/dev/null

# start, first reply, shut down: the same work in every case
cat > "$res/start.py" <<'EOF'
import sys
from jupyter_client.manager import KernelManager
km = KernelManager(kernel_name=sys.argv[1])
km.start_kernel()
kc = km.client(); kc.start_channels()
kc.wait_for_ready(timeout=60)
kc.stop_channels(); km.shutdown_kernel(now=True)
del kc  # before interpreter teardown, where its __del__ would log into a dismantled module
EOF
/usr/bin/python3 "$res/start.py" kj-venv   # the first start unpacks the venv onto $TMPDIR

hyperfine --warmup 1 --runs "$runs" --export-markdown "$res/start.md" \
  -n "plain kernelspec" "/usr/bin/python3 $res/start.py plain" \
  -n "kjupyter --python" "/usr/bin/python3 $res/start.py kj-python" \
  -n "kjupyter --venv (on scratch)" "/usr/bin/python3 $res/start.py kj-venv"
cp "$res/start.md" "$root/bench/results/kernel.md"
echo "results: bench/results/kernel.md"
