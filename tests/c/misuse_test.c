/* Issue 24, items 5 and 7, from C: options that size a resource are bounded (a clear
 * CODEX_ERR_INVALID_ARGUMENT beyond the bound), and every function that takes JSON applies
 * one rule: a lone surrogate or nesting past the limit is refused by codex_client_request as
 * by codex_client_thread_start, before anything is sent. Run under valgrind by `make test`. */
#include <stdint.h>
#include <string.h>
#include "test_util.h"

/* The error is read after the call wrote it (a pointer: argument order is unspecified). */
static void refused(codex_result rc, codex_error **err, const char *what) {
    CHECK(rc == CODEX_ERR_INVALID_ARGUMENT, "%s: %s", what, codex_result_name(rc));
    CHECK(*err != NULL && strlen(codex_error_message(*err)) > 0, "%s: a message", what);
    codex_error_free(*err);
    *err = NULL;
}

int main(void) {
    codex_error *err = NULL;
    codex_options *opts = fake_server_options("normal");
    refused(codex_options_set_callback_threads(opts, 100000, &err), &err, "callback threads");
    CHECK_OK(codex_options_set_callback_threads(opts, CODEX_MAX_CALLBACK_THREADS, &err), err);
    CHECK_OK(codex_options_set_callback_threads(opts, 2, &err), err);
    refused(codex_options_set_turn_buffer_events(opts, (size_t)CODEX_MAX_BUFFERED_EVENTS + 1, &err), &err, "turn buffer");
    refused(codex_options_set_client_event_capacity(opts, (size_t)CODEX_MAX_BUFFERED_EVENTS + 1, &err), &err, "capacity");
    refused(codex_options_set_max_line_bytes(opts, (size_t)CODEX_MAX_LINE_BYTES + 1, &err), &err, "line bytes");
    refused(codex_options_set_request_timeout_ms(opts, INT64_MAX, &err), &err, "request timeout");
    codex_client *client = NULL;
    CHECK_OK(codex_client_start(opts, &client, &err), err);
    codex_options_free(opts);

    const char *surrogate = "{\"a\":\"\\ud800\"}";
    char *out = NULL;
    refused(codex_client_request(client, "test/echo", surrogate, 0, &out, &err), &err, "request, lone surrogate");
    refused(codex_client_thread_start(client, surrogate, &out, NULL, &err), &err, "thread_start, lone surrogate");
    enum { DEEP = 100000 };
    char *deep = malloc(2 * DEEP + 1);
    memset(deep, '[', DEEP);
    memset(deep + DEEP, ']', DEEP);
    deep[2 * DEEP] = 0;
    refused(codex_client_request(client, "test/echo", deep, 0, &out, &err), &err, "request, deep");
    free(deep);
    refused(codex_client_request(client, "test/echo", "{}", INT64_MAX, &out, &err), &err, "timeout");
    /* What passes the check still goes through. */
    CHECK_OK(codex_client_request(client, "test/echo", "{\"a\":\"\\ud83d\\ude00\"}", 0, &out, &err), err);
    codex_string_free(out);
    /* A live handle of another type is refused after reading only its first word (the tag is
     * first in every handle type; valgrind in `make test` reports a read past the block). */
    codex_error *an_error = NULL;
    CHECK(codex_client_request(client, NULL, "{}", 0, &out, &an_error) == CODEX_ERR_INVALID_ARGUMENT, "NULL method");
    refused(codex_turn_interrupt((codex_turn *)an_error, &err), &err, "an error as a turn");
    codex_error_free(an_error);
    codex_options *tiny = codex_options_new();
    refused(codex_turn_interrupt((codex_turn *)tiny, &err), &err, "an options handle as a turn");
    refused(codex_turn_interrupt((codex_turn *)client, &err), &err, "a client handle as a turn");
    codex_options_free((codex_options *)client); /* ignored: not options */
    codex_options_free(tiny);
    codex_client_close(client);
    codex_client_free(client);
    printf("misuse_test: bounds and the JSON rule hold\n");
    return 0;
}
