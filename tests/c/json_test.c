/* Reading the protocol by JSON Pointer (codex_json_*), with no JSON library: every getter on a
 * parsed document, misses and wrong types told apart, bad input answered with a clear error;
 * then the documents the library lends — an event's params, a server request's, a turn
 * result's items and usage — and a request's result (codex_client_request_json), against the
 * scripted fake. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <string.h>
#include "test_util.h"

static void expect_code(codex_result rc, codex_error *err, codex_result want, const char *names) {
    CHECK(rc == want, "expected %s, got %s", codex_result_name(want), codex_result_name(rc));
    CHECK(err != NULL && codex_error_code(err) == want, "error object with the code");
    CHECK(strstr(codex_error_message(err), names) != NULL, "message \"%s\" does not name %s",
          codex_error_message(err), names);
    codex_error_free(err);
}

#define EXPECT(call, want, names)          \
    do {                                   \
        codex_error *err = NULL;           \
        codex_result rc_ = (call);         \
        expect_code(rc_, err, want, names); \
    } while (0)

static const char *string_at(const codex_json *json, const char *pointer) {
    const char *value = NULL;
    codex_error *err = NULL;
    CHECK_OK(codex_json_get_string(json, pointer, &value, NULL, &err), err);
    return value;
}

static int64_t int_at(const codex_json *json, const char *pointer) {
    int64_t value = 0;
    codex_error *err = NULL;
    CHECK_OK(codex_json_get_int(json, pointer, &value, &err), err);
    return value;
}

static void getters_on_a_parsed_document(void) {
    const char *text =
        "{\"s\":\"a\\\"b\\u0000c\\u00e9\",\"n\":-42,\"f\":2.5,\"big\":1e400,\"t\":true,"
        "\"z\":null,\"a\":[1,{\"k\":\"v\"}],\"a/b\":1,\"m~n\":2}";
    codex_json *doc = NULL;
    codex_error *err = NULL;
    CHECK_OK(codex_json_parse(text, &doc, &err), err);

    const char *s = NULL;
    size_t len = 0;
    CHECK_OK(codex_json_get_string(doc, "/s", &s, &len, &err), err);
    CHECK(len == 7 && memcmp(s, "a\"b\0c\xc3\xa9", 8) == 0, "decoded string with a NUL");
    const char *again = NULL;
    CHECK_OK(codex_json_get_string(doc, "/s", &again, NULL, &err), err);
    CHECK(again == s, "the same pointer lends the same string");

    CHECK(int_at(doc, "/n") == -42, "int");
    double f = 0;
    CHECK_OK(codex_json_get_double(doc, "/f", &f, &err), err);
    CHECK(f == 2.5, "double");
    bool t = false;
    CHECK_OK(codex_json_get_bool(doc, "/t", &t, &err), err);
    CHECK(t, "bool");
    size_t n = 0;
    CHECK_OK(codex_json_get_array_len(doc, "/a", &n, &err), err);
    CHECK(n == 2, "array length %zu", n);
    CHECK(int_at(doc, "/a~1b") == 1 && int_at(doc, "/m~0n") == 2, "~1 and ~0 escapes");

    uint32_t type = 0;
    CHECK_OK(codex_json_get_type(doc, "/z", &type, &err), err);
    CHECK(type == CODEX_JSON_NULL, "null");
    CHECK_OK(codex_json_get_type(doc, "", &type, &err), err);
    CHECK(type == CODEX_JSON_OBJECT, "the whole document");
    const char *raw = NULL;
    CHECK_OK(codex_json_get_raw(doc, "/a/1", &raw, &len, &err), err);
    CHECK(strcmp(raw, "{\"k\":\"v\"}") == 0 && len == 9, "raw: %s", raw);
    const codex_json *sub = NULL;
    CHECK_OK(codex_json_get_json(doc, "/a/1", &sub, &err), err);
    CHECK(strcmp(string_at(sub, "/k"), "v") == 0, "sub-document");
    codex_json_free((codex_json *)sub); /* lent: ignored, its parent frees it */

    /* Absent and wrong type are distinct codes; the out-parameter stays untouched. */
    int64_t untouched = 7;
    EXPECT(codex_json_get_int(doc, "/missing", &untouched, &err), CODEX_ERR_NOT_FOUND, "/missing");
    EXPECT(codex_json_get_type(doc, "/a/2", &type, &err), CODEX_ERR_NOT_FOUND, "/a/2");
    EXPECT(codex_json_get_int(doc, "/s/x", &untouched, &err), CODEX_ERR_NOT_FOUND, "/s/x");
    EXPECT(codex_json_get_int(doc, "/s", &untouched, &err), CODEX_ERR_WRONG_TYPE, "string");
    EXPECT(codex_json_get_int(doc, "/f", &untouched, &err), CODEX_ERR_WRONG_TYPE, "int64");
    EXPECT(codex_json_get_int(doc, "/big", &untouched, &err), CODEX_ERR_WRONG_TYPE, "int64");
    CHECK(untouched == 7, "out-parameter written on failure");
    EXPECT(codex_json_get_string(doc, "/n", &s, NULL, &err), CODEX_ERR_WRONG_TYPE, "number");
    EXPECT(codex_json_get_bool(doc, "/z", &t, &err), CODEX_ERR_WRONG_TYPE, "null");
    EXPECT(codex_json_get_array_len(doc, "/s", &n, &err), CODEX_ERR_WRONG_TYPE, "array");
    EXPECT(codex_json_get_double(doc, "/t", &f, &err), CODEX_ERR_WRONG_TYPE, "boolean");

    /* Bad input: NULL, invalid UTF-8, pointers that are not RFC 6901, text that is no JSON. */
    const char bad_utf8[] = {'/', (char)0xff, 0};
    EXPECT(codex_json_get_int(NULL, "/n", &untouched, &err), CODEX_ERR_INVALID_ARGUMENT, "json");
    EXPECT(codex_json_get_int(doc, NULL, &untouched, &err), CODEX_ERR_INVALID_ARGUMENT, "pointer");
    EXPECT(codex_json_get_int(doc, bad_utf8, &untouched, &err), CODEX_ERR_INVALID_ARGUMENT, "UTF-8");
    EXPECT(codex_json_get_int(doc, "n", &untouched, &err), CODEX_ERR_INVALID_ARGUMENT, "'/'");
    EXPECT(codex_json_get_int(doc, "/m~2n", &untouched, &err), CODEX_ERR_INVALID_ARGUMENT, "'~'");
    EXPECT(codex_json_get_int(doc, "/n", NULL, &err), CODEX_ERR_INVALID_ARGUMENT, "value_out");
    EXPECT(codex_json_get_string(doc, "/s", NULL, NULL, &err), CODEX_ERR_INVALID_ARGUMENT, "value_out");
    EXPECT(codex_json_get_raw(doc, "/s", NULL, NULL, &err), CODEX_ERR_INVALID_ARGUMENT, "value_out");
    EXPECT(codex_json_get_json(doc, "/a", NULL, &err), CODEX_ERR_INVALID_ARGUMENT, "json_out");
    EXPECT(codex_json_get_type(doc, "/a", NULL, &err), CODEX_ERR_INVALID_ARGUMENT, "type_out");
    EXPECT(codex_json_get_array_len(doc, "/a", NULL, &err), CODEX_ERR_INVALID_ARGUMENT, "len_out");
    EXPECT(codex_json_get_bool(doc, "/t", NULL, &err), CODEX_ERR_INVALID_ARGUMENT, "value_out");
    EXPECT(codex_json_get_double(doc, "/f", NULL, &err), CODEX_ERR_INVALID_ARGUMENT, "value_out");
    codex_json *none = NULL;
    EXPECT(codex_json_parse("{\"a\":", &none, &err), CODEX_ERR_INVALID_ARGUMENT, "invalid JSON");
    EXPECT(codex_json_parse(bad_utf8, &none, &err), CODEX_ERR_INVALID_ARGUMENT, "UTF-8");
    EXPECT(codex_json_parse(NULL, &none, &err), CODEX_ERR_INVALID_ARGUMENT, "text");
    EXPECT(codex_json_parse("{}", NULL, &err), CODEX_ERR_INVALID_ARGUMENT, "json_out");
    CHECK(none == NULL, "nothing written on failure");
    CHECK(strcmp(codex_result_name(CODEX_ERR_NOT_FOUND), "CODEX_ERR_NOT_FOUND") == 0 &&
              strcmp(codex_result_name(CODEX_ERR_WRONG_TYPE), "CODEX_ERR_WRONG_TYPE") == 0,
          "result names");
    codex_json_free(doc);
    codex_json_free(NULL);
    CHECK(codex_event_json(NULL) == NULL && codex_request_json(NULL) == NULL &&
              codex_turn_result_items(NULL) == NULL && codex_turn_result_usage(NULL) == NULL,
          "views of NULL handles");
}

static void documents_the_library_lends(void) {
    codex_error *err = NULL;
    codex_options *opts = fake_server_options("normal");
    codex_client *client = NULL;
    CHECK_OK(codex_client_start(opts, &client, &err), err);
    codex_options_free(opts);

    /* A request's result as a document: escapes, quotes, backslashes, non-ASCII round-trip. */
    const char *path = "C:\\dir \"q\" \xc3\xa9\xe2\x82\xac";
    codex_json *echo = NULL;
    CHECK_OK(codex_client_request_json(client, "test/echo",
                                       "{\"path\":\"C:\\\\dir \\\"q\\\" \xc3\xa9\xe2\x82\xac\"}",
                                       0, &echo, &err), err);
    CHECK(strcmp(string_at(echo, "/path"), path) == 0, "echoed path: %s", string_at(echo, "/path"));
    codex_json_free(echo);
    EXPECT(codex_client_request_json(client, "test/echo", "{", 0, &echo, &err),
           CODEX_ERR_INVALID_ARGUMENT, "params_json");
    EXPECT(codex_client_request_json(client, "test/echo", NULL, 0, NULL, &err),
           CODEX_ERR_INVALID_ARGUMENT, "json_out");

    char *thread_id = NULL;
    CHECK_OK(codex_client_thread_start(client, NULL, &thread_id, NULL, &err), err);

    /* Events: read their params by pointer. */
    codex_turn *turn = NULL;
    CHECK_OK(codex_turn_start(client, thread_id, "deltas=2", NULL, &turn, &err), err);
    int items = 0, usage = 0;
    for (;;) {
        codex_event *ev = NULL;
        codex_result rc = codex_turn_next_event(turn, 60000, &ev, &err);
        if (rc == CODEX_STREAM_END) break;
        CHECK_OK(rc, err);
        const codex_json *params = codex_event_json(ev);
        CHECK(params != NULL && params == codex_event_json(ev), "one document per event");
        if (codex_event_kind(ev) == CODEX_EVENT_ITEM_COMPLETED) {
            CHECK(strcmp(string_at(params, "/item/type"), "agentMessage") == 0, "item type");
            CHECK(strcmp(string_at(params, "/item/phase"), "final_answer") == 0, "phase");
            CHECK(strcmp(string_at(params, "/turnId"), codex_turn_id(turn)) == 0, "turn id");
            items++;
        } else if (codex_event_kind(ev) == CODEX_EVENT_TOKEN_USAGE) {
            CHECK(int_at(params, "/tokenUsage/total/totalTokens") == 8, "total tokens");
            usage++;
        }
        codex_event_free(ev);
    }
    CHECK(items == 1 && usage == 1, "items %d, usage %d", items, usage);
    codex_turn_free(turn);

    /* A turn result's items and usage. */
    CHECK_OK(codex_turn_start(client, thread_id, "deltas=3", NULL, &turn, &err), err);
    codex_turn_result *result = NULL;
    CHECK_OK(codex_turn_run(turn, 60000, &result, &err), err);
    const codex_json *list = codex_turn_result_items(result);
    size_t n = 0;
    CHECK_OK(codex_json_get_array_len(list, "", &n, &err), err);
    CHECK(n == 1, "one item, got %zu", n);
    const codex_json *item = NULL;
    CHECK_OK(codex_json_get_json(list, "/0", &item, &err), err);
    CHECK(strcmp(string_at(item, "/text"), codex_turn_result_final_answer(result)) == 0,
          "the item's text is the final answer");
    const codex_json *used = codex_turn_result_usage(result);
    CHECK(used != NULL && int_at(used, "/last/inputTokens") == 5, "usage");
    codex_turn_result_free(result);
    codex_turn_free(turn);
    codex_string_free(thread_id);
    codex_client_close(client);
    codex_client_free(client);

    /* A server request's params. */
    opts = fake_server_options("approval");
    CHECK_OK(codex_client_start(opts, &client, &err), err);
    codex_options_free(opts);
    CHECK_OK(codex_client_thread_start(client, NULL, &thread_id, NULL, &err), err);
    CHECK_OK(codex_turn_start(client, thread_id, "run it", NULL, &turn, &err), err);
    int asked = 0;
    for (;;) {
        codex_event *ev = NULL;
        codex_result rc = codex_turn_next_event(turn, 60000, &ev, &err);
        if (rc == CODEX_STREAM_END) break;
        CHECK_OK(rc, err);
        if (codex_event_kind(ev) == CODEX_EVENT_SERVER_REQUEST) {
            codex_request *req = NULL;
            CHECK_OK(codex_event_request(ev, &req, &err), err);
            const codex_json *params = codex_request_json(req);
            if (strcmp(codex_request_method(req), "item/commandExecution/requestApproval") == 0) {
                CHECK(strcmp(string_at(params, "/command"), "echo hi") == 0, "command");
                CHECK(strcmp(string_at(params, "/cwd"), "/tmp") == 0, "cwd");
                size_t decisions = 0;
                CHECK_OK(codex_json_get_array_len(params, "/availableDecisions", &decisions, &err),
                         err);
                CHECK(decisions == 3, "decisions");
                CHECK_OK(codex_request_approve(req, CODEX_DECISION_ACCEPT, &err), err);
                asked++;
            } else {
                CHECK_OK(codex_request_respond(req, "{}", &err), err);
            }
            codex_request_free(req);
        }
        codex_event_free(ev);
    }
    CHECK(asked == 1, "one approval");
    codex_turn_free(turn);
    codex_string_free(thread_id);
    codex_client_close(client);
    codex_client_free(client);
}

int main(void) {
    getters_on_a_parsed_document();
    documents_the_library_lends();
    printf("json_test: ok\n");
    return 0;
}
