/* Events pushed to callbacks instead of polled: two turns stream at once, each to its own
 * callback on a library thread, while a client-level callback reports thread status changes.
 * The main thread only waits with codex_turn_run, then prints the summaries.
 *
 *   callbacks "PROMPT ONE" "PROMPT TWO"   */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include "codex_app_server.h"

static pthread_mutex_t out = PTHREAD_MUTEX_INITIALIZER;

/* Runs on the turn's own library thread; `label` is this turn's userdata. */
static void on_turn_event(void *label, const codex_event *ev) {
    if (codex_event_kind(ev) != CODEX_EVENT_AGENT_MESSAGE_DELTA) return;
    pthread_mutex_lock(&out);
    printf("[%s] %s\n", (const char *)label, codex_event_delta(ev, NULL));
    pthread_mutex_unlock(&out);
}

static void on_client_event(void *unused, const codex_event *ev) {
    (void)unused;
    if (strcmp(codex_event_method(ev), "thread/status/changed") == 0) {
        pthread_mutex_lock(&out);
        printf("[client] thread %s: %s\n", codex_event_thread_id(ev), codex_event_params(ev, NULL));
        pthread_mutex_unlock(&out);
    }
}

static int fail(const char *what, codex_result rc, codex_error *err) {
    fprintf(stderr, "%s failed: %s: %s\n", what, codex_result_name(rc), err ? codex_error_message(err) : "");
    codex_error_free(err);
    return 1;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s PROMPT1 PROMPT2\n", argv[0]);
        return 2;
    }
    codex_error *err = NULL;
    codex_client *client = NULL;
    codex_result rc = codex_client_start(NULL, &client, &err);
    if (rc != CODEX_OK) return fail("start", rc, err);
    rc = codex_client_set_event_callback(client, on_client_event, NULL, NULL, &err);
    if (rc != CODEX_OK) return fail("client callback", rc, err);

    static const char *labels[2] = {"one", "two"};
    codex_turn *turns[2];
    char *threads[2];
    for (int i = 0; i < 2; i++) {
        rc = codex_client_thread_start(client, "{\"ephemeral\":true}", &threads[i], NULL, &err);
        if (rc != CODEX_OK) return fail("thread/start", rc, err);
        /* The label is static, so there is nothing to free: userdata_free is NULL. */
        rc = codex_turn_start_with_callback(client, threads[i], argv[1 + i], NULL, on_turn_event,
                                            (void *)labels[i], NULL, &turns[i], &err);
        if (rc != CODEX_OK) return fail("turn/start", rc, err);
    }
    for (int i = 0; i < 2; i++) {
        codex_turn_result *result = NULL;
        rc = codex_turn_run(turns[i], -1, &result, &err); /* waits for the callback's last call */
        if (rc != CODEX_OK) return fail("run", rc, err);
        const char *answer = codex_turn_result_final_answer(result);
        printf("%s: %s — %s\n", labels[i], codex_turn_result_status(result), answer ? answer : "(no answer)");
        codex_turn_result_free(result);
        codex_turn_free(turns[i]);
        codex_string_free(threads[i]);
    }
    codex_client_close(client);
    codex_client_free(client);
    return 0;
}
