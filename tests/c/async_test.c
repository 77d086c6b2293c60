/* Asynchronous starts from C (issue 23), against the scripted fake: bad arguments of every new
 * function answer CODEX_ERR_INVALID_ARGUMENT naming the argument; a pending request completes
 * to a callback (which frees it), to a wait, and through the event descriptor; one freed
 * before its answer is forgotten (the fake holds that answer until test/release_held); a turn
 * started without waiting streams; the bound refuses with CODEX_ERR_TOO_MANY_PENDING. */
#define _POSIX_C_SOURCE 200809L
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include "test_util.h"

static void expect(codex_result want, codex_result rc, codex_error *err, const char *names) {
    CHECK(rc == want, "expected %s, got %s", codex_result_name(want), codex_result_name(rc));
    CHECK(err != NULL, "no error object");
    CHECK(strstr(codex_error_message(err), names) != NULL, "message \"%s\" does not name %s",
          codex_error_message(err), names);
    codex_error_free(err);
}

#define EXPECT(want, call, names)        \
    do {                                 \
        codex_error *err = NULL;         \
        codex_result rc_ = (call);       \
        expect(want, rc_, err, names);   \
    } while (0)
#define EXPECT_INVALID(call, names) EXPECT(CODEX_ERR_INVALID_ARGUMENT, call, names)

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static int called, released;
static char answer[64];

static void on_done(void *userdata, codex_pending *pending) {
    const char *text = NULL;
    CHECK(codex_pending_result(pending, &text, NULL) == CODEX_OK, "result");
    pthread_mutex_lock(&lock);
    snprintf(answer, sizeof answer, "%s", text);
    called += *(int *)userdata;
    pthread_mutex_unlock(&lock);
    codex_pending_free(pending); /* from inside its own callback */
}

static void on_release(void *userdata) {
    (void)userdata;
    pthread_mutex_lock(&lock);
    released++;
    pthread_cond_broadcast(&changed);
    pthread_mutex_unlock(&lock);
}

static void wait_readable(int fd) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    CHECK(poll(&p, 1, 60000) == 1, "the event descriptor stayed quiet");
}

static void on_started(void *userdata, codex_client_starting *starting) {
    codex_client **out = userdata;
    codex_error *err = NULL;
    CHECK_OK(codex_client_starting_finish(starting, out, &err), err);
    codex_client_starting_free(starting); /* from inside its own callback */
    pthread_mutex_lock(&lock);
    released++;
    pthread_cond_broadcast(&changed);
    pthread_mutex_unlock(&lock);
}

/* codex_client_start_async: the descriptor, then the client; then one finished in a callback;
 * a start that fails reports the error; bad arguments. */
static void client_starts(void) {
    codex_error *err = NULL;
    codex_client_starting *starting = NULL;
    EXPECT_INVALID(codex_client_start_async(NULL, NULL, &err), "starting_out");
    EXPECT_INVALID(codex_client_starting_wait(NULL, 0, &err), "starting");
    EXPECT_INVALID(codex_client_starting_finish(NULL, NULL, &err), "starting");
    CHECK(!codex_client_starting_is_done(NULL), "NULL is not done");
    codex_client_starting_free(NULL);

    codex_options *opts = fake_server_options("normal");
    CHECK_OK(codex_client_start_async(opts, &starting, &err), err);
    codex_options_free(opts); /* copied */
    int fd = -1;
    CHECK_OK(codex_client_starting_fd(starting, &fd, &err), err);
    wait_readable(fd);
    CHECK(codex_client_starting_is_done(starting), "done once readable");
    codex_client *client = NULL;
    CHECK_OK(codex_client_starting_finish(starting, &client, &err), err);
    EXPECT_INVALID(codex_client_starting_finish(starting, &client, &err), "taken already");
    codex_client_starting_free(starting);
    char *out = NULL;
    CHECK_OK(codex_client_request(client, "test/echo", "[3]", 0, &out, &err), err);
    CHECK(strcmp(out, "[3]") == 0, "%s", out);
    codex_string_free(out);
    codex_client_free(client);

    /* Finished and freed in its callback. */
    client = NULL;
    released = 0;
    opts = fake_server_options("normal");
    CHECK_OK(codex_client_start_async(opts, &starting, &err), err);
    codex_options_free(opts);
    CHECK_OK(codex_client_starting_set_callback(starting, on_started, &client, NULL, &err), err);
    pthread_mutex_lock(&lock);
    while (released == 0) pthread_cond_wait(&changed, &lock);
    pthread_mutex_unlock(&lock);
    CHECK(client != NULL, "the callback took the client");
    codex_client_free(client);

    /* A failed start. */
    opts = codex_options_new();
    CHECK_OK(codex_options_set_codex_bin(opts, "/nonexistent/codex-async", &err), err);
    CHECK_OK(codex_client_start_async(opts, &starting, &err), err);
    codex_options_free(opts);
    CHECK_OK(codex_client_starting_wait(starting, 60000, &err), err);
    EXPECT(CODEX_ERR_SPAWN, codex_client_starting_finish(starting, &client, &err), "codex");
    EXPECT_INVALID(codex_client_starting_set_callback(starting, NULL, NULL, NULL, &err), "callback");
    codex_client_starting_free(starting);
    released = 0;
}

int main(void) {
    client_starts();
    codex_options *opts = fake_server_options("normal");
    codex_error *err = NULL;
    CHECK_OK(codex_options_set_max_pending_requests(opts, 3, &err), err);
    EXPECT_INVALID(codex_options_set_max_pending_requests(opts, 0, &err), "max");
    EXPECT_INVALID(codex_options_set_max_pending_requests(NULL, 5, &err), "opts");
    codex_client *client = NULL;
    CHECK_OK(codex_client_start(opts, &client, &err), err);
    codex_options_free(opts);
    codex_pending *p = NULL;

    /* Bad arguments. */
    EXPECT_INVALID(codex_client_request_async(NULL, "test/echo", NULL, 0, &p, &err), "client");
    EXPECT_INVALID(codex_client_request_async(client, NULL, NULL, 0, &p, &err), "method");
    EXPECT_INVALID(codex_client_request_async(client, "\xff", NULL, 0, &p, &err), "method");
    EXPECT_INVALID(codex_client_request_async(client, "m", "{nope", 0, &p, &err), "params_json");
    EXPECT_INVALID(codex_client_request_async(client, "m", NULL, -2, &p, &err), "timeout_ms");
    EXPECT_INVALID(codex_client_request_async(client, "m", NULL, 0, NULL, &err), "pending_out");
    EXPECT_INVALID(codex_client_request_async(client, "turn/start", NULL, 0, &p, &err), "method");
    EXPECT_INVALID(codex_client_thread_start_async(client, "[1]", &p, &err), "params_json");
    EXPECT_INVALID(codex_client_thread_start_async(client, NULL, NULL, &err), "pending_out");
    EXPECT_INVALID(codex_client_thread_resume_async(client, NULL, NULL, &p, &err), "thread_id");
    EXPECT_INVALID(codex_client_thread_resume_async(client, "", NULL, &p, &err), "thread_id");
    codex_turn *t = NULL;
    EXPECT_INVALID(codex_turn_start_async(client, NULL, "hi", NULL, &t, &err), "thread_id");
    EXPECT_INVALID(codex_turn_start_async(client, "thr_1", "\xc3", NULL, &t, &err), "input");
    EXPECT_INVALID(codex_turn_start_async_with_callback(client, "thr_1", "hi", NULL, NULL, NULL, NULL, &t, &err),
                   "callback");
    EXPECT_INVALID(codex_pending_wait(NULL, 0, &err), "pending");
    EXPECT_INVALID(codex_pending_result(NULL, NULL, &err), "pending");
    EXPECT_INVALID(codex_pending_watch(NULL, &err), "pending");
    EXPECT_INVALID(codex_pending_set_callback(NULL, on_done, NULL, NULL, &err), "pending");
    CHECK(!codex_pending_is_done(NULL), "NULL is not done");
    codex_pending_free(NULL);
    codex_turn *rt = NULL;
    EXPECT_INVALID(codex_client_next_ready(client, &rt, NULL, &err), "pending_out");
    EXPECT_INVALID(codex_client_next_ready(client, &rt, &p, &err), "event_fd");

    /* A wait, and the result as text and as a document. */
    CHECK_OK(codex_client_request_async(client, "test/echo", "{\"n\":7}", 0, &p, &err), err);
    EXPECT(CODEX_ERR_INVALID_ARGUMENT, codex_pending_wait(p, -5, &err), "timeout_ms");
    CHECK_OK(codex_pending_wait(p, 60000, &err), err);
    CHECK(codex_pending_is_done(p), "done");
    const char *text = NULL;
    CHECK_OK(codex_pending_result(p, &text, &err), err);
    CHECK(strcmp(text, "{\"n\":7}") == 0, "%s", text);
    const codex_json *doc = NULL;
    int64_t n = 0;
    CHECK_OK(codex_pending_result_json(p, &doc, &err), err);
    CHECK_OK(codex_json_get_int(doc, "/n", &n, &err), err);
    CHECK(n == 7, "n");
    codex_pending_free(p);

    /* A server error is the request's own. */
    CHECK_OK(codex_client_request_async(client, "no/such", NULL, 0, &p, &err), err);
    CHECK_OK(codex_pending_wait(p, 60000, &err), err);
    EXPECT(CODEX_ERR_RPC, codex_pending_result(p, &text, &err), "no/such");
    codex_pending_free(p);

    /* A callback that frees its own pending request; userdata_free runs once, after it. */
    static int one = 1;
    CHECK_OK(codex_client_request_async(client, "test/echo", "[\"cb\"]", 0, &p, &err), err);
    CHECK_OK(codex_pending_set_callback(p, on_done, &one, on_release, &err), err);
    pthread_mutex_lock(&lock);
    while (released == 0) pthread_cond_wait(&changed, &lock);
    CHECK(called == 1 && strcmp(answer, "[\"cb\"]") == 0, "called %d: %s", called, answer);
    pthread_mutex_unlock(&lock);

    /* Freed before its answer: forgotten; the late answer is dropped. */
    CHECK_OK(codex_client_thread_start_async(client, "{\"fakeHold\":true}", &p, &err), err);
    CHECK(!codex_pending_is_done(p), "held");
    EXPECT(CODEX_ERR_TIMEOUT, codex_pending_wait(p, 0, &err), "no response");
    codex_pending_free(p);
    char *out = NULL;
    CHECK_OK(codex_client_request(client, "test/release_held", NULL, 0, &out, &err), err);
    CHECK(strcmp(out, "{\"released\":1}") == 0, "%s", out);
    codex_string_free(out);

    /* Through the event descriptor: a thread start, then its turn, neither waited for. */
    int fd = -1;
    CHECK_OK(codex_client_event_fd(client, &fd, &err), err);
    CHECK_OK(codex_client_thread_start_async(client, NULL, &p, &err), err);
    CHECK_OK(codex_pending_watch(p, &err), err);
    EXPECT_INVALID(codex_pending_watch(p, &err), "reported already");
    codex_turn *turn = NULL;
    int ended = 0;
    while (!ended) {
        wait_readable(fd);
        codex_turn *ready = NULL;
        codex_pending *done = NULL;
        while (codex_client_next_ready(client, &ready, &done, NULL) == CODEX_OK) {
            if (done) {
                CHECK(done == p && turn == NULL, "our start, once");
                const char *thread = NULL;
                CHECK_OK(codex_pending_result_json(done, &doc, &err), err);
                CHECK_OK(codex_json_get_string(doc, "/thread/id", &thread, NULL, &err), err);
                CHECK_OK(codex_turn_start_async(client, thread, "hi", NULL, &turn, &err), err);
                codex_pending_free(done);
            } else if (ready) {
                CHECK(ready == turn, "our turn");
                codex_event *ev = NULL;
                codex_result rc;
                while ((rc = codex_turn_next_event(turn, 0, &ev, NULL)) == CODEX_OK) codex_event_free(ev);
                ended = rc == CODEX_STREAM_END;
            } else {
                codex_event *ev = NULL;
                while (codex_client_next_event(client, 0, &ev, NULL) == CODEX_OK) codex_event_free(ev);
            }
        }
    }
    CHECK(codex_turn_id(turn)[0] != '\0', "the turn learnt its id");
    /* Steer and interrupt without waiting: a turn held after its first delta. */
    codex_pending *ctl = NULL;
    EXPECT_INVALID(codex_turn_steer_async(NULL, "x", &ctl, &err), "turn");
    EXPECT_INVALID(codex_turn_steer_async(turn, NULL, &ctl, &err), "input");
    EXPECT_INVALID(codex_turn_interrupt_async(turn, NULL, &err), "pending_out");
    const char *thread_of = codex_turn_thread_id(turn);
    codex_turn *held = NULL;
    CHECK_OK(codex_turn_start(client, thread_of, "stop hold-after:1", NULL, &held, &err), err);
    for (;;) {
        codex_event *ev = NULL;
        CHECK_OK(codex_turn_next_event(held, 60000, &ev, &err), err);
        int delta = codex_event_kind(ev) == CODEX_EVENT_AGENT_MESSAGE_DELTA;
        codex_event_free(ev);
        if (delta) break;
    }
    CHECK_OK(codex_turn_steer_async(held, "more", &ctl, &err), err);
    CHECK_OK(codex_pending_wait(ctl, 60000, &err), err);
    CHECK_OK(codex_pending_result(ctl, &text, &err), err);
    codex_pending_free(ctl);
    CHECK_OK(codex_turn_interrupt_async(held, &ctl, &err), err);
    CHECK_OK(codex_pending_wait(ctl, 60000, &err), err);
    codex_pending_free(ctl);
    codex_turn_free(held);
    codex_turn_free(turn);

    /* The bound (3): the fourth start is refused, nothing sent. */
    codex_pending *hang[3];
    for (int i = 0; i < 3; i++) CHECK_OK(codex_client_request_async(client, "test/hang", NULL, -1, &hang[i], &err), err);
    EXPECT(CODEX_ERR_TOO_MANY_PENDING, codex_client_request_async(client, "test/hang", NULL, -1, &p, &err),
           "codex_options_set_max_pending_requests");
    CHECK(strcmp(codex_result_name(CODEX_ERR_TOO_MANY_PENDING), "CODEX_ERR_TOO_MANY_PENDING") == 0, "name");
    codex_pending_free(hang[0]);
    CHECK_OK(codex_client_request_async(client, "test/hang", NULL, -1, &hang[0], &err), err);
    /* Close fails those in flight with CODEX_ERR_CLOSED. */
    codex_client_close(client);
    for (int i = 0; i < 3; i++) {
        CHECK_OK(codex_pending_wait(hang[i], 60000, &err), err);
        EXPECT(CODEX_ERR_CLOSED, codex_pending_result(hang[i], &text, &err), "closed");
        codex_pending_free(hang[i]);
    }
    codex_client_free(client);
    printf("async_test: ok\n");
    return 0;
}
