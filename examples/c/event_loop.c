/* Four threads and four turns started and consumed from one thread by poll(2): nothing in the
 * loop waits for the app-server — not the thread starts, not the turn starts, not the events.
 * The same pattern fits epoll, libuv (uv_poll_t), GLib (g_unix_fd_add) or Qt (QSocketNotifier).
 *
 *   event_loop                 the codex binary from $CODEX_BIN or PATH
 *
 * The loop watches the client's event descriptor. Thread starts are pending requests
 * (codex_client_thread_start_async) watched on it (codex_pending_watch); when one is
 * answered the loop starts that thread's turn without waiting (codex_turn_start_async). When
 * the descriptor is readable the loop takes each ready item (codex_client_next_ready): a
 * finished pending request, a turn with events (drained without blocking, timeout 0), or the
 * client stream. */
#define _POSIX_C_SOURCE 200809L
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include "codex_app_server.h"

#define TURNS 4

static int fail(const char *what, codex_result rc, codex_error *err) {
    fprintf(stderr, "%s failed: %s: %s\n", what, codex_result_name(rc),
            err ? codex_error_message(err) : "");
    codex_error_free(err);
    return 1;
}

int main(void) {
    codex_error *err = NULL;
    codex_client *client = NULL;
    codex_result rc = codex_client_start(NULL, &client, &err);
    if (rc != CODEX_OK) return fail("start", rc, err);
    int fd = -1;
    /* Before anything starts: what starts later is reported to the loop. */
    if ((rc = codex_client_event_fd(client, &fd, &err)) != CODEX_OK) return fail("event_fd", rc, err);

    codex_pending *starts[TURNS];
    codex_turn *turns[TURNS] = {NULL};
    size_t deltas[TURNS] = {0};
    int ended[TURNS] = {0};
    for (int i = 0; i < TURNS; i++) {
        if ((rc = codex_client_thread_start_async(client, NULL, &starts[i], &err)) != CODEX_OK)
            return fail("thread/start", rc, err);
        if ((rc = codex_pending_watch(starts[i], &err)) != CODEX_OK) return fail("watch", rc, err);
    }

    int open = TURNS;
    while (open > 0) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, -1) < 0) continue; /* EINTR */
        codex_turn *ready = NULL;
        codex_pending *answered = NULL;
        while (codex_client_next_ready(client, &ready, &answered, NULL) == CODEX_OK) {
            if (answered != NULL) { /* a thread start is answered: start its turn */
                int i = 0;
                while (starts[i] != answered) i++;
                const codex_json *result = NULL;
                const char *thread_id = NULL;
                if ((rc = codex_pending_result_json(answered, &result, &err)) != CODEX_OK)
                    return fail("thread/start", rc, err);
                if ((rc = codex_json_get_string(result, "/thread/id", &thread_id, NULL, &err)) != CODEX_OK)
                    return fail("thread id", rc, err);
                char prompt[64];
                snprintf(prompt, sizeof prompt, "Turn %d, say something.", i);
                rc = codex_turn_start_async(client, thread_id, prompt, NULL, &turns[i], &err);
                if (rc != CODEX_OK) return fail("turn/start", rc, err);
                codex_pending_free(answered); /* thread_id was borrowed from it */
                starts[i] = NULL;
                continue;
            }
            if (ready == NULL) { /* the client stream: notifications of no turn */
                codex_event *ev = NULL;
                while (codex_client_next_event(client, 0, &ev, NULL) == CODEX_OK) codex_event_free(ev);
                continue;
            }
            int i = 0;
            while (turns[i] != ready) i++;
            for (;;) { /* drain without blocking */
                codex_event *ev = NULL;
                rc = codex_turn_next_event(ready, 0, &ev, &err);
                if (rc == CODEX_ERR_TIMEOUT) {
                    codex_error_free(err), err = NULL;
                    break;
                }
                if (rc == CODEX_STREAM_END) {
                    /* Its end: the ready list reports this turn no more. */
                    if (!ended[i]) printf("turn %d: %zu deltas, completed\n", i, deltas[i]), open--;
                    ended[i] = 1;
                    break;
                }
                /* A failed start ends the turn's stream with its error, here. */
                if (rc != CODEX_OK) return fail("turn", rc, err);
                if (codex_event_kind(ev) == CODEX_EVENT_AGENT_MESSAGE_DELTA) deltas[i]++;
                codex_event_free(ev);
            }
        }
    }
    for (int i = 0; i < TURNS; i++) codex_turn_free(turns[i]);
    codex_client_close(client);
    codex_client_free(client);
    return 0;
}
