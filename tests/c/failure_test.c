/* The app-server dies mid-turn (the fake's "crash" scenario exits with status 3 after two
 * deltas, with three lines on stderr): the open turn and a request blocked in another thread
 * both end with CODEX_ERR_TRANSPORT carrying the exit status and the stderr tail; later calls
 * fail at once with the same error. Nothing is timed: every wait has a long bound (60 s) that
 * only a library that missed the crash would reach, and then it fails with CODEX_ERR_TIMEOUT
 * instead of the transport error. How long the failure took is printed, not asserted (a loaded
 * machine under valgrind must not fail the test). */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <string.h>
#include <time.h>
#include "test_util.h"

static codex_client *client;
static codex_result blocked_rc;
static char blocked_msg[4096];

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

#define SAFETY_MS 60000

static void *blocked_request(void *arg) {
    (void)arg;
    char *out = NULL;
    codex_error *err = NULL;
    blocked_rc = codex_client_request(client, "test/hang_notify", NULL, SAFETY_MS, &out, &err);
    if (err) snprintf(blocked_msg, sizeof blocked_msg, "%s", codex_error_message(err));
    codex_error_free(err);
    return NULL;
}

static void check_transport_error(codex_result rc, const char *msg) {
    CHECK(rc == CODEX_ERR_TRANSPORT, "expected CODEX_ERR_TRANSPORT, got %s", codex_result_name(rc));
    CHECK(strstr(msg, "exit status 3") != NULL, "no exit status in: %s", msg);
    CHECK(strstr(msg, "fake: fatal line 3") != NULL, "no stderr tail in: %s", msg);
}

int main(void) {
    codex_error *err = NULL;
    codex_options *opts = fake_server_options("crash");
    CHECK_OK(codex_client_start(opts, &client, &err), err);
    codex_options_free(opts);

    char *thread_id = NULL;
    CHECK_OK(codex_client_thread_start(client, NULL, &thread_id, NULL, &err), err);
    pthread_t blocker;
    pthread_create(&blocker, NULL, blocked_request, NULL);
    /* The fake says when it holds the request (test/hanging): it is then surely pending when
     * the turn below makes the fake crash. */
    for (;;) {
        codex_event *ev = NULL;
        CHECK_OK(codex_client_next_event(client, SAFETY_MS, &ev, &err), err);
        int pending = strcmp(codex_event_method(ev), "test/hanging") == 0;
        codex_event_free(ev);
        if (pending) break;
    }
    codex_turn *turn = NULL;
    CHECK_OK(codex_turn_start(client, thread_id, "hi", NULL, &turn, &err), err);

    int events = 0;
    double last_event_at = now_ms();
    codex_result rc;
    for (;;) {
        codex_event *ev = NULL;
        rc = codex_turn_next_event(turn, SAFETY_MS, &ev, &err);
        if (rc != CODEX_OK) break;
        events++;
        last_event_at = now_ms();
        codex_event_free(ev);
    }
    double waited = now_ms() - last_event_at;
    check_transport_error(rc, codex_error_message(err));
    printf("failure_test: turn ended %.0f ms after its last event (%d events): %s\n", waited,
           events, codex_error_message(err));
    codex_error_free(err), err = NULL;
    CHECK(events >= 2, "the deltas before the crash were delivered: %d", events);

    pthread_join(blocker, NULL);
    check_transport_error(blocked_rc, blocked_msg);

    /* Later calls fail at once with the same error: with a timeout of SAFETY_MS, a call that
     * went to the dead server and waited would end CODEX_ERR_TIMEOUT instead. */
    double t0 = now_ms();
    char *out = NULL;
    rc = codex_client_request(client, "test/echo", "{}", SAFETY_MS, &out, &err);
    check_transport_error(rc, codex_error_message(err));
    codex_error_free(err), err = NULL;
    codex_turn *again = NULL;
    rc = codex_turn_start(client, thread_id, "x", NULL, &again, &err);
    check_transport_error(rc, codex_error_message(err));
    codex_error_free(err), err = NULL;
    codex_event *ev = NULL;
    rc = codex_client_next_event(client, SAFETY_MS, &ev, &err);
    while (rc == CODEX_OK) { /* drain what came before the crash */
        codex_event_free(ev);
        rc = codex_client_next_event(client, SAFETY_MS, &ev, &err);
    }
    check_transport_error(rc, codex_error_message(err));
    codex_error_free(err), err = NULL;
    printf("failure_test: later calls failed in %.0f ms\n", now_ms() - t0);

    codex_turn_free(turn);
    codex_string_free(thread_id);
    codex_client_free(client);
    return 0;
}
