/* Asks the user at the terminal before Codex runs a command or changes a file.
 *
 *   approvals "PROMPT"
 *
 * The thread is started with approvalPolicy "on-request" and approvalsReviewer "user", so the
 * server asks this program; each request is shown and answered y (accept), a (accept for the
 * session), c (cancel the turn) or anything else (decline). Requests nobody answers are
 * declined by the library when the answer timeout passes. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>
#include "codex_app_server.h"

static int fail(const char *what, codex_result rc, codex_error *err) {
    fprintf(stderr, "%s failed: %s: %s\n", what, codex_result_name(rc), err ? codex_error_message(err) : "");
    codex_error_free(err);
    return 1;
}

static uint32_t ask(const codex_request *req) {
    printf("\n--- Codex asks: %s\n%s\nAllow? [y]es / [a]lways / [c]ancel turn / [N]o: ",
           codex_request_method(req), codex_request_params(req));
    fflush(stdout);
    char line[32] = "";
    if (!fgets(line, sizeof line, stdin)) return CODEX_DECISION_DECLINE;
    switch (line[0]) {
    case 'y': case 'Y': return CODEX_DECISION_ACCEPT;
    case 'a': case 'A': return CODEX_DECISION_ACCEPT_FOR_SESSION;
    case 'c': case 'C': return CODEX_DECISION_CANCEL;
    default: return CODEX_DECISION_DECLINE;
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
        switch (codex_event_kind(ev)) {
        case CODEX_EVENT_AGENT_MESSAGE_DELTA:
        case CODEX_EVENT_COMMAND_OUTPUT_DELTA:
            fputs(codex_event_delta(ev, NULL), stdout);
            fflush(stdout);
            break;
        case CODEX_EVENT_SERVER_REQUEST: {
            codex_request *req = NULL;
            if (codex_event_request(ev, &req, &err) != CODEX_OK) return fail("request", rc, err);
            uint32_t decision = CODEX_DECISION_DECLINE;
            if (strstr(codex_request_method(req), "Approval") || strstr(codex_request_method(req), "approval"))
                decision = ask(req);
            rc = codex_request_approve(req, decision, &err);
            if (rc == CODEX_ERR_INVALID_ARGUMENT) { /* not an approval: say we cannot answer */
                codex_error_free(err), err = NULL;
                rc = codex_request_respond_error(req, -32601, "this program only answers approvals", &err);
            }
            if (rc != CODEX_OK) fail("answer", rc, err), err = NULL;
            codex_request_free(req);
            break;
        }
        case CODEX_EVENT_ITEM_COMPLETED:
            if (strstr(codex_event_params(ev, NULL), "\"type\":\"commandExecution\""))
                printf("\n[command item completed: %s]\n", codex_event_params(ev, NULL));
            break;
        case CODEX_EVENT_TURN_COMPLETED:
            printf("\n[turn %s]\n", codex_event_turn_status(ev));
            break;
        default:
            break;
        }
        codex_event_free(ev);
    }
    codex_turn_free(turn);
    codex_string_free(thread_id);
    codex_client_close(client);
    codex_client_free(client);
    return 0;
}
