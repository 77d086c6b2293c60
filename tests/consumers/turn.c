/* What a consumer project builds against an installed libcodex_app_server: one turn against
 * the app-server in $CODEX_BIN (the suite points it at the scripted fake), its reply streamed,
 * and the header's version checked against the library's. Prints one line and exits 0 on
 * success. */
#include <stdio.h>
#include <string.h>
#include <codex_app_server.h>

static int fail(const char *what, codex_error *err) {
    fprintf(stderr, "consumer: %s failed: %s\n", what, err ? codex_error_message(err) : "?");
    codex_error_free(err);
    return 1;
}

int main(int argc, char **argv) {
    const char *name = argc > 1 ? argv[1] : "consumer";
    if (strcmp(codex_version(), CODEX_APP_SERVER_VERSION) != 0) {
        fprintf(stderr, "%s: header %s, library %s\n", name, CODEX_APP_SERVER_VERSION, codex_version());
        return 1;
    }
    codex_error *err = NULL;
    codex_client *client = NULL;
    if (codex_client_start(NULL, &client, &err) != CODEX_OK) return fail("codex_client_start", err);
    char *thread_id = NULL;
    if (codex_client_thread_start(client, NULL, &thread_id, NULL, &err) != CODEX_OK)
        return fail("codex_client_thread_start", err);
    codex_turn *turn = NULL;
    if (codex_turn_start(client, thread_id, "Hello from a consumer", NULL, &turn, &err) != CODEX_OK)
        return fail("codex_turn_start", err);
    int deltas = 0;
    const char *status = NULL;
    for (;;) {
        codex_event *ev = NULL;
        codex_result rc = codex_turn_next_event(turn, 60000, &ev, &err);
        if (rc == CODEX_STREAM_END) break;
        if (rc != CODEX_OK) return fail("codex_turn_next_event", err);
        if (codex_event_kind(ev) == CODEX_EVENT_AGENT_MESSAGE_DELTA) deltas++;
        if (codex_event_kind(ev) == CODEX_EVENT_TURN_COMPLETED)
            status = strcmp(codex_event_turn_status(ev), "completed") == 0 ? "completed" : "not completed";
        codex_event_free(ev);
    }
    codex_turn_free(turn);
    codex_string_free(thread_id);
    codex_client_close(client);
    codex_client_free(client);
    if (!status || strcmp(status, "completed") != 0 || deltas == 0) {
        fprintf(stderr, "%s: turn %s with %d deltas\n", name, status ? status : "without end", deltas);
        return 1;
    }
    printf("%s: turn completed, %d deltas, library %s\n", name, deltas, codex_version());
    return 0;
}
