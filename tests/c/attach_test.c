/* Turns this client did not start, through the C API against the scripted fake: a handle
 * attached to the next turn of a thread, reported by the event descriptor; one attached by id
 * with a callback; a review turn whose result carries the review; every argument checked.
 * The fake sends a script's lines once it has received the turn starts the script waits for,
 * and answers the script after its last line: nothing here depends on timing. */
#define _POSIX_C_SOURCE 200809L
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include "test_util.h"

static codex_client *client;

/* test/script: `lines` is a JSON array of strings (each a line the fake writes). */
static void script(int after_starts, const char *lines) {
    char params[4096];
    snprintf(params, sizeof params, "{\"afterStarts\":%d,\"lines\":%s}", after_starts, lines);
    codex_error *err = NULL;
    char *out = NULL;
    CHECK_OK(codex_client_request(client, "test/script", params, 60000, &out, &err), err);
    codex_string_free(out);
}

static void *script_review(void *arg) {
    (void)arg;
    script(1, "["
              "\"{\\\"method\\\":\\\"turn/started\\\",\\\"params\\\":{\\\"threadId\\\":\\\"thr_1\\\",\\\"turn\\\":{\\\"id\\\":\\\"rev\\\"}}}\","
              "\"{\\\"id\\\":$START,\\\"result\\\":{\\\"turn\\\":{\\\"id\\\":\\\"rev\\\"},\\\"reviewThreadId\\\":\\\"thr_1\\\"}}\","
              "\"{\\\"method\\\":\\\"item/completed\\\",\\\"params\\\":{\\\"threadId\\\":\\\"thr_1\\\",\\\"turnId\\\":\\\"rev\\\",\\\"item\\\":{\\\"type\\\":\\\"exitedReviewMode\\\",\\\"id\\\":\\\"x\\\",\\\"review\\\":\\\"Looks good.\\\"}}}\","
              "\"{\\\"method\\\":\\\"turn/completed\\\",\\\"params\\\":{\\\"threadId\\\":\\\"thr_1\\\",\\\"turn\\\":{\\\"id\\\":\\\"rev\\\",\\\"status\\\":\\\"completed\\\"}}}\""
              "]");
    return NULL;
}

static void events_of_turn(const char *turn, char *out, size_t size) {
    snprintf(out, size,
             "["
             "\"{\\\"method\\\":\\\"turn/started\\\",\\\"params\\\":{\\\"threadId\\\":\\\"thr_1\\\",\\\"turn\\\":{\\\"id\\\":\\\"%s\\\"}}}\","
             "\"{\\\"method\\\":\\\"item/agentMessage/delta\\\",\\\"params\\\":{\\\"threadId\\\":\\\"thr_1\\\",\\\"turnId\\\":\\\"%s\\\",\\\"delta\\\":\\\"d\\\"}}\","
             "\"{\\\"method\\\":\\\"turn/completed\\\",\\\"params\\\":{\\\"threadId\\\":\\\"thr_1\\\",\\\"turn\\\":{\\\"id\\\":\\\"%s\\\",\\\"status\\\":\\\"completed\\\"}}}\""
             "]",
             turn, turn, turn);
}

/* The call runs before `err` is read (argument order is unspecified in C). */
#define expect_invalid(call, err_, names)        \
    do {                                         \
        err_ = NULL;                             \
        codex_result rc_ = (call);               \
        check_invalid(rc_, err_, names);         \
    } while (0)

static int calls;
static int freed;
static void on_event(void *userdata, const codex_event *ev) {
    (void)userdata;
    CHECK(strcmp(codex_event_turn_id(ev), "by-id") == 0, "only its turn: %s", codex_event_turn_id(ev));
    calls++;
}
static void on_free(void *userdata) {
    (void)userdata;
    freed++;
}

static void check_invalid(codex_result rc, codex_error *err, const char *names) {
    CHECK(rc == CODEX_ERR_INVALID_ARGUMENT, "%s: %s", names, codex_result_name(rc));
    CHECK(err != NULL && strstr(codex_error_message(err), names) != NULL, "names %s: %s", names,
          err ? codex_error_message(err) : "(none)");
    codex_error_free(err);
}

int main(void) {
    codex_error *err = NULL;
    codex_options *opts = fake_server_options("scripted");
    CHECK_OK(codex_client_start(opts, &client, &err), err);
    codex_options_free(opts);
    char *thread = NULL;
    CHECK_OK(codex_client_thread_start(client, NULL, &thread, NULL, &err), err);
    CHECK(strcmp(thread, "thr_1") == 0, "%s", thread);

    /* Arguments. */
    codex_turn *turn = NULL;
    expect_invalid(codex_client_turn_attach(NULL, thread, NULL, &turn, &err), err, "client");
    expect_invalid(codex_client_turn_attach(client, NULL, NULL, &turn, &err), err, "thread_id");
    expect_invalid(codex_client_turn_attach(client, "\xff", NULL, &turn, &err), err, "thread_id");
    expect_invalid(codex_client_turn_attach(client, thread, "", &turn, &err), err, "turn_id");
    expect_invalid(codex_client_turn_attach(client, thread, "\xc3", &turn, &err), err, "turn_id");
    expect_invalid(codex_client_turn_attach(client, thread, NULL, NULL, &err), err, "turn_out");
    expect_invalid(codex_client_turn_attach_with_callback(client, thread, NULL, NULL, NULL, NULL, &turn, &err), err,
                   "callback");
    expect_invalid(codex_review_start(client, thread, "{not json", &turn, &err), err, "params_json");
    expect_invalid(codex_review_start(client, thread, "{}", &turn, &err), err, "target");
    expect_invalid(codex_review_start(client, thread, NULL, &turn, &err), err, "params_json");
    CHECK(codex_turn_result_review(NULL) == NULL, "NULL result");
    CHECK(codex_client_active_turns(client) == 0, "nothing left held");

    /* Attached to the next turn, polled from the event descriptor. */
    int fd = -1;
    CHECK_OK(codex_client_event_fd(client, &fd, &err), err);
    CHECK_OK(codex_client_turn_attach(client, thread, NULL, &turn, &err), err);
    CHECK(strcmp(codex_turn_id(turn), "") == 0, "no id yet");
    codex_turn *second = NULL;
    CHECK(codex_turn_start(client, thread, "hi", NULL, &second, NULL) == CODEX_ERR_TURN_ACTIVE, "one handle");
    char lines[2048];
    events_of_turn("other", lines, sizeof lines);
    script(0, lines);
    codex_turn *ready = NULL;
    while (ready == NULL) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        CHECK(poll(&p, 1, 60000) == 1, "the descriptor is readable");
        CHECK_OK(codex_client_next_ready_turn(client, &ready, &err), err);
        if (ready == NULL) { /* the client stream (thread/started): drained */
            codex_event *other = NULL;
            while (codex_client_next_event(client, 0, &other, NULL) == CODEX_OK) codex_event_free(other);
        }
    }
    CHECK(ready == turn, "the attached handle is reported");
    int got = 0;
    codex_event *ev = NULL;
    codex_result rc;
    while ((rc = codex_turn_next_event(turn, 0, &ev, &err)) == CODEX_OK) {
        got++;
        codex_event_free(ev);
    }
    CHECK(rc == CODEX_STREAM_END && got == 3, "%s after %d events", codex_result_name(rc), got);
    CHECK(strcmp(codex_turn_id(turn), "other") == 0, "%s", codex_turn_id(turn));
    codex_turn_free(turn);
    CHECK(codex_client_turn_attach(client, thread, "other", &turn, &err) == CODEX_ERR_NOT_FOUND, "completed");
    codex_error_free(err);
    err = NULL;

    /* Attached by id, with a callback; then run for its summary. */
    CHECK_OK(codex_client_turn_attach_with_callback(client, thread, "by-id", on_event, NULL, on_free, &turn, &err),
             err);
    events_of_turn("by-id", lines, sizeof lines);
    script(0, lines);
    codex_turn_result *result = NULL;
    CHECK_OK(codex_turn_run(turn, 60000, &result, &err), err);
    CHECK(strcmp(codex_turn_result_status(result), "completed") == 0, "status");
    CHECK(codex_turn_result_review(result) == NULL, "no review");
    CHECK(calls == 3, "calls %d", calls);
    codex_turn_result_free(result);
    codex_turn_free(turn);
    CHECK(freed == 1, "userdata freed once");

    /* A review: its answer and events come once the fake has the review/start. */
    pthread_t scripter;
    CHECK(pthread_create(&scripter, NULL, script_review, NULL) == 0, "thread");
    CHECK_OK(codex_review_start(client, thread, "{\"target\":{\"type\":\"uncommittedChanges\"}}", &turn, &err), err);
    pthread_join(scripter, NULL);
    CHECK_OK(codex_turn_run(turn, 60000, &result, &err), err);
    CHECK(strcmp(codex_turn_result_review(result), "Looks good.") == 0, "%s", codex_turn_result_review(result));
    codex_turn_result_free(result);
    codex_turn_free(turn);
    codex_string_free(thread);
    codex_client_close(client);
    codex_client_free(client);
    printf("attach_test: ok\n");
    return 0;
}
