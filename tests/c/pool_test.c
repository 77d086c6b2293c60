/* The pool through the C API, against two scripted fake app-servers: placement, turns on the
 * member that owns the thread, the borrowed client of a thread, bad input, close and free; and
 * (POSIX) a member held in `initialize` holding up neither the start, nor close, nor free.
 * Run under valgrind by `make test` when it is installed. */
#define _POSIX_C_SOURCE 200809L
#include <string.h>
#include <time.h>
#include "test_util.h"
#ifndef _WIN32
#include <signal.h>
#include <unistd.h>
#endif

static codex_options *member(const char *prefix) {
    codex_options *opts = fake_server_options("normal");
    codex_error *err = NULL;
    CHECK_OK(codex_options_set_env(opts, "FAKE_THREAD_PREFIX", prefix, &err), err);
    return opts;
}

/* Waits (bounded) until each of the n members is up: codex_pool_start returns once one is. */
static void wait_all_up(const codex_pool *pool, size_t n) {
    for (int waited_ms = 0;; waited_ms++) {
        size_t up = 0;
        for (size_t i = 0; i < n; i++) up += codex_pool_member_healthy(pool, i);
        if (up == n) return;
        CHECK(waited_ms < 30000, "only %zu of %zu members up after 30 s", up, n);
        nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
    }
}

#ifndef _WIN32
static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* The pid the fake held in `initialize` wrote into the file `hold`, once it did (bounded). */
static long holder(const char *hold) {
    for (int waited_ms = 0;; waited_ms++) {
        FILE *f = fopen(hold, "r");
        long pid = 0;
        int got = f ? fscanf(f, "%ld", &pid) : 0;
        if (f) fclose(f);
        if (got == 1) return pid;
        CHECK(waited_ms < 30000, "no fake held initialize within 30 s");
        nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
    }
}

/* Member 1's fake does not answer `initialize` while the file exists, and its start never
 * times out by itself: the pool's start, then its close (or free alone), must not wait for it.
 * Returning at all proves it; the held fake must be gone afterwards. */
static void a_held_member_holds_up_nothing(int close_first) {
    char hold[] = "/tmp/codex_pool_hold_XXXXXX";
    int fd = mkstemp(hold);
    CHECK(fd >= 0, "mkstemp");
    close(fd);
    codex_error *err = NULL;
    codex_options *held = member("h_thr_");
    CHECK_OK(codex_options_set_env(held, "FAKE_HOLD_INITIALIZE", hold, &err), err);
    CHECK_OK(codex_options_set_start_timeout_ms(held, 3600000, &err), err);
    const codex_options *members[2] = {member("g_thr_"), held};
    codex_pool *pool = NULL;
    double t0 = now_ms();
    CHECK_OK(codex_pool_start(members, 2, &pool, &err), err);
    printf("pool_test: start returned after %.1f ms with member 1 held\n", now_ms() - t0);
    codex_options_free((codex_options *)members[0]);
    codex_options_free(held);
    long pid = holder(hold);
    CHECK(codex_pool_member_healthy(pool, 0) && !codex_pool_member_healthy(pool, 1),
          "member 0 up, member 1 held");
    t0 = now_ms();
    if (close_first) codex_pool_close(pool);
    codex_pool_free(pool);
    printf("pool_test: %s returned after %.1f ms with a start held\n",
           close_first ? "close and free" : "free", now_ms() - t0);
    CHECK(access(hold, F_OK) == 0, "never released: the close did not wait for a release");
    CHECK(kill((pid_t)pid, 0) != 0, "the held fake (pid %ld) was left running", pid);
    unlink(hold);
}
#endif

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
    wait_all_up(pool, 2);
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
#ifndef _WIN32
    a_held_member_holds_up_nothing(1);
    a_held_member_holds_up_nothing(0);
#endif
    printf("pool_test: ok\n");
    return 0;
}
