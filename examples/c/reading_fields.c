/* Reads the protocol's fields with no JSON library: an approval's command and directory, each
 * completed item's type (and a command's exit code and output), and the turn's token usage —
 * all by JSON Pointer (codex_json_get_*).
 *
 *   reading_fields "PROMPT"
 *
 * The thread asks before running commands (approvalPolicy "on-request"); every command is
 * accepted after its command line and directory are printed. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>
#include "codex_app_server.h"

static int fail(const char *what, codex_result rc, codex_error *err) {
    fprintf(stderr, "%s failed: %s: %s\n", what, codex_result_name(rc), err ? codex_error_message(err) : "");
    codex_error_free(err);
    return 1;
}

/* The string at `pointer`, or `fallback` when it is absent or not a string. */
static const char *text_at(const codex_json *json, const char *pointer, const char *fallback) {
    const char *value = NULL;
    return codex_json_get_string(json, pointer, &value, NULL, NULL) == CODEX_OK ? value : fallback;
}

static void answer(const codex_event *ev) {
    codex_error *err = NULL;
    codex_request *req = NULL;
    if (codex_event_request(ev, &req, &err) != CODEX_OK) {
        fail("request", CODEX_ERR_INVALID_ARGUMENT, err);
        return;
    }
    const codex_json *params = codex_request_json(req);
    printf("approval: %s\n  command: %s\n  cwd: %s\n", codex_request_method(req),
           text_at(params, "/command", "(none)"), text_at(params, "/cwd", "(none)"));
    codex_result rc = codex_request_approve(req, CODEX_DECISION_ACCEPT, &err);
    if (rc == CODEX_ERR_INVALID_ARGUMENT) { /* not an approval: say we cannot answer */
        codex_error_free(err), err = NULL;
        rc = codex_request_respond_error(req, -32601, "this program only answers approvals", &err);
    }
    if (rc != CODEX_OK) fail("answer", rc, err);
    codex_request_free(req);
}

static void print_items(const codex_json *items) {
    size_t count = 0;
    codex_json_get_array_len(items, "", &count, NULL);
    for (size_t i = 0; i < count; i++) {
        char pointer[32];
        snprintf(pointer, sizeof pointer, "/%zu", i);
        const codex_json *item = NULL;
        if (codex_json_get_json(items, pointer, &item, NULL) != CODEX_OK) continue;
        const char *type = text_at(item, "/type", "?");
        printf("item %zu: %s %s\n", i, type, text_at(item, "/id", ""));
        if (strcmp(type, "commandExecution") == 0) {
            int64_t exit_code = -1;
            codex_json_get_int(item, "/exitCode", &exit_code, NULL);
            printf("  command %s exited %lld, output: %s", text_at(item, "/command", "?"),
                   (long long)exit_code, text_at(item, "/aggregatedOutput", "\n"));
        } else if (strcmp(type, "agentMessage") == 0) {
            printf("  text: %s\n", text_at(item, "/text", ""));
        }
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
    char *thread_id = NULL;
    rc = codex_client_thread_start(client, "{\"approvalPolicy\":\"on-request\",\"approvalsReviewer\":\"user\"}",
                                   &thread_id, NULL, &err);
    if (rc != CODEX_OK) return fail("thread/start", rc, err);
    codex_turn *turn = NULL;
    rc = codex_turn_start(client, thread_id, argv[1], NULL, &turn, &err);
    if (rc != CODEX_OK) return fail("turn/start", rc, err);

    for (;;) {
        codex_event *ev = NULL;
        rc = codex_turn_next_event(turn, -1, &ev, &err);
        if (rc == CODEX_STREAM_END) break;
        if (rc != CODEX_OK) return fail("next event", rc, err);
        if (codex_event_kind(ev) == CODEX_EVENT_SERVER_REQUEST) answer(ev);
        codex_event_free(ev);
    }
    /* The summary of the whole turn, the events read above included. */
    codex_turn_result *result = NULL;
    rc = codex_turn_run(turn, -1, &result, &err);
    if (rc != CODEX_OK) return fail("run", rc, err);
    printf("turn: %s\n", codex_turn_result_status(result));
    print_items(codex_turn_result_items(result));
    const codex_json *usage = codex_turn_result_usage(result);
    int64_t input = 0, output = 0, total = 0;
    if (usage && codex_json_get_int(usage, "/total/inputTokens", &input, NULL) == CODEX_OK &&
        codex_json_get_int(usage, "/total/outputTokens", &output, NULL) == CODEX_OK &&
        codex_json_get_int(usage, "/total/totalTokens", &total, NULL) == CODEX_OK)
        printf("usage: %lld input, %lld output, %lld total tokens\n", (long long)input,
               (long long)output, (long long)total);
    codex_turn_result_free(result);
    codex_turn_free(turn);
    codex_string_free(thread_id);
    codex_client_close(client);
    codex_client_free(client);
    return 0;
}
