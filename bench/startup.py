"""Start-up figures of this library (C API) beside the official Python SDK, in one run, with
the same pinned codex binary and the same mock model. Runs each client ROUNDS times,
alternating, and prints the medians.

    python3 bench/startup.py BENCH_STARTUP_BINARY PYTHON_SDK_DIR [ROUNDS]
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
c_binary, sdk_dir = sys.argv[1], sys.argv[2]
rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 5
runtime = os.path.join(root, ".runtime/codex-0.163.0/codex_cli_bin")

work = tempfile.mkdtemp(prefix="codex-startup-")
script = os.path.join(work, "script.json")
with open(script, "w") as f:
    json.dump({"default": {"text": "Hello from the mock model.", "chunk_size": 5}}, f)
mock = subprocess.Popen([sys.executable, os.path.join(root, "tools/mock_model/mock_model.py"),
                         "--script", script, "--write-codex-home", os.path.join(work, "home"),
                         "--exit-on-stdin-eof"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
mock.stdout.readline()
os.makedirs(os.path.join(work, "tmp"))
env = dict(os.environ, CODEX_HOME=os.path.join(work, "home"), TMPDIR=os.path.join(work, "tmp"),
           CODEX_APP_SERVER_DISABLE_MANAGED_CONFIG="1", RUST_LOG="warn",
           CODEX_BIN=os.path.join(runtime, "bin/codex"),
           PATH=os.pathsep.join([os.path.join(runtime, "codex-path"),
                                 os.path.join(runtime, "codex-resources"), os.environ["PATH"]]),
           PYTHONPATH=sdk_dir)
env.pop("OPENAI_API_KEY", None)
commands = {"c": [c_binary],
            "python-sdk": [sys.executable, os.path.join(root, "bench/startup_python_sdk.py")]}
results = {name: [] for name in commands}
try:
    for _ in range(rounds):
        for name, cmd in commands.items():
            out = subprocess.run(cmd, env=env, cwd=work, capture_output=True, text=True, timeout=120)
            if out.returncode != 0:
                sys.exit("%s failed:\n%s" % (name, out.stderr[-2000:]))
            results[name].append(json.loads(out.stdout.strip().splitlines()[-1]))
finally:
    mock.kill()

print("start-up, median of %d runs each (same codex 0.163.0 binary, same mock model):" % rounds)
print("%-12s %10s %18s %30s" % ("client", "import_ms", "initialized_ms", "first_delta_ms (after import)"))
for name, runs in results.items():
    med = {k: statistics.median(r[k] for r in runs) for k in ("import_ms", "init_ms", "first_delta_ms")}
    print("%-12s %10.1f %18.1f %30.1f" % (name, med["import_ms"], med["init_ms"], med["first_delta_ms"]))
closes = [r["close_ms"] for r in results["c"]]
print("c: codex_client_close took %.1f ms (median; the real server exits on stdin EOF)" % statistics.median(closes))
