/* Start N turns from one thread and consume them (issue 23): the clock includes the starts.
 *
 *   start_turns blocking|async FAKE TURNS DELTAS_PER_TURN
 *
 * One thread does everything: it starts TURNS turns on TURNS threads of the scripted fake's
 * flood scenario — each with codex_turn_start (a round trip each, one after the other) or
 * codex_turn_start_async (all in flight at once) — then drives them all from one poll(2) loop
 * on the event descriptor until every turn has completed. The fake writes the flood (every
 * turn's deltas interleaved) once the last turn has started. The clock runs from before the
 * first start to the last turn/completed; the threads are started before it (asynchronously,
 * then waited for). Every delta is checked: its turn, and its place in the turn's order.
 * bench/flood_floor.rs `starts` is the floor of the same run: a Value parse of the same lines,
 * the starts written all at once. */
#define _GNU_SOURCE
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "codex_app_server.h"

typedef struct {
    codex_turn *turn;
    char seen_turn[64];
    long events, deltas;
    int bad;
    int ended; /* a turn may be reported again after its end (with nothing new): count it once */
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

/* Which consumer a ready turn handle is: an open-addressing table by address. */
static consumer **slots;
static long client_deltas; /* deltas that reached the client stream: misrouted */
static size_t mask;

static size_t slot_of(const codex_turn *turn) { return ((uintptr_t)turn >> 4) * 0x9E3779B97F4A7C15ull & mask; }

static void remember(consumer *c) {
    size_t j = slot_of(c->turn);
    while (slots[j]) j = (j + 1) & mask;
    slots[j] = c;
}

static consumer *consumer_of(const codex_turn *turn) {
    for (size_t i = slot_of(turn);; i = (i + 1) & mask)
        if (slots[i] == NULL || slots[i]->turn == turn) return slots[i];
}

/* The flood's delta text is "tok%06d " (the i-th delta of its turn). */
static void observe(consumer *c, const codex_event *ev) {
    c->events++;
    if (codex_event_kind(ev) != CODEX_EVENT_AGENT_MESSAGE_DELTA) return;
    size_t len = 0;
    const char *d = codex_event_delta(ev, &len);
    const char *tid = codex_event_turn_id(ev);
    if (tid != NULL && c->seen_turn[0] == 0) snprintf(c->seen_turn, sizeof c->seen_turn, "%s", tid);
    if (d == NULL || tid == NULL || strcmp(tid, c->seen_turn) != 0 || len != 10 ||
        strtol(d + 3, NULL, 10) != c->deltas)
        c->bad = 1;
    c->deltas++;
}

int main(int argc, char **argv) {
    if (argc != 5 || (strcmp(argv[1], "blocking") != 0 && strcmp(argv[1], "async") != 0)) {
        fprintf(stderr, "usage: %s blocking|async FAKE TURNS DELTAS_PER_TURN\n", argv[0]);
        return 2;
    }
    int async = strcmp(argv[1], "async") == 0;
    int turns = atoi(argv[3]);
    long deltas = atol(argv[4]);
    codex_error *err = NULL;
    codex_options *opts = codex_options_new();
    codex_options_set_codex_bin(opts, argv[2], NULL);
    codex_options_set_env(opts, "FAKE_SCENARIO", "flood", NULL);
    codex_options_set_env(opts, "FAKE_TURNS", argv[3], NULL);
    codex_options_set_env(opts, "FAKE_DELTAS", argv[4], NULL);
    codex_options_set_turn_buffer_events(opts, 0, NULL);
    if (turns > 10000) codex_options_set_max_pending_requests(opts, (size_t)turns, NULL);
    codex_client *client = NULL;
    codex_result rc = codex_client_start(opts, &client, &err);
    if (rc != CODEX_OK) die("start", rc, err);
    codex_options_free(opts);

    /* The threads, untimed: all in flight, then each waited for. */
    consumer *cs = calloc((size_t)turns, sizeof *cs);
    codex_pending **starts = calloc((size_t)turns, sizeof *starts);
    char **threads = calloc((size_t)turns, sizeof *threads);
    for (int i = 0; i < turns; i++)
        if ((rc = codex_client_thread_start_async(client, NULL, &starts[i], &err)) != CODEX_OK)
            die("thread/start", rc, err);
    for (int i = 0; i < turns; i++) {
        const codex_json *result = NULL;
        const char *id = NULL;
        if ((rc = codex_pending_wait(starts[i], 120000, &err)) != CODEX_OK) die("thread/start", rc, err);
        if ((rc = codex_pending_result_json(starts[i], &result, &err)) != CODEX_OK) die("thread/start", rc, err);
        if ((rc = codex_json_get_string(result, "/thread/id", &id, NULL, &err)) != CODEX_OK) die("thread id", rc, err);
        threads[i] = strdup(id);
        codex_pending_free(starts[i]);
    }
    int fd = -1;
    if ((rc = codex_client_event_fd(client, &fd, &err)) != CODEX_OK) die("event_fd", rc, err);
    size_t size = 1;
    while (size < 2 * (size_t)turns) size <<= 1;
    slots = calloc(size, sizeof *slots);
    mask = size - 1;

    double t0 = now_s();
    for (int i = 0; i < turns; i++) {
        rc = async ? codex_turn_start_async(client, threads[i], "bench", NULL, &cs[i].turn, &err)
                   : codex_turn_start(client, threads[i], "bench", NULL, &cs[i].turn, &err);
        if (rc != CODEX_OK) die("turn/start", rc, err);
        remember(&cs[i]);
    }
    double started = now_s() - t0;
    int ended = 0;
    while (ended < turns) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 120000) != 1) die("poll: nothing for 120 s", CODEX_ERR_TIMEOUT, NULL);
        codex_turn *turn = NULL;
        while (codex_client_next_ready_turn(client, &turn, NULL) == CODEX_OK) {
            codex_event *ev = NULL;
            if (turn == NULL) { /* the client stream: not measured, only emptied */
                while (codex_client_next_event(client, 0, &ev, NULL) == CODEX_OK) {
                    if (codex_event_kind(ev) == CODEX_EVENT_AGENT_MESSAGE_DELTA) {
                        fprintf(stderr, "a delta on the client stream: %s\n", codex_event_params(ev, NULL));
                        client_deltas++;
                    }
                    codex_event_free(ev);
                }
                continue;
            }
            consumer *c = consumer_of(turn);
            for (;;) {
                rc = codex_turn_next_event(turn, 0, &ev, &err);
                if (rc == CODEX_ERR_TIMEOUT) {
                    codex_error_free(err), err = NULL;
                    break;
                }
                if (rc == CODEX_STREAM_END) {
                    if (!c->ended) ended++;
                    c->ended = 1;
                    break;
                }
                if (rc != CODEX_OK) die("next_event", rc, err);
                observe(c, ev);
                codex_event_free(ev);
            }
        }
    }
    double secs = now_s() - t0;

    long events = 0, got = 0;
    int bad = 0;
    for (int i = 0; i < turns; i++) {
        events += cs[i].events;
        got += cs[i].deltas;
        bad |= cs[i].bad || strcmp(cs[i].seen_turn, codex_turn_id(cs[i].turn)) != 0;
        codex_turn_free(cs[i].turn);
        free(threads[i]);
    }
    if (got != (long)turns * deltas || bad) {
        fprintf(stderr, "lost or misrouted deltas: got %ld of %ld%s (client stream: %ld deltas, %llu skipped lines)\n",
                got, (long)turns * deltas, bad ? ", some out of order or of another turn" : "", client_deltas,
                (unsigned long long)codex_client_skipped_lines(client));
        for (int i = 0; i < turns; i++)
            if (cs[i].deltas != deltas || cs[i].bad)
                fprintf(stderr, "  turn %d (%s): %ld deltas%s\n", i, cs[i].seen_turn, cs[i].deltas, cs[i].bad ? ", bad" : "");
        return 1;
    }
    /* starts_s: the time the loop thread spent in the start calls. */
    printf("mode=%s turns=%d events=%ld seconds=%.3f events/s=%.0f starts_s=%.3f\n", argv[1], turns, events,
           secs, events / secs, started);
    codex_client_close(client);
    codex_client_free(client);
    free(cs);
    free(starts);
    free(threads);
    free(slots);
    return 0;
}
