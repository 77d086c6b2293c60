#!/usr/bin/env python3
"""A loopback mock of the OpenAI Responses API, to run the real `codex app-server` offline.

Usage:
    python3 mock_model.py --script SCRIPT.json [--port 0] [--record REQUESTS.jsonl]
                          [--write-codex-home DIR] [--idle-exit SECONDS] [--exit-on-stdin-eof]

It binds 127.0.0.1 (port 0 picks a free one), prints the port on the first line of stdout, and
serves:
    GET  /v1/models          {"models": [...]}: the script's "models", as codex's catalog entries
    POST /v1/responses       a streamed reply (server-sent events) chosen by the script
    GET  /_mock/requests     every request received so far, as a JSON array (the entry of a
                             reply with "hold_after" also has "hold": "holding" from before
                             its first delta until the hold ends, then "client_closed",
                             "released" or "timed_out")
    POST /_mock/release      lets held replies go on (see "hold_after"); body {"match": "text"}
                             limits it to the responses with that "match", else all of them.
                             Sticky: a released response that has not reached its hold yet
                             streams straight through.

It stops by itself after --idle-exit seconds without a request (default 600), and, with
--exit-on-stdin-eof, when its standard input closes (a test holding a pipe to it died).

--write-codex-home DIR writes DIR/config.toml that points codex at this server with every
network feature off (no account needed). Run codex with CODEX_HOME=DIR.

Script (JSON):
    {"responses": [RESPONSE, ...], "default": RESPONSE, "models": [MODEL, ...]}
Each POST /v1/responses takes the first unused RESPONSE whose "match" string occurs in the
request body (a RESPONSE without "match" matches any request); when none is left, "default";
without a default, a short text saying the script ran out.
RESPONSE fields:
    "match": "text"          only for requests whose body contains this text
    "text": "Hello"          an assistant message, streamed as deltas
    "chunks": ["He", "llo"]  the deltas to send (default: text cut every "chunk_size" chars, 4)
    "phase": "final_answer"  the message's phase ("final_answer" or "commentary")
    "delay_ms": 20           pause between streamed events
    "first_delay_ms": 0      pause before the first event
    "function_call": {"name": "exec_command", "arguments": {...} or "json", "call_id": "c1"}
                             a tool call instead of a message
    "break_after": 2         close the stream after this many deltas, without completion
    "hold_after": 1          after this many deltas (0: before the first), send nothing more
                             and wait until, first of: the client closes the connection (codex
                             does on turn/interrupt and turn/steer; the reply then ends there),
                             a POST /_mock/release (it streams on to completion), or
                             "hold_timeout_ms" (default 60000; it streams on, and says so on
                             stderr). Lets a test interrupt, steer or inspect a running turn
                             without racing the stream.
    "status": 500, "body": "..."   an HTTP error instead of a stream
    "usage": {"input_tokens": 5, "output_tokens": 3}
    "headers": {"x-codex-primary-used-percent": "42"}   extra HTTP headers (rate limits)
MODEL fields: "slug", and any field of codex's catalog entry ("display_name", "visibility":
"list" or "hide", ...); the others get defaults.
"""
import argparse
import json
import os
import select
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CONFIG_TEMPLATE = """\
model = "mock-model"
model_provider = "mock"
approval_policy = "never"
sandbox_mode = "read-only"
check_for_update_on_startup = false

[analytics]
enabled = false

[features]
plugins = false
unbounded_connection_retries = false

[model_providers.mock]
name = "mock"
base_url = "http://127.0.0.1:{port}/v1"
wire_api = "responses"
request_max_retries = 0
stream_max_retries = 0
"""


def write_codex_home(directory, port):
    """Writes DIR/config.toml for codex to use the mock model on `port`, offline."""
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "config.toml"), "w") as f:
        f.write(CONFIG_TEMPLATE.format(port=port))


class Script:
    def __init__(self, spec):
        self.responses = list(spec.get("responses", []))
        self.used = [False] * len(self.responses)
        self.default = spec.get("default")
        self.models = spec.get("models", [])
        self.lock = threading.Lock()

    def pick(self, body):
        with self.lock:
            for i, resp in enumerate(self.responses):
                if not self.used[i] and resp.get("match", "") in body:
                    self.used[i] = True
                    return i, resp
        if self.default is not None:
            return None, self.default
        return None, {"text": "mock: no scripted response left"}


def model_info(spec):
    """A catalog entry as codex reads it from a provider's `model_catalog_url`: the script's
    fields over defaults for every field codex requires."""
    info = {"slug": spec["slug"], "display_name": spec.get("display_name", spec["slug"]),
            "description": "", "supported_reasoning_levels": [], "shell_type": "shell_command",
            "visibility": "list", "supported_in_api": True, "priority": 1,
            "base_instructions": "", "supports_reasoning_summaries": False,
            "support_verbosity": False, "default_verbosity": None, "apply_patch_tool_type": None,
            "truncation_policy": {"mode": "bytes", "limit": 10000},
            "supports_parallel_tool_calls": False, "experimental_supported_tools": [],
            "availability_nux": None, "upgrade": None}
    info.update(spec)
    return info


def sse(event_type, data):
    return ("event: %s\ndata: %s\n\n" % (event_type, json.dumps(data))).encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        self.server.touch()
        if self.path.split("?")[0].endswith("/models"):
            return self.reply_json({"models": [model_info(m) for m in self.server.script.models]})
        if self.path == "/_mock/requests":
            with self.server.lock:
                return self.reply_json(list(self.server.received))
        self.send_error(404)

    def reply_json(self, obj, status=200):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        self.server.touch()
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length).decode("utf-8", "replace")
        if self.path == "/_mock/release":
            try:
                match = (json.loads(raw) if raw.strip() else {}).get("match")
            except (ValueError, AttributeError):
                return self.reply_json({"error": "body: {\"match\": \"text\"} or nothing"}, 400)
            return self.reply_json({"holding_released": self.server.release(match)})
        if not self.path.endswith("/responses"):
            return self.send_error(404)
        index, resp = self.server.script.pick(raw)
        entry = self.server.record(self.path, raw, index)
        if "status" in resp:
            data = str(resp.get("body", "mock error")).encode()
            self.send_response(int(resp["status"]))
            self.send_header("content-type", "text/plain")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.send_header("connection", "close")
        for name, value in resp.get("headers", {}).items():
            self.send_header(name, str(value))
        self.end_headers()
        self.close_connection = True
        try:
            self.stream(resp, index, entry)
        except (BrokenPipeError, ConnectionResetError):
            self.server.end_hold(entry, "client_closed")
        finally:
            self.server.end_hold(entry, None)

    def hold(self, resp, index, entry):
        """Holds the stream (see "hold_after"); returns how the hold ended."""
        server = self.server
        timeout = resp.get("hold_timeout_ms", 60000) / 1000.0
        deadline = time.monotonic() + timeout
        server.set_hold(entry, "holding")
        while True:
            if server.is_released(index, resp):
                outcome = "released"
                break
            if time.monotonic() >= deadline:
                outcome = "timed_out"
                sys.stderr.write("mock_model: a held reply went on after %.0f s without interrupt, "
                                 "steer or release\n" % timeout)
                sys.stderr.flush()
                break
            # The client sends nothing more on this connection: readable means it closed.
            readable, _, _ = select.select([self.connection], [], [], 0.02)
            if readable:
                try:
                    closed = self.connection.recv(1, socket.MSG_PEEK) == b""
                except OSError:
                    closed = True
                if closed:
                    outcome = "client_closed"
                    break
                time.sleep(0.02)
        server.set_hold(entry, outcome)
        server.touch()
        return outcome

    def stream(self, resp, index=None, entry=None):
        delay = resp.get("delay_ms", 0) / 1000.0
        rid = "resp_%d" % self.server.next_id()
        time.sleep(resp.get("first_delay_ms", 0) / 1000.0)

        def emit(event_type, data):
            self.wfile.write(sse(event_type, dict(data, type=event_type)))
            self.wfile.flush()
            if delay:
                time.sleep(delay)

        emit("response.created", {"response": {"id": rid}})
        call = resp.get("function_call")
        if call is None and "hold_after" in resp:
            # "holding" from before the first delta: whoever saw a delta of this reply and then
            # reads /_mock/requests never finds the hold not begun yet.
            self.server.set_hold(entry, "holding")
        if call is not None:
            args = call.get("arguments", {})
            item = {"type": "function_call", "id": "fc_" + rid, "call_id": call.get("call_id", "call_" + rid),
                    "name": call.get("name", "exec_command"),
                    "arguments": args if isinstance(args, str) else json.dumps(args)}
            emit("response.output_item.added", {"output_index": 0, "item": item})
            emit("response.output_item.done", {"output_index": 0, "item": item})
        else:
            chunks = resp.get("chunks")
            text = "".join(chunks) if chunks is not None else resp.get("text", "")
            if chunks is None:
                size = max(1, int(resp.get("chunk_size", 4)))
                chunks = [text[i:i + size] for i in range(0, len(text), size)]
            item = {"type": "message", "role": "assistant", "id": "msg_" + rid,
                    "content": [{"type": "output_text", "text": ""}]}
            if "phase" in resp:
                item["phase"] = resp["phase"]
            emit("response.output_item.added", {"output_index": 0, "item": item})
            for n, chunk in enumerate(chunks):
                if "break_after" in resp and n >= resp["break_after"]:
                    return  # the connection closes without response.completed
                if n == resp.get("hold_after") and self.hold(resp, index, entry) == "client_closed":
                    return
                emit("response.output_text.delta",
                     {"item_id": item["id"], "output_index": 0, "content_index": 0, "delta": chunk})
            if "break_after" in resp:
                return
            if len(chunks) <= resp.get("hold_after", -1) and \
                    self.hold(resp, index, entry) == "client_closed":
                return
            done = dict(item, content=[{"type": "output_text", "text": text, "annotations": []}])
            emit("response.output_item.done", {"output_index": 0, "item": done})
        usage = resp.get("usage", {})
        inp, outp = usage.get("input_tokens", 5), usage.get("output_tokens", 3)
        emit("response.completed", {"response": {"id": rid, "usage": {
            "input_tokens": inp, "input_tokens_details": None, "output_tokens": outp,
            "output_tokens_details": None, "total_tokens": inp + outp}}})


class MockServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, script, record_path, port=0):
        super().__init__(("127.0.0.1", port), Handler)
        self.script = script
        self.record_path = record_path
        self.received = []
        self.lock = threading.Lock()
        self.last_activity = time.monotonic()
        self.counter = 0
        self.released = set()  # response keys (script index, or "default") let go of
        self.release_all = False

    def touch(self):
        self.last_activity = time.monotonic()

    def next_id(self):
        with self.lock:
            self.counter += 1
            return self.counter

    def record(self, path, raw, index):
        try:
            body = json.loads(raw)
        except ValueError:
            body = raw
        entry = {"path": path, "body": body, "response_index": index,
                 "received_at_ms": int(time.time() * 1000)}
        with self.lock:
            self.received.append(entry)
            if self.record_path:
                with open(self.record_path, "a") as f:
                    f.write(json.dumps(entry) + "\n")
        return entry

    def set_hold(self, entry, state):
        with self.lock:
            entry["hold"] = state

    def end_hold(self, entry, outcome):
        """A reply that ends while still marked "holding" without having held (the client
        closed first, or break_after came first): `outcome`, or no "hold" at all."""
        with self.lock:
            if entry.get("hold") == "holding":
                if outcome:
                    entry["hold"] = outcome
                else:
                    del entry["hold"]

    def release(self, match):
        """Lets go of the responses with this "match" (None: all); returns how many were holding."""
        with self.lock:
            if match is None:
                self.release_all = True
            else:
                for i, resp in enumerate(self.script.responses):
                    if resp.get("match") == match:
                        self.released.add(i)
                if (self.script.default or {}).get("match") == match:
                    self.released.add("default")
            return sum(1 for e in self.received if e.get("hold") == "holding")

    def is_released(self, index, resp):
        with self.lock:
            return self.release_all or ("default" if index is None else index) in self.released


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--script", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--record")
    ap.add_argument("--write-codex-home")
    ap.add_argument("--idle-exit", type=float, default=600)
    ap.add_argument("--exit-on-stdin-eof", action="store_true")
    args = ap.parse_args()
    with open(args.script) as f:
        script = Script(json.load(f))
    server = MockServer(script, args.record, args.port)
    port = server.server_address[1]
    if args.write_codex_home:
        write_codex_home(args.write_codex_home, port)
    print(port, flush=True)

    def watch_idle():
        while time.monotonic() - server.last_activity < args.idle_exit:
            time.sleep(0.5)
        os._exit(0)

    def watch_stdin():
        while sys.stdin.buffer.read(4096):
            pass
        os._exit(0)

    threading.Thread(target=watch_idle, daemon=True).start()
    if args.exit_on_stdin_eof:
        threading.Thread(target=watch_stdin, daemon=True).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
