"""The flood benchmark through the official Python SDK (openai-codex), on the same scripted fake
as bench_events flood: TURNS turns on TURNS threads of one client, each streamed by its own
Python thread, every delta counted. Timed from the last turn/start until every stream ended.
Prints one line like bench_events.

    PYTHONPATH=SDK_DIR python3 bench/flood_python_sdk.py FAKE_SERVER TURNS DELTAS_PER_TURN
"""
import os
import sys
import threading
import time

from openai_codex import Codex, CodexConfig

fake, turns, deltas = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
env = dict(os.environ, FAKE_SCENARIO="flood", FAKE_TURNS=str(turns), FAKE_DELTAS=str(deltas))
config = CodexConfig(codex_bin=fake, cwd=os.getcwd(), env=env)
counts = [0] * turns
events = [0] * turns


def consume(i, turn):
    for event in turn.stream():
        events[i] += 1
        if event.method == "item/agentMessage/delta":
            counts[i] += 1


with Codex(config) as codex:
    threads = [codex.thread_start() for _ in range(turns)]
    handles = [t.turn("flood") for t in threads[:-1]]
    consumers = [threading.Thread(target=consume, args=(i, h)) for i, h in enumerate(handles)]
    for c in consumers:
        c.start()
    started = time.perf_counter()
    last = threads[-1].turn("flood")
    consumers.append(threading.Thread(target=consume, args=(turns - 1, last)))
    consumers[-1].start()
    for c in consumers:
        c.join()
    secs = time.perf_counter() - started
if sum(counts) != turns * deltas:
    sys.exit("lost deltas: got %d of %d" % (sum(counts), turns * deltas))
print("mode=python-sdk turns=%d events=%d seconds=%.3f events/s=%.0f"
      % (turns, sum(events), secs, sum(events) / secs))
