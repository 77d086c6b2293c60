/* Callbacks, against the scripted fake app-server. Checks, in one run:
 *  - order: every event of a turn reaches its callback, in order, ending with turn/completed;
 *    userdata_free runs exactly once, after the last call;
 *  - isolation: a callback that sleeps on every event delays only its own turn (the time the
 *    other turn took to be delivered whole is printed and bounded);
 *  - reentrancy: callbacks steer, interrupt, send requests, start a turn, answer approvals and
 *    free their own turn from inside the call;
 *  - no call after codex_turn_free returns.
 * Run under valgrind by `make test` when valgrind is installed. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include "test_util.h"

typedef struct {
    const char *name;
    codex_client *client;
    _Atomic(codex_turn *) turn; /* published after start returns */
    atomic_int calls;
    atomic_int frees;
    atomic_int calls_after_free;
    atomic_int freed_handle; /* set once codex_turn_free returned */
    int deltas_in_order;
    int next_delta;
    int saw_completed;
    int sleep_ms;
    const char *action; /* what the callback does from inside */
    int action_done;
    char status[32];
} probe;

static double wall_ms(void) {
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return tv.tv_sec * 1e3 + tv.tv_usec / 1e3;
}

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static codex_turn *own_turn(probe *p) {
    codex_turn *t;
    while ((t = atomic_load(&p->turn)) == NULL) sleep_ms(1);
    return t;
}

static void on_event(void *userdata, const codex_event *ev) {
    probe *p = userdata;
    CHECK(atomic_load(&p->frees) == 0, "%s: a call after userdata_free", p->name);
    if (atomic_load(&p->freed_handle)) atomic_fetch_add(&p->calls_after_free, 1);
    atomic_fetch_add(&p->calls, 1);
    CHECK(!p->saw_completed, "%s: a call after turn/completed", p->name);

    uint32_t kind = codex_event_kind(ev);
    if (kind == CODEX_EVENT_AGENT_MESSAGE_DELTA) {
        char expect[96];
        snprintf(expect, sizeof expect, "%s:%d;", codex_event_turn_id(ev), p->next_delta++);
        if (strcmp(codex_event_delta(ev, NULL), expect) != 0) p->deltas_in_order = 0;
    }
    if (kind == CODEX_EVENT_TURN_COMPLETED) {
        p->saw_completed = 1;
        snprintf(p->status, sizeof p->status, "%s", codex_event_turn_status(ev));
    }
    codex_error *err = NULL;
    if (p->action && !p->action_done && kind == CODEX_EVENT_AGENT_MESSAGE_DELTA) {
        p->action_done = 1;
        if (strcmp(p->action, "steer+request+turn") == 0) {
            CHECK_OK(codex_turn_steer(own_turn(p), "more input", &err), err);
            char *out = NULL;
            CHECK_OK(codex_client_request(p->client, "test/echo", "{\"from\":\"callback\"}", 0, &out, &err), err);
            CHECK(strcmp(out, "{\"from\":\"callback\"}") == 0, "echo from a callback");
            codex_string_free(out);
            char *thread_id = NULL;
            CHECK_OK(codex_client_thread_start(p->client, NULL, &thread_id, NULL, &err), err);
            codex_turn *nested = NULL;
            CHECK_OK(codex_turn_start(p->client, thread_id, "nested", NULL, &nested, &err), err);
            codex_turn_result *r = NULL;
            CHECK_OK(codex_turn_run(nested, 10000, &r, &err), err);
            CHECK(strcmp(codex_turn_result_status(r), "completed") == 0, "nested turn");
            codex_turn_result_free(r);
            codex_turn_free(nested);
            codex_string_free(thread_id);
        } else if (strcmp(p->action, "interrupt") == 0) {
            CHECK_OK(codex_turn_interrupt(own_turn(p), &err), err);
        } else if (strcmp(p->action, "free-self") == 0) {
            codex_turn_free(own_turn(p)); /* no more calls after this one */
            atomic_store(&p->freed_handle, 1);
        }
    }
    if (kind == CODEX_EVENT_SERVER_REQUEST && p->action && strcmp(p->action, "answer") == 0) {
        codex_request *req = NULL;
        CHECK_OK(codex_event_request(ev, &req, &err), err);
        if (strcmp(codex_request_method(req), "item/commandExecution/requestApproval") == 0)
            CHECK_OK(codex_request_approve(req, CODEX_DECISION_ACCEPT, &err), err);
        else
            CHECK_OK(codex_request_respond_error(req, -32000, "not supported here", &err), err);
        codex_request_free(req);
    }
    if (p->sleep_ms) sleep_ms(p->sleep_ms);
}

static void on_free(void *userdata) {
    probe *p = userdata;
    atomic_fetch_add(&p->frees, 1);
}

static codex_client *start_client(const char *scenario, const char *deltas, const char *delay) {
    codex_options *opts = fake_server_options(scenario);
    codex_error *err = NULL;
    CHECK_OK(codex_options_set_env(opts, "FAKE_DELTAS", deltas, &err), err);
    CHECK_OK(codex_options_set_env(opts, "FAKE_DELAY_MS", delay, &err), err);
    codex_client *client = NULL;
    CHECK_OK(codex_client_start(opts, &client, &err), err);
    codex_options_free(opts);
    return client;
}

static void start(codex_client *client, probe *p) {
    codex_error *err = NULL;
    char *thread_id = NULL;
    p->client = client;
    p->deltas_in_order = 1;
    CHECK_OK(codex_client_thread_start(client, NULL, &thread_id, NULL, &err), err);
    codex_turn *turn = NULL;
    CHECK_OK(codex_turn_start_with_callback(client, thread_id, p->name, NULL, on_event, p, on_free,
                                            &turn, &err), err);
    atomic_store(&p->turn, turn);
    codex_string_free(thread_id);
}

static double finish(probe *p, double t0) {
    codex_error *err = NULL;
    codex_turn_result *r = NULL;
    CHECK_OK(codex_turn_run(atomic_load(&p->turn), -1, &r, &err), err);
    double done = wall_ms() - t0;
    CHECK(atomic_load(&p->frees) == 1, "%s: userdata_free ran %d times by the end of run", p->name,
          atomic_load(&p->frees));
    CHECK(strcmp(codex_turn_result_status(r), p->status) == 0, "%s: status", p->name);
    codex_turn_result_free(r);
    codex_turn_free(atomic_load(&p->turn));
    return done;
}

int main(void) {
    codex_error *err = NULL;
    /* Order and isolation: A sleeps 15 ms on every event, B does nothing. */
    codex_client *client = start_client("interleaved", "40", "1");
    probe a = {.name = "slow", .sleep_ms = 15}, b = {.name = "fast"};
    double t0 = wall_ms();
    start(client, &a);
    start(client, &b);
    double b_done = finish(&b, t0);
    double a_done = finish(&a, t0);
    printf("callbacks_test: fast turn delivered in %.0f ms while the slow callback took %.0f ms\n",
           b_done, a_done);
    CHECK(a.deltas_in_order && a.next_delta == 40 && b.deltas_in_order && b.next_delta == 40,
          "every delta in order");
    CHECK(strcmp(a.status, "completed") == 0 && strcmp(b.status, "completed") == 0, "completed");
    CHECK(b_done < a_done / 2, "the slow callback held back the other turn");

    /* Reentrancy: steer, a request, a nested turn, interrupt, all from inside callbacks. */
    probe c = {.name = "reentrant", .action = "steer+request+turn"};
    probe e = {.name = "interrupter", .action = "interrupt"};
    start(client, &c);
    start(client, &e);
    finish(&c, t0);
    finish(&e, t0);
    CHECK(c.action_done && strcmp(c.status, "completed") == 0, "steer+request+turn");
    CHECK(strcmp(e.status, "interrupted") == 0, "interrupt from a callback: %s", e.status);

    /* No call after codex_turn_free: from another thread, and from inside the callback. */
    probe f = {.name = "freed", .sleep_ms = 2};
    start(client, &f);
    while (atomic_load(&f.calls) < 3) sleep_ms(1);
    codex_turn_free(atomic_load(&f.turn));
    atomic_store(&f.freed_handle, 1);
    int calls_at_free = atomic_load(&f.calls);
    sleep_ms(150);
    CHECK(atomic_load(&f.calls) == calls_at_free && atomic_load(&f.calls_after_free) == 0,
          "calls after free: %d", atomic_load(&f.calls) - calls_at_free);
    CHECK(atomic_load(&f.frees) == 1, "userdata_free once: %d", atomic_load(&f.frees));

    probe g = {.name = "self-freeing", .action = "free-self"};
    start(client, &g);
    while (atomic_load(&g.frees) == 0) sleep_ms(1);
    sleep_ms(100);
    CHECK(atomic_load(&g.calls_after_free) == 0 && atomic_load(&g.frees) == 1, "self free");
    codex_client_close(client);
    codex_client_free(client);

    /* Answering approvals from inside a callback. */
    client = start_client("approval", "3", "0");
    probe h = {.name = "answering", .action = "answer"};
    start(client, &h);
    codex_turn_result *r = NULL;
    CHECK_OK(codex_turn_run(atomic_load(&h.turn), 10000, &r, &err), err);
    const char *items = codex_turn_result_items_json(r, NULL);
    CHECK(strstr(items, "\"status\":\"completed\"") && strstr(items, "\"decision\":\"accept\""),
          "the approval was accepted from the callback: %s", items);
    codex_turn_result_free(r);
    codex_turn_free(atomic_load(&h.turn));

    /* One request handler for the whole client decides while the turn itself is polled. */
    probe handler = {.name = "handler", .action = "answer"};
    CHECK_OK(codex_client_set_request_handler(client, on_event, &handler, on_free, &err), err);
    char *polled_thread = NULL;
    CHECK_OK(codex_client_thread_start(client, NULL, &polled_thread, NULL, &err), err);
    codex_turn *polled = NULL;
    CHECK_OK(codex_turn_start(client, polled_thread, "run", NULL, &polled, &err), err);
    CHECK_OK(codex_turn_run(polled, 10000, &r, &err), err);
    items = codex_turn_result_items_json(r, NULL);
    CHECK(strstr(items, "\"status\":\"completed\"") && strstr(items, "\"decision\":\"accept\""),
          "the request handler accepted: %s", items);
    CHECK(atomic_load(&handler.calls) == 2, "the handler saw both requests: %d", atomic_load(&handler.calls));
    codex_turn_result_free(r);
    codex_turn_free(polled);
    codex_string_free(polled_thread);
    CHECK_OK(codex_client_set_request_handler(client, NULL, NULL, NULL, &err), err);
    CHECK(atomic_load(&handler.frees) == 1, "handler userdata_free once");

    /* A client callback sees turn-less events; removing it releases its userdata once. */
    probe k = {.name = "client"};
    CHECK_OK(codex_client_set_event_callback(client, on_event, &k, on_free, &err), err);
    char *thread_id = NULL;
    CHECK_OK(codex_client_thread_start(client, NULL, &thread_id, NULL, &err), err);
    while (atomic_load(&k.calls) == 0) sleep_ms(1); /* thread/started */
    codex_event *ev = NULL;
    CHECK(codex_client_next_event(client, 0, &ev, &err) == CODEX_ERR_INVALID_ARGUMENT, "poll refused");
    codex_error_free(err), err = NULL;
    CHECK_OK(codex_client_set_event_callback(client, NULL, NULL, NULL, &err), err);
    CHECK(atomic_load(&k.frees) == 1, "client userdata_free once");
    codex_string_free(thread_id);
    /* Polling works again once the callback is removed: an empty stream really waits. */
    while (codex_client_next_event(client, 0, &ev, NULL) == CODEX_OK) codex_event_free(ev);
    struct timespec before, after;
    clock_gettime(CLOCK_MONOTONIC, &before);
    CHECK(codex_client_next_event(client, 200, &ev, &err) == CODEX_ERR_TIMEOUT, "empty stream");
    clock_gettime(CLOCK_MONOTONIC, &after);
    codex_error_free(err), err = NULL;
    double waited = (after.tv_sec - before.tv_sec) * 1e3 + (after.tv_nsec - before.tv_nsec) / 1e6;
    CHECK(waited >= 150, "the poll returned after %.0f ms instead of waiting", waited);
    codex_client_close(client);
    codex_client_free(client);
    printf("callbacks_test: ok\n");
    return 0;
}
