/* The app-server's memory as threads accumulate: N short threads (one short turn each against
 * the mock model) on one client, with or without letting each go
 * (codex_client_thread_unsubscribe) after its turn. Prints the app-server's resident set
 * (VmRSS of the child, /proc/PID/status) and how many threads it holds loaded, at the start and
 * every REPORT threads.
 *
 *   thread_memory N REPORT keep|release       (under scripts/run-offline.sh; make bench-threads)
 *
 * The server unloads an unsubscribed thread once it has been idle for thread_unload_delay_secs
 * (60 s by default); this program sets it to 0 so that the figures do not depend on how fast
 * the machine is, and sets it the same way for both runs. */
#define _POSIX_C_SOURCE 200809L
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

int main(int argc, char **argv) {
    if (argc != 4 || (strcmp(argv[3], "keep") && strcmp(argv[3], "release"))) {
        fprintf(stderr, "usage: %s N REPORT keep|release\n", argv[0]);
        return 2;
    }
    long n = atol(argv[1]), every = atol(argv[2]);
    int release = strcmp(argv[3], "release") == 0;
    codex_error *err = NULL;
    codex_options *o = codex_options_new();
    codex_result rc = codex_options_add_config(o, "thread_unload_delay_secs=0", &err);
    if (rc != CODEX_OK) die("add_config", rc, err);
    codex_client *client = NULL;
    rc = codex_client_start(o, &client, &err);
    codex_options_free(o);
    if (rc != CODEX_OK) die("start", rc, err);
    printf("%s: %ld threads, one short turn each, %s\n", argv[0], n,
           release ? "each let go after its turn (thread/unsubscribe)" : "none let go");
    double start = now_s();
    report(client, 0, start);
    for (long i = 1; i <= n; i++) {
        char *thread = NULL;
        rc = codex_client_thread_start(client, NULL, &thread, NULL, &err);
        if (rc != CODEX_OK) die("thread_start", rc, err);
        codex_turn *turn = NULL;
        rc = codex_turn_start(client, thread, "hi", NULL, &turn, &err);
        if (rc != CODEX_OK) die("turn_start", rc, err);
        codex_turn_result *result = NULL;
        rc = codex_turn_run(turn, 60000, &result, &err);
        if (rc != CODEX_OK) die("turn_run", rc, err);
        if (strcmp(codex_turn_result_status(result), "completed") != 0) {
            fprintf(stderr, "turn %ld: %s\n", i, codex_turn_result_status(result));
            return 1;
        }
        codex_turn_result_free(result);
        codex_turn_free(turn);
        if (release) {
            rc = codex_client_thread_unsubscribe(client, thread, NULL, &err);
            if (rc != CODEX_OK) die("thread_unsubscribe", rc, err);
        }
        codex_string_free(thread);
        /* Notifications of the client stream (thread status, token usage...) are not read here;
         * the stream is bounded and drops the oldest. */
        if (i % every == 0) report(client, i, start);
    }
    codex_client_close(client);
    codex_client_free(client);
    return 0;
}
