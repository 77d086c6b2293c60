/* The client's event descriptor, driven from one thread with poll(2), against the scripted
 * fake: readiness for events that came before the turn/start response; no lost wake-up under a
 * flood of 100 turns (every delta counted, in order); a dying server makes the descriptor
 * readable and every drain call return the failure; the process's fd count does not grow per
 * turn. Run under valgrind by `make test` when it is installed. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include "test_util.h"

static int readable(int fd, int timeout_ms) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, timeout_ms) == 1;
}

static long open_fds(void) {
    DIR *d = opendir("/proc/self/fd");
    long n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static codex_client *client_for(const char *scenario, const char *turns, const char *deltas, int *fd) {
    codex_options *opts = fake_server_options(scenario);
    codex_error *err = NULL;
    if (turns) CHECK_OK(codex_options_set_env(opts, "FAKE_TURNS", turns, &err), err);
    CHECK_OK(codex_options_set_env(opts, "FAKE_DELTAS", deltas, &err), err);
    codex_client *client = NULL;
    CHECK_OK(codex_client_start(opts, &client, &err), err);
    codex_options_free(opts);
    CHECK_OK(codex_client_event_fd(client, fd, &err), err);
    int again = -1;
    CHECK_OK(codex_client_event_fd(client, &again, &err), err);
    CHECK(again == *fd, "one descriptor per client");
    return client;
}

static codex_turn *start_turn(codex_client *client) {
    codex_error *err = NULL;
    char *thread_id = NULL;
    CHECK_OK(codex_client_thread_start(client, NULL, &thread_id, NULL, &err), err);
    codex_turn *turn = NULL;
    CHECK_OK(codex_turn_start(client, thread_id, "hi", NULL, &turn, &err), err);
    codex_string_free(thread_id);
    return turn;
}

/* Drains the client stream without blocking. */
static void drain_client(codex_client *client) {
    codex_event *ev = NULL;
    while (codex_client_next_event(client, 0, &ev, NULL) == CODEX_OK) codex_event_free(ev);
}

int main(void) {
    codex_error *err = NULL;
    int fd = -1;

    /* Before codex_client_event_fd: refused. */
    {
        codex_options *opts = fake_server_options("early");
        codex_client *c = NULL;
        CHECK_OK(codex_client_start(opts, &c, &err), err);
        codex_options_free(opts);
        codex_turn *t = NULL;
        CHECK(codex_client_next_ready_turn(c, &t, &err) == CODEX_ERR_INVALID_ARGUMENT, "no fd yet");
        CHECK(strstr(codex_error_message(err), "codex_client_event_fd") != NULL, "names the call");
        codex_error_free(err), err = NULL;
        codex_client_close(c);
        codex_client_free(c);
    }

    /* Every event of the turn, turn/completed included, arrives before the turn/start
     * response: the descriptor is readable as soon as the start returns. */
    codex_client *client = client_for("early", NULL, "3", &fd);
    codex_turn *turn = start_turn(client);
    CHECK(readable(fd, 0), "readable after events that came before the response");
    int completed = 0;
    while (!completed) {
        codex_turn *ready = NULL;
        CHECK_OK(codex_client_next_ready_turn(client, &ready, &err), err);
        if (ready == NULL) {
            drain_client(client);
            continue;
        }
        CHECK(ready == turn, "the ready turn is the program's own handle");
        codex_event *ev = NULL;
        codex_result rc;
        while ((rc = codex_turn_next_event(turn, 0, &ev, NULL)) == CODEX_OK) codex_event_free(ev);
        CHECK(rc == CODEX_STREAM_END, "drained to the end: %s", codex_result_name(rc));
        completed = 1;
    }
    drain_client(client);
    codex_turn *none = NULL;
    while (codex_client_next_ready_turn(client, &none, NULL) == CODEX_OK) drain_client(client);
    CHECK(!readable(fd, 0), "not readable once nothing is ready");
    codex_turn_free(turn);

    /* The fd count does not grow per turn. */
    long before = open_fds();
    for (int i = 0; i < 50; i++) {
        codex_turn *t = start_turn(client);
        codex_turn_result *r = NULL;
        CHECK_OK(codex_turn_run(t, 30000, &r, &err), err);
        codex_turn_result_free(r);
        codex_turn_free(t);
    }
    CHECK(open_fds() == before, "fds: %ld, then %ld after 50 turns", before, open_fds());
    /* A freed turn is never reported: only the client stream may still be ready. */
    codex_turn *ready = NULL;
    while (codex_client_next_ready_turn(client, &ready, NULL) == CODEX_OK)
        CHECK(ready == NULL, "a freed turn was reported");
    codex_client_close(client);
    codex_client_free(client);

    /* A flood over 100 turns, all driven by one poll loop: no wake-up is lost. */
    enum { TURNS = 100, DELTAS = 200 };
    client = client_for("flood", "100", "200", &fd);
    codex_turn *turns[TURNS];
    int deltas[TURNS] = {0}, done = 0;
    for (int i = 0; i < TURNS; i++) turns[i] = start_turn(client);
    while (done < TURNS) {
        CHECK(readable(fd, 60000), "the descriptor stayed quiet with %d turns open", TURNS - done);
        codex_turn *r = NULL;
        while (codex_client_next_ready_turn(client, &r, NULL) == CODEX_OK) {
            if (r == NULL) {
                drain_client(client);
                continue;
            }
            int i = 0;
            while (turns[i] != r) i++;
            for (;;) {
                codex_event *ev = NULL;
                codex_result rc = codex_turn_next_event(r, 0, &ev, &err);
                if (rc == CODEX_ERR_TIMEOUT) {
                    codex_error_free(err), err = NULL;
                    break;
                }
                if (rc == CODEX_STREAM_END) {
                    done++;
                    break;
                }
                CHECK_OK(rc, err);
                if (codex_event_kind(ev) == CODEX_EVENT_AGENT_MESSAGE_DELTA) {
                    char want[32];
                    snprintf(want, sizeof want, "tok%06d ", deltas[i]++);
                    CHECK(strcmp(codex_event_delta(ev, NULL), want) == 0, "turn %d out of order", i);
                }
                codex_event_free(ev);
            }
        }
    }
    for (int i = 0; i < TURNS; i++) {
        CHECK(deltas[i] == DELTAS, "turn %d got %d deltas", i, deltas[i]);
        codex_turn_free(turns[i]);
    }
    codex_client_close(client);
    codex_client_free(client);

    /* The server dies mid-turn: the descriptor becomes readable and the drains fail. */
    client = client_for("crash", NULL, "5", &fd);
    turn = start_turn(client);
    codex_result turn_rc = CODEX_OK;
    while (turn_rc == CODEX_OK) {
        CHECK(readable(fd, 60000), "not readable after the crash");
        codex_turn *r = NULL;
        while (codex_client_next_ready_turn(client, &r, NULL) == CODEX_OK && turn_rc == CODEX_OK) {
            if (r == NULL) continue; /* the client stream: checked below */
            codex_event *ev = NULL;
            codex_result rc;
            while ((rc = codex_turn_next_event(turn, 0, &ev, &err)) == CODEX_OK) codex_event_free(ev);
            if (rc == CODEX_ERR_TIMEOUT) {
                codex_error_free(err), err = NULL;
                continue;
            }
            turn_rc = rc;
            CHECK(rc == CODEX_ERR_TRANSPORT, "the turn's drain: %s", codex_result_name(rc));
            CHECK(strstr(codex_error_message(err), "exit status 3") != NULL, "%s", codex_error_message(err));
            codex_error_free(err), err = NULL;
        }
    }
    codex_event *ev = NULL;
    codex_result rc;
    while ((rc = codex_client_next_event(client, 0, &ev, &err)) == CODEX_OK) codex_event_free(ev);
    CHECK(rc == CODEX_ERR_TRANSPORT, "the client stream's drain: %s", codex_result_name(rc));
    codex_error_free(err), err = NULL;
    codex_turn_free(turn);
    codex_client_close(client);
    codex_client_free(client);
    printf("event_fd_test: ok\n");
    return 0;
}
