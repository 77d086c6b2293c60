/* 8 turns on 8 Codex threads, consumed concurrently by 8 pthreads on one client: each must
 * see exactly its own events, in order, none lost, including those sent before the
 * turn/start response (the fake's "interleaved" scenario sends turn/started early and
 * round-robins the turns' events on the wire). A 9th pthread polls the client stream at the
 * same time. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include "test_util.h"

#define TURNS 8
#define DELTAS 200

static codex_client *client;

typedef struct {
    int index;
    char turn_id[64];
    int deltas;
    int events;
} worker;

static void *run_turn(void *arg) {
    worker *w = arg;
    codex_error *err = NULL;
    char *thread_id = NULL;
    CHECK_OK(codex_client_thread_start(client, NULL, &thread_id, NULL, &err), err);
    codex_turn *turn = NULL;
    char prompt[64];
    snprintf(prompt, sizeof prompt, "worker %d", w->index);
    CHECK_OK(codex_turn_start(client, thread_id, prompt, NULL, &turn, &err), err);
    snprintf(w->turn_id, sizeof w->turn_id, "%s", codex_turn_id(turn));
    CHECK(strcmp(codex_turn_thread_id(turn), thread_id) == 0, "thread id of the turn");

    int saw_started = 0, saw_completed = 0;
    for (;;) {
        codex_event *ev = NULL;
        codex_result rc = codex_turn_next_event(turn, 60000, &ev, &err); /* a safety bound */
        if (rc == CODEX_STREAM_END) break;
        CHECK_OK(rc, err);
        w->events++;
        CHECK(!saw_completed, "event after turn/completed: %s", codex_event_method(ev));
        const char *turn_id = codex_event_turn_id(ev);
        CHECK(turn_id && strcmp(turn_id, w->turn_id) == 0, "worker %d got an event of turn %s",
              w->index, turn_id ? turn_id : "(none)");
        CHECK(strcmp(codex_event_thread_id(ev), thread_id) == 0, "foreign thread id");
        switch (codex_event_kind(ev)) {
        case CODEX_EVENT_TURN_STARTED:
            CHECK(w->events == 1, "turn/started is not first");
            saw_started = 1;
            break;
        case CODEX_EVENT_AGENT_MESSAGE_DELTA: {
            char expect[96];
            size_t len = 0;
            const char *delta = codex_event_delta(ev, &len);
            snprintf(expect, sizeof expect, "%s:%d;", w->turn_id, w->deltas);
            CHECK(delta && strcmp(delta, expect) == 0 && len == strlen(expect),
                  "delta %d of %s is \"%s\"", w->deltas, w->turn_id, delta ? delta : "(null)");
            w->deltas++;
            break;
        }
        case CODEX_EVENT_TURN_COMPLETED:
            CHECK(strcmp(codex_event_turn_status(ev), "completed") == 0, "status");
            saw_completed = 1;
            break;
        default:
            break;
        }
        codex_event_free(ev);
    }
    CHECK(saw_started && saw_completed, "started %d completed %d", saw_started, saw_completed);
    CHECK(w->deltas == DELTAS, "worker %d got %d of %d deltas", w->index, w->deltas, DELTAS);
    /* The stream stays ended. */
    codex_event *ev = NULL;
    CHECK(codex_turn_next_event(turn, 0, &ev, &err) == CODEX_STREAM_END, "end is sticky");
    codex_turn_free(turn);
    codex_string_free(thread_id);
    return NULL;
}

static atomic_int stop_polling;
static int client_events, threads_started, status_changes;

/* Polls the client stream until told to stop, then takes what is left in it: every
 * thread-level event of the turns was routed before their turn/completed, so once the workers
 * are done nothing can be missed, however late this thread got to run. */
static void *poll_client_stream(void *arg) {
    (void)arg;
    for (;;) {
        int stopping = atomic_load(&stop_polling);
        codex_event *ev = NULL;
        codex_error *err = NULL;
        codex_result rc = codex_client_next_event(client, stopping ? 0 : 20, &ev, &err);
        if (rc == CODEX_OK) {
            CHECK(codex_event_turn_id(ev) == NULL, "a turn event reached the client stream: %s",
                  codex_event_method(ev));
            client_events++;
            threads_started += strcmp(codex_event_method(ev), "thread/started") == 0;
            status_changes += strcmp(codex_event_method(ev), "thread/status/changed") == 0;
            codex_event_free(ev);
        } else {
            CHECK(rc == CODEX_ERR_TIMEOUT, "client stream: %s", codex_result_name(rc));
            codex_error_free(err);
            if (stopping) break;
        }
    }
    return NULL;
}

int main(void) {
    codex_options *opts = fake_server_options("interleaved");
    codex_error *err = NULL;
    char deltas[16];
    snprintf(deltas, sizeof deltas, "%d", DELTAS);
    CHECK_OK(codex_options_set_env(opts, "FAKE_DELTAS", deltas, &err), err);
    CHECK_OK(codex_client_start(opts, &client, &err), err);
    codex_options_free(opts);

    pthread_t threads[TURNS], poller;
    worker workers[TURNS];
    memset(workers, 0, sizeof workers);
    pthread_create(&poller, NULL, poll_client_stream, NULL);
    for (int i = 0; i < TURNS; i++) {
        workers[i].index = i;
        pthread_create(&threads[i], NULL, run_turn, &workers[i]);
    }
    for (int i = 0; i < TURNS; i++) pthread_join(threads[i], NULL);
    atomic_store(&stop_polling, 1);
    pthread_join(poller, NULL);

    for (int i = 0; i < TURNS; i++)
        for (int j = i + 1; j < TURNS; j++)
            CHECK(strcmp(workers[i].turn_id, workers[j].turn_id) != 0, "two workers share a turn");
    /* The fake sends one thread/started per thread and one thread/status/changed per turn. */
    CHECK(threads_started == TURNS && status_changes == TURNS,
          "thread-level events on the client stream: %d thread/started, %d thread/status/changed of %d",
          threads_started, status_changes, client_events);
    CHECK(codex_client_skipped_lines(client) == 0, "skipped lines");
    codex_client_close(client);
    codex_client_free(client);
    printf("concurrent_turns_test: %d turns x %d deltas, each exactly its own, in order; %d client-stream events\n",
           TURNS, DELTAS, client_events);
    return 0;
}
