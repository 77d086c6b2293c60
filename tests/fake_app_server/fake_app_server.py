#!/usr/bin/env python3
"""A scripted stand-in for `codex app-server`, for what the real server won't do on demand.

Spawned by the library like the real binary: `fake_app_server.py [-c k=v ...] app-server
--listen stdio://` (all arguments are ignored). Speaks the same JSON-RPC lines on stdio.
FAKE_SCENARIO picks the behaviour (see README.md); FAKE_DELTAS, FAKE_DELAY_MS, FAKE_TURNS,
FAKE_STDERR_LINES and FAKE_HOLD_TIMEOUT_S tune it. A turn whose input text contains
"hold-after:N" holds its stream after N deltas until it is interrupted, steered or released.
"""
import json
import os
import re
import sys
import threading
import time

SCENARIO = os.environ.get("FAKE_SCENARIO", "normal")
DELTAS = int(os.environ.get("FAKE_DELTAS", "5"))
DELAY = float(os.environ.get("FAKE_DELAY_MS", "1" if SCENARIO == "interleaved" else "0")) / 1000
FLOOD_TURNS = int(os.environ.get("FAKE_TURNS", "1"))
# Methods never answered (as by a server that stopped reading), e.g. "turn/interrupt,turn/steer".
# Thread ids are PREFIX1, PREFIX2, ...: fakes in one pool need prefixes of their own.
THREAD_PREFIX = os.environ.get("FAKE_THREAD_PREFIX", "thr_")
IGNORED = set(filter(None, os.environ.get("FAKE_IGNORE", "").split(",")))
# The longest a held turn waits for its interrupt, steer or test/release before it goes on.
HOLD_TIMEOUT = float(os.environ.get("FAKE_HOLD_TIMEOUT_S", "60"))
HOLD_MARKER = re.compile(r"hold-after:(\d+)")
# "deltas=N" in a turn's input text overrides FAKE_DELTAS for that turn.
DELTAS_MARKER = re.compile(r"deltas=(\d+)")

out = sys.stdout.buffer
write_lock = threading.Lock()
state_lock = threading.Lock()


def send(obj):
    data = (json.dumps(obj, separators=(",", ":")) + "\n").encode()
    with write_lock:
        out.write(data)
        out.flush()


def send_raw(data):
    with write_lock:
        out.write(data)
        out.flush()


def log(msg):
    sys.stderr.write("fake: %s\n" % msg)
    sys.stderr.flush()


def note(method, params):
    return {"method": method, "params": params, "emittedAtMs": int(time.time() * 1000)}


def usage():
    part = {"totalTokens": 8, "inputTokens": 5, "cachedInputTokens": 0, "outputTokens": 3,
            "reasoningOutputTokens": 0}
    return {"total": part, "last": part, "modelContextWindow": 1000}


def input_text(params):
    """The text of a turn/start or turn/steer input, its text items joined."""
    items = params.get("input") or []
    return " ".join(i.get("text", "") for i in items if isinstance(i, dict))


class Turn:
    def __init__(self, thread_id, turn_id, text=""):
        self.thread_id = thread_id
        self.turn_id = turn_id
        self.interrupted = False
        marker = DELTAS_MARKER.search(text)
        self.deltas = int(marker.group(1)) if marker else DELTAS
        # "hold-after:N" in the input: the stream stops after N deltas until `release` is set
        # (by turn/interrupt, turn/steer or test/release) or HOLD_TIMEOUT passes.
        marker = HOLD_MARKER.search(text)
        self.hold_after = int(marker.group(1)) if marker else None
        self.deltas_sent = 0
        self.release = threading.Event()
        self.hold_deadline = None

    def holding(self):
        """True while the stream must wait (without blocking; for the round robin)."""
        if self.hold_after is None or self.deltas_sent < self.hold_after or self.release.is_set():
            return False
        if self.hold_deadline is None:
            self.hold_deadline = time.monotonic() + HOLD_TIMEOUT
        if time.monotonic() < self.hold_deadline:
            return True
        self.hold_timed_out()
        return False

    def wait_while_held(self):
        """Blocks while the stream must wait (for a turn's own streaming thread)."""
        if self.hold_after is None or self.deltas_sent < self.hold_after:
            return
        if not self.release.wait(HOLD_TIMEOUT):
            self.hold_timed_out()

    def hold_timed_out(self):
        log("%s held %.0f s without interrupt, steer or test/release; going on"
            % (self.turn_id, HOLD_TIMEOUT))
        self.release.set()

    def sent(self, kind):
        if kind == "delta":
            self.deltas_sent += 1

    def ids(self, **extra):
        return dict(threadId=self.thread_id, turnId=self.turn_id, **extra)

    def started(self):
        return note("turn/started", {"threadId": self.thread_id,
                                     "turn": {"id": self.turn_id, "status": "inProgress", "items": []}})

    def completed(self, status="completed"):
        return note("turn/completed", {"threadId": self.thread_id,
                                       "turn": {"id": self.turn_id, "status": status, "items": [],
                                                "error": None}})

    def delta(self, i):
        return note("item/agentMessage/delta",
                    self.ids(itemId="msg_" + self.turn_id, delta="%s:%d;" % (self.turn_id, i)))

    def events(self):
        """The standard event list of a turn, as (kind, message) pairs."""
        item = {"type": "agentMessage", "id": "msg_" + self.turn_id, "text": ""}
        evs = [("started", self.started()),
               ("other", note("item/started", self.ids(item=item)))]
        evs += [("delta", self.delta(i)) for i in range(self.deltas)]
        text = "".join("%s:%d;" % (self.turn_id, i) for i in range(self.deltas))
        done = dict(item, text=text, phase="final_answer")
        evs += [("other", note("item/completed", self.ids(item=done, completedAtMs=1))),
                ("other", note("thread/tokenUsage/updated", self.ids(tokenUsage=usage()))),
                ("other", note("thread/status/changed", {"threadId": self.thread_id,
                                                         "status": {"type": "idle"}})),
                ("completed", self.completed())]
        return evs


class Server:
    def __init__(self):
        self.initialized = False
        self.threads = 0
        self.turns = 0
        self.active = {}  # thread id -> Turn
        self.requests = 0
        self.answers = {}  # server request id -> answer message
        self.answered = threading.Condition(state_lock)
        self.flood_blob = build_flood() if SCENARIO == "flood" else None
        self.flood_started = 0
        self.interrupts = []  # turn ids of every turn/interrupt received

    # ----- requests from the client -----
    def handle(self, msg):
        if "method" not in msg:
            with state_lock:
                self.answers[msg.get("id")] = msg
                self.answered.notify_all()
            return
        method, rid, params = msg["method"], msg.get("id"), msg.get("params") or {}
        if rid is None:
            return  # a notification (initialized)
        if method == "turn/interrupt":
            with state_lock:
                self.interrupts.append(params.get("turnId"))
        if method in IGNORED:
            return
        if method == "initialize":
            if self.initialized:
                return self.error(rid, -32600, "Already initialized")
            self.initialized = True
            return self.result(rid, {"userAgent": "fake/0.0.1", "codexHome": "/tmp/fake",
                                     "platformFamily": "unix", "platformOs": "linux"})
        if not self.initialized:
            return self.error(rid, -32600, "Not initialized")
        handler = getattr(self, "do_" + method.replace("/", "_"), None)
        if handler is None:
            return self.error(rid, -32600, "Invalid request: unknown variant `%s`" % method)
        handler(rid, params)

    def result(self, rid, result):
        send({"id": rid, "result": result})

    def error(self, rid, code, message, data=None):
        err = {"code": code, "message": message}
        if data is not None:
            err["data"] = data
        send({"id": rid, "error": err})

    def do_test_echo(self, rid, params):
        self.result(rid, params)

    def do_test_hang(self, rid, params):
        pass

    def do_test_interrupts(self, rid, params):
        with state_lock:
            self.result(rid, {"turnIds": list(self.interrupts)})

    def do_test_hang_notify(self, rid, params):
        # Like test/hang, but says it got the request first, so a test knows it is pending.
        send(note("test/hanging", {"requestId": rid}))

    def do_test_release(self, rid, params):
        # Lets held turns go on: the one with this turnId, or every running turn.
        with state_lock:
            turns = [t for t in self.active.values()
                     if params.get("turnId") in (None, t.turn_id)]
        for turn in turns:
            turn.release.set()
        self.result(rid, {"released": sorted(t.turn_id for t in turns)})

    def do_test_overloaded(self, rid, params):
        send({"id": rid, "error": {"code": -32001, "message": "Server overloaded; retry later.",
                                   "data": None}})

    def do_test_error_with_data(self, rid, params):
        self.error(rid, -32602, "Invalid params", {"field": "x"})

    def do_model_list(self, rid, params):
        self.result(rid, {"data": [{"id": "fake-model", "model": "fake-model"}], "nextCursor": None})

    def do_thread_list(self, rid, params):
        self.result(rid, {"data": [], "nextCursor": None})

    def do_thread_start(self, rid, params):
        with state_lock:
            self.threads += 1
            tid = THREAD_PREFIX + str(self.threads)
        # The whole shape the real server answers, so typed clients (the Python SDK) accept it.
        thread = {"id": tid, "preview": "", "modelProvider": "fake", "cliVersion": "0.0.1",
                  "createdAt": 1764000000, "updatedAt": 1764000000, "cwd": "/tmp",
                  "ephemeral": True, "sessionId": "sess_" + tid, "source": "appServer",
                  "status": {"type": "idle"}, "turns": []}
        self.result(rid, {"thread": thread, "model": "fake-model", "modelProvider": "fake",
                          "approvalPolicy": "never", "approvalsReviewer": "user", "cwd": "/tmp",
                          "sandbox": {"type": "dangerFullAccess"}})
        send(note("thread/started", {"thread": {"id": tid}}))

    def do_turn_start(self, rid, params):
        tid = params.get("threadId")
        with state_lock:
            number = tid[len(THREAD_PREFIX):] if isinstance(tid, str) and tid.startswith(THREAD_PREFIX) else ""
            if not (number.isdigit() and not number.startswith("0")
                    and 1 <= int(number) <= self.threads):
                return self.error(rid, -32600, "thread not found: %s" % tid)
            self.turns += 1
            # The flood is built before any turn starts, so its turn ids follow the threads'.
            number = tid[len(THREAD_PREFIX):] if SCENARIO == "flood" else self.turns
            turn = Turn(tid, "turn_%s" % number, input_text(params))
            self.active[tid] = turn
        run = getattr(self, "scenario_" + SCENARIO)
        run(rid, turn)

    def do_turn_interrupt(self, rid, params):
        with state_lock:
            turn = self.active.get(params.get("threadId"))
            if turn is not None and turn.turn_id == params.get("turnId"):
                turn.interrupted = True
                turn.release.set()
        self.result(rid, {})

    def do_turn_steer(self, rid, params):
        with state_lock:
            turn = self.active.get(params.get("threadId"))
        if turn is None or turn.turn_id != params.get("expectedTurnId"):
            return self.error(rid, -32600, "no active turn to steer")
        turn.release.set()
        self.result(rid, {"turnId": turn.turn_id})

    # ----- scenarios -----
    def turn_response(self, rid, turn):
        self.result(rid, {"turn": {"id": turn.turn_id, "status": "inProgress", "items": []}})

    def stream(self, turn, events):
        for kind, msg in events:
            turn.wait_while_held()
            if turn.interrupted and kind in ("delta", "completed"):
                send(turn.completed("interrupted"))
                break
            send(msg)
            turn.sent(kind)
            if DELAY:
                time.sleep(DELAY)
        with state_lock:
            if self.active.get(turn.thread_id) is turn:
                del self.active[turn.thread_id]

    def scenario_normal(self, rid, turn):
        self.turn_response(rid, turn)
        threading.Thread(target=self.stream, args=(turn, turn.events()), daemon=True).start()

    def scenario_silent(self, rid, turn):
        self.turn_response(rid, turn)
        send(turn.started())

    def scenario_early(self, rid, turn):
        self.stream(turn, turn.events())
        self.turn_response(rid, turn)

    def scenario_interleaved(self, rid, turn):
        events = turn.events()
        send(events[0][1])  # turn/started before the response
        self.turn_response(rid, turn)
        with state_lock:
            self.pending_streams = getattr(self, "pending_streams", [])
            self.pending_streams.append([turn, events[1:]])
            if not getattr(self, "emitter", None):
                self.emitter = threading.Thread(target=self.round_robin, daemon=True)
                self.emitter.start()

    def round_robin(self):
        while True:
            with state_lock:
                streams = list(self.pending_streams)
            for entry in streams:
                turn, events = entry
                if turn.interrupted and events:
                    events[:] = []
                    send(turn.completed("interrupted"))
                elif events and turn.holding():
                    continue
                elif events:
                    kind, msg = events.pop(0)
                    send(msg)
                    turn.sent(kind)
                else:
                    with state_lock:
                        self.pending_streams.remove(entry)
            time.sleep(DELAY)

    def scenario_crash(self, rid, turn):
        self.turn_response(rid, turn)
        events = turn.events()
        for _, msg in events[:4]:  # started, item/started, two deltas
            send(msg)
        for i in (1, 2, 3):
            log("fatal line %d" % i)
        time.sleep(0.05)
        os._exit(3)

    def scenario_orphan_pipe(self, rid, turn):
        # A grandchild inherits stdout and stderr and outlives this process, so the client
        # sees no EOF when it exits: only the exit itself tells.
        import subprocess
        orphan = subprocess.Popen(["sleep", os.environ.get("FAKE_ORPHAN_SECONDS", "10")])
        self.turn_response(rid, turn)
        for _, msg in turn.events()[:3]:
            send(msg)
        log("exiting, the orphan (pid %d) keeps the pipes" % orphan.pid)
        time.sleep(0.05)
        os._exit(5)

    def scenario_close_stdout(self, rid, turn):
        self.turn_response(rid, turn)
        for _, msg in turn.events()[:3]:
            send(msg)
        for i in (1, 2, 3):
            log("fatal line %d" % i)
        with write_lock:
            out.flush()
            os.close(1)
        time.sleep(30)
        os._exit(0)

    def scenario_garbage(self, rid, turn):
        self.turn_response(rid, turn)
        events = turn.events()
        head, rest = events[:2], events[2:]
        for _, msg in head:
            send(msg)
        send_raw(b"this is not json\n")
        send_raw(b'{"broken": \n')
        send_raw(b"\n")
        send_raw(b"[1,2]\n")
        send(note("item/agentMessage/delta",
                  turn.ids(itemId="msg_" + turn.turn_id, delta="x" * (2 * 1024 * 1024))))
        self.stream(turn, rest)

    def scenario_late_event(self, rid, turn):
        self.turn_response(rid, turn)

        def run():
            self.stream(turn, turn.events())
            time.sleep(0.05)
            send(note("item/commandExecution/outputDelta",
                      turn.ids(itemId="cmd_late", delta="late")))
        threading.Thread(target=run, daemon=True).start()

    def scenario_approval(self, rid, turn):
        self.turn_response(rid, turn)

        def run():
            send(turn.started())
            with state_lock:
                approval_id, unknown_id = self.requests, self.requests + 1
                self.requests += 2
            send({"id": approval_id, "method": "item/commandExecution/requestApproval",
                  "params": turn.ids(itemId="cmd_1", command="echo hi", cwd="/tmp",
                                     availableDecisions=["accept", "decline", "cancel"])})
            send({"id": unknown_id, "method": "fake/unknownRequest", "params": turn.ids()})
            with state_lock:
                while approval_id not in self.answers or unknown_id not in self.answers:
                    self.answered.wait()
                approval, unknown = self.answers[approval_id], self.answers[unknown_id]
            decision = (approval.get("result") or {}).get("decision")
            status = {"decline": "declined", "accept": "completed"}.get(decision, "failed")
            cmd = {"type": "commandExecution", "id": "cmd_1", "command": "echo hi",
                   "status": status, "decisionReceived": approval.get("result")}
            send(note("item/completed", turn.ids(item=cmd, completedAtMs=1)))
            msg = {"type": "agentMessage", "id": "msg_" + turn.turn_id, "phase": "final_answer",
                   "text": "unknown-request-answer:" + json.dumps(unknown)}
            send(note("item/completed", turn.ids(item=msg, completedAtMs=1)))
            for req in (approval_id, unknown_id):
                send(note("serverRequest/resolved", {"threadId": turn.thread_id, "requestId": req}))
            send(turn.completed())
        threading.Thread(target=run, daemon=True).start()

    def scenario_flood(self, rid, turn):
        self.turn_response(rid, turn)
        self.flood_started += 1
        if self.flood_started == FLOOD_TURNS:
            blob = memoryview(self.flood_blob)
            # FAKE_CRASH_AT=0.5: die (exit 4) halfway through the flood, mid-line.
            crash_at = float(os.environ.get("FAKE_CRASH_AT", "0"))
            end = int(len(blob) * crash_at) if crash_at else len(blob)
            step = 1 << 20
            for i in range(0, end, step):
                send_raw(blob[i:min(i + step, end)])
            if crash_at:
                log("flood: crashing after %d of %d bytes" % (end, len(blob)))
                os._exit(4)


def build_flood():
    """Every turn's deltas interleaved on the wire, then each turn's completion."""
    started = time.time()
    turns = [Turn(THREAD_PREFIX + str(t), "turn_%d" % t) for t in range(1, FLOOD_TURNS + 1)]
    lines = []
    for i in range(DELTAS):
        for turn in turns:
            lines.append('{"method":"item/agentMessage/delta","params":{"threadId":"%s",'
                         '"turnId":"%s","itemId":"msg_%s","delta":"tok%06d "},'
                         '"emittedAtMs":1764000000000}\n'
                         % (turn.thread_id, turn.turn_id, turn.turn_id, i))
    for turn in turns:
        lines.append(json.dumps(turn.completed(), separators=(",", ":")) + "\n")
    blob = "".join(lines).encode()
    log("flood: %d lines, %d bytes, built in %.2fs" % (len(lines), len(blob), time.time() - started))
    return blob


def main():
    for i in range(int(os.environ.get("FAKE_STDERR_LINES", "0"))):
        log("startup line %d" % i)
    server = Server()
    for line in sys.stdin.buffer:
        if not line.strip():
            continue
        try:
            msg = json.loads(line)
        except ValueError:
            log("unparsable line from the client: %r" % line[:200])
            continue
        server.handle(msg)


if __name__ == "__main__":
    main()
