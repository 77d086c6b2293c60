/* Issue 24, item 2: a client-level callback (the request handler, the client-stream callback)
 * closes the client while the main thread, seeing its call end with CODEX_ERR_CLOSED, closes and
 * frees the client. The main close must return only once the first close has finished and the
 * callback has returned, so the free never pulls the client from under it; the callback's own
 * close must not wait for the main close (which waits for the callback). After its close the
 * callback keeps using the client, which valgrind (make test) or ASan (make sanitize) would
 * report as a use after free. Each callback's userdata_free runs exactly once, before the free
 * returns. CODEX_TEST_ROUNDS rounds of each (default 1000: 15 s; the unfixed library crashed
 * within 300, 2 runs of 2; under valgrind 100, about 50 s, as each round starts two servers). */
#define _POSIX_C_SOURCE 200809L
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include "test_util.h"
#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif

static atomic_int freed;

static void count_free(void *userdata) {
    (void)userdata;
    atomic_fetch_add(&freed, 1);
}

/* Closes the client from inside the callback, then keeps using it. */
static void close_from_callback(void *userdata, const codex_event *ev) {
    const codex_client *client = userdata;
    (void)ev;
    codex_client_close(client);
    for (int i = 0; i < 50; i++) {
        (void)codex_client_dropped_events(client);
        (void)codex_client_active_turns(client);
    }
}

static codex_client *start(const char *scenario) {
    codex_options *opts = fake_server_options(scenario);
    codex_error *err = NULL;
    codex_client *client = NULL;
    CHECK_OK(codex_client_start(opts, &client, &err), err);
    codex_options_free(opts);
    return client;
}

/* The request handler closes: the fake asks an approval in the turn. */
static void handler_round(void) {
    codex_error *err = NULL;
    codex_client *client = start("approval");
    CHECK_OK(codex_client_set_request_handler(client, close_from_callback, client, count_free, &err), err);
    char *thread_id = NULL;
    CHECK_OK(codex_client_thread_start(client, NULL, &thread_id, NULL, &err), err);
    codex_turn *turn = NULL;
    CHECK_OK(codex_turn_start(client, thread_id, "run ls", NULL, &turn, &err), err);
    codex_string_free(thread_id);
    codex_turn_result *result = NULL;
    codex_result rc = codex_turn_run(turn, -1, &result, &err);
    CHECK(rc == CODEX_ERR_CLOSED, "the turn ends with the close, not %s", codex_result_name(rc));
    codex_error_free(err);
    codex_turn_free(turn);
    codex_client_close(client);
    codex_client_free(client);
}

/* The client-stream callback closes: test/hang_notify's notification reaches the client
 * stream while the request stays open. */
static void client_stream_round(void) {
    codex_error *err = NULL;
    codex_client *client = start("normal");
    CHECK_OK(codex_client_set_event_callback(client, close_from_callback, client, count_free, &err), err);
    char *result = NULL;
    codex_result rc = codex_client_request(client, "test/hang_notify", "{}", -1, &result, &err);
    CHECK(rc == CODEX_ERR_CLOSED, "the request ends with the close, not %s", codex_result_name(rc));
    codex_error_free(err);
    codex_client_close(client);
    codex_client_free(client);
}

int main(void) {
    const char *n_text = getenv("CODEX_TEST_ROUNDS");
    int n = n_text ? atoi(n_text) : RUNNING_ON_VALGRIND ? 100 : 1000;
    for (int i = 0; i < n; i++) {
        handler_round();
        CHECK(atomic_load(&freed) == 2 * i + 1, "round %d: the handler's userdata_free ran once", i);
        client_stream_round();
        CHECK(atomic_load(&freed) == 2 * i + 2, "round %d: the callback's userdata_free ran once", i);
    }
    printf("close_in_callback_test: %d rounds of each, no use after free\n", n);
    return 0;
}
