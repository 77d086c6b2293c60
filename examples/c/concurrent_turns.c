/* Three Codex threads, each running a turn at the same time on one client, each consumed by
 * its own pthread. Prints the streamed text as it arrives, labelled by thread, then each
 * turn's final answer, token usage, time to first event and time to completion.
 *
 * Build: cc -Iinclude examples/c/concurrent_turns.c -Ltarget/release -lcodex_app_server
 * Run:   the codex binary comes from $CODEX_BIN or PATH; the child inherits the environment
 *        (CODEX_HOME and so on). `make demo` sets everything up offline with a mock model. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "codex_app_server.h"

#define THREADS 3

static const char *const prompts[THREADS] = {
    "Write a haiku about concurrent programming.",
    "In one sentence: why do pipes have buffers?",
    "Name three uses of a C API for an AI agent.",
};

static codex_client *client;
static pthread_mutex_t print_lock = PTHREAD_MUTEX_INITIALIZER;
static double t_start;

typedef struct {
    int index;
    char label;
    double first_event_s, done_s;
    codex_turn_result *result;
} job;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int fail(const char *what, codex_result rc, codex_error *err) {
    fprintf(stderr, "%s failed: %s: %s\n", what, codex_result_name(rc),
            err ? codex_error_message(err) : "");
    codex_error_free(err);
    return 1;
}

static void *run(void *arg) {
    job *j = arg;
    codex_error *err = NULL;
    char *thread_id = NULL;
    codex_result rc = codex_client_thread_start(client, "{\"sandbox\":\"read-only\",\"ephemeral\":true}",
                                                &thread_id, NULL, &err);
    if (rc != CODEX_OK) exit(fail("thread/start", rc, err));
    codex_turn *turn = NULL;
    rc = codex_turn_start(client, thread_id, prompts[j->index], NULL, &turn, &err);
    if (rc != CODEX_OK) exit(fail("turn/start", rc, err));

    for (;;) {
        codex_event *ev = NULL;
        rc = codex_turn_next_event(turn, 120000, &ev, &err);
        if (rc == CODEX_STREAM_END) break;
        if (rc != CODEX_OK) exit(fail("next event", rc, err));
        if (j->first_event_s == 0) j->first_event_s = now_s() - t_start;
        if (codex_event_kind(ev) == CODEX_EVENT_AGENT_MESSAGE_DELTA) {
            pthread_mutex_lock(&print_lock);
            printf("[thread %c %6.3fs] ", j->label, now_s() - t_start);
            for (const char *c = codex_event_delta(ev, NULL); *c; c++) /* one line per delta */
                fputs(*c == '\n' ? "\\n" : (char[2]){*c, 0}, stdout);
            putchar('\n');
            fflush(stdout);
            pthread_mutex_unlock(&print_lock);
        }
        codex_event_free(ev);
    }
    /* The summary covers the events already consumed above. */
    rc = codex_turn_run(turn, 0, &j->result, &err);
    if (rc != CODEX_OK) exit(fail("turn summary", rc, err));
    j->done_s = now_s() - t_start;
    codex_turn_free(turn);
    codex_string_free(thread_id);
    return NULL;
}

int main(void) {
    codex_error *err = NULL;
    codex_options *opts = codex_options_new();
    codex_options_set_client_info(opts, "concurrent_turns_demo", "Concurrent turns demo", "0.1.0", NULL);
    t_start = now_s();
    codex_result rc = codex_client_start(opts, &client, &err);
    codex_options_free(opts);
    if (rc != CODEX_OK) return fail("codex_client_start", rc, err);
    double t_init = now_s() - t_start;
    printf("libcodex_app_server %s: app-server (pid %u) initialized in %.3fs\n", codex_version(),
           codex_client_server_pid(client), t_init);

    job jobs[THREADS];
    pthread_t threads[THREADS];
    t_start = now_s();
    for (int i = 0; i < THREADS; i++) {
        jobs[i] = (job){.index = i, .label = (char)('A' + i)};
        pthread_create(&threads[i], NULL, run, &jobs[i]);
    }
    for (int i = 0; i < THREADS; i++) pthread_join(threads[i], NULL);

    printf("\n");
    for (int i = 0; i < THREADS; i++) {
        job *j = &jobs[i];
        const char *answer = codex_turn_result_final_answer(j->result);
        const char *usage = codex_turn_result_usage_json(j->result);
        printf("thread %c: %s\n  prompt: %s\n  final answer: %s\n  usage: %s\n"
               "  first event after %.3fs, completed after %.3fs\n",
               j->label, codex_turn_result_status(j->result), prompts[i],
               answer ? answer : "(none)", usage ? usage : "(none)", j->first_event_s, j->done_s);
        const char *error = codex_turn_result_error_message(j->result);
        if (error) printf("  error: %s\n", error);
        codex_turn_result_free(j->result);
    }
    codex_client_close(client);
    codex_client_free(client);
    return 0;
}
