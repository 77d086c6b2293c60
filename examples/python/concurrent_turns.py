#!/usr/bin/env python3
"""Three concurrent turns from three Python threads, and one turn whose events go to a callback,
through libcodex_app_server's plain C ABI with the standard library's ctypes only: no compiled
extension, nothing to build. Any language with a C FFI can do the same.

    CODEX_APP_SERVER_LIB=/usr/local/lib/libcodex_app_server.so python3 concurrent_turns.py

The library: $CODEX_APP_SERVER_LIB, else the system loader's search (ctypes.util.find_library),
else this repository's target/release. The app-server: $CODEX_BIN, else `codex` on PATH.
"""
import ctypes
import ctypes.util
import itertools
import os
import sys
import threading
from ctypes import POINTER, byref, c_char_p, c_int64, c_size_t, c_uint32, c_void_p


def load_library():
    path = os.environ.get("CODEX_APP_SERVER_LIB") or ctypes.util.find_library("codex_app_server")
    if not path:
        here = os.path.dirname(os.path.abspath(__file__))
        path = os.path.join(here, "..", "..", "target", "release", "libcodex_app_server.so")
    return ctypes.CDLL(path)


lib = load_library()

# The C types used here. Handles are opaque pointers; results are uint32_t codes.
CODEX_OK = 0
CODEX_STREAM_END = 9
CODEX_EVENT_TURN_COMPLETED = 2
CODEX_EVENT_AGENT_MESSAGE_DELTA = 5

# void (*codex_event_callback)(void *userdata, const codex_event *ev)
EVENT_CALLBACK = ctypes.CFUNCTYPE(None, c_void_p, c_void_p)
# void (*codex_userdata_free)(void *userdata)
USERDATA_FREE = ctypes.CFUNCTYPE(None, c_void_p)


def declare(name, restype, *argtypes):
    fn = getattr(lib, name)
    fn.restype = restype
    fn.argtypes = list(argtypes)


declare("codex_version", c_char_p)
declare("codex_result_name", c_char_p, c_uint32)
declare("codex_error_message", c_char_p, c_void_p)
declare("codex_error_free", None, c_void_p)
declare("codex_string_free", None, c_void_p)
declare("codex_client_start", c_uint32, c_void_p, POINTER(c_void_p), POINTER(c_void_p))
declare("codex_client_thread_start", c_uint32,
        c_void_p, c_char_p, POINTER(c_void_p), POINTER(c_void_p), POINTER(c_void_p))
declare("codex_client_close", None, c_void_p)
declare("codex_client_free", None, c_void_p)
declare("codex_turn_start", c_uint32,
        c_void_p, c_char_p, c_char_p, c_char_p, POINTER(c_void_p), POINTER(c_void_p))
declare("codex_turn_start_with_callback", c_uint32,
        c_void_p, c_char_p, c_char_p, c_char_p, EVENT_CALLBACK, c_void_p, USERDATA_FREE,
        POINTER(c_void_p), POINTER(c_void_p))
declare("codex_turn_id", c_char_p, c_void_p)
declare("codex_turn_next_event", c_uint32, c_void_p, c_int64, POINTER(c_void_p), POINTER(c_void_p))
declare("codex_turn_run", c_uint32, c_void_p, c_int64, POINTER(c_void_p), POINTER(c_void_p))
declare("codex_turn_free", None, c_void_p)
declare("codex_turn_result_status", c_char_p, c_void_p)
declare("codex_turn_result_final_answer", c_char_p, c_void_p)
declare("codex_turn_result_free", None, c_void_p)
declare("codex_turn_result_usage", c_void_p, c_void_p)
declare("codex_json_get_int", c_uint32, c_void_p, c_char_p, POINTER(c_int64), POINTER(c_void_p))
declare("codex_event_kind", c_uint32, c_void_p)
declare("codex_event_delta", ctypes.POINTER(ctypes.c_char), c_void_p, POINTER(c_size_t))
declare("codex_event_turn_status", c_char_p, c_void_p)
declare("codex_event_free", None, c_void_p)


class CodexError(Exception):
    pass


def check(rc, err):
    """Raises for a failed call, with the library's message; frees the error object."""
    if rc == CODEX_OK:
        return
    message = lib.codex_error_message(err).decode() if err.value else ""
    lib.codex_error_free(err)
    raise CodexError(f"{lib.codex_result_name(rc).decode()}: {message}")


def take_string(ptr):
    """A char * the library handed over: copied into Python, then freed with codex_string_free."""
    text = ctypes.string_at(ptr).decode()
    lib.codex_string_free(ptr)
    return text


def thread_start(client):
    thread_id, err = c_void_p(), c_void_p()
    check(lib.codex_client_thread_start(client, None, byref(thread_id), None, byref(err)), err)
    return take_string(thread_id)


def polled_turn(client, prompt, results, index):
    """One turn read by this Python thread with codex_turn_next_event."""
    thread_id = thread_start(client)
    turn, err = c_void_p(), c_void_p()
    check(lib.codex_turn_start(client, thread_id.encode(), prompt.encode(), None,
                               byref(turn), byref(err)), err)
    reply, status = [], None
    try:
        while True:
            ev, err = c_void_p(), c_void_p()
            rc = lib.codex_turn_next_event(turn, 60_000, byref(ev), byref(err))
            if rc == CODEX_STREAM_END:
                break
            check(rc, err)
            kind = lib.codex_event_kind(ev)
            if kind == CODEX_EVENT_AGENT_MESSAGE_DELTA:
                length = c_size_t()
                text = lib.codex_event_delta(ev, byref(length))
                reply.append(ctypes.string_at(text, length.value).decode())
            elif kind == CODEX_EVENT_TURN_COMPLETED:
                status = lib.codex_event_turn_status(ev).decode()
            lib.codex_event_free(ev)
        results[index] = (lib.codex_turn_id(turn).decode(), status, "".join(reply))
    finally:
        lib.codex_turn_free(turn)


# The callback turn. The two C function pointers are made once, at module level, so they stay
# alive as long as the library may call them (a CFUNCTYPE object that Python collected would
# leave the library calling freed memory). Per-turn state travels as `userdata`: a key into
# _states, released by userdata_free, which the library calls exactly once, after the last call.
_states = {}
_states_lock = threading.Lock()
_keys = itertools.count(1)  # 0 would arrive as None


def _on_event(userdata, ev):
    # On a library thread. `ev` is borrowed for this call only: copy what you need.
    state = _states[userdata]
    kind = lib.codex_event_kind(ev)
    if kind == CODEX_EVENT_AGENT_MESSAGE_DELTA:
        length = c_size_t()
        text = lib.codex_event_delta(ev, byref(length))
        state["deltas"].append(ctypes.string_at(text, length.value).decode())
    elif kind == CODEX_EVENT_TURN_COMPLETED:
        state["status"] = lib.codex_event_turn_status(ev).decode()


def _release(userdata):
    with _states_lock:
        state = _states.pop(userdata)
    state["released"].set()


ON_EVENT = EVENT_CALLBACK(_on_event)
RELEASE = USERDATA_FREE(_release)


def callback_turn(client, prompt):
    thread_id = thread_start(client)
    key = next(_keys)  # any number; the library only hands it back
    state = {"deltas": [], "status": None, "released": threading.Event()}
    with _states_lock:
        _states[key] = state
    turn, err = c_void_p(), c_void_p()
    check(lib.codex_turn_start_with_callback(client, thread_id.encode(), prompt.encode(), None,
                                             ON_EVENT, c_void_p(key), RELEASE,
                                             byref(turn), byref(err)), err)
    result, err = c_void_p(), c_void_p()
    try:
        # Waits until the callback has had the turn's last event, then sums the turn up.
        check(lib.codex_turn_run(turn, 60_000, byref(result), byref(err)), err)
        status = lib.codex_turn_result_status(result).decode()
        answer = lib.codex_turn_result_final_answer(result)
        # A field read by JSON Pointer, no JSON parsing in Python: the turn's token count.
        tokens = c_int64(-1)
        usage = lib.codex_turn_result_usage(result)
        if usage:
            check(lib.codex_json_get_int(usage, b"/total/totalTokens", byref(tokens), byref(err)), err)
        lib.codex_turn_result_free(result)
    finally:
        lib.codex_turn_free(turn)  # no call starts after this returns
    released = state["released"].wait(60)
    return status, answer.decode() if answer else None, len(state["deltas"]), tokens.value, released


def main():
    print(f"libcodex_app_server {lib.codex_version().decode()} through ctypes")
    client, err = c_void_p(), c_void_p()
    check(lib.codex_client_start(None, byref(client), byref(err)), err)  # $CODEX_BIN
    try:
        prompts = ["Name a prime number", "Name a colour", "Name a river"]
        results = [None] * len(prompts)
        threads = [threading.Thread(target=polled_turn, args=(client, p, results, i))
                   for i, p in enumerate(prompts)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for prompt, result in zip(prompts, results):
            if result is None:
                raise CodexError(f"the turn for {prompt!r} failed")
            turn_id, status, reply = result
            print(f"polled turn {turn_id}: {status}, {len(reply)} characters: {reply[:60]}")
        status, answer, deltas, tokens, released = callback_turn(client, "Name a mountain")
        print(f"callback turn: {status}, {deltas} deltas, {tokens} tokens, final answer: {answer}")
        print(f"callback userdata released: {'once' if released and not _states else 'NOT'}")
    finally:
        lib.codex_client_close(client)
        lib.codex_client_free(client)
    ok = all(r and r[1] == "completed" for r in results) and status == "completed" and tokens > 0 and released
    print("python ctypes example: " + ("3 polled turns and 1 callback turn completed" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
