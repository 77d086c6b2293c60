/* The floors under bench_events latency: the same paced server (bench/paced_server.c), its
 * deltas read with plain read(2) and no library, each delta's latency taken as the library's
 * consumers take it (the CLOCK_MONOTONIC time of its write subtracted).
 *
 *   latency_floor read|handoff|fd|threads PACED_SERVER TURNS RATE EVENTS
 *
 * read: one thread reads and takes the time: what the pipe and this machine's scheduling cost.
 * handoff: one thread reads and hands each batch's stamps to a second thread (a mutex and a
 * condition variable), which takes the time: the least any client costs that delivers on
 * another thread than it reads on, as the library's callbacks do.
 * fd: the same, the second thread woken through an eventfd it poll(2)s, as an event loop is.
 * threads: the same with a thread per turn, each stamp handed to its turn's thread, as
 * polling with a pthread per turn does.
 * Prints p50/p99/p99.9/max in the form of bench_events latency (the first 10% of each
 * consumer's deltas not counted). */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "latency_util.h"

#define RING 4096

/* A consumer thread (handoff: one; threads: one per turn) and the stamps waiting for it. */
typedef struct {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t stamped;
    int64_t ring[RING];
    long head, tail;
    int done, signal_owed;
    int wake_fd; /* fd mode: the eventfd the consumer polls; else -1 */
    int64_t *lat;
    long counted, seen, skip;
} consumer;

static void take(consumer *c, int64_t sent) {
    int64_t now = now_ns();
    if (c->seen++ >= c->skip) c->lat[c->counted++] = now - sent;
}

/* fd mode: sleeps in poll(2) until the eventfd is readable, then empties it. */
static void wait_fd(consumer *c) {
    pthread_mutex_unlock(&c->lock);
    struct pollfd p = {.fd = c->wake_fd, .events = POLLIN};
    uint64_t n;
    if (poll(&p, 1, -1) == 1 && read(c->wake_fd, &n, sizeof n) < 0) perror("eventfd");
    pthread_mutex_lock(&c->lock);
}

static void *consume(void *arg) {
    consumer *c = arg;
    pthread_mutex_lock(&c->lock);
    for (;;) {
        while (c->head == c->tail && !c->done) {
            if (c->wake_fd >= 0)
                wait_fd(c);
            else
                pthread_cond_wait(&c->stamped, &c->lock);
        }
        if (c->head == c->tail) break;
        int64_t sent = c->ring[c->head++ % RING];
        pthread_mutex_unlock(&c->lock);
        take(c, sent);
        pthread_mutex_lock(&c->lock);
    }
    pthread_mutex_unlock(&c->lock);
    return NULL;
}

static void wake(consumer *c) {
    uint64_t one = 1;
    if (c->wake_fd < 0)
        pthread_cond_signal(&c->stamped);
    else if (write(c->wake_fd, &one, sizeof one) < 0)
        perror("eventfd");
}

static void hand(consumer *c, int64_t sent) {
    pthread_mutex_lock(&c->lock);
    if (c->tail - c->head < RING) c->ring[c->tail++ % RING] = sent; /* else: dropped, not counted */
    pthread_mutex_unlock(&c->lock);
    c->signal_owed = 1;
}

int main(int argc, char **argv) {
    const char *mode = argc == 6 ? argv[1] : "";
    int threaded = strcmp(mode, "threads") == 0, by_fd = strcmp(mode, "fd") == 0;
    int handoff = by_fd || strcmp(mode, "handoff") == 0;
    if (!threaded && !handoff && strcmp(mode, "read") != 0) {
        fprintf(stderr, "usage: %s read|handoff|fd|threads PACED_SERVER TURNS RATE EVENTS\n", argv[0]);
        return 2;
    }
    int turns = atoi(argv[3]);
    long events = atol(argv[5]);
    int to_server[2], from_server[2];
    if (turns < 1 || events < 1 || pipe(to_server) != 0 || pipe(from_server) != 0) return 2;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(to_server[0], 0);
        dup2(from_server[1], 1);
        close(to_server[1]);
        close(from_server[0]);
        setenv("FAKE_TURNS", argv[3], 1);
        setenv("FAKE_RATE", argv[4], 1);
        setenv("FAKE_DELTAS", argv[5], 1);
        execl(argv[2], argv[2], (char *)NULL);
        _exit(127);
    }
    close(to_server[0]);
    close(from_server[1]);
    /* Every turn started: the server starts pacing (its answers are skipped below). */
    FILE *out = fdopen(to_server[1], "w");
    for (int t = 1; t <= turns; t++)
        fprintf(out, "{\"id\":%d,\"method\":\"turn/start\",\"params\":{\"threadId\":\"thr_%d\"}}\n", t, t);
    fflush(out);

    /* read mode: the reader is the one consumer, without a thread. */
    int n_consumers = threaded ? turns : 1;
    consumer *cs = calloc((size_t)n_consumers, sizeof *cs);
    long per = events / n_consumers + 1;
    for (int i = 0; i < n_consumers; i++) {
        cs[i].lat = malloc((size_t)per * sizeof(int64_t));
        cs[i].skip = per / 10;
        pthread_mutex_init(&cs[i].lock, NULL);
        pthread_cond_init(&cs[i].stamped, NULL);
        cs[i].wake_fd = by_fd ? eventfd(0, EFD_CLOEXEC) : -1;
        if (threaded || handoff) pthread_create(&cs[i].thread, NULL, consume, &cs[i]);
    }
    long seen = 0;
    char buf[1 << 16];
    size_t have = 0;
    const char *delta_key = "\"delta\":\"", *turn_key = "\"turnId\":\"turn_";
    while (seen < events) {
        ssize_t got = read(from_server[0], buf + have, sizeof buf - have - 1);
        if (got <= 0) break;
        have += (size_t)got;
        buf[have] = 0;
        char *line = buf, *end;
        while ((end = strchr(line, '\n')) != NULL) {
            char *d = strstr(line, delta_key), *t = strstr(line, turn_key);
            if (d != NULL && d < end && t != NULL && seen < events) {
                int64_t sent = strtoll(d + strlen(delta_key), NULL, 10);
                long turn = strtol(t + strlen(turn_key), NULL, 10);
                consumer *c = &cs[threaded && turn >= 1 && turn <= turns ? turn - 1 : 0];
                if (threaded || handoff)
                    hand(c, sent);
                else
                    take(c, sent);
                seen++;
            }
            line = end + 1;
        }
        /* The wakes of this batch, after it: as the library does. */
        for (int i = 0; i < n_consumers; i++) {
            if (cs[i].signal_owed) {
                cs[i].signal_owed = 0;
                wake(&cs[i]);
            }
        }
        have = (size_t)(buf + have - line);
        memmove(buf, line, have);
    }
    long n = 0;
    for (int i = 0; i < n_consumers; i++) {
        if (threaded || handoff) {
            pthread_mutex_lock(&cs[i].lock);
            cs[i].done = 1;
            pthread_mutex_unlock(&cs[i].lock);
            wake(&cs[i]);
            pthread_join(cs[i].thread, NULL);
        }
        n += cs[i].counted;
    }
    fclose(out);
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    if (n == 0) return 1;
    int64_t *lat = malloc((size_t)n * sizeof *lat);
    for (long i = 0, at = 0; i < n_consumers; at += cs[i].counted, i++)
        memcpy(lat + at, cs[i].lat, (size_t)cs[i].counted * sizeof *lat);
    qsort(lat, (size_t)n, sizeof *lat, cmp_i64);
    printf("mode=floor-%s turns=%d rate=%s counted=%ld p50_us=%.1f p99_us=%.1f p999_us=%.1f max_us=%.1f\n",
           mode, turns, argv[4], n, quantile_us(lat, n, 0.5), quantile_us(lat, n, 0.99),
           quantile_us(lat, n, 0.999), lat[n - 1] / 1e3);
    return 0;
}
