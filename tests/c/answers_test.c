/* Typed answers to every server request kind, through the C API against the scripted fake
 * (which sends the requests a script gives and reports the answers it got): a dynamic tool
 * call answered from the request handler, a user-input request, MCP elicitations accepted with
 * content and declined, an auth-token refresh, a humanCommand approval that refuses
 * accept-for-session; each typed answer checks its arguments and its request's kind. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include "test_util.h"

static codex_client *client;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int tool_answered;

static void script(const char *lines) {
    char params[4096];
    snprintf(params, sizeof params, "{\"afterStarts\":0,\"lines\":%s}", lines);
    codex_error *err = NULL;
    char *out = NULL;
    CHECK_OK(codex_client_request(client, "test/script", params, 60000, &out, &err), err);
    codex_string_free(out);
}

/* The request handler: answers dynamic tool calls, leaves the rest to the client stream. */
static void on_request(void *userdata, const codex_event *ev) {
    (void)userdata;
    if (codex_event_kind(ev) != CODEX_EVENT_SERVER_REQUEST) return; /* the stream's end at close */
    codex_request *req = NULL;
    codex_error *err = NULL;
    CHECK_OK(codex_event_request(ev, &req, &err), err);
    if (strcmp(codex_request_method(req), "item/tool/call") == 0) {
        codex_result rc = codex_request_respond_tool_call(req, "[{\"type\":\"bogus\"}]", true, &err);
        CHECK(rc == CODEX_ERR_INVALID_ARGUMENT && strstr(codex_error_message(err), "content_items_json"), "items");
        codex_error_free(err);
        err = NULL;
        CHECK_OK(codex_request_respond_tool_call(req, "[{\"type\":\"inputText\",\"text\":\"42\"}]", true, &err), err);
        pthread_mutex_lock(&mu);
        tool_answered = 1;
        pthread_cond_signal(&cv);
        pthread_mutex_unlock(&mu);
    }
    codex_request_free(req);
}

/* The next server request on the client stream. */
static codex_request *next_request(const char *method) {
    for (;;) {
        codex_event *ev = NULL;
        codex_error *err = NULL;
        CHECK_OK(codex_client_next_event(client, 60000, &ev, &err), err);
        if (codex_event_kind(ev) == CODEX_EVENT_SERVER_REQUEST) {
            codex_request *req = NULL;
            CHECK_OK(codex_event_request(ev, &req, &err), err);
            codex_event_free(ev);
            if (strcmp(codex_request_method(req), method) == 0) return req;
            codex_request_free(req); /* the tool call: the handler answers it */
            continue;
        }
        codex_event_free(ev);
    }
}

static void expect_invalid(codex_result rc, codex_error *err, const char *names) {
    CHECK(rc == CODEX_ERR_INVALID_ARGUMENT, "%s: %s", names, codex_result_name(rc));
    CHECK(err != NULL && strstr(codex_error_message(err), names) != NULL, "names %s: %s", names,
          err ? codex_error_message(err) : "(none)");
    codex_error_free(err);
}
#define INVALID(call, names)                \
    do {                                    \
        codex_error *e_ = NULL;             \
        codex_result rc_ = (call);          \
        expect_invalid(rc_, e_, names);     \
    } while (0)
#define ERRP (&e_)

int main(void) {
    codex_error *err = NULL;
    codex_options *opts = fake_server_options("scripted");
    CHECK(codex_options_set_required_human_approval(NULL, true, NULL) == CODEX_ERR_INVALID_ARGUMENT, "NULL opts");
    CHECK_OK(codex_options_set_required_human_approval(opts, true, &err), err);
    CHECK_OK(codex_client_start(opts, &client, &err), err);
    codex_options_free(opts);
    CHECK_OK(codex_client_set_request_handler(client, on_request, NULL, NULL, &err), err);

    script("["
           "\"{\\\"id\\\":1,\\\"method\\\":\\\"item/tool/call\\\",\\\"params\\\":{\\\"threadId\\\":\\\"t\\\",\\\"turnId\\\":\\\"u\\\",\\\"callId\\\":\\\"c\\\",\\\"tool\\\":\\\"answer\\\",\\\"arguments\\\":{}}}\""
           "]");
    pthread_mutex_lock(&mu);
    while (!tool_answered) pthread_cond_wait(&cv, &mu); /* the callback runs once the request is routed */
    pthread_mutex_unlock(&mu);

    script("["
           "\"{\\\"id\\\":2,\\\"method\\\":\\\"item/tool/requestUserInput\\\",\\\"params\\\":{\\\"threadId\\\":\\\"t\\\",\\\"turnId\\\":\\\"u\\\",\\\"questions\\\":[{\\\"id\\\":\\\"q\\\"}]}}\","
           "\"{\\\"id\\\":3,\\\"method\\\":\\\"mcpServer/elicitation/request\\\",\\\"params\\\":{\\\"threadId\\\":\\\"t\\\"}}\","
           "\"{\\\"id\\\":4,\\\"method\\\":\\\"mcpServer/elicitation/request\\\",\\\"params\\\":{\\\"threadId\\\":\\\"t\\\"}}\","
           "\"{\\\"id\\\":5,\\\"method\\\":\\\"account/chatgptAuthTokens/refresh\\\",\\\"params\\\":{\\\"reason\\\":\\\"unauthorized\\\"}}\","
           "\"{\\\"id\\\":6,\\\"method\\\":\\\"item/commandExecution/requestApproval\\\",\\\"params\\\":{\\\"threadId\\\":\\\"t\\\",\\\"turnId\\\":\\\"u\\\",\\\"kind\\\":\\\"humanCommand\\\"}}\""
           "]");

    codex_request *req = next_request("item/tool/requestUserInput");
    INVALID(codex_request_respond_tool_text(req, "x", true, ERRP), "not a dynamic tool call");
    INVALID(codex_request_respond_user_input(req, NULL, ERRP), "answers_json");
    INVALID(codex_request_respond_user_input(req, "{\"q\":[1]}", ERRP), "answers_json");
    INVALID(codex_request_respond_user_input(req, "{\"q\":", ERRP), "answers_json");
    CHECK_OK(codex_request_respond_user_input(req, "{\"q\":[\"yes\"]}", &err), err);
    CHECK(codex_request_respond_user_input(req, "{}", NULL) == CODEX_ERR_STALE_REQUEST, "answered once");
    codex_request_free(req);

    req = next_request("mcpServer/elicitation/request");
    INVALID(codex_request_respond_elicitation(req, 9, NULL, ERRP), "action");
    INVALID(codex_request_respond_elicitation(req, CODEX_ELICITATION_ACCEPT, "[1]", ERRP), "content_json");
    CHECK_OK(codex_request_respond_elicitation(req, CODEX_ELICITATION_ACCEPT, "{\"name\":\"x\"}", &err), err);
    codex_request_free(req);
    req = next_request("mcpServer/elicitation/request");
    INVALID(codex_request_respond_elicitation(req, CODEX_ELICITATION_DECLINE, "{}", ERRP), "content_json");
    CHECK_OK(codex_request_respond_elicitation(req, CODEX_ELICITATION_DECLINE, NULL, &err), err);
    codex_request_free(req);

    req = next_request("account/chatgptAuthTokens/refresh");
    INVALID(codex_request_respond_auth_tokens(req, NULL, "acct", NULL, ERRP), "access_token");
    INVALID(codex_request_respond_auth_tokens(req, "tok", "", NULL, ERRP), "chatgpt_account_id");
    INVALID(codex_request_respond_auth_tokens(req, "tok", "acct", "\xff", ERRP), "chatgpt_plan_type");
    CHECK_OK(codex_request_respond_auth_tokens(req, "tok", "acct", NULL, &err), err);
    codex_request_free(req);

    req = next_request("item/commandExecution/requestApproval");
    INVALID(codex_request_approve(req, CODEX_DECISION_ACCEPT_FOR_SESSION, ERRP), "humanCommand");
    CHECK(codex_request_is_open(req), "a refused answer sends nothing");
    CHECK_OK(codex_request_approve(req, CODEX_DECISION_ACCEPT, &err), err);
    codex_request_free(req);

    INVALID(codex_request_respond_tool_call(NULL, "[]", true, ERRP), "req");

    char *answers = NULL;
    CHECK_OK(codex_client_request(client, "test/answers", NULL, 60000, &answers, &err), err);
    const char *expected[] = {
        "{\"id\":1,\"result\":{\"contentItems\":[{\"text\":\"42\",\"type\":\"inputText\"}],\"success\":true}}",
        "{\"id\":2,\"result\":{\"answers\":{\"q\":{\"answers\":[\"yes\"]}}}}",
        "{\"id\":3,\"result\":{\"action\":\"accept\",\"content\":{\"name\":\"x\"}}}",
        "{\"id\":4,\"result\":{\"action\":\"decline\"}}",
        "{\"id\":5,\"result\":{\"accessToken\":\"tok\",\"chatgptAccountId\":\"acct\"}}",
        "{\"id\":6,\"result\":{\"decision\":\"accept\"}}",
    };
    const char *at = answers;
    for (size_t i = 0; i < sizeof expected / sizeof *expected; i++) {
        const char *found = strstr(at, expected[i]);
        CHECK(found != NULL, "answer %zu (%s) in order in %s", i, expected[i], answers);
        at = found + strlen(expected[i]);
    }
    codex_string_free(answers);
    codex_client_close(client);
    codex_client_free(client);
    printf("answers_test: ok\n");
    return 0;
}
