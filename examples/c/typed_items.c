/* Typed access with no JSON library: a thread and a turn started from builders, an approval's
 * command and directory, each completed item by kind (a command's exit code and output, a
 * message's phase and text), the token usage, and why the turn failed if it did.
 *
 *   typed_items "PROMPT"
 *
 * The thread asks before running commands; every command is accepted after it is printed. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <unistd.h>
#include "codex_app_server.h"

static int fail(const char *what, codex_result rc, codex_error *err) {
    fprintf(stderr, "%s failed: %s: %s\n", what, codex_result_name(rc), err ? codex_error_message(err) : "");
    codex_error_free(err);
    return 1;
}

static void answer(const codex_event *ev) {
    codex_request *req = NULL;
    codex_error *err = NULL;
    if (codex_event_request(ev, &req, &err) != CODEX_OK) {
        fail("request", CODEX_ERR_INVALID_ARGUMENT, err);
        return;
    }
    const char *command = "(none)", *cwd = "(none)";
    codex_request_command(req, &command, NULL, NULL);
    codex_request_cwd(req, &cwd, NULL, NULL);
    if (codex_request_kind(req) == CODEX_REQUEST_KIND_COMMAND_APPROVAL) {
        printf("approval: run %s\n  in %s\n", command, cwd);
        codex_request_approve(req, CODEX_DECISION_ACCEPT, NULL);
    } else {
        codex_request_respond_error(req, -32601, "this program only answers command approvals", NULL);
    }
    codex_request_free(req);
}

static void print_item(size_t i, const codex_json *item) {
    uint32_t kind = CODEX_ITEM_KIND_UNKNOWN;
    const char *id = "";
    codex_item_kind(item, &kind, NULL);
    codex_item_id(item, &id, NULL, NULL);
    if (kind == CODEX_ITEM_KIND_COMMAND_EXECUTION) {
        int64_t exit_code = -1;
        const char *output = "";
        codex_item_exit_code(item, &exit_code, NULL);
        codex_item_output(item, &output, NULL, NULL);
        printf("item %zu: command %s exited %lld, output: %s", i, id, (long long)exit_code, output);
    } else if (kind == CODEX_ITEM_KIND_AGENT_MESSAGE) {
        uint32_t phase = CODEX_PHASE_UNKNOWN;
        const char *text = "";
        codex_item_phase(item, &phase, NULL); /* CODEX_ERR_NOT_FOUND: no phase given */
        codex_item_text(item, &text, NULL, NULL);
        printf("item %zu: message%s: %s\n", i, phase == CODEX_PHASE_FINAL_ANSWER ? " (final answer)" : "",
               text);
    } else {
        printf("item %zu: kind %u\n", i, kind);
    }
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s PROMPT\n", argv[0]);
        return 2;
    }
    codex_error *err = NULL;
    codex_client *client = NULL;
    codex_result rc = codex_client_start(NULL, &client, &err);
    if (rc != CODEX_OK) return fail("start", rc, err);

    /* Builder fields and params_json combine: what the builder lacks goes in params_json. */
    codex_thread_options *thread_opts = codex_thread_options_new();
    codex_thread_options_set_approval_policy(thread_opts, "on-request", NULL);
    codex_thread_options_set_ephemeral(thread_opts, true, NULL);
    char *thread_id = NULL;
    rc = codex_client_thread_start_with(client, thread_opts, "{\"approvalsReviewer\":\"user\"}", &thread_id,
                                        NULL, &err);
    codex_thread_options_free(thread_opts);
    if (rc != CODEX_OK) return fail("thread/start", rc, err);

    codex_input *input = codex_input_new();
    codex_input_add_text(input, argv[1], NULL);
    codex_turn_options *turn_opts = codex_turn_options_new();
    char cwd[4096];
    if (getcwd(cwd, sizeof cwd)) codex_turn_options_set_cwd(turn_opts, cwd, NULL);
    codex_turn *turn = NULL;
    rc = codex_turn_start_with(client, thread_id, input, turn_opts, NULL, &turn, &err);
    codex_input_free(input);
    codex_turn_options_free(turn_opts);
    if (rc != CODEX_OK) return fail("turn/start", rc, err);

    for (;;) {
        codex_event *ev = NULL;
        rc = codex_turn_next_event(turn, -1, &ev, &err);
        if (rc == CODEX_STREAM_END) break;
        if (rc != CODEX_OK) return fail("next event", rc, err);
        if (codex_event_kind(ev) == CODEX_EVENT_SERVER_REQUEST) answer(ev);
        codex_event_free(ev);
    }
    codex_turn_result *result = NULL;
    rc = codex_turn_run(turn, -1, &result, &err);
    if (rc != CODEX_OK) return fail("run", rc, err);
    printf("turn: %s\n", codex_turn_result_status(result));
    size_t count = 0;
    codex_turn_result_item_count(result, &count, NULL);
    for (size_t i = 0; i < count; i++) {
        const codex_json *item = NULL;
        if (codex_turn_result_item(result, i, &item, NULL) == CODEX_OK) print_item(i, item);
    }
    codex_token_counts tokens;
    if (codex_usage_tokens(codex_turn_result_usage(result), CODEX_USAGE_TOTAL, &tokens, NULL) == CODEX_OK)
        printf("usage: %lld input (%lld cached), %lld output, %lld total tokens\n", (long long)tokens.input,
               (long long)tokens.cached_input, (long long)tokens.output, (long long)tokens.total);
    const codex_json *failure = codex_turn_result_error(result);
    uint32_t failure_kind = CODEX_FAILURE_UNKNOWN;
    if (failure && codex_failure_kind(failure, &failure_kind, NULL) == CODEX_OK)
        printf("failed: kind %u%s\n", failure_kind,
               failure_kind == CODEX_FAILURE_USAGE_LIMIT_EXCEEDED ? " (usage limit)" : "");
    codex_turn_result_free(result);
    codex_turn_free(turn);
    codex_string_free(thread_id);
    codex_client_close(client);
    codex_client_free(client);
    return 0;
}
