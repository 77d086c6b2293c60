/* What the latency programs of bench/ share, so that the library's figures (bench_events
 * latency), its floors (latency_floor) and the pacer's own (paced_server) are taken alike: one
 * clock across processes, one sort, one way to pick a percentile. */
#ifndef BENCH_LATENCY_UTIL_H
#define BENCH_LATENCY_UTIL_H

#include <stdint.h>
#include <stdlib.h>
#include <time.h>

/* CLOCK_MONOTONIC in ns: the same clock in every process of one machine. */
static inline int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The `p` quantile (0 to 1) of `n` (> 0) durations in ns sorted with cmp_i64, in µs. */
static inline double quantile_us(const int64_t *sorted, long n, double p) {
    return sorted[(long)((double)(n - 1) * p)] / 1e3;
}

#endif
