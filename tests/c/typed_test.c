/* Typed access from C, with no JSON library: the item, usage and failure readers on documents
 * shaped as codex sends them (kinds a newer codex adds read as UNKNOWN), and the builders
 * (codex_input, codex_turn_options, codex_thread_options); every reader and builder given NULL,
 * invalid UTF-8, a dead handle or a value out of range answers CODEX_ERR_INVALID_ARGUMENT
 * naming the argument. Then a turn and a thread started from builders on the scripted fake. */
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

#define EXPECT(call, want, names)           \
    do {                                    \
        codex_error *err = NULL;            \
        codex_result rc_ = (call);          \
        expect_code(rc_, err, want, names); \
    } while (0)

static const char BAD_UTF8[] = {'a', (char)0xff, 0};

static codex_json *parse(const char *text) {
    codex_json *doc = NULL;
    codex_error *err = NULL;
    CHECK_OK(codex_json_parse(text, &doc, &err), err);
    return doc;
}

static void items(void) {
    codex_json *cmd = parse(
        "{\"type\":\"commandExecution\",\"id\":\"c1\",\"status\":\"completed\",\"command\":\"ls \\\"a b\\\"\","
        "\"cwd\":\"/w\",\"exitCode\":2,\"durationMs\":null,\"aggregatedOutput\":\"x\\ny\\n\","
        "\"startedAtMs\":1000,\"completedAtMs\":1250}");
    codex_error *err = NULL;
    uint32_t kind = 99, status = 99;
    CHECK_OK(codex_item_kind(cmd, &kind, &err), err);
    CHECK(kind == CODEX_ITEM_KIND_COMMAND_EXECUTION, "kind %u", kind);
    CHECK_OK(codex_item_status(cmd, &status, &err), err);
    CHECK(status == CODEX_ITEM_STATUS_COMPLETED, "status %u", status);
    const char *s = NULL;
    size_t len = 0;
    CHECK_OK(codex_item_command(cmd, &s, &len, &err), err);
    CHECK(strcmp(s, "ls \"a b\"") == 0 && len == 8, "command %s", s);
    CHECK_OK(codex_item_output(cmd, &s, NULL, &err), err);
    CHECK(strcmp(s, "x\ny\n") == 0, "output");
    CHECK_OK(codex_item_cwd(cmd, &s, NULL, &err), err);
    CHECK(strcmp(s, "/w") == 0, "cwd");
    int64_t n = -1;
    CHECK_OK(codex_item_exit_code(cmd, &n, &err), err);
    CHECK(n == 2, "exit code");
    CHECK_OK(codex_item_completed_at_ms(cmd, &n, &err), err);
    CHECK(n == 1250, "completedAtMs");
    /* null and absent alike are "not found"; out-parameters stay untouched. */
    n = 7;
    EXPECT(codex_item_duration_ms(cmd, &n, &err), CODEX_ERR_NOT_FOUND, "durationMs");
    CHECK(n == 7, "untouched on a miss");
    uint32_t phase = 0;
    EXPECT(codex_item_phase(cmd, &phase, &err), CODEX_ERR_NOT_FOUND, "phase");
    EXPECT(codex_item_text(cmd, &s, NULL, &err), CODEX_ERR_NOT_FOUND, "text");
    codex_json_free(cmd);

    codex_json *wrong = parse("{\"type\":7,\"exitCode\":\"zero\"}");
    EXPECT(codex_item_kind(wrong, &kind, &err), CODEX_ERR_WRONG_TYPE, "type");
    EXPECT(codex_item_exit_code(wrong, &n, &err), CODEX_ERR_WRONG_TYPE, "exitCode");
    codex_json_free(wrong);

    codex_json *newer = parse("{\"type\":\"holodeck\",\"status\":\"dreaming\"}");
    CHECK_OK(codex_item_kind(newer, &kind, &err), err);
    CHECK(kind == CODEX_ITEM_KIND_UNKNOWN, "a newer kind is UNKNOWN");
    CHECK_OK(codex_item_status(newer, &status, &err), err);
    CHECK(status == CODEX_ITEM_STATUS_UNKNOWN, "a newer status is UNKNOWN");
    codex_json_free(newer);

    codex_json *msg = parse(
        "{\"type\":\"agentMessage\",\"id\":\"m\",\"text\":\"hi\",\"phase\":\"commentary\","
        "\"moderation\":{\"moderated\":true,\"display\":{\"mode\":\"block\",\"version\":1}}}");
    uint32_t display = 0;
    CHECK_OK(codex_item_phase(msg, &phase, &err), err);
    CHECK(phase == CODEX_PHASE_COMMENTARY, "phase");
    CHECK_OK(codex_item_moderation(msg, &display, &err), err);
    CHECK(display == CODEX_MODERATION_BLOCK, "moderation");
    codex_json_free(msg);

    codex_json *change = parse(
        "{\"type\":\"fileChange\",\"id\":\"f\",\"status\":\"declined\",\"changes\":["
        "{\"path\":\"/a.txt\",\"kind\":{\"type\":\"add\"},\"diff\":\"+a\\n\"},"
        "{\"path\":\"/b.txt\",\"kind\":{\"type\":\"update\",\"move_path\":null},\"diff\":\"-b\\n+c\\n\"}]}");
    size_t count = 0;
    CHECK_OK(codex_item_change_count(change, &count, &err), err);
    CHECK(count == 2, "two changes");
    CHECK_OK(codex_item_change_path(change, 1, &s, NULL, &err), err);
    CHECK(strcmp(s, "/b.txt") == 0, "path");
    CHECK_OK(codex_item_change_diff(change, 1, &s, NULL, &err), err);
    CHECK(strcmp(s, "-b\n+c\n") == 0, "diff");
    CHECK_OK(codex_item_change_kind(change, 0, &kind, &err), err);
    CHECK(kind == CODEX_CHANGE_ADD, "change kind");
    EXPECT(codex_item_change_kind(change, 2, &kind, &err), CODEX_ERR_NOT_FOUND, "/changes/2");
    codex_json_free(change);
}

static void usage_and_failure(void) {
    const char *breakdown =
        "{\"inputTokens\":10,\"cachedInputTokens\":4,\"outputTokens\":6,\"reasoningOutputTokens\":2,"
        "\"totalTokens\":16}";
    char text[512];
    snprintf(text, sizeof text,
             "{\"threadId\":\"t\",\"turnId\":\"u\",\"tokenUsage\":{\"total\":%s,\"last\":%s,"
             "\"modelContextWindow\":1000}}",
             breakdown, breakdown);
    codex_json *usage = parse(text);
    codex_error *err = NULL;
    codex_token_counts counts = {0, 0, 0, 0, 0};
    CHECK_OK(codex_usage_tokens(usage, CODEX_USAGE_TOTAL, &counts, &err), err);
    CHECK(counts.input == 10 && counts.cached_input == 4 && counts.output == 6 &&
              counts.reasoning_output == 2 && counts.total == 16,
          "counts");
    int64_t window = 0;
    CHECK_OK(codex_usage_context_window(usage, &window, &err), err);
    CHECK(window == 1000, "context window");
    EXPECT(codex_usage_tokens(usage, 3, &counts, &err), CODEX_ERR_INVALID_ARGUMENT, "scope");
    EXPECT(codex_usage_tokens(usage, CODEX_USAGE_LAST, NULL, &err), CODEX_ERR_INVALID_ARGUMENT,
           "counts_out");
    codex_json_free(usage);

    codex_json *failure = parse(
        "{\"error\":{\"message\":\"upstream said no\",\"codexErrorInfo\":"
        "{\"responseStreamConnectionFailed\":{\"httpStatusCode\":503}}},\"willRetry\":false}");
    uint32_t kind = 0;
    int64_t status = 0;
    const char *message = NULL;
    CHECK_OK(codex_failure_kind(failure, &kind, &err), err);
    CHECK(kind == CODEX_FAILURE_RESPONSE_STREAM_CONNECTION_FAILED, "kind %u", kind);
    CHECK_OK(codex_failure_http_status(failure, &status, &err), err);
    CHECK(status == 503, "status");
    CHECK_OK(codex_failure_message(failure, &message, NULL, &err), err);
    CHECK(strcmp(message, "upstream said no") == 0, "message");
    codex_json_free(failure);
    codex_json *plain = parse("{\"message\":\"m\",\"codexErrorInfo\":\"contextWindowExceeded\"}");
    CHECK_OK(codex_failure_kind(plain, &kind, &err), err);
    CHECK(kind == CODEX_FAILURE_CONTEXT_WINDOW_EXCEEDED, "named kind");
    EXPECT(codex_failure_http_status(plain, &status, &err), CODEX_ERR_NOT_FOUND, "HTTP status");
    codex_json_free(plain);
}

static void bad_arguments(void) {
    codex_json *item = parse("{\"type\":\"plan\"}");
    const char *s = NULL;
    uint32_t kind = 0;
    int64_t n = 0;
    size_t count = 0;
    codex_token_counts counts;
    EXPECT(codex_item_kind(NULL, &kind, &err), CODEX_ERR_INVALID_ARGUMENT, "item");
    EXPECT(codex_item_kind(item, NULL, &err), CODEX_ERR_INVALID_ARGUMENT, "kind_out");
    EXPECT(codex_item_id(NULL, &s, NULL, &err), CODEX_ERR_INVALID_ARGUMENT, "item");
    EXPECT(codex_item_command(item, NULL, NULL, &err), CODEX_ERR_INVALID_ARGUMENT, "value_out");
    EXPECT(codex_item_exit_code(item, NULL, &err), CODEX_ERR_INVALID_ARGUMENT, "value_out");
    EXPECT(codex_item_change_count(NULL, &count, &err), CODEX_ERR_INVALID_ARGUMENT, "item");
    EXPECT(codex_item_change_path(item, 0, NULL, NULL, &err), CODEX_ERR_INVALID_ARGUMENT, "value_out");
    EXPECT(codex_usage_tokens(NULL, CODEX_USAGE_TOTAL, &counts, &err), CODEX_ERR_INVALID_ARGUMENT,
           "usage");
    EXPECT(codex_usage_context_window(NULL, &n, &err), CODEX_ERR_INVALID_ARGUMENT, "usage");
    EXPECT(codex_failure_kind(NULL, &kind, &err), CODEX_ERR_INVALID_ARGUMENT, "failure");
    EXPECT(codex_failure_message(item, NULL, NULL, &err), CODEX_ERR_INVALID_ARGUMENT, "value_out");
    EXPECT(codex_request_command(NULL, &s, NULL, &err), CODEX_ERR_INVALID_ARGUMENT, "req");
    EXPECT(codex_request_cwd(NULL, &s, NULL, &err), CODEX_ERR_INVALID_ARGUMENT, "req");
    CHECK(codex_request_kind(NULL) == CODEX_REQUEST_KIND_UNKNOWN, "NULL request");
    CHECK(codex_event_item(NULL) == NULL, "NULL event");
    CHECK(codex_turn_result_error(NULL) == NULL, "NULL result");
    EXPECT(codex_turn_result_item_count(NULL, &count, &err), CODEX_ERR_INVALID_ARGUMENT, "result");
    /* A handle of another type is refused by its tag. */
    codex_input *input = codex_input_new();
    EXPECT(codex_item_kind((const codex_json *)(const void *)input, &kind, &err),
           CODEX_ERR_INVALID_ARGUMENT, "item");
    codex_json_free(item);

    /* Builders. */
    EXPECT(codex_input_add_text(NULL, "x", &err), CODEX_ERR_INVALID_ARGUMENT, "input");
    EXPECT(codex_input_add_text(input, NULL, &err), CODEX_ERR_INVALID_ARGUMENT, "text");
    EXPECT(codex_input_add_text(input, BAD_UTF8, &err), CODEX_ERR_INVALID_ARGUMENT, "text");
    EXPECT(codex_input_add_image_url(input, "", &err), CODEX_ERR_INVALID_ARGUMENT, "url");
    EXPECT(codex_input_add_local_image(input, NULL, &err), CODEX_ERR_INVALID_ARGUMENT, "path");
    EXPECT(codex_input_add_skill(input, "s", BAD_UTF8, &err), CODEX_ERR_INVALID_ARGUMENT, "path");
    EXPECT(codex_input_add_mention(input, NULL, "app://x", &err), CODEX_ERR_INVALID_ARGUMENT, "name");
    codex_turn_options *topts = codex_turn_options_new();
    EXPECT(codex_turn_options_set_model(NULL, "m", &err), CODEX_ERR_INVALID_ARGUMENT, "opts");
    EXPECT(codex_turn_options_set_model(topts, "", &err), CODEX_ERR_INVALID_ARGUMENT, "model");
    EXPECT(codex_turn_options_set_effort(topts, BAD_UTF8, &err), CODEX_ERR_INVALID_ARGUMENT, "effort");
    EXPECT(codex_turn_options_set_summary(topts, "verbose", &err), CODEX_ERR_INVALID_ARGUMENT, "summary");
    EXPECT(codex_turn_options_set_cwd(topts, NULL, &err), CODEX_ERR_INVALID_ARGUMENT, "cwd");
    EXPECT(codex_turn_options_set_sandbox(topts, "readonly", &err), CODEX_ERR_INVALID_ARGUMENT, "sandbox");
    EXPECT(codex_turn_options_set_approval_policy(topts, "sometimes", &err), CODEX_ERR_INVALID_ARGUMENT,
           "approval_policy");
    EXPECT(codex_turn_options_set_personality(topts, "grumpy", &err), CODEX_ERR_INVALID_ARGUMENT,
           "personality");
    EXPECT(codex_turn_options_set_service_tier(topts, "", &err), CODEX_ERR_INVALID_ARGUMENT, "service_tier");
    EXPECT(codex_turn_options_set_output_schema(topts, "{\"type\":", &err), CODEX_ERR_INVALID_ARGUMENT,
           "schema_json");
    EXPECT(codex_turn_options_set_output_schema(topts, "[1]", &err), CODEX_ERR_INVALID_ARGUMENT,
           "schema_json");
    codex_thread_options *thopts = codex_thread_options_new();
    EXPECT(codex_thread_options_set_sandbox(thopts, "all", &err), CODEX_ERR_INVALID_ARGUMENT, "sandbox");
    EXPECT(codex_thread_options_set_cwd(thopts, BAD_UTF8, &err), CODEX_ERR_INVALID_ARGUMENT, "cwd");
    EXPECT(codex_thread_options_set_base_instructions(thopts, NULL, &err), CODEX_ERR_INVALID_ARGUMENT,
           "text");
    EXPECT(codex_thread_options_set_ephemeral(NULL, true, &err), CODEX_ERR_INVALID_ARGUMENT, "opts");
    EXPECT(codex_thread_options_set_config(thopts, "", "1", &err), CODEX_ERR_INVALID_ARGUMENT, "key");
    EXPECT(codex_thread_options_set_config(thopts, "k", "nope", &err), CODEX_ERR_INVALID_ARGUMENT,
           "value_json");
    /* Starting needs a client, an input with items, and options of the right type. */
    codex_turn *turn = NULL;
    char *thread_id = NULL;
    EXPECT(codex_turn_start_with(NULL, "t", input, topts, NULL, &turn, &err), CODEX_ERR_INVALID_ARGUMENT,
           "client");
    EXPECT(codex_client_thread_start_with(NULL, thopts, NULL, &thread_id, NULL, &err),
           CODEX_ERR_INVALID_ARGUMENT, "client");
    char *json = NULL;
    EXPECT(codex_input_to_json(input, &json, &err), CODEX_ERR_INVALID_ARGUMENT, "no items");
    EXPECT(codex_input_to_json(NULL, &json, &err), CODEX_ERR_INVALID_ARGUMENT, "input");
    EXPECT(codex_turn_options_to_json(topts, "[1]", &json, &err), CODEX_ERR_INVALID_ARGUMENT, "params_json");
    EXPECT(codex_turn_options_to_json(topts, "{\"threadId\":\"t\"}", &json, &err), CODEX_ERR_INVALID_ARGUMENT,
           "threadId");
    EXPECT(codex_thread_options_to_json(NULL, NULL, &json, &err), CODEX_ERR_INVALID_ARGUMENT, "options");
    EXPECT(codex_thread_options_to_json(thopts, NULL, NULL, &err), CODEX_ERR_INVALID_ARGUMENT, "json_out");

    /* The JSON the builders make, for functions that take text (callbacks, pools, steer). */
    codex_error *e = NULL;
    CHECK_OK(codex_input_add_local_image(input, "/tmp/a \"b\"\\c \xc3\xa9.png", &e), e);
    CHECK_OK(codex_input_to_json(input, &json, &e), e);
    CHECK(strcmp(json, "[{\"path\":\"/tmp/a \\\"b\\\"\\\\c \xc3\xa9.png\",\"type\":\"localImage\"}]") == 0,
          "input JSON %s", json);
    codex_string_free(json);
    CHECK_OK(codex_turn_options_set_model(topts, "m2", &e), e);
    CHECK_OK(codex_turn_options_set_sandbox(topts, "workspace-write", &e), e);
    CHECK_OK(codex_turn_options_to_json(topts, "{\"model\":\"m1\",\"effort\":\"low\"}", &json, &e), e);
    CHECK(strcmp(json, "{\"effort\":\"low\",\"model\":\"m2\",\"sandboxPolicy\":{\"type\":\"workspaceWrite\"}}") == 0,
          "the builder's fields win: %s", json);
    codex_string_free(json);
    CHECK_OK(codex_thread_options_set_config(thopts, "a", "1", &e), e);
    CHECK_OK(codex_thread_options_to_json(thopts, "{\"config\":{\"a\":0,\"b\":2}}", &json, &e), e);
    CHECK(strcmp(json, "{\"config\":{\"a\":1,\"b\":2}}") == 0, "config merged by key: %s", json);
    codex_string_free(json);

    codex_input_free(input);
    codex_turn_options_free(topts);
    codex_thread_options_free(thopts);
    codex_input_free(NULL);
    codex_turn_options_free(NULL);
    codex_thread_options_free(NULL);
}

/* Builders reach a server: the fake answers thread/start and turn/start like codex. */
static void builders_start_on_the_fake(void) {
    codex_options *opts = fake_server_options("normal");
    codex_client *client = NULL;
    codex_error *err = NULL;
    CHECK_OK(codex_client_start(opts, &client, &err), err);
    codex_options_free(opts);
    codex_thread_options *thopts = codex_thread_options_new();
    CHECK_OK(codex_thread_options_set_cwd(thopts, "/tmp/q\"uo\\te é", &err), err);
    CHECK_OK(codex_thread_options_set_sandbox(thopts, "read-only", &err), err);
    CHECK_OK(codex_thread_options_set_config(thopts, "model_reasoning_effort", "\"low\"", &err), err);
    char *thread_id = NULL;
    CHECK_OK(codex_client_thread_start_with(client, thopts, "{\"ephemeral\":true}", &thread_id, NULL, &err),
             err);
    codex_thread_options_free(thopts);

    codex_input *input = codex_input_new();
    codex_turn *turn = NULL;
    EXPECT(codex_turn_start_with(client, thread_id, input, NULL, NULL, &turn, &err),
           CODEX_ERR_INVALID_ARGUMENT, "no items");
    CHECK_OK(codex_input_add_text(input, "hello", &err), err);
    codex_turn_options *topts = codex_turn_options_new();
    CHECK_OK(codex_turn_options_set_model(topts, "m", &err), err);
    EXPECT(codex_turn_start_with(client, thread_id, input, topts, "{\"input\":[]}", &turn, &err),
           CODEX_ERR_INVALID_ARGUMENT, "input");
    EXPECT(codex_turn_start_with(client, thread_id, input, (const codex_turn_options *)(const void *)input,
                                 NULL, &turn, &err),
           CODEX_ERR_INVALID_ARGUMENT, "options");
    CHECK_OK(codex_turn_start_with(client, thread_id, input, topts, "{\"effort\":\"low\"}", &turn, &err), err);
    codex_input_free(input);
    codex_turn_options_free(topts);
    codex_turn_result *result = NULL;
    CHECK_OK(codex_turn_run(turn, 30000, &result, &err), err);
    size_t count = 0;
    CHECK_OK(codex_turn_result_item_count(result, &count, &err), err);
    for (size_t i = 0; i < count; i++) {
        const codex_json *item = NULL;
        uint32_t kind = 0;
        CHECK_OK(codex_turn_result_item(result, i, &item, &err), err);
        CHECK_OK(codex_item_kind(item, &kind, &err), err);
    }
    codex_turn_result_free(result);
    codex_turn_free(turn);
    codex_string_free(thread_id);
    codex_client_close(client);
    codex_client_free(client);
}

int main(void) {
    items();
    usage_and_failure();
    bad_arguments();
    builders_start_on_the_fake();
    printf("typed_test: ok\n");
    return 0;
}
