#!/usr/bin/env python3
"""Three threads and three turns started and consumed on one asyncio loop, through the C library
with ctypes only: nothing on the loop waits for the app-server. The thread starts are pending
requests watched on the client's event descriptor (loop.add_reader); as each is answered the
loop starts that thread's turn without waiting, and drains each ready turn without blocking.
No thread is blocked per turn and no extension module is compiled.

    python3 examples/python/event_loop.py [PATH/TO/libcodex_app_server.so]

The codex binary comes from $CODEX_BIN or PATH (`make example-test` runs it against the fake).
"""
import asyncio
import ctypes
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
LIB = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "../../target/release/libcodex_app_server.so")

OK, TIMEOUT, STREAM_END = 0, 3, 9
AGENT_MESSAGE_DELTA = 5

lib = ctypes.CDLL(LIB)
P = ctypes.c_void_p
lib.codex_client_start.argtypes = [P, ctypes.POINTER(P), ctypes.POINTER(P)]
lib.codex_client_event_fd.argtypes = [P, ctypes.POINTER(ctypes.c_int), ctypes.POINTER(P)]
lib.codex_client_next_ready.argtypes = [P, ctypes.POINTER(P), ctypes.POINTER(P), ctypes.POINTER(P)]
lib.codex_client_thread_start_async.argtypes = [P, ctypes.c_char_p, ctypes.POINTER(P), ctypes.POINTER(P)]
lib.codex_pending_watch.argtypes = [P, ctypes.POINTER(P)]
lib.codex_pending_result_json.argtypes = [P, ctypes.POINTER(P), ctypes.POINTER(P)]
lib.codex_pending_free.argtypes = [P]
lib.codex_json_get_string.argtypes = [P, ctypes.c_char_p, ctypes.POINTER(ctypes.c_char_p),
                                      ctypes.POINTER(ctypes.c_size_t), ctypes.POINTER(P)]
lib.codex_turn_start_async.argtypes = [P, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(P),
                                       ctypes.POINTER(P)]
lib.codex_client_next_event.argtypes = [P, ctypes.c_int64, ctypes.POINTER(P), ctypes.POINTER(P)]
lib.codex_turn_next_event.argtypes = [P, ctypes.c_int64, ctypes.POINTER(P), ctypes.POINTER(P)]
lib.codex_turn_free.argtypes = [P]
lib.codex_event_kind.argtypes = [P]
lib.codex_event_delta.argtypes = [P, ctypes.POINTER(ctypes.c_size_t)]
lib.codex_event_delta.restype = ctypes.c_char_p
lib.codex_event_free.argtypes = [P]
lib.codex_error_message.argtypes = [P]
lib.codex_error_message.restype = ctypes.c_char_p
lib.codex_error_free.argtypes = [P]
lib.codex_string_free.argtypes = [P]
lib.codex_client_close.argtypes = [P]
lib.codex_client_free.argtypes = [P]


def check(rc, err, what):
    if rc != OK:
        message = lib.codex_error_message(err).decode() if err else ""
        lib.codex_error_free(err)
        raise RuntimeError("%s failed (%d): %s" % (what, rc, message))


async def main():
    err = P()
    client = P()
    check(lib.codex_client_start(None, ctypes.byref(client), ctypes.byref(err)), err, "start")
    fd = ctypes.c_int(-1)
    check(lib.codex_client_event_fd(client, ctypes.byref(fd), ctypes.byref(err)), err, "event_fd")

    loop = asyncio.get_running_loop()
    starts = {}  # pending thread start address -> name
    turns = {}  # turn handle address -> [name, text so far, done future]
    names = ("alpha", "beta", "gamma")
    dones = {name: loop.create_future() for name in names}
    for name in names:  # each returns at once
        pending = P()
        check(lib.codex_client_thread_start_async(client, None, ctypes.byref(pending), ctypes.byref(err)), err,
              "thread/start")
        check(lib.codex_pending_watch(pending, ctypes.byref(err)), err, "watch")
        starts[pending.value] = name

    def start_turn(pending):
        """A thread start is answered: start its turn, without waiting either."""
        name = starts.pop(pending.value)
        result, thread, e = P(), ctypes.c_char_p(), P()
        try:
            check(lib.codex_pending_result_json(pending, ctypes.byref(result), ctypes.byref(e)), e, "thread/start")
            check(lib.codex_json_get_string(result, b"/thread/id", ctypes.byref(thread), None, ctypes.byref(e)), e,
                  "thread id")
            turn = P()
            check(lib.codex_turn_start_async(client, thread.value, ("Say %s" % name).encode(), None,
                                             ctypes.byref(turn), ctypes.byref(e)), e, "turn/start")
            turns[turn.value] = [name, [], dones[name]]
        except RuntimeError as failure:
            dones[name].set_exception(failure)
        lib.codex_pending_free(pending)  # the thread id was borrowed from it

    def on_ready():
        ready, answered = P(), P()
        while lib.codex_client_next_ready(client, ctypes.byref(ready), ctypes.byref(answered), None) == OK:
            if answered.value:
                start_turn(answered)
                continue
            if not ready.value:  # the client stream: notifications of no turn
                ev = P()
                while lib.codex_client_next_event(client, 0, ctypes.byref(ev), None) == OK:
                    lib.codex_event_free(ev)
                continue
            name, text, done = turns[ready.value]
            while True:  # drain without blocking
                ev, e = P(), P()
                rc = lib.codex_turn_next_event(ready, 0, ctypes.byref(ev), ctypes.byref(e))
                if rc == TIMEOUT:
                    lib.codex_error_free(e)
                    break
                if rc == STREAM_END:  # reported no more after this
                    if not done.done():
                        done.set_result("".join(text))
                    break
                if rc != OK:
                    if not done.done():
                        done.set_exception(RuntimeError(lib.codex_error_message(e).decode()))
                    lib.codex_error_free(e)
                    break
                if lib.codex_event_kind(ev) == AGENT_MESSAGE_DELTA:
                    text.append(lib.codex_event_delta(ev, None).decode())
                lib.codex_event_free(ev)

    loop.add_reader(fd.value, on_ready)
    try:
        for name in names:
            print("%s: %s" % (name, await asyncio.wait_for(dones[name], 60)))
    finally:
        loop.remove_reader(fd.value)
        for handle in turns:
            lib.codex_turn_free(handle)
        for pending in starts:
            lib.codex_pending_free(pending)
        lib.codex_client_close(client)
        lib.codex_client_free(client)


asyncio.run(main())
