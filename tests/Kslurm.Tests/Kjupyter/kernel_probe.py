# Starts a kernel by name the way Jupyter does (jupyter_client reads the kernelspec, writes the
# connection file, runs argv), executes CODE in it and prints one JSON line:
#   {"ok": bool, "stdout": ..., "error": ..., "connection_file": ..., "seconds": start to first reply}
# A kernel that dies before answering gives ok=false and its error; its stderr is ours.
# usage: python3 kernel_probe.py NAME CODE
import json, sys, time
from jupyter_client.manager import KernelManager

name, code = sys.argv[1], sys.argv[2]
km = KernelManager(kernel_name=name)
result = {"ok": False, "stdout": "", "error": None, "connection_file": None, "seconds": None}
start = time.monotonic()
try:
    km.start_kernel()
    result["connection_file"] = km.connection_file
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=60)
        out = []
        def hook(msg):
            if msg["msg_type"] == "stream":
                out.append(msg["content"]["text"])
            elif msg["msg_type"] == "error":
                out.append("\n".join(msg["content"]["traceback"]))
        reply = kc.execute_interactive(code, timeout=60, output_hook=hook)
        result["seconds"] = time.monotonic() - start
        result["stdout"] = "".join(out)
        result["ok"] = reply["content"]["status"] == "ok"
    finally:
        kc.stop_channels()
except Exception as e:
    result["error"] = f"{type(e).__name__}: {e}"
finally:
    try:
        km.shutdown_kernel(now=True)
    except Exception:
        pass
print(json.dumps(result))
