/* A stand-in app-server for the latency benchmark (bench_events latency): it writes agent-message
 * deltas at a steady rate, each carrying the CLOCK_MONOTONIC time of its write, so the consumer
 * can subtract (one clock across processes on one machine).
 *
 * Spawned by the library like `codex app-server` (arguments are ignored), JSON lines on stdio.
 * Answers `initialize`, `thread/start` (thr_1, thr_2, ...) and `turn/start` (turn_N on thr_N);
 * other requests get an empty result. Once FAKE_TURNS turns have started, it writes FAKE_DELTAS
 * deltas round-robin over the turns, FAKE_RATE per second (each at its own due time: it sleeps
 * until then with a 1 ns timer slack, and never bursts to catch up by more than the one late
 * event), then stays quiet for a second, then completes every turn. Each delta is one write(2),
 * its timestamp taken just before. The turn/completed params carry "pacer": the rate achieved
 * and how late its writes were against their due times (this process's own scheduling delay:
 * how busy the machine was). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>
#include "latency_util.h"

static void write_all(const char *buf, size_t len) {
    while (len > 0) {
        ssize_t n = write(1, buf, len);
        if (n < 0) {
            if (errno == EINTR) continue;
            exit(0); /* the client is gone */
        }
        buf += n;
        len -= (size_t)n;
    }
}

/* The JSON-RPC id (a number) of a request line, or -1 for a notification. */
static long request_id(const char *line) {
    const char *p = strstr(line, "\"id\":");
    return p ? strtol(p + 5, NULL, 10) : -1;
}

static void sleep_until(int64_t due) {
    struct timespec ts = {.tv_sec = due / 1000000000, .tv_nsec = due % 1000000000};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
    }
}

static void pace(int turns, long events, long rate) {
    char line[640];
    int64_t interval = 1000000000 / rate, start = now_ns(), due = start;
    /* How late each write was against its due time: this process's own scheduling delay, a
     * measure of how busy the machine is, reported with the completions. */
    int64_t *late = calloc((size_t)events, sizeof *late);
    for (long i = 0; i < events; i++) {
        due += interval;
        if (now_ns() < due) sleep_until(due);
        int t = (int)(i % turns) + 1;
        int64_t sent = now_ns();
        late[i] = sent - due;
        int len = snprintf(line, sizeof line,
                           "{\"method\":\"item/agentMessage/delta\",\"params\":{\"threadId\":\"thr_%d\","
                           "\"turnId\":\"turn_%d\",\"itemId\":\"msg_%d\",\"delta\":\"%lld\"}}\n",
                           t, t, t, (long long)sent);
        write_all(line, (size_t)len);
    }
    double secs = (now_ns() - start) / 1e9;
    qsort(late, (size_t)events, sizeof *late, cmp_i64);
    char pacer[256];
    snprintf(pacer, sizeof pacer,
             "{\"rate\":%.0f,\"late_p50_us\":%.1f,\"late_p99_us\":%.1f,\"late_p999_us\":%.1f}",
             events / secs, quantile_us(late, events, 0.5), quantile_us(late, events, 0.99),
             quantile_us(late, events, 0.999));
    free(late);
    sleep_until(now_ns() + 1000000000); /* quiet, every turn open: the idle CPU is measured */
    for (int t = 1; t <= turns; t++) {
        int len = snprintf(line, sizeof line,
                           "{\"method\":\"turn/completed\",\"params\":{\"threadId\":\"thr_%d\","
                           "\"turn\":{\"id\":\"turn_%d\",\"status\":\"completed\",\"items\":[],"
                           "\"error\":null},\"pacer\":%s}}\n",
                           t, t, pacer);
        write_all(line, (size_t)len);
    }
}

int main(void) {
    const char *e;
    int turns = (e = getenv("FAKE_TURNS")) ? atoi(e) : 1;
    long events = (e = getenv("FAKE_DELTAS")) ? atol(e) : 1000;
    long rate = (e = getenv("FAKE_RATE")) ? atol(e) : 100000;
    if (turns < 1 || rate < 1) return 2;
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
    char *line = NULL;
    size_t cap = 0;
    char out[512];
    int threads = 0, started = 0;
    while (getline(&line, &cap, stdin) > 0) {
        long id = request_id(line);
        if (id < 0) continue;
        int len;
        if (strstr(line, "\"method\":\"thread/start\"")) {
            threads++;
            len = snprintf(out, sizeof out, "{\"id\":%ld,\"result\":{\"thread\":{\"id\":\"thr_%d\"}}}\n",
                           id, threads);
        } else if (strstr(line, "\"method\":\"turn/start\"")) {
            const char *p = strstr(line, "\"threadId\":\"thr_");
            int t = p ? atoi(p + 16) : 0;
            len = snprintf(out, sizeof out,
                           "{\"id\":%ld,\"result\":{\"turn\":{\"id\":\"turn_%d\",\"status\":"
                           "\"inProgress\",\"items\":[]}}}\n",
                           id, t);
            started++;
        } else if (strstr(line, "\"method\":\"initialize\"")) {
            len = snprintf(out, sizeof out, "{\"id\":%ld,\"result\":{\"userAgent\":\"paced/0\"}}\n", id);
        } else {
            len = snprintf(out, sizeof out, "{\"id\":%ld,\"result\":{}}\n", id);
        }
        write_all(out, (size_t)len);
        if (started == turns) {
            started = 0;
            pace(turns, events, rate);
        }
    }
    free(line);
    return 0;
}
