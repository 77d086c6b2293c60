/* Soak: many short turns on one client, one after another, half polled and half with a
 * callback, against the scripted fake app-server. Prints RSS, open file descriptors and
 * threads of this process at the start and every REPORT turns; a library that leaks per turn
 * shows a rising column.
 *
 *   soak FAKE_SERVER TURNS REPORT          (make bench-soak: 10000 turns, a line every 5000) */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "codex_app_server.h"

static long count_entries(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return -1;
    long n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n;
}

/* Resident set size in KiB, from /proc/self/status. */
static long rss_kib(void) {
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return -1;
    char line[256];
    long kib = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1) break;
    fclose(f);
    return kib;
}

static void report(long turns, double seconds) {
    /* The fd count includes the one opendir holds while counting. */
    printf("turns=%-6ld rss_kib=%-7ld fds=%-4ld threads=%-3ld seconds=%.1f\n", turns, rss_kib(),
           count_entries("/proc/self/fd") - 1, count_entries("/proc/self/task"), seconds);
    fflush(stdout);
}

static void die(const char *what, codex_result rc, codex_error *err) {
    fprintf(stderr, "%s: %s: %s\n", what, codex_result_name(rc), err ? codex_error_message(err) : "");
    exit(1);
}

static atomic_long callback_events;
static void on_event(void *userdata, const codex_event *ev) {
    (void)userdata;
    (void)ev;
    atomic_fetch_add(&callback_events, 1);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s FAKE_SERVER TURNS REPORT\n", argv[0]);
        return 2;
    }
    long turns = atol(argv[2]), every = atol(argv[3]);
    codex_error *err = NULL;
    codex_options *opts = codex_options_new();
    codex_options_set_codex_bin(opts, argv[1], NULL);
    codex_options_set_env(opts, "FAKE_SCENARIO", "early", NULL);
    codex_options_set_env(opts, "FAKE_DELTAS", "5", NULL);
    codex_client *client = NULL;
    codex_result rc = codex_client_start(opts, &client, &err);
    if (rc != CODEX_OK) die("start", rc, err);
    codex_options_free(opts);
    char *thread_id = NULL;
    rc = codex_client_thread_start(client, NULL, &thread_id, NULL, &err);
    if (rc != CODEX_OK) die("thread/start", rc, err);
    double t0 = now_s();
    report(0, 0);
    for (long i = 1; i <= turns; i++) {
        codex_turn *turn = NULL;
        if (i % 2)
            rc = codex_turn_start(client, thread_id, "soak", NULL, &turn, &err);
        else
            rc = codex_turn_start_with_callback(client, thread_id, "soak", NULL, on_event, NULL,
                                                NULL, &turn, &err);
        if (rc != CODEX_OK) die("turn/start", rc, err);
        codex_turn_result *result = NULL;
        rc = codex_turn_run(turn, 30000, &result, &err);
        if (rc != CODEX_OK) die("run", rc, err);
        if (strcmp(codex_turn_result_status(result), "completed") != 0) die("status", rc, NULL);
        codex_turn_result_free(result);
        codex_turn_free(turn);
        if (i % every == 0) report(i, now_s() - t0);
    }
    /* Client-stream events (thread status) are not consumed; the stream is bounded. */
    printf("callback events: %ld, client stream drops: %llu, active turns: %zu\n",
           atomic_load(&callback_events), (unsigned long long)codex_client_dropped_events(client),
           codex_client_active_turns(client));
    codex_string_free(thread_id);
    codex_client_close(client);
    codex_client_free(client);
    return 0;
}
