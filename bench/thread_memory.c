/* The app-server's memory as threads accumulate: N short threads (one short turn each against
 * the mock model) on one client, with or without letting each go
 * (codex_client_thread_unsubscribe) after its turn. Prints the app-server's resident set
 * (VmRSS of the child, /proc/PID/status) and how many threads it holds loaded, at the start and
 * every REPORT threads. WORKERS pthreads (default 4) run threads at once, each one thread after
 * another, so a report may count up to WORKERS - 1 threads still running.
 *
 *   thread_memory N REPORT keep|release [WORKERS]   (under scripts/run-offline.sh; make bench-threads)
 *
 * The server unloads an unsubscribed thread once it has been idle for thread_unload_delay_secs
 * (60 s by default); this program sets it to 0 so that the figures do not depend on how fast
 * the machine is, and sets it the same way for both runs. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "codex_app_server.h"

static void die(const char *what, codex_result rc, codex_error *err) {
    fprintf(stderr, "%s: %s: %s\n", what, codex_result_name(rc), err ? codex_error_message(err) : "");
    exit(1);
}

/* Resident set size in KiB of process `pid`; -1 when it cannot be read. */
static long rss_kib(unsigned pid) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%u/status", pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char line[256];
    long kib = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1) break;
    fclose(f);
    return kib;
}

/* How many threads the server holds loaded: the ids in thread/loaded/list, page by page. */
static long loaded_threads(codex_client *client) {
    long n = 0;
    char params[512] = "{\"limit\":1000}";
    for (;;) {
        char *result = NULL;
        codex_error *err = NULL;
        codex_result rc = codex_client_request(client, "thread/loaded/list", params, 0, &result, &err);
        if (rc != CODEX_OK) die("thread/loaded/list", rc, err);
        /* {"data":["id",...],"nextCursor":"..."|null}: ids are the quoted strings in data. */
        const char *data = strchr(result, '['), *end = data ? strchr(data, ']') : NULL;
        for (const char *p = data; p && p < end; p++) n += *p == '"';
        const char *cursor = strstr(result, "\"nextCursor\":\"");
        if (!cursor) {
            codex_string_free(result);
            return n / 2;
        }
        cursor += strlen("\"nextCursor\":\"");
        int len = (int)strcspn(cursor, "\"");
        snprintf(params, sizeof params, "{\"limit\":1000,\"cursor\":\"%.*s\"}", len, cursor);
        codex_string_free(result);
    }
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void report(codex_client *client, long threads, double start) {
    unsigned pid = codex_client_server_pid(client);
    printf("threads=%-6ld server_rss_kib=%-8ld loaded=%-6ld seconds=%.1f\n", threads, rss_kib(pid),
           loaded_threads(client), now_s() - start);
    fflush(stdout);
}

static codex_client *client;
static long total, every;
static int release;
static double start;
static atomic_long next_thread, threads_done;
static pthread_mutex_t report_lock = PTHREAD_MUTEX_INITIALIZER;

/* One short thread: start it, run one turn to its end, and let it go when asked. */
static void one_thread(long i) {
    codex_error *err = NULL;
    char *thread = NULL;
    codex_result rc = codex_client_thread_start(client, NULL, &thread, NULL, &err);
    if (rc != CODEX_OK) die("thread_start", rc, err);
    codex_turn *turn = NULL;
    rc = codex_turn_start(client, thread, "hi", NULL, &turn, &err);
    if (rc != CODEX_OK) die("turn_start", rc, err);
    codex_turn_result *result = NULL;
    rc = codex_turn_run(turn, 60000, &result, &err);
    if (rc != CODEX_OK) die("turn_run", rc, err);
    if (strcmp(codex_turn_result_status(result), "completed") != 0) {
        fprintf(stderr, "thread %ld: turn %s\n", i, codex_turn_result_status(result));
        exit(1);
    }
    codex_turn_result_free(result);
    codex_turn_free(turn);
    if (release) {
        rc = codex_client_thread_unsubscribe(client, thread, NULL, &err);
        if (rc != CODEX_OK) die("thread_unsubscribe", rc, err);
    }
    codex_string_free(thread);
}

static void *worker(void *unused) {
    (void)unused;
    for (long i; (i = atomic_fetch_add(&next_thread, 1) + 1) <= total;) {
        one_thread(i);
        long done = atomic_fetch_add(&threads_done, 1) + 1;
        if (done % every == 0) {
            pthread_mutex_lock(&report_lock);
            report(client, done, start);
            pthread_mutex_unlock(&report_lock);
        }
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 4 || argc > 5 || (strcmp(argv[3], "keep") && strcmp(argv[3], "release"))) {
        fprintf(stderr, "usage: %s N REPORT keep|release [WORKERS]\n", argv[0]);
        return 2;
    }
    total = atol(argv[1]);
    every = atol(argv[2]);
    release = strcmp(argv[3], "release") == 0;
    int workers = argc == 5 ? atoi(argv[4]) : 4;
    if (total < 1 || every < 1 || workers < 1 || workers > 64) {
        fprintf(stderr, "N and REPORT must be positive, WORKERS 1 to 64\n");
        return 2;
    }
    codex_error *err = NULL;
    codex_options *o = codex_options_new();
    codex_result rc = codex_options_add_config(o, "thread_unload_delay_secs=0", &err);
    if (rc != CODEX_OK) die("add_config", rc, err);
    rc = codex_client_start(o, &client, &err);
    codex_options_free(o);
    if (rc != CODEX_OK) die("start", rc, err);
    printf("%s: %ld threads, one short turn each, %d at once, %s\n", argv[0], total, workers,
           release ? "each let go after its turn (thread/unsubscribe)" : "none let go");
    start = now_s();
    report(client, 0, start);
    /* Notifications of the client stream (thread status, token usage...) are not read here: the
     * stream is bounded and drops its oldest. */
    pthread_t threads[64];
    for (int w = 0; w < workers; w++) pthread_create(&threads[w], NULL, worker, NULL);
    for (int w = 0; w < workers; w++) pthread_join(threads[w], NULL);
    codex_client_close(client);
    codex_client_free(client);
    return 0;
}
