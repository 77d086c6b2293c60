/* Start-up latency through the C API: time from codex_client_start to initialized, and to the
 * first agent-message delta of a first turn (thread/start + turn/start included). The codex
 * binary and its environment come from the caller (bench/startup.py sets them up offline).
 * Prints one JSON line. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <time.h>
#include "codex_app_server.h"

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int fail(const char *what, codex_result rc, codex_error *err) {
    fprintf(stderr, "%s: %s: %s\n", what, codex_result_name(rc), err ? codex_error_message(err) : "");
    return 1;
}

int main(void) {
    codex_error *err = NULL;
    codex_client *client = NULL;
    double t0 = now_ms();
    codex_result rc = codex_client_start(NULL, &client, &err);
    if (rc != CODEX_OK) return fail("start", rc, err);
    double t_init = now_ms();
    char *thread_id = NULL;
    rc = codex_client_thread_start(client, "{\"ephemeral\":true}", &thread_id, NULL, &err);
    if (rc != CODEX_OK) return fail("thread/start", rc, err);
    codex_turn *turn = NULL;
    rc = codex_turn_start(client, thread_id, "hello", NULL, &turn, &err);
    if (rc != CODEX_OK) return fail("turn/start", rc, err);
    double t_delta = 0;
    for (;;) {
        codex_event *ev = NULL;
        rc = codex_turn_next_event(turn, 30000, &ev, &err);
        if (rc != CODEX_OK) return fail("first delta", rc, err);
        int is_delta = codex_event_kind(ev) == CODEX_EVENT_AGENT_MESSAGE_DELTA;
        codex_event_free(ev);
        if (is_delta) {
            t_delta = now_ms();
            break;
        }
    }
    codex_turn_free(turn);
    codex_string_free(thread_id);
    double t_close = now_ms();
    codex_client_close(client); /* stdin closed; the server is given 500 ms before a kill */
    double closed = now_ms() - t_close;
    codex_client_free(client);
    printf("{\"client\": \"c\", \"import_ms\": 0, \"init_ms\": %.1f, \"first_delta_ms\": %.1f, "
           "\"close_ms\": %.1f}\n", t_init - t0, t_delta - t0, closed);
    return 0;
}
