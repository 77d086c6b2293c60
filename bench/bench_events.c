/* Event routing through the C API: throughput, delivery latency and the cost of idle turns,
 * polling (one consumer pthread per turn, codex_turn_next_event), with callbacks
 * (codex_turn_start_with_callback: the library's worker pool calls them), or from an event
 * loop (one pthread for every turn: poll(2) on codex_client_event_fd, then
 * codex_client_next_ready_turn and codex_turn_next_event with timeout 0).
 *
 *   bench_events flood   poll|callback|loop SERVER TURNS DELTAS_PER_TURN
 *       SERVER is the scripted fake ("flood" scenario: every turn's deltas interleaved, as
 *       fast as the pipe takes them), or a ws:// or unix:// URL (bench/ws_flood_server.rs).
 *       The clock starts when every turn has started (the fake starts writing then) and stops
 *       when every turn has delivered its turn/completed. Every delta is checked: its turn, and
 *       its place in the turn's order. Prints events/s and peak RSS.
 *   bench_events latency poll|callback|loop PACED_SERVER TURNS RATE EVENTS
 *       PACED_SERVER is bench/paced_server.c: it writes EVENTS deltas round-robin over TURNS
 *       turns at RATE events/s, each carrying the CLOCK_MONOTONIC time (ns) of its write; the
 *       consumer subtracts it from the time it receives the delta. The first 10% of each
 *       turn's deltas are a warm-up and not counted. Then the server is quiet for a second
 *       with every turn open: the CPU this process uses then is printed (idle_cpu_pct).
 *   bench_events idle    poll|callback FAKE TURNS
 *       Starts TURNS turns that stay open and quiet (the fake's "silent" scenario) and prints
 *       the heap (malloc'd bytes) and RSS they add, per turn, and the threads of the process.
 */
#define _GNU_SOURCE
#include <malloc.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include "codex_app_server.h"
#include "latency_util.h"

static codex_client *client;
enum mode { POLL, CALLBACK, LOOP };
static const char *const mode_names[] = {"poll", "callback", "loop"};
static enum mode mode;
static int callbacks; /* mode == CALLBACK */

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what, codex_result rc, codex_error *err) {
    fprintf(stderr, "%s: %s: %s\n", what, codex_result_name(rc), err ? codex_error_message(err) : "");
    exit(1);
}

static codex_client *start_client(const char *server, const char *scenario, int turns, long deltas,
                                  const char *rate) {
    codex_error *err = NULL;
    codex_options *opts = codex_options_new();
    if (strstr(server, "://") != NULL) {
        codex_result set = codex_options_set_url(opts, server, &err);
        if (set != CODEX_OK) die("url", set, err);
    } else {
        char n[32], d[32];
        snprintf(n, sizeof n, "%d", turns);
        snprintf(d, sizeof d, "%ld", deltas);
        codex_options_set_codex_bin(opts, server, NULL);
        codex_options_set_env(opts, "FAKE_SCENARIO", scenario, NULL);
        codex_options_set_env(opts, "FAKE_TURNS", n, NULL);
        codex_options_set_env(opts, "FAKE_DELTAS", d, NULL);
        if (rate) codex_options_set_env(opts, "FAKE_RATE", rate, NULL);
    }
    /* The flood outruns the consumers on purpose (the backlog is part of what is measured), so
     * the turn buffer limit, meant for turns nobody consumes, is lifted. */
    codex_options_set_turn_buffer_events(opts, 0, NULL);
    codex_client *c = NULL;
    codex_result rc = codex_client_start(opts, &c, &err);
    if (rc != CODEX_OK) die("start", rc, err);
    codex_options_free(opts);
    return c;
}

/* Threads with small stacks: 10,000 consumers must fit. */
static void spawn(pthread_t *t, void *(*fn)(void *), void *arg) {
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 128 * 1024);
    if (pthread_create(t, &attr, fn, arg) != 0) {
        perror("pthread_create");
        exit(1);
    }
    pthread_attr_destroy(&attr);
}

/* A number of /proc/self/status: `format` is the line's scanf format ("Threads: %ld"). */
static long self_status(const char *format) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long n = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, format, &n) == 1) break;
    if (f) fclose(f);
    return n;
}

static long threads_now(void) { return self_status("Threads: %ld"); }

static long rss_kb(void) { return self_status("VmRSS: %ld"); }

/* With PERF_CTL=FIFO (perf record --control=fifo:FIFO -D -1), only the timed part is profiled. */
static void perf_control(const char *command) {
    const char *fifo = getenv("PERF_CTL");
    if (fifo == NULL) return;
    FILE *f = fopen(fifo, "w");
    if (f) {
        fprintf(f, "%s\n", command);
        fclose(f);
    }
}

static double cpu_s(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

/* ------------------------------------------------------------------------------------------ */
/* One turn's consumer state, shared by the three modes.                                       */

typedef struct {
    codex_turn *turn;
    char thread_id[64];
    char turn_id[64];
    size_t turn_id_len;
    /* The turn id of its first delta: a callback may run before turn_start has returned and
     * the id is known here, so each delta is compared with the first, and the first with the
     * turn's id once the turn is over. */
    char seen_turn[64];
    long events;
    long deltas;
    int bad; /* a delta of another turn, or out of order */
    /* latency mode */
    int64_t *lat;
    long lat_n, lat_cap, lat_skip;
    /* idle mode */
    atomic_int started;
} consumer;

static atomic_long turns_done;
static char pacer[256]; /* the paced server's own figures, from a turn/completed */
static pthread_mutex_t pacer_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_long deltas_seen;

/* The flood's delta text is "tok%06d " (the i-th delta of its turn). */
static void check_flood_delta(consumer *c, const codex_event *ev) {
    size_t len = 0;
    const char *d = codex_event_delta(ev, &len);
    const char *tid = codex_event_turn_id(ev);
    if (tid != NULL && c->seen_turn[0] == 0) snprintf(c->seen_turn, sizeof c->seen_turn, "%s", tid);
    if (d == NULL || tid == NULL || strcmp(tid, c->seen_turn) != 0 || len != 10 ||
        strtol(d + 3, NULL, 10) != c->deltas)
        c->bad = 1;
    c->deltas++;
}

/* The paced server's delta text is the CLOCK_MONOTONIC time of its write, in ns. */
static void record_latency(consumer *c, const codex_event *ev) {
    int64_t now = now_ns();
    const char *d = codex_event_delta(ev, NULL);
    int64_t sent = d ? strtoll(d, NULL, 10) : 0;
    if (c->deltas++ < c->lat_skip) return;
    if (c->lat_n < c->lat_cap) c->lat[c->lat_n++] = now - sent;
    atomic_fetch_add_explicit(&deltas_seen, 1, memory_order_relaxed);
}

typedef void (*on_delta_fn)(consumer *, const codex_event *);
static on_delta_fn on_delta;

static void observe(consumer *c, const codex_event *ev) {
    c->events++;
    switch (codex_event_kind(ev)) {
    case CODEX_EVENT_AGENT_MESSAGE_DELTA:
        on_delta(c, ev);
        break;
    case CODEX_EVENT_TURN_STARTED:
        atomic_store(&c->started, 1);
        break;
    case CODEX_EVENT_TURN_COMPLETED: {
        const char *p = strstr(codex_event_params(ev, NULL), "\"pacer\":");
        if (p) {
            pthread_mutex_lock(&pacer_lock);
            snprintf(pacer, sizeof pacer, "%.*s", (int)strcspn(p + 8, "}") + 1, p + 8);
            pthread_mutex_unlock(&pacer_lock);
        }
        atomic_fetch_add(&turns_done, 1);
        break;
    }
    default:
        break;
    }
}

static void on_event(void *userdata, const codex_event *ev) { observe(userdata, ev); }

static void start_turns(consumer *cs, int turns) {
    for (int i = 0; i < turns; i++) {
        consumer *c = &cs[i];
        codex_error *err = NULL;
        codex_result rc =
            callbacks ? codex_turn_start_with_callback(client, c->thread_id, "bench", NULL, on_event,
                                                       c, NULL, &c->turn, &err)
                      : codex_turn_start(client, c->thread_id, "bench", NULL, &c->turn, &err);
        if (rc != CODEX_OK) die("turn/start", rc, err);
        const char *id = codex_turn_id(c->turn);
        snprintf(c->turn_id, sizeof c->turn_id, "%s", id);
        c->turn_id_len = strlen(c->turn_id);
    }
}

static void start_threads(consumer *cs, int turns) {
    for (int i = 0; i < turns; i++) {
        codex_error *err = NULL;
        char *thread_id = NULL;
        codex_result rc = codex_client_thread_start(client, NULL, &thread_id, NULL, &err);
        if (rc != CODEX_OK) die("thread/start", rc, err);
        snprintf(cs[i].thread_id, sizeof cs[i].thread_id, "%s", thread_id);
        codex_string_free(thread_id);
    }
}

/* Polling: one pthread per turn, until turn/completed. */
static void *poll_turn(void *arg) {
    consumer *c = arg;
    for (;;) {
        codex_event *ev = NULL;
        codex_error *err = NULL;
        codex_result rc = codex_turn_next_event(c->turn, 120000, &ev, &err);
        if (rc == CODEX_STREAM_END) break;
        if (rc != CODEX_OK) die("next_event", rc, err);
        observe(c, ev);
        codex_event_free(ev);
    }
    return NULL;
}

/* The event loop: which consumer a ready turn handle is, by an open-addressing table. */
typedef struct {
    consumer *cs;
    int turns;
    consumer **slots;
    size_t mask;
} event_loop;

static size_t slot_of(const event_loop *l, const codex_turn *turn) {
    return ((uintptr_t)turn >> 4) * 0x9E3779B97F4A7C15ull & l->mask;
}

static consumer *consumer_of(const event_loop *l, const codex_turn *turn) {
    for (size_t i = slot_of(l, turn);; i = (i + 1) & l->mask)
        if (l->slots[i] == NULL || l->slots[i]->turn == turn) return l->slots[i];
}

/* One pthread for every turn: waits on the descriptor, drains each ready turn without
 * blocking, until every turn has ended. */
static void *run_event_loop(void *arg) {
    event_loop *l = arg;
    size_t size = 1;
    while (size < 2 * (size_t)l->turns) size <<= 1;
    l->slots = calloc(size, sizeof *l->slots);
    l->mask = size - 1;
    for (int i = 0; i < l->turns; i++) {
        size_t j = slot_of(l, l->cs[i].turn);
        while (l->slots[j]) j = (j + 1) & l->mask;
        l->slots[j] = &l->cs[i];
    }
    int fd = -1, ended = 0;
    codex_error *err = NULL;
    codex_result rc = codex_client_event_fd(client, &fd, &err);
    if (rc != CODEX_OK) die("event_fd", rc, err);
    while (ended < l->turns) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 120000) != 1) die("poll: nothing for 120 s", CODEX_ERR_TIMEOUT, NULL);
        codex_turn *turn = NULL;
        while (codex_client_next_ready_turn(client, &turn, NULL) == CODEX_OK) {
            codex_event *ev = NULL;
            if (turn == NULL) { /* the client stream: not measured, only emptied */
                while (codex_client_next_event(client, 0, &ev, NULL) == CODEX_OK) codex_event_free(ev);
                continue;
            }
            consumer *c = consumer_of(l, turn);
            for (;;) {
                /* No error object: a drained turn (TIMEOUT) is the common case, not an error. */
                rc = codex_turn_next_event(turn, 0, &ev, NULL);
                if (rc == CODEX_ERR_TIMEOUT) break;
                if (rc == CODEX_STREAM_END) {
                    ended++;
                    break;
                }
                if (rc != CODEX_OK) die("next_event", rc, NULL);
                observe(c, ev);
                codex_event_free(ev);
            }
        }
    }
    free(l->slots);
    return NULL;
}

static event_loop the_loop;

/* Starts the consumers of every started turn: a pthread each (poll), or the one event loop. */
static void start_consumers(consumer *cs, int from, int to, pthread_t *ts) {
    if (mode == POLL)
        for (int i = from; i < to; i++) spawn(&ts[i], poll_turn, &cs[i]);
    if (mode == LOOP && to == the_loop.turns) {
        the_loop.cs = cs;
        spawn(&ts[0], run_event_loop, &the_loop);
    }
}

/* Waits for the end of every turn: joins the pollers or the loop, or runs each callback turn
 * out. */
static void finish_turns(consumer *cs, int turns, pthread_t *ts) {
    if (mode == LOOP) {
        pthread_join(ts[0], NULL);
        return;
    }
    for (int i = 0; i < turns; i++) {
        if (callbacks) {
            codex_turn_result *result = NULL;
            codex_error *err = NULL;
            codex_result rc = codex_turn_run(cs[i].turn, 120000, &result, &err);
            if (rc != CODEX_OK) die("run", rc, err);
            codex_turn_result_free(result);
        } else {
            pthread_join(ts[i], NULL);
        }
    }
}

/* Sets the mode; in the event loop's, turns are reported on the descriptor only when it exists
 * before they start, so the loop asks for it first. */
static void set_mode(const char *name, int turns) {
    for (mode = POLL; mode <= LOOP; mode++)
        if (strcmp(name, mode_names[mode]) == 0) break;
    if (mode > LOOP) {
        fprintf(stderr, "mode must be poll, callback or loop, not %s\n", name);
        exit(2);
    }
    callbacks = mode == CALLBACK;
    the_loop.turns = turns;
}

static void ask_for_event_fd(void) {
    int fd = -1;
    codex_error *err = NULL;
    codex_result rc = mode == LOOP ? codex_client_event_fd(client, &fd, &err) : CODEX_OK;
    if (rc != CODEX_OK) die("event_fd", rc, err);
}

/* ------------------------------------------------------------------------------------------ */

static int flood(const char *server, int turns, long deltas) {
    on_delta = check_flood_delta;
    client = start_client(server, "flood", turns, deltas, NULL);
    consumer *cs = calloc((size_t)turns, sizeof *cs);
    pthread_t *ts = calloc((size_t)turns, sizeof *ts);
    start_threads(cs, turns);
    ask_for_event_fd();
    /* The fake starts writing once the last turn has started: the clock starts just before. */
    start_turns(cs, turns - 1);
    start_consumers(cs, 0, turns - 1, ts);
    perf_control("enable");
    struct rusage ru0;
    getrusage(RUSAGE_SELF, &ru0);
    double c0 = cpu_s();
    double t0 = now_s();
    start_turns(cs + turns - 1, 1);
    start_consumers(cs, turns - 1, turns, ts);
    finish_turns(cs, turns, ts);
    double secs = now_s() - t0;
    double cpu = cpu_s() - c0;
    perf_control("disable");

    long events = 0, got = 0;
    int bad = 0;
    for (int i = 0; i < turns; i++) {
        events += cs[i].events;
        got += cs[i].deltas;
        bad |= cs[i].bad || strcmp(cs[i].seen_turn, cs[i].turn_id) != 0;
        codex_turn_free(cs[i].turn);
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    if (got != (long)turns * deltas || bad) {
        fprintf(stderr, "lost or misrouted deltas: got %ld of %ld%s\n", got, (long)turns * deltas,
                bad ? ", some out of order or of another turn" : "");
        return 1;
    }
    /* CPU time and context switches of this process (every thread) while timed, per event:
     * steadier than the wall clock on a shared machine. */
    printf("mode=%s turns=%d events=%ld seconds=%.3f events/s=%.0f cpu_ns/event=%.0f "
           "csw/event=%.3f peak_rss_mb=%.1f\n",
           mode_names[mode], turns, events, secs, events / secs, cpu * 1e9 / events,
           (double)(ru.ru_nvcsw + ru.ru_nivcsw - ru0.ru_nvcsw - ru0.ru_nivcsw) / events,
           ru.ru_maxrss / 1024.0);
    codex_client_close(client);
    codex_client_free(client);
    free(cs);
    free(ts);
    return 0;
}

static int latency(const char *server, int turns, long rate, long events) {
    on_delta = record_latency;
    char r[32];
    snprintf(r, sizeof r, "%ld", rate);
    client = start_client(server, "paced", turns, events, r);
    consumer *cs = calloc((size_t)turns, sizeof *cs);
    pthread_t *ts = calloc((size_t)turns, sizeof *ts);
    long per_turn = events / turns;
    long counted = 0;
    for (int i = 0; i < turns; i++) {
        cs[i].lat_skip = per_turn / 10;
        cs[i].lat_cap = per_turn + 1;
        cs[i].lat = calloc((size_t)cs[i].lat_cap, sizeof(int64_t));
        counted += per_turn - cs[i].lat_skip;
    }
    start_threads(cs, turns);
    ask_for_event_fd();
    start_turns(cs, turns);
    start_consumers(cs, 0, turns, ts);
    /* Every counted delta seen: the server is quiet for a second now, every turn still open. */
    while (atomic_load(&deltas_seen) < counted) usleep(1000);
    usleep(100 * 1000);
    double c0 = cpu_s(), w0 = now_s();
    usleep(500 * 1000);
    double idle_cpu = (cpu_s() - c0) / (now_s() - w0);
    finish_turns(cs, turns, ts);

    int64_t *all = malloc(sizeof(int64_t) * (size_t)counted);
    long n = 0;
    for (int i = 0; i < turns; i++) {
        memcpy(all + n, cs[i].lat, sizeof(int64_t) * (size_t)cs[i].lat_n);
        n += cs[i].lat_n;
        codex_turn_free(cs[i].turn);
        free(cs[i].lat);
    }
    qsort(all, (size_t)n, sizeof *all, cmp_i64);
    printf("mode=%s turns=%d rate=%ld counted=%ld p50_us=%.1f p99_us=%.1f p999_us=%.1f max_us=%.1f "
           "idle_cpu_pct=%.2f pacer=%s\n",
           mode_names[mode], turns, rate, n, quantile_us(all, n, 0.5), quantile_us(all, n, 0.99),
           quantile_us(all, n, 0.999),
           all[n - 1] / 1000.0, idle_cpu * 100, pacer);
    codex_client_close(client);
    codex_client_free(client);
    free(all);
    free(cs);
    free(ts);
    return 0;
}

static int idle(const char *server, int turns) {
    on_delta = check_flood_delta;
    client = start_client(server, "silent", turns, 0, NULL);
    consumer *cs = calloc((size_t)turns, sizeof *cs);
    start_threads(cs, turns);
    long threads0 = threads_now();
    struct mallinfo2 m0 = mallinfo2();
    long rss0 = rss_kb();
    start_turns(cs, turns);
    /* Each turn has its turn/started (the fake sends nothing more): now idle. */
    for (int i = 0; i < turns; i++) {
        if (callbacks) {
            while (!atomic_load(&cs[i].started)) usleep(1000);
        } else {
            codex_event *ev = NULL;
            codex_error *err = NULL;
            codex_result rc = codex_turn_next_event(cs[i].turn, 60000, &ev, &err);
            if (rc != CODEX_OK) die("next_event", rc, err);
            codex_event_free(ev);
        }
    }
    usleep(200 * 1000);
    struct mallinfo2 m1 = mallinfo2();
    long rss1 = rss_kb(), threads1 = threads_now();
    /* The program's own per-turn state (this consumer array) is not the library's. */
    double heap = ((double)m1.uordblks - (double)m0.uordblks) / turns;
    double rss = (rss1 - rss0) * 1024.0 / turns;
    printf("mode=%s idle_turns=%d heap_bytes_per_turn=%.0f rss_bytes_per_turn=%.0f "
           "threads_before=%ld threads_after=%ld\n",
           mode_names[mode], turns, heap, rss, threads0, threads1);
    for (int i = 0; i < turns; i++) codex_turn_free(cs[i].turn);
    codex_client_close(client);
    codex_client_free(client);
    free(cs);
    return 0;
}

int main(int argc, char **argv) {
    /* FUTEX_SLOTS=N: size this process's private futex hash (Linux 6.16+, PR_FUTEX_HASH), which
     * the kernel keeps at 16 buckets on a 2-CPU machine however many threads wait: with 10,000
     * polling threads each futex wake then walks a long chain. Off unless asked. */
    const char *slots = getenv("FUTEX_SLOTS");
    if (slots && prctl(78 /* PR_FUTEX_HASH */, 1 /* SET_SLOTS */, atoi(slots), 0, 0) != 0)
        perror("PR_FUTEX_HASH");
    if (argc >= 6 && strcmp(argv[1], "flood") == 0) {
        set_mode(argv[2], atoi(argv[4]));
        return flood(argv[3], atoi(argv[4]), atol(argv[5]));
    }
    if (argc >= 7 && strcmp(argv[1], "latency") == 0) {
        set_mode(argv[2], atoi(argv[4]));
        return latency(argv[3], atoi(argv[4]), atol(argv[5]), atol(argv[6]));
    }
    if (argc >= 5 && strcmp(argv[1], "idle") == 0 && strcmp(argv[2], "loop") != 0) {
        set_mode(argv[2], atoi(argv[4]));
        return idle(argv[3], atoi(argv[4]));
    }
    fprintf(stderr,
            "usage: %s flood poll|callback|loop SERVER TURNS DELTAS_PER_TURN\n"
            "       %s latency poll|callback|loop PACED_SERVER TURNS RATE EVENTS\n"
            "       %s idle poll|callback FAKE TURNS\n",
            argv[0], argv[0], argv[0]);
    return 2;
}
