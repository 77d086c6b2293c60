"""Start-up latency of the official Python SDK (openai-codex), measured like bench_startup.c:
import, then initialize, then the first agent-message delta of a first turn. Prints one JSON
line. The codex binary and environment come from bench/startup.py."""
import json
import os
import time

t0 = time.perf_counter()
from openai_codex import Codex, CodexConfig  # noqa: E402

t_import = time.perf_counter()
config = CodexConfig(codex_bin=os.environ["CODEX_BIN"], cwd=os.getcwd(), env=dict(os.environ))
with Codex(config) as codex:
    codex.metadata  # initialized by now
    t_init = time.perf_counter()
    thread = codex.thread_start(ephemeral=True)
    turn = thread.turn("hello")
    t_delta = None
    for event in turn.stream():
        if event.method == "item/agentMessage/delta" and t_delta is None:
            t_delta = time.perf_counter()
print(json.dumps({"client": "python-sdk", "import_ms": round((t_import - t0) * 1e3, 1),
                  "init_ms": round((t_init - t_import) * 1e3, 1),
                  "first_delta_ms": round((t_delta - t_import) * 1e3, 1)}))
