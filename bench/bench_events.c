/* Event routing throughput through the C API (polling): N concurrent turns on N Codex
 * threads of one client, each consumed by its own pthread with codex_turn_next_event, while
 * the scripted fake app-server ("flood" scenario) writes agent-message deltas interleaved
 * across the turns as fast as the pipe takes them. Prints events/s and peak RSS.
 *
 *   bench_events FAKE_SERVER TURNS DELTAS_PER_TURN
 *   bench_events URL TURNS DELTAS_PER_TURN     (ws:// or unix://: bench/ws_flood_server.rs,
 *                                              started with the same TURNS and DELTAS)
 *
 * The clock starts when every turn has been started (the fake starts writing then) and stops
 * when every consumer has seen its turn/completed. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include "codex_app_server.h"

static codex_client *client;
static pthread_barrier_t started;

typedef struct {
    codex_turn *turn;
    long events;
    long deltas;
    int failed;
} consumer;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what, codex_result rc, codex_error *err) {
    fprintf(stderr, "%s: %s: %s\n", what, codex_result_name(rc), err ? codex_error_message(err) : "");
    exit(1);
}

static void *consume(void *arg) {
    consumer *c = arg;
    codex_error *err = NULL;
    char *thread_id = NULL;
    codex_result rc = codex_client_thread_start(client, NULL, &thread_id, NULL, &err);
    if (rc != CODEX_OK) die("thread/start", rc, err);
    rc = codex_turn_start(client, thread_id, "flood", NULL, &c->turn, &err);
    if (rc != CODEX_OK) die("turn/start", rc, err);
    codex_string_free(thread_id);
    pthread_barrier_wait(&started);
    for (;;) {
        codex_event *ev = NULL;
        rc = codex_turn_next_event(c->turn, 60000, &ev, &err);
        if (rc == CODEX_STREAM_END) break;
        if (rc != CODEX_OK) die("next_event", rc, err);
        c->events++;
        if (codex_event_kind(ev) == CODEX_EVENT_AGENT_MESSAGE_DELTA) c->deltas++;
        codex_event_free(ev);
    }
    codex_turn_free(c->turn);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s FAKE_SERVER|URL TURNS DELTAS_PER_TURN\n", argv[0]);
        return 2;
    }
    int turns = atoi(argv[2]);
    long deltas = atol(argv[3]);
    codex_error *err = NULL;
    codex_options *opts = codex_options_new();
    if (strstr(argv[1], "://") != NULL) {
        codex_result set = codex_options_set_url(opts, argv[1], &err);
        if (set != CODEX_OK) die("url", set, err);
    } else {
        codex_options_set_codex_bin(opts, argv[1], NULL);
        codex_options_set_env(opts, "FAKE_SCENARIO", "flood", NULL);
        codex_options_set_env(opts, "FAKE_TURNS", argv[2], NULL);
        codex_options_set_env(opts, "FAKE_DELTAS", argv[3], NULL);
    }
    /* The flood outruns the consumers on purpose (the backlog is part of what is measured), so
     * the turn buffer limit, meant for turns nobody consumes, is lifted. */
    codex_options_set_turn_buffer_events(opts, 0, NULL);
    codex_result rc = codex_client_start(opts, &client, &err);
    if (rc != CODEX_OK) die("start", rc, err);
    codex_options_free(opts);

    consumer *cs = calloc((size_t)turns, sizeof *cs);
    pthread_t *ts = calloc((size_t)turns, sizeof *ts);
    pthread_barrier_init(&started, NULL, (unsigned)turns + 1);
    for (int i = 0; i < turns; i++) pthread_create(&ts[i], NULL, consume, &cs[i]);
    pthread_barrier_wait(&started);
    double t0 = now_s();
    for (int i = 0; i < turns; i++) pthread_join(ts[i], NULL);
    double secs = now_s() - t0;

    long events = 0, got_deltas = 0;
    for (int i = 0; i < turns; i++) {
        events += cs[i].events;
        got_deltas += cs[i].deltas;
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    if (got_deltas != (long)turns * deltas) {
        fprintf(stderr, "lost deltas: got %ld of %ld\n", got_deltas, (long)turns * deltas);
        return 1;
    }
    printf("turns=%-4d events=%-9ld seconds=%.3f events/s=%.0f peak_rss_mb=%.1f\n", turns, events,
           secs, events / secs, ru.ru_maxrss / 1024.0);
    codex_client_close(client);
    codex_client_free(client);
    free(cs);
    free(ts);
    return 0;
}
