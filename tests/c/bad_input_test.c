/* Bad input from C gets CODEX_ERR_INVALID_ARGUMENT with a message naming the argument —
 * never a crash — and nothing is sent for it. Also: JSON-RPC errors carry code and data,
 * -32001 has its own code, timeouts, a second turn on a busy thread, and close waking a
 * blocked call. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <pthread.h>
#include <string.h>
#include "test_util.h"

static void expect_invalid(codex_result rc, codex_error *err, const char *names) {
    CHECK(rc == CODEX_ERR_INVALID_ARGUMENT, "expected CODEX_ERR_INVALID_ARGUMENT, got %s",
          codex_result_name(rc));
    CHECK(err != NULL, "no error object");
    CHECK(codex_error_code(err) == CODEX_ERR_INVALID_ARGUMENT, "error code");
    CHECK(strstr(codex_error_message(err), names) != NULL, "message \"%s\" does not name %s",
          codex_error_message(err), names);
    codex_error_free(err);
}

/* `call` writes the error to the `err` declared here (shadowing any outer one). */
#define EXPECT_INVALID(call, names)                 \
    do {                                            \
        codex_error *err = NULL;                    \
        codex_result rc_ = (call);                  \
        expect_invalid(rc_, err, names);            \
    } while (0)

/* Closes the client once the fake says it holds the blocked request (test/hang_notify sends
 * a test/hanging notification when it gets the request): the request is then surely pending. */
static void *close_when_request_pending(void *client) {
    for (;;) {
        codex_event *ev = NULL;
        codex_error *err = NULL;
        CHECK_OK(codex_client_next_event(client, 60000, &ev, &err), err);
        int pending = strcmp(codex_event_method(ev), "test/hanging") == 0;
        codex_event_free(ev);
        if (pending) break;
    }
    codex_client_close(client);
    return NULL;
}

int main(void) {
    codex_error *err = NULL;
    codex_client *client = NULL;
    char *out = NULL;
    const char bad_utf8[] = {'t', 'h', (char)0xff, 0};

    /* Options. */
    EXPECT_INVALID(codex_options_set_codex_bin(NULL, "x", &err), "opts");
    codex_options *opts = codex_options_new();
    EXPECT_INVALID(codex_options_set_codex_bin(opts, NULL, &err), "path");
    EXPECT_INVALID(codex_options_set_codex_bin(opts, bad_utf8, &err), "UTF-8");
    EXPECT_INVALID(codex_options_add_config(opts, "no-equals", &err), "key=value");
    EXPECT_INVALID(codex_options_set_request_timeout_ms(opts, -5, &err), "timeout_ms");
    EXPECT_INVALID(codex_options_set_client_event_capacity(opts, 0, &err), "capacity");
    EXPECT_INVALID(codex_options_set_env(opts, "A=B", "x", &err), "name");
    EXPECT_INVALID(codex_options_set_control_timeout_ms(opts, 0, &err), "timeout_ms");
    EXPECT_INVALID(codex_options_set_turn_idle_timeout_ms(opts, -1, &err), "timeout_ms");
    EXPECT_INVALID(codex_options_set_reconnect_window_ms(NULL, 1000, &err), "opts");
    EXPECT_INVALID(codex_options_set_reconnect_window_ms(opts, -1, &err), "window_ms");
    EXPECT_INVALID(codex_options_set_reconnect_window_ms(opts, 2147483648LL, &err), "window_ms");
    CHECK_OK(codex_options_set_reconnect_window_ms(opts, 0, &err), err);
    EXPECT_INVALID(codex_options_set_turn_buffer_events(NULL, 10, &err), "opts");
    EXPECT_INVALID(codex_options_set_callback_threads(opts, 0, &err), "threads");
    EXPECT_INVALID(codex_options_set_max_line_bytes(NULL, 10, &err), "opts");
    /* Remote URLs and their settings. */
    EXPECT_INVALID(codex_options_set_url(NULL, "ws://127.0.0.1:1", &err), "opts");
    EXPECT_INVALID(codex_options_set_url(opts, NULL, &err), "url");
    EXPECT_INVALID(codex_options_set_url(opts, "127.0.0.1:4500", &err), "no scheme");
    EXPECT_INVALID(codex_options_set_url(opts, "ws://host:0", &err), "port");
    EXPECT_INVALID(codex_options_set_url(opts, "unix://relative.sock", &err), "absolute");
    EXPECT_INVALID(codex_options_set_auth_token(opts, "", &err), "token");
    EXPECT_INVALID(codex_options_set_ca_file(opts, "/nonexistent/ca.pem", &err), "ca_file");
    EXPECT_INVALID(codex_options_set_connect_timeout_ms(opts, 0, &err), "timeout_ms");
    EXPECT_INVALID(codex_options_set_start_timeout_ms(opts, 0, &err), "timeout_ms");
    EXPECT_INVALID(codex_options_set_start_timeout_ms(opts, 3600001, &err), "an hour");
    CHECK_OK(codex_options_set_start_timeout_ms(opts, 3600000, &err), err);
    EXPECT_INVALID(codex_options_set_keepalive_ms(opts, -1, 1000, &err), "interval_ms");
    /* A codex binary with a remote URL is refused at start, naming the conflict. */
    codex_options *remote = codex_options_new();
    CHECK_OK(codex_options_set_url(remote, "ws://127.0.0.1:9", &err), err);
    CHECK_OK(codex_options_set_codex_bin(remote, "/bin/codex", &err), err);
    EXPECT_INVALID(codex_client_start(remote, &client, &err), "codex binary");
    codex_options_free(remote);
    /* A missing binary is a spawn error naming it. */
    CHECK_OK(codex_options_set_codex_bin(opts, "/nonexistent/codex", &err), err);
    CHECK(codex_client_start(opts, &client, &err) == CODEX_ERR_SPAWN, "spawn error");
    CHECK(strstr(codex_error_message(err), "/nonexistent/codex") != NULL, "%s", codex_error_message(err));
    codex_error_free(err), err = NULL;
    codex_options_free(opts);
    EXPECT_INVALID(codex_client_start(NULL, NULL, &err), "client_out");

    /* Without a path in the options: $CODEX_BIN, then codex on PATH; the error names both. */
    test_unsetenv("CODEX_BIN");
    opts = codex_options_new();
    CHECK_OK(codex_options_set_env(opts, "PATH", "/nonexistent-dir", &err), err);
    CHECK(codex_client_start(opts, &client, &err) == CODEX_ERR_SPAWN, "no codex anywhere");
    CHECK(strstr(codex_error_message(err), "CODEX_BIN is unset") &&
          strstr(codex_error_message(err), "/nonexistent-dir"), "%s", codex_error_message(err));
    codex_error_free(err), err = NULL;
    codex_options_free(opts);
    test_setenv("CODEX_BIN", getenv("CODEX_FAKE_SERVER"));
    CHECK_OK(codex_client_start(NULL, &client, &err), err); /* found through $CODEX_BIN */
    codex_client_free(client), client = NULL;
    test_unsetenv("CODEX_BIN");
    CHECK(codex_client_start(NULL, NULL, NULL) == CODEX_ERR_INVALID_ARGUMENT, "err_out may be NULL");

    opts = fake_server_options("normal");
    CHECK_OK(codex_options_set_env(opts, "FAKE_DELTAS", "3", &err), err);
    CHECK_OK(codex_client_start(opts, &client, &err), err);
    codex_options_free(opts);
    CHECK(strstr(codex_client_initialize_result(client), "userAgent") != NULL, "initialize result");

    /* Requests. */
    EXPECT_INVALID(codex_client_request(NULL, "m", NULL, 0, &out, &err), "client");
    EXPECT_INVALID(codex_client_request(client, NULL, NULL, 0, &out, &err), "method");
    EXPECT_INVALID(codex_client_request(client, bad_utf8, NULL, 0, &out, &err), "method");
    EXPECT_INVALID(codex_client_request(client, "test/echo", "{\"a\":", 0, &out, &err), "params_json");
    EXPECT_INVALID(codex_client_request(client, "test/echo", "42", 0, &out, &err), "params_json");
    EXPECT_INVALID(codex_client_request(client, "test/echo", "{}", -7, &out, &err), "timeout_ms");
    EXPECT_INVALID(codex_client_request(client, "turn/start", "{}", 0, &out, &err), "codex_turn_start");
    EXPECT_INVALID(codex_client_request(client, "test/echo", "{}", 0, NULL, &err), "result_out");
    codex_options *not_a_client = codex_options_new();
    EXPECT_INVALID(codex_client_request((codex_client *)not_a_client, "m", NULL, 0, &out, &err), "codex_client");
    codex_options_free(not_a_client);
    CHECK(out == NULL, "out written on failure");

    CHECK_OK(codex_client_request(client, "test/echo", "{\"x\":[1,2]}", 0, &out, &err), err);
    CHECK(strcmp(out, "{\"x\":[1,2]}") == 0, "echo: %s", out);
    codex_string_free(out), out = NULL;

    /* JSON-RPC errors. */
    int64_t code = 0;
    CHECK(codex_client_request(client, "test/error_with_data", "{}", 0, &out, &err) == CODEX_ERR_RPC, "rpc error");
    CHECK(codex_error_rpc_code(err, &code) && code == -32602, "rpc code %lld", (long long)code);
    CHECK(codex_error_data(err) && strstr(codex_error_data(err), "\"field\"") != NULL, "data");
    codex_error_free(err), err = NULL;
    CHECK(codex_client_request(client, "test/overloaded", NULL, 0, &out, &err) == CODEX_ERR_OVERLOADED, "overloaded");
    CHECK(codex_error_rpc_code(err, &code) && code == -32001, "-32001");
    CHECK(codex_error_data(err) == NULL, "no data");
    codex_error_free(err), err = NULL;
    CHECK(codex_client_request(client, "no/such/method", NULL, 0, &out, &err) == CODEX_ERR_RPC, "unknown method");
    CHECK(strstr(codex_error_message(err), "no/such/method") != NULL, "%s", codex_error_message(err));
    codex_error_free(err), err = NULL;
    CHECK(codex_client_request(client, "test/hang", NULL, 100, &out, &err) == CODEX_ERR_TIMEOUT, "timeout");
    codex_error_free(err), err = NULL;

    /* Turns. */
    char *thread_id = NULL;
    CHECK_OK(codex_client_thread_start(client, "{\"cwd\":\"/tmp\"}", &thread_id, NULL, &err), err);
    codex_turn *turn = NULL;
    EXPECT_INVALID(codex_client_thread_start(client, "[1]", &out, NULL, &err), "params_json");
    EXPECT_INVALID(codex_turn_start(client, NULL, "hi", NULL, &turn, &err), "thread_id");
    EXPECT_INVALID(codex_turn_start(client, thread_id, NULL, NULL, &turn, &err), "input");
    EXPECT_INVALID(codex_turn_start(client, thread_id, "hi", "{\"threadId\":\"x\"}", &turn, &err), "threadId");
    EXPECT_INVALID(codex_turn_start(client, thread_id, "hi", "nope", &turn, &err), "params_json");
    CHECK(codex_turn_start(client, "thr_unknown", "hi", NULL, &turn, &err) == CODEX_ERR_RPC, "unknown thread");
    codex_error_free(err), err = NULL;

    /* The fake holds this turn after one delta until it is steered (below), so it is surely
     * still running when the second turn is tried. */
    CHECK_OK(codex_turn_start(client, thread_id, "hi hold-after:1", NULL, &turn, &err), err);
    codex_turn *second = NULL;
    CHECK(codex_turn_start(client, thread_id, "again", NULL, &second, &err) == CODEX_ERR_TURN_ACTIVE, "busy thread");
    CHECK(strstr(codex_error_message(err), codex_turn_id(turn)) != NULL &&
          strstr(codex_error_message(err), "codex_turn_steer") != NULL, "%s", codex_error_message(err));
    codex_error_free(err), err = NULL;
    codex_event *ev = NULL;
    EXPECT_INVALID(codex_turn_next_event(turn, 0, NULL, &err), "event_out");
    EXPECT_INVALID(codex_turn_next_event(NULL, 0, &ev, &err), "turn");
    EXPECT_INVALID(codex_turn_steer(turn, bad_utf8, &err), "input");
    CHECK_OK(codex_turn_steer(turn, "go on", &err), err);

    codex_turn_result *result = NULL;
    CHECK_OK(codex_turn_run(turn, 60000, &result, &err), err);
    CHECK(strcmp(codex_turn_result_status(result), "completed") == 0, "status");
    CHECK(codex_turn_result_final_answer(result) != NULL, "final answer");
    CHECK(codex_turn_result_usage_json(result) != NULL, "usage");
    CHECK(!codex_turn_result_gap(result), "no gap: nothing dropped");
    codex_turn_result_free(result);
    CHECK(codex_turn_next_event(turn, 0, &ev, &err) == CODEX_STREAM_END, "ended");
    codex_turn_free(turn);
    /* The thread takes a new turn once the first completed. */
    CHECK_OK(codex_turn_start(client, thread_id, "again", NULL, &second, &err), err);
    codex_turn_free(second); /* freed while running: its events go to the client stream */

    /* Event accessors tolerate NULL. */
    CHECK(codex_event_method(NULL) == NULL && codex_event_kind(NULL) == CODEX_EVENT_OTHER, "NULL event");
    CHECK(codex_error_message(NULL) == NULL, "NULL error");
    CHECK(!codex_turn_result_gap(NULL), "NULL result: no gap");

    /* Close wakes a blocked request. */
    pthread_t closer;
    pthread_create(&closer, NULL, close_when_request_pending, client);
    CHECK(codex_client_request(client, "test/hang_notify", NULL, -1, &out, &err) == CODEX_ERR_CLOSED, "close wakes");
    codex_error_free(err), err = NULL;
    pthread_join(closer, NULL);
    codex_client_close(client); /* idempotent */
    CHECK(codex_client_request(client, "test/echo", "{}", 0, &out, &err) == CODEX_ERR_CLOSED, "closed");
    codex_error_free(err), err = NULL;
    CHECK(codex_turn_start(client, thread_id, "x", NULL, &turn, &err) == CODEX_ERR_CLOSED, "closed turn start");
    codex_error_free(err), err = NULL;
    codex_string_free(thread_id);
    codex_client_free(client);
    printf("bad_input_test: ok\n");
    return 0;
}
