/* The pool through the C API, against two scripted fake app-servers: placement, turns on the
 * member that owns the thread, the borrowed client of a thread, bad input, close and free.
 * Run under valgrind by `make test` when it is installed. */
#define _POSIX_C_SOURCE 200809L
#include <string.h>
#include "test_util.h"

static codex_options *member(const char *prefix) {
    codex_options *opts = fake_server_options("normal");
    codex_error *err = NULL;
    CHECK_OK(codex_options_set_env(opts, "FAKE_THREAD_PREFIX", prefix, &err), err);
    return opts;
}

int main(void) {
    codex_error *err = NULL;
    const codex_options *members[2] = {member("a_thr_"), member("b_thr_")};
    codex_pool *pool = NULL;

    CHECK(codex_pool_start(NULL, 2, &pool, &err) == CODEX_ERR_INVALID_ARGUMENT, "NULL members");
    codex_error_free(err), err = NULL;
    CHECK(codex_pool_start(members, 0, &pool, &err) == CODEX_ERR_INVALID_ARGUMENT, "no members");
    codex_error_free(err), err = NULL;

    CHECK_OK(codex_pool_start(members, 2, &pool, &err), err);
    codex_options_free((codex_options *)members[0]);
    codex_options_free((codex_options *)members[1]);
    CHECK(codex_pool_member_count(pool) == 2, "two members");
    for (size_t i = 0; i < 2; i++) {
        char *down = NULL;
        if (!codex_pool_member_healthy(pool, i)) codex_pool_member_last_error(pool, i, &down, NULL);
        CHECK(codex_pool_member_healthy(pool, i), "member %zu is not healthy: %s", i,
              down ? down : "(no error)");
    }
    CHECK(!codex_pool_member_healthy(pool, 2) && !codex_pool_member_healthy(NULL, 0), "bad index");
    char *why = NULL;
    CHECK_OK(codex_pool_member_last_error(pool, 1, &why, &err), err);
    CHECK(why == NULL, "a member that never failed has no error: %s", why);
    CHECK(codex_pool_member_last_error(pool, 2, &why, &err) == CODEX_ERR_INVALID_ARGUMENT, "index");
    codex_error_free(err), err = NULL;

    /* Two threads land on the two members; each turn runs on its own member. */
    char *threads[2] = {NULL, NULL};
    char *result = NULL;
    CHECK_OK(codex_pool_thread_start(pool, NULL, &threads[0], &result, &err), err);
    CHECK(strstr(result, threads[0]) != NULL, "result holds the thread: %s", result);
    codex_string_free(result);
    CHECK_OK(codex_pool_thread_start(pool, NULL, &threads[1], NULL, &err), err);
    CHECK(threads[0][0] != threads[1][0], "placed on different members: %s %s", threads[0], threads[1]);
    for (int i = 0; i < 2; i++) {
        codex_turn *turn = NULL;
        CHECK_OK(codex_pool_turn_start(pool, threads[i], "hello", NULL, &turn, &err), err);
        codex_turn_result *r = NULL;
        CHECK_OK(codex_turn_run(turn, 30000, &r, &err), err);
        CHECK(strcmp(codex_turn_result_status(r), "completed") == 0, "completed");
        codex_turn_result_free(r);
        codex_turn_free(turn);

        /* The thread's client is borrowed: usable, and codex_client_free leaves it alone. */
        const codex_client *client = NULL;
        CHECK_OK(codex_pool_client_for_thread(pool, threads[i], &client, &err), err);
        const codex_client *again = NULL;
        CHECK_OK(codex_pool_client_for_thread(pool, threads[i], &again, &err), err);
        CHECK(client == again, "one handle per member client");
        char *echo = NULL;
        CHECK_OK(codex_client_request(client, "test/echo", "{\"n\":1}", 0, &echo, &err), err);
        codex_string_free(echo);
        codex_client_free((codex_client *)client);
        CHECK_OK(codex_client_request(client, "test/echo", "{}", 0, &echo, &err), err);
        codex_string_free(echo);
    }

    /* A thread this pool did not start. */
    codex_turn *turn = NULL;
    CHECK(codex_pool_turn_start(pool, "nope", "x", NULL, &turn, &err) == CODEX_ERR_INVALID_ARGUMENT,
          "unknown thread");
    CHECK(strstr(codex_error_message(err), "not started through this pool") != NULL, "%s",
          codex_error_message(err));
    codex_error_free(err), err = NULL;
    CHECK(codex_pool_turn_start_with_callback(pool, threads[0], "x", NULL, NULL, NULL, NULL, &turn,
                                              &err) == CODEX_ERR_INVALID_ARGUMENT,
          "NULL callback");
    codex_error_free(err), err = NULL;

    codex_pool_close(pool);
    codex_pool_close(pool);
    char *late = NULL;
    CHECK(codex_pool_thread_start(pool, NULL, &late, NULL, &err) == CODEX_ERR_CLOSED, "closed");
    codex_error_free(err), err = NULL;
    codex_string_free(threads[0]);
    codex_string_free(threads[1]);
    codex_pool_free(pool);
    codex_pool_free(NULL);
    printf("pool_test: ok\n");
    return 0;
}
