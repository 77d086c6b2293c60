/* Four concurrent turns driven from one thread by poll(2): no thread blocks per turn. The same
 * pattern fits epoll, libuv (uv_poll_t), GLib (g_unix_fd_add) or Qt (QSocketNotifier).
 *
 *   event_loop                 the codex binary from $CODEX_BIN or PATH
 *
 * The loop watches the client's event descriptor; when it is readable, it takes each ready
 * turn (codex_client_next_ready_turn) and drains it without blocking (timeout 0). */
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
    /* Before the turns start: turns started later are reported to the loop. */
    if ((rc = codex_client_event_fd(client, &fd, &err)) != CODEX_OK) return fail("event_fd", rc, err);

    codex_turn *turns[TURNS];
    size_t deltas[TURNS] = {0};
    int open = 0;
    for (int i = 0; i < TURNS; i++) {
        char *thread_id = NULL;
        if ((rc = codex_client_thread_start(client, NULL, &thread_id, NULL, &err)) != CODEX_OK)
            return fail("thread/start", rc, err);
        char prompt[64];
        snprintf(prompt, sizeof prompt, "Turn %d, say something.", i);
        if ((rc = codex_turn_start(client, thread_id, prompt, NULL, &turns[i], &err)) != CODEX_OK)
            return fail("turn/start", rc, err);
        codex_string_free(thread_id);
        open++;
    }

    while (open > 0) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, -1) < 0) continue; /* EINTR */
        codex_turn *ready = NULL;
        while (codex_client_next_ready_turn(client, &ready, NULL) == CODEX_OK) {
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
                    printf("turn %d: %zu deltas, completed\n", i, deltas[i]);
                    open--;
                    break;
                }
                if (rc != CODEX_OK) return fail("next_event", rc, err);
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
