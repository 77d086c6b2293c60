/* Callbacks, against the scripted fake app-server. Checks, in one run:
 *  - order: every event of a turn reaches its callback, in order, ending with turn/completed;
 *    userdata_free runs exactly once, after the last call;
 *  - isolation: a callback that blocks holds back only its own turn: the slow turn's callback
 *    blocks on its first event until the fast turn has been delivered whole;
 *  - reentrancy: callbacks steer, interrupt, send requests, start a turn, answer approvals and
 *    free their own turn from inside the call;
 *  - no call after codex_turn_free returns.
 * Nothing here races the clock: turns that must still be running when a callback acts on them
 * carry the fake's "hold-after:N" marker, so their stream waits for the steer, the interrupt or
 * a test/release (see tools/fake_app_server/README.md); waits are bounded loops on a condition.
 * Run under valgrind by `make test` when valgrind is installed. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "test_util.h"

/* The longest any wait here lasts before the test fails: a safety net, never a measurement. */
#define SAFETY_MS 60000

typedef struct probe probe;
struct probe {
    const char *name;
    const char *input; /* the turn's input; the name when NULL */
    codex_client *client;
    char turn_id[64];
    _Atomic(codex_turn *) turn; /* published after start returns */
    atomic_int calls;
    atomic_int frees;
    atomic_int calls_after_free;
    atomic_int freed_handle; /* set once codex_turn_free returned */
    int deltas_in_order;
    int next_delta;
    atomic_int saw_completed;
    int sleep_ms;
    const char *action; /* what the callback does from inside */
    int action_done;
    char status[32];
    /* Isolation: on its first event the callback blocks until `wait_for` has completed. */
    probe *wait_for;
    atomic_int blocked;            /* set while that callback blocks */
    int wait_ended_by_completion;  /* 1: released by the other turn's completion, 0: timed out */
    probe *watch;                  /* on turn/completed, note whether `watch` is blocked */
    int watched_was_blocked;
    /* The thread ids of the thread/started events it saw: each entry is written before the
     * count that publishes it. */
    char started[8][64];
    atomic_int n_started;
};

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Waits until `cond` holds, checking every millisecond; fails the test after SAFETY_MS. */
#define WAIT_FOR(cond, ...)                                                     \
    do {                                                                        \
        double deadline_ = now_ms() + SAFETY_MS;                                \
        while (!(cond)) {                                                       \
            CHECK(now_ms() < deadline_, __VA_ARGS__);                           \
            sleep_ms(1);                                                        \
        }                                                                       \
    } while (0)

static codex_turn *own_turn(probe *p) {
    WAIT_FOR(atomic_load(&p->turn) != NULL, "%s: the turn was never published", p->name);
    return atomic_load(&p->turn);
}

static int saw_thread_started(probe *p, const char *thread_id) {
    int n = atomic_load(&p->n_started);
    for (int i = 0; i < n; i++)
        if (strcmp(p->started[i], thread_id) == 0) return 1;
    return 0;
}

static void on_event(void *userdata, const codex_event *ev) {
    probe *p = userdata;
    CHECK(atomic_load(&p->frees) == 0, "%s: a call after userdata_free", p->name);
    if (atomic_load(&p->freed_handle)) atomic_fetch_add(&p->calls_after_free, 1);
    atomic_fetch_add(&p->calls, 1);
    CHECK(!atomic_load(&p->saw_completed), "%s: a call after turn/completed", p->name);
    if (p->wait_for && atomic_load(&p->calls) == 1) {
        atomic_store(&p->blocked, 1);
        double deadline = now_ms() + SAFETY_MS;
        while (!atomic_load(&p->wait_for->saw_completed) && now_ms() < deadline) sleep_ms(1);
        p->wait_ended_by_completion = atomic_load(&p->wait_for->saw_completed);
        atomic_store(&p->blocked, 0);
    }

    int n = atomic_load(&p->n_started);
    if (strcmp(codex_event_method(ev), "thread/started") == 0 && n < 8) {
        snprintf(p->started[n], sizeof p->started[n], "%s", codex_event_thread_id(ev));
        atomic_store(&p->n_started, n + 1);
    }

    uint32_t kind = codex_event_kind(ev);
    if (kind == CODEX_EVENT_AGENT_MESSAGE_DELTA) {
        char expect[96];
        snprintf(expect, sizeof expect, "%s:%d;", codex_event_turn_id(ev), p->next_delta++);
        if (strcmp(codex_event_delta(ev, NULL), expect) != 0) p->deltas_in_order = 0;
    }
    if (kind == CODEX_EVENT_TURN_COMPLETED) {
        snprintf(p->status, sizeof p->status, "%s", codex_event_turn_status(ev));
        if (p->watch) p->watched_was_blocked = atomic_load(&p->watch->blocked);
        atomic_store(&p->saw_completed, 1);
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
            CHECK_OK(codex_turn_run(nested, SAFETY_MS, &r, &err), err);
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
    CHECK_OK(codex_turn_start_with_callback(client, thread_id, p->input ? p->input : p->name, NULL,
                                            on_event, p, on_free, &turn, &err), err);
    snprintf(p->turn_id, sizeof p->turn_id, "%s", codex_turn_id(turn));
    atomic_store(&p->turn, turn);
    codex_string_free(thread_id);
}

static void finish(probe *p) {
    codex_error *err = NULL;
    codex_turn_result *r = NULL;
    CHECK_OK(codex_turn_run(atomic_load(&p->turn), SAFETY_MS, &r, &err), err);
    CHECK(atomic_load(&p->frees) == 1, "%s: userdata_free ran %d times by the end of run", p->name,
          atomic_load(&p->frees));
    CHECK(strcmp(codex_turn_result_status(r), p->status) == 0, "%s: status", p->name);
    codex_turn_result_free(r);
    codex_turn_free(atomic_load(&p->turn));
}

/* Lets the fake's held turn go on (test/release), then waits for its turn/completed on the
 * client stream, where the events of a freed turn go: after that, every event of the turn has
 * been routed, so a callback that was still to come would have been called. */
static void release_and_wait_for_completion(codex_client *client, const probe *p) {
    codex_error *err = NULL;
    char params[128], *out = NULL;
    snprintf(params, sizeof params, "{\"turnId\":\"%s\"}", p->turn_id);
    CHECK_OK(codex_client_request(client, "test/release", params, 0, &out, &err), err);
    CHECK(strstr(out, p->turn_id) != NULL, "%s was not held: %s", p->name, out);
    codex_string_free(out);
    double deadline = now_ms() + SAFETY_MS;
    for (;;) {
        codex_event *ev = NULL;
        double left = deadline - now_ms();
        codex_result rc = codex_client_next_event(client, left > 0 ? (int64_t)left : 0, &ev, &err);
        CHECK_OK(rc, err);
        int done = codex_event_kind(ev) == CODEX_EVENT_TURN_COMPLETED && codex_event_turn_id(ev) &&
                   strcmp(codex_event_turn_id(ev), p->turn_id) == 0;
        codex_event_free(ev);
        if (done) return;
    }
}

int main(void) {
    codex_error *err = NULL;
    /* Order and isolation: A's callback blocks on A's first event until B has completed (a
     * safety timeout aside); B starts once A blocks, and B's callback notes whether A was still
     * blocked at B's completion.
     * Callbacks sharing one delivery thread would leave B stuck behind A: A's wait would time
     * out and B would complete only after it. */
    codex_client *client = start_client("interleaved", "40", "1");
    probe a = {.name = "slow"}, b = {.name = "fast"};
    a.wait_for = &b;
    b.watch = &a;
    start(client, &a);
    WAIT_FOR(atomic_load(&a.blocked), "the slow callback never got its first event");
    start(client, &b);
    finish(&b);
    finish(&a);
    CHECK(a.deltas_in_order && a.next_delta == 40 && b.deltas_in_order && b.next_delta == 40,
          "every delta in order");
    CHECK(strcmp(a.status, "completed") == 0 && strcmp(b.status, "completed") == 0, "completed");
    CHECK(a.wait_ended_by_completion, "the slow callback's wait timed out: the fast turn never completed");
    CHECK(b.watched_was_blocked, "the fast turn completed only after the slow callback returned");

    /* Reentrancy: steer, a request, a nested turn, interrupt, all from inside callbacks. Both
     * turns hold after their first delta until the callback's steer or interrupt arrives. */
    probe c = {.name = "reentrant", .input = "reentrant hold-after:1", .action = "steer+request+turn"};
    probe e = {.name = "interrupter", .input = "interrupter hold-after:1", .action = "interrupt"};
    start(client, &c);
    start(client, &e);
    finish(&c);
    finish(&e);
    CHECK(c.action_done && strcmp(c.status, "completed") == 0, "steer+request+turn");
    CHECK(c.next_delta == 40 && c.deltas_in_order, "the steered turn went on: %d deltas", c.next_delta);
    CHECK(strcmp(e.status, "interrupted") == 0, "interrupt from a callback: %s", e.status);
    CHECK(e.next_delta == 1, "the interrupted turn streamed %d deltas", e.next_delta);

    /* No call after codex_turn_free, from another thread: the turn holds after 3 deltas, so it
     * is still running when freed (with events possibly queued for the slow callback); then it
     * is released and runs to its end on the client stream. */
    probe f = {.name = "freed", .input = "freed hold-after:3", .sleep_ms = 2};
    start(client, &f);
    WAIT_FOR(atomic_load(&f.calls) >= 3, "freed: %d calls", atomic_load(&f.calls));
    codex_turn_free(atomic_load(&f.turn));
    atomic_store(&f.freed_handle, 1);
    int calls_at_free = atomic_load(&f.calls);
    CHECK(atomic_load(&f.frees) == 1, "userdata_free once: %d", atomic_load(&f.frees));
    release_and_wait_for_completion(client, &f);
    CHECK(atomic_load(&f.calls) == calls_at_free && atomic_load(&f.calls_after_free) == 0,
          "calls after free: %d", atomic_load(&f.calls) - calls_at_free);
    CHECK(!atomic_load(&f.saw_completed), "the freed turn's callback saw its completion");
    CHECK(atomic_load(&f.frees) == 1, "userdata_free once: %d", atomic_load(&f.frees));

    /* ... and from inside the callback, on the first delta of a turn held after it. */
    probe g = {.name = "self-freeing", .input = "self-freeing hold-after:1", .action = "free-self"};
    start(client, &g);
    WAIT_FOR(atomic_load(&g.frees) > 0, "self-freeing: userdata_free never ran");
    release_and_wait_for_completion(client, &g);
    CHECK(atomic_load(&g.calls_after_free) == 0 && atomic_load(&g.frees) == 1, "self free");
    CHECK(!atomic_load(&g.saw_completed), "the self-freed turn's callback saw its completion");
    codex_client_close(client);
    codex_client_free(client);

    /* Answering approvals from inside a callback. */
    client = start_client("approval", "3", "0");
    probe h = {.name = "answering", .action = "answer"};
    start(client, &h);
    codex_turn_result *r = NULL;
    CHECK_OK(codex_turn_run(atomic_load(&h.turn), SAFETY_MS, &r, &err), err);
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
    CHECK_OK(codex_turn_run(polled, SAFETY_MS, &r, &err), err);
    items = codex_turn_result_items_json(r, NULL);
    CHECK(strstr(items, "\"status\":\"completed\"") && strstr(items, "\"decision\":\"accept\""),
          "the request handler accepted: %s", items);
    CHECK(atomic_load(&handler.calls) == 2, "the handler saw both requests: %d", atomic_load(&handler.calls));
    codex_turn_result_free(r);
    codex_turn_free(polled);
    codex_string_free(polled_thread);
    CHECK_OK(codex_client_set_request_handler(client, NULL, NULL, NULL, &err), err);
    CHECK(atomic_load(&handler.frees) == 1, "handler userdata_free once");

    /* A client callback sees turn-less events; removing it releases its userdata once. What the
     * approval turns left on the client stream (their serverRequest/resolved notifications,
     * queued before their turn/completed) goes first, so that the callback's first call is the
     * new thread's thread/started, which the fake sends after the thread/start response. */
    codex_event *ev = NULL;
    while (codex_client_next_event(client, 0, &ev, NULL) == CODEX_OK) codex_event_free(ev);
    probe k = {.name = "client"};
    CHECK_OK(codex_client_set_event_callback(client, on_event, &k, on_free, &err), err);
    char *thread_id = NULL;
    CHECK_OK(codex_client_thread_start(client, NULL, &thread_id, NULL, &err), err);
    /* Its own thread/started, not any event: older ones of the stream may reach it first. */
    WAIT_FOR(saw_thread_started(&k, thread_id), "the client callback never saw thread/started");
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
