/* End to end against the real `codex app-server` of the pinned version and the mock model
 * (tests/c/real_codex_script.json), built unchanged for Linux and for Windows (run under wine
 * with the Windows codex.exe): `scripts/run-offline.sh [--windows] tests/c/real_codex_script.json
 * PROGRAM` sets CODEX_BIN and CODEX_HOME.
 *
 * 1. Three turns on three Codex threads at once, one pthread each: each gets exactly its own
 *    text, in order, and its final answer.
 * 2. An interrupt: the mock holds the reply after one delta, so the turn is surely running
 *    when it is interrupted; it completes "interrupted".
 * 3. The app-server is killed while two turns are held mid-stream and a third pthread waits on
 *    the client stream: every waiter fails with CODEX_ERR_TRANSPORT, and so do later calls.
 * With CODEX_URL (and CODEX_AUTH_TOKEN) set, as scripts/with-ws-server.sh does, it connects to
 * that app-server over WebSocket instead of spawning one, and runs 1 and 2 only (the server is
 * not its child to kill).
 * Every wait is bounded by a 60 s safety timeout that only a broken library reaches. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#ifdef _WIN32
#include <windows.h>
#else
#include <signal.h>
#include <sys/types.h>
#endif
#include "test_util.h"

#define SAFETY_MS 60000
#define CONCURRENT 3
#define KILLED 2

static codex_client *client;

static const char *const expected[CONCURRENT] = {
    "Alpha streams its own words.",
    "Bravo keeps to its thread.",
    "Charlie ends in order.",
};

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static codex_turn *start_turn(const char *prompt, char **thread_id) {
    codex_error *err = NULL;
    codex_turn *turn = NULL;
    CHECK_OK(codex_client_thread_start(client, "{\"ephemeral\":true}", thread_id, NULL, &err), err);
    CHECK_OK(codex_turn_start(client, *thread_id, prompt, NULL, &turn, &err), err);
    return turn;
}

enum outcome { FIRST_DELTA, COMPLETED, INTERRUPTED };

/* Appends the turn's agent-message deltas to `text` until its first delta (stop_at_first) or
 * its turn/completed; checks every event belongs to the turn. */
static enum outcome read_turn(codex_turn *turn, char *text, size_t cap, int stop_at_first) {
    codex_error *err = NULL;
    for (;;) {
        codex_event *ev = NULL;
        CHECK_OK(codex_turn_next_event(turn, SAFETY_MS, &ev, &err), err);
        const char *turn_id = codex_event_turn_id(ev);
        CHECK(turn_id && strcmp(turn_id, codex_turn_id(turn)) == 0, "an event of turn %s",
              turn_id ? turn_id : "(none)");
        int kind = codex_event_kind(ev);
        enum outcome outcome = FIRST_DELTA;
        if (kind == CODEX_EVENT_AGENT_MESSAGE_DELTA) {
            size_t len = 0;
            const char *delta = codex_event_delta(ev, &len);
            CHECK(strlen(text) + len < cap, "text too long");
            strncat(text, delta, len);
        } else if (kind == CODEX_EVENT_TURN_COMPLETED) {
            const char *status = codex_event_turn_status(ev);
            CHECK(strcmp(status, "completed") == 0 || strcmp(status, "interrupted") == 0,
                  "turn ended with status %s", status);
            outcome = strcmp(status, "completed") == 0 ? COMPLETED : INTERRUPTED;
        }
        codex_event_free(ev);
        if (outcome != FIRST_DELTA) return outcome;
        if (kind == CODEX_EVENT_AGENT_MESSAGE_DELTA && stop_at_first) return FIRST_DELTA;
    }
}

typedef struct {
    int index;
    char text[256];
    enum outcome outcome;
    char *answer;
} concurrent_job;

static void *run_concurrent(void *arg) {
    concurrent_job *job = arg;
    char prompt[64], *thread_id = NULL;
    snprintf(prompt, sizeof prompt, "E2E-CONCURRENT-%d", job->index);
    codex_turn *turn = start_turn(prompt, &thread_id);
    job->outcome = read_turn(turn, job->text, sizeof job->text, 0);
    codex_turn_result *result = NULL;
    codex_error *err = NULL;
    CHECK_OK(codex_turn_run(turn, SAFETY_MS, &result, &err), err);
    const char *answer = codex_turn_result_final_answer(result);
    job->answer = answer ? strdup(answer) : NULL;
    codex_turn_result_free(result);
    codex_turn_free(turn);
    codex_string_free(thread_id);
    return NULL;
}

static void concurrent_turns(void) {
    pthread_t threads[CONCURRENT];
    concurrent_job jobs[CONCURRENT];
    memset(jobs, 0, sizeof jobs);
    for (int i = 0; i < CONCURRENT; i++) {
        jobs[i].index = i;
        CHECK(pthread_create(&threads[i], NULL, run_concurrent, &jobs[i]) == 0, "pthread_create");
    }
    for (int i = 0; i < CONCURRENT; i++) pthread_join(threads[i], NULL);
    for (int i = 0; i < CONCURRENT; i++) {
        CHECK(jobs[i].outcome == COMPLETED, "turn %d was interrupted", i);
        CHECK(strcmp(jobs[i].text, expected[i]) == 0, "turn %d streamed \"%s\"", i, jobs[i].text);
        CHECK(jobs[i].answer && strcmp(jobs[i].answer, expected[i]) == 0, "turn %d answer \"%s\"",
              i, jobs[i].answer ? jobs[i].answer : "(none)");
        free(jobs[i].answer);
    }
    printf("real_codex_test: %d concurrent turns, each exactly its own text\n", CONCURRENT);
}

static void interrupt(void) {
    char *thread_id = NULL, text[256] = "";
    codex_error *err = NULL;
    codex_turn *turn = start_turn("E2E-INTERRUPT", &thread_id);
    CHECK(read_turn(turn, text, sizeof text, 1) == FIRST_DELTA, "the held turn ended early");
    CHECK_OK(codex_turn_interrupt(turn, &err), err);
    CHECK(read_turn(turn, text, sizeof text, 0) == INTERRUPTED, "completed despite the interrupt");
    codex_turn_free(turn);
    codex_string_free(thread_id);
    printf("real_codex_test: interrupted mid-stream after \"%s\"\n", text);
}

typedef struct {
    codex_turn *turn;          /* NULL: wait on the client stream */
    codex_result rc;
    char message[512];
    double failed_at;
} waiter;

static void *wait_for_failure(void *arg) {
    waiter *w = arg;
    codex_error *err = NULL;
    for (;;) {
        codex_event *ev = NULL;
        w->rc = w->turn ? codex_turn_next_event(w->turn, SAFETY_MS, &ev, &err)
                        : codex_client_next_event(client, SAFETY_MS, &ev, &err);
        if (w->rc != CODEX_OK) break;
        codex_event_free(ev); /* events before the kill (the client stream's thread/started...) */
    }
    w->failed_at = now_s();
    snprintf(w->message, sizeof w->message, "%s", err ? codex_error_message(err) : "");
    w->message[strcspn(w->message, "\n")] = '\0'; /* the stderr lines that follow: not here */
    codex_error_free(err);
    return NULL;
}

static void kill_server(uint32_t pid) {
#ifdef _WIN32
    HANDLE process = OpenProcess(PROCESS_TERMINATE, FALSE, pid);
    CHECK(process != NULL, "OpenProcess(%u): error %lu", pid, GetLastError());
    CHECK(TerminateProcess(process, 9), "TerminateProcess: error %lu", GetLastError());
    CloseHandle(process);
#else
    CHECK(kill((pid_t)pid, SIGKILL) == 0, "kill %u", pid);
#endif
}

static void killed_server(void) {
    char *thread_ids[KILLED], text[256];
    waiter waiters[KILLED + 1];
    pthread_t threads[KILLED + 1];
    memset(waiters, 0, sizeof waiters);
    for (int i = 0; i < KILLED; i++) {
        char prompt[32];
        snprintf(prompt, sizeof prompt, "E2E-KILL-%d", i);
        waiters[i].turn = start_turn(prompt, &thread_ids[i]);
        text[0] = '\0';
        CHECK(read_turn(waiters[i].turn, text, sizeof text, 1) == FIRST_DELTA, "turn %d ended early", i);
    }
    for (int i = 0; i <= KILLED; i++)
        CHECK(pthread_create(&threads[i], NULL, wait_for_failure, &waiters[i]) == 0, "pthread_create");
    uint32_t pid = codex_client_server_pid(client);
    CHECK(pid != 0, "no server pid");
    double killed_at = now_s();
    kill_server(pid);
    for (int i = 0; i <= KILLED; i++) pthread_join(threads[i], NULL);
    double slowest = 0;
    for (int i = 0; i <= KILLED; i++) {
        CHECK(waiters[i].rc == CODEX_ERR_TRANSPORT, "waiter %d: %s (%s)", i,
              codex_result_name(waiters[i].rc), waiters[i].message);
        if (waiters[i].failed_at - killed_at > slowest) slowest = waiters[i].failed_at - killed_at;
    }
    char *result = NULL;
    codex_error *err = NULL;
    codex_result rc = codex_client_request(client, "model/list", "{}", SAFETY_MS, &result, &err);
    CHECK(rc == CODEX_ERR_TRANSPORT, "a request after the kill: %s", codex_result_name(rc));
    codex_error_free(err);
    for (int i = 0; i < KILLED; i++) {
        codex_turn_free(waiters[i].turn);
        codex_string_free(thread_ids[i]);
    }
    printf("real_codex_test: server %u killed: %d turns and the client stream failed with "
           "TRANSPORT, the last %.0f ms after the kill (\"%s\")\n",
           pid, KILLED, slowest * 1000, waiters[0].message);
}

int main(void) {
    const char *bin = getenv("CODEX_BIN"), *url = getenv("CODEX_URL");
    CHECK(bin != NULL, "run through scripts/run-offline.sh, which sets CODEX_BIN and CODEX_HOME");
    codex_options *opts = codex_options_new();
    codex_error *err = NULL;
    if (url != NULL) {
        CHECK_OK(codex_options_set_url(opts, url, &err), err);
        const char *token = getenv("CODEX_AUTH_TOKEN");
        if (token != NULL) CHECK_OK(codex_options_set_auth_token(opts, token, &err), err);
        printf("real_codex_test: over %s\n", url);
    } else {
        CHECK_OK(codex_options_set_codex_bin(opts, bin, &err), err);
    }
    CHECK_OK(codex_client_start(opts, &client, &err), err);
    codex_options_free(opts);
    concurrent_turns();
    interrupt();
    if (url == NULL) killed_server();
    codex_client_close(client);
    codex_client_free(client);
    printf("real_codex_test: passed\n");
    return 0;
}
