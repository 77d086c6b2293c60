/* Issue 24, item 1: a polled turn on the event descriptor, freed while its turn/completed is
 * arriving, never comes back from codex_client_next_ready_turn. Each round holds 8 turns in
 * the fake (hold-after:0), releases them with one test/release and frees them at once, so the
 * frees race the reader marking the turns ready; then everything ready is drained: a non-NULL
 * turn could only be a freed one (the unfixed library failed within 160 rounds, 5 runs of 5).
 * CODEX_TEST_ROUNDS rounds (default 1000: 0.2 s alone, 66 s under valgrind). Run under valgrind by
 * `make test` (an invalid read there is the same defect) and under ASan by `make sanitize`. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>
#include "test_util.h"

static int rounds(void) {
    const char *n = getenv("CODEX_TEST_ROUNDS");
    return n ? atoi(n) : 1000;
}

int main(void) {
    codex_error *err = NULL;
    codex_options *opts = fake_server_options("normal");
    CHECK_OK(codex_options_set_env(opts, "FAKE_DELTAS", "1", &err), err);
    CHECK_OK(codex_options_set_env(opts, "FAKE_DELAY_MS", "0", &err), err);
    codex_client *client = NULL;
    CHECK_OK(codex_client_start(opts, &client, &err), err);
    codex_options_free(opts);
    int fd = -1;
    CHECK_OK(codex_client_event_fd(client, &fd, &err), err);

    int n = rounds();
    enum { TURNS = 8 };
    for (int i = 0; i < n; i++) {
        codex_turn *turns[TURNS];
        for (int k = 0; k < TURNS; k++) {
            char *thread_id = NULL;
            CHECK_OK(codex_client_thread_start(client, NULL, &thread_id, NULL, &err), err);
            CHECK_OK(codex_turn_start(client, thread_id, "race hold-after:0", NULL, &turns[k], &err), err);
            codex_string_free(thread_id);
        }
        /* Every held turn goes on: their deltas and turn/completed arrive in one batch of the
         * reader, which marks them ready one after another while this thread frees them. */
        char *released = NULL;
        CHECK_OK(codex_client_request(client, "test/release", NULL, 0, &released, &err), err);
        codex_string_free(released);
        for (int k = 0; k < TURNS; k++) codex_turn_free(turns[k]);
        codex_turn *ready = NULL;
        while (codex_client_next_ready_turn(client, &ready, NULL) == CODEX_OK) {
            CHECK(ready == NULL, "round %d: a freed turn came back from next_ready_turn", i);
            codex_event *ev = NULL;
            while (codex_client_next_event(client, 0, &ev, NULL) == CODEX_OK) codex_event_free(ev);
        }
    }
    codex_client_close(client);
    codex_client_free(client);
    printf("freed_ready_turn_test: %d rounds, no freed turn came back\n", n);
    return 0;
}
