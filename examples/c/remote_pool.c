/* Fans one prompt out over several app-servers with a pool: one Codex thread per member, all
 * turns at once (callbacks on the library's workers), then each member's answer.
 *
 *   remote_pool [--token TOKEN] PROMPT URL...
 *
 * Each URL is a member: stdio:// spawns `codex app-server` here ($CODEX_BIN or PATH),
 * ws://HOST:PORT or wss://... reaches one started with `codex app-server --listen
 * ws://127.0.0.1:PORT` (over `ssh -L PORT:127.0.0.1:PORT host` for another machine),
 * unix:///path.sock one listening on a Unix socket, unix:// the local daemon. --token is sent to
 * every remote member as `Authorization: Bearer` (--ws-auth capability-token on the server).
 *
 * Build: cc -Iinclude examples/c/remote_pool.c -Ltarget/release -lcodex_app_server */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "codex_app_server.h"

static int fail(const char *what, codex_result rc, codex_error *err) {
    fprintf(stderr, "%s failed: %s: %s\n", what, codex_result_name(rc),
            err ? codex_error_message(err) : "");
    codex_error_free(err);
    return 1;
}

int main(int argc, char **argv) {
    int arg = 1;
    const char *token = NULL;
    if (arg + 1 < argc && strcmp(argv[arg], "--token") == 0) {
        token = argv[arg + 1];
        arg += 2;
    }
    if (argc - arg < 2) {
        fprintf(stderr, "usage: %s [--token TOKEN] PROMPT URL...\n", argv[0]);
        return 2;
    }
    const char *prompt = argv[arg++];
    int n = argc - arg;
    codex_error *err = NULL;
    codex_result rc;

    codex_options **members = calloc((size_t)n, sizeof *members);
    for (int i = 0; i < n; i++) {
        members[i] = codex_options_new();
        if ((rc = codex_options_set_url(members[i], argv[arg + i], &err)) != CODEX_OK)
            return fail(argv[arg + i], rc, err);
        if (token && strncmp(argv[arg + i], "stdio:", 6) != 0 &&
            (rc = codex_options_set_auth_token(members[i], token, &err)) != CODEX_OK)
            return fail("token", rc, err);
    }
    codex_pool *pool = NULL;
    rc = codex_pool_start((const codex_options *const *)members, (size_t)n, &pool, &err);
    for (int i = 0; i < n; i++) codex_options_free(members[i]);
    free(members);
    if (rc != CODEX_OK) return fail("codex_pool_start", rc, err);
    /* A member that failed to start is restarted in the background (app-servers sharing a fresh
     * CODEX_HOME that start at the same moment can fail once, initializing its state database).
     * For this fan-out, give them up to 30 s to join. */
    for (int waited_ms = 0; waited_ms < 30000; waited_ms += 50) {
        int up = 0;
        for (int i = 0; i < n; i++) up += codex_pool_member_healthy(pool, (size_t)i);
        if (up == n) break;
        struct timespec pause = {0, 50 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
    for (int i = 0; i < n; i++) {
        if (codex_pool_member_healthy(pool, (size_t)i)) continue;
        char *why = NULL;
        codex_pool_member_last_error(pool, (size_t)i, &why, NULL);
        fprintf(stderr, "member %d (%s) is down (%s); the pool retries it in the background\n", i,
                argv[arg + i], why ? why : "?");
        codex_string_free(why);
    }

    /* One thread per member: each new thread goes to the member with the fewest active turns,
     * and a turn started right away makes that member busy, so the threads spread. */
    codex_turn **turns = calloc((size_t)n, sizeof *turns);
    char **threads = calloc((size_t)n, sizeof *threads);
    for (int i = 0; i < n; i++) {
        if ((rc = codex_pool_thread_start(pool, "{\"ephemeral\":true}", &threads[i], NULL, &err)) != CODEX_OK)
            return fail("codex_pool_thread_start", rc, err);
        if ((rc = codex_pool_turn_start(pool, threads[i], prompt, NULL, &turns[i], &err)) != CODEX_OK)
            return fail("codex_pool_turn_start", rc, err);
    }
    int failed = 0;
    for (int i = 0; i < n; i++) {
        const codex_client *client = NULL;
        codex_pool_client_for_thread(pool, threads[i], &client, NULL);
        codex_turn_result *result = NULL;
        rc = codex_turn_run(turns[i], 10 * 60 * 1000, &result, &err);
        if (rc != CODEX_OK) {
            fail("turn", rc, err), err = NULL;
            failed = 1;
        } else {
            const char *answer = codex_turn_result_final_answer(result);
            printf("thread %d (%s, pid %u): %s — %s\n", i, threads[i],
                   client ? codex_client_server_pid(client) : 0u, codex_turn_result_status(result),
                   answer ? answer : "(no final answer)");
            codex_turn_result_free(result);
        }
        codex_turn_free(turns[i]);
        codex_string_free(threads[i]);
    }
    free(turns);
    free(threads);
    codex_pool_close(pool);
    codex_pool_free(pool);
    return failed;
}
