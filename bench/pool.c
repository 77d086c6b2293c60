/* The pool: what a member costs and how fast the pool closes, and the aggregate flood rate of
 * a pool beside one server.
 *
 *   pool FAKE_SERVER cost N          start a pool of N fake members: threads, fds, start (until
 *                                    every member is up) and close times of this process
 *   pool FAKE_SERVER flood M DELTAS  one thread and turn on each of M members, all flooding
 *                                    at once; prints events/s (run with M=1 and M=4 to compare)
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <pthread.h>
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
static long fds(void) { return count_entries("/proc/self/fd") - 1; /* opendir's own */ }
static long threads(void) { return count_entries("/proc/self/task"); }

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what, codex_result rc, codex_error *err) {
    fprintf(stderr, "%s: %s: %s\n", what, codex_result_name(rc), err ? codex_error_message(err) : "");
    exit(1);
}

static codex_pool *start_pool(const char *fake, int n, const char *scenario, const char *turns,
                              const char *deltas) {
    codex_options **members = calloc(n, sizeof *members);
    for (int i = 0; i < n; i++) {
        members[i] = codex_options_new();
        codex_options_set_codex_bin(members[i], fake, NULL);
        codex_options_set_env(members[i], "FAKE_SCENARIO", scenario, NULL);
        char prefix[32]; /* thread ids must differ across members, as the real server's do */
        snprintf(prefix, sizeof prefix, "m%d_thr_", i);
        codex_options_set_env(members[i], "FAKE_THREAD_PREFIX", prefix, NULL);
        if (turns) codex_options_set_env(members[i], "FAKE_TURNS", turns, NULL);
        if (deltas) codex_options_set_env(members[i], "FAKE_DELTAS", deltas, NULL);
        codex_options_set_turn_buffer_events(members[i], 0, NULL); /* the flood outruns on purpose */
    }
    codex_pool *pool = NULL;
    codex_error *err = NULL;
    codex_result rc = codex_pool_start((const codex_options *const *)members, n, &pool, &err);
    if (rc != CODEX_OK) die("pool start", rc, err);
    for (int i = 0; i < n; i++) codex_options_free(members[i]);
    free(members);
    /* codex_pool_start returns once one member is up; the figures are for all of them. */
    for (int up = 0; up < n;) {
        up = 0;
        for (int i = 0; i < n; i++) up += codex_pool_member_healthy(pool, (size_t)i);
        struct timespec pause = {0, 1000 * 1000};
        if (up < n) nanosleep(&pause, NULL);
    }
    return pool;
}

static void cost(const char *fake, int n) {
    long t0 = threads(), f0 = fds();
    double s0 = now_s();
    codex_pool *pool = start_pool(fake, n, "normal", NULL, NULL);
    double started = now_s() - s0;
    long t1 = threads(), f1 = fds();
    double c0 = now_s();
    codex_pool_close(pool);
    double closed = now_s() - c0;
    codex_pool_free(pool);
    printf("members=%-4d threads=%ld (%.1f per member) fds=%ld (%.1f per member) start_ms=%.0f close_ms=%.0f\n",
           n, t1 - t0, (double)(t1 - t0) / n, f1 - f0, (double)(f1 - f0) / n, started * 1e3, closed * 1e3);
}

typedef struct {
    codex_pool *pool;
    char *thread;
    codex_turn *turn;
    long events;
} flood_turn;

static void *consume(void *arg) {
    flood_turn *f = arg;
    codex_error *err = NULL;
    for (;;) {
        codex_event *ev = NULL;
        codex_result rc = codex_turn_next_event(f->turn, 60000, &ev, &err);
        if (rc == CODEX_STREAM_END) break;
        if (rc != CODEX_OK) die("next_event", rc, err);
        f->events++;
        codex_event_free(ev);
    }
    return NULL;
}

static void flood(const char *fake, int m, const char *deltas) {
    codex_pool *pool = start_pool(fake, m, "flood", "1", deltas);
    flood_turn *turns = calloc(m, sizeof *turns);
    codex_error *err = NULL;
    for (int i = 0; i < m; i++) {
        codex_result rc = codex_pool_thread_start(pool, NULL, &turns[i].thread, NULL, &err);
        if (rc != CODEX_OK) die("thread", rc, err);
    }
    /* Each member's fake floods once its one turn starts. */
    double t0 = now_s();
    pthread_t *tids = calloc(m, sizeof *tids);
    for (int i = 0; i < m; i++) {
        codex_result rc = codex_pool_turn_start(pool, turns[i].thread, "flood", NULL, &turns[i].turn, &err);
        if (rc != CODEX_OK) die("turn", rc, err);
        pthread_create(&tids[i], NULL, consume, &turns[i]);
    }
    long total = 0;
    for (int i = 0; i < m; i++) {
        pthread_join(tids[i], NULL);
        total += turns[i].events;
        codex_turn_free(turns[i].turn);
        codex_string_free(turns[i].thread);
    }
    double secs = now_s() - t0;
    printf("members=%-2d events=%ld seconds=%.3f events/s=%.0f\n", m, total, secs, total / secs);
    codex_pool_close(pool);
    codex_pool_free(pool);
    free(turns);
    free(tids);
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s FAKE cost N | %s FAKE flood M DELTAS\n", argv[0], argv[0]);
        return 2;
    }
    if (strcmp(argv[2], "cost") == 0) cost(argv[1], atoi(argv[3]));
    else if (strcmp(argv[2], "flood") == 0 && argc == 5) flood(argv[1], atoi(argv[3]), argv[4]);
    else return 2;
    return 0;
}
