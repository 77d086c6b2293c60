#!/usr/bin/env python3
"""Three concurrent turns on one asyncio loop, through the C library with ctypes only: the
loop watches the client's event descriptor (loop.add_reader), takes each ready turn and drains
it without blocking. No thread is blocked per turn and no extension module is compiled.

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
lib.codex_client_next_ready_turn.argtypes = [P, ctypes.POINTER(P), ctypes.POINTER(P)]
lib.codex_client_thread_start.argtypes = [P, ctypes.c_char_p, ctypes.POINTER(P), ctypes.POINTER(P), ctypes.POINTER(P)]
lib.codex_client_next_event.argtypes = [P, ctypes.c_int64, ctypes.POINTER(P), ctypes.POINTER(P)]
lib.codex_turn_start.argtypes = [P, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(P), ctypes.POINTER(P)]
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

    turns = {}  # handle address -> [name, text so far, done future]
    for name in ("alpha", "beta", "gamma"):
        thread = P()
        check(lib.codex_client_thread_start(client, None, ctypes.byref(thread), None, ctypes.byref(err)), err, "thread")
        turn = P()
        rc = lib.codex_turn_start(client, ctypes.cast(thread, ctypes.c_char_p), ("Say %s" % name).encode(), None,
                                  ctypes.byref(turn), ctypes.byref(err))
        lib.codex_string_free(thread)
        check(rc, err, "turn/start")
        turns[turn.value] = [name, [], asyncio.get_running_loop().create_future()]

    def on_ready():
        ready = P()
        while lib.codex_client_next_ready_turn(client, ctypes.byref(ready), None) == OK:
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
                if rc == STREAM_END:
                    done.set_result("".join(text))
                    break
                if rc != OK:
                    done.set_exception(RuntimeError(lib.codex_error_message(e).decode()))
                    lib.codex_error_free(e)
                    break
                if lib.codex_event_kind(ev) == AGENT_MESSAGE_DELTA:
                    text.append(lib.codex_event_delta(ev, None).decode())
                lib.codex_event_free(ev)

    loop = asyncio.get_running_loop()
    loop.add_reader(fd.value, on_ready)
    try:
        for name, _, done in turns.values():
            print("%s: %s" % (name, await asyncio.wait_for(done, 60)))
    finally:
        loop.remove_reader(fd.value)
        for handle in turns:
            lib.codex_turn_free(handle)
        lib.codex_client_close(client)
        lib.codex_client_free(client)


asyncio.run(main())
