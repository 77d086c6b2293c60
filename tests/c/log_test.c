/* The log hook:
 * 1. With no callback, CODEX_APP_SERVER_LOG=info sends the library's messages to stderr (in a
 *    forked child, before this process has started anything).
 * 2. A callback at CODEX_LOG_DEBUG sees the spawn command line (without the value of a config
 *    override), skipped lines, a timeout and the exit status, and never the prompt's text above
 *    debug, nor the config value at all.
 * 3. Replacing the callback while four threads log all the time: no call after a callback's
 *    userdata_free (each userdata is poisoned, then freed: valgrind sees a late call), each
 *    userdata freed exactly once, and no call reaches a callback once it has been replaced.
 * 4. A bad level is refused and its userdata released at once. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>
#include "test_util.h"

#define CONFIG_SECRET "sk-config-secret-value"

/* ---- 1. stderr, from the environment ---- */

static void run_client_once(const char *scenario) {
    codex_options *opts = fake_server_options(scenario);
    codex_client *client = NULL;
    codex_error *err = NULL;
    CHECK_OK(codex_client_start(opts, &client, &err), err);
    codex_options_free(opts);
    codex_client_close(client);
    codex_client_free(client);
}

static void stderr_from_environment(void) {
    int fds[2];
    CHECK(pipe(fds) == 0, "pipe");
    pid_t pid = fork();
    CHECK(pid >= 0, "fork");
    if (pid == 0) {
        close(fds[0]);
        dup2(fds[1], 2);
        setenv("CODEX_APP_SERVER_LOG", "info", 1);
        run_client_once("normal");
        _exit(0);
    }
    close(fds[1]);
    char out[8192];
    size_t len = 0;
    ssize_t n;
    while (len < sizeof out - 1 && (n = read(fds[0], out + len, sizeof out - 1 - len)) > 0)
        len += (size_t)n;
    out[len] = 0;
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child failed:\n%s", out);
    CHECK(strstr(out, "codex_app_server info: started codex app-server (pid ") != NULL,
          "no spawn line on stderr:\n%s", out);
    CHECK(strstr(out, "codex_app_server info: codex app-server (pid ") != NULL &&
              strstr(out, "exited") != NULL,
          "no exit line on stderr:\n%s", out);
    CHECK(strstr(out, "debug:") == NULL, "a debug message at level info:\n%s", out);
}

/* ---- 2. what a callback sees ---- */

typedef struct {
    pthread_mutex_t lock;
    char text[1 << 16];
    size_t len;
    int count[5];
} collected;

static void collect(void *userdata, codex_log_level level, const char *message) {
    collected *c = userdata;
    CHECK(level >= CODEX_LOG_ERROR && level <= CODEX_LOG_DEBUG, "level %u", level);
    CHECK(strchr(message, '\n') == NULL, "a newline in a message: %s", message);
    pthread_mutex_lock(&c->lock);
    c->count[level]++;
    if (level < CODEX_LOG_DEBUG)
        CHECK(strstr(message, "secret prompt") == NULL, "prompt text above debug: %s", message);
    CHECK(strstr(message, CONFIG_SECRET) == NULL, "a config value was logged: %s", message);
    int n = snprintf(c->text + c->len, sizeof c->text - c->len, "%u %s\n", level, message);
    if (n > 0 && (size_t)n < sizeof c->text - c->len) c->len += (size_t)n;
    pthread_mutex_unlock(&c->lock);
}

static int collected_freed;
static void collected_free(void *userdata) {
    (void)userdata;
    collected_freed++;
}

static void what_a_callback_sees(void) {
    static collected c = {.lock = PTHREAD_MUTEX_INITIALIZER};
    codex_error *err = NULL;
    CHECK_OK(codex_set_log_callback(CODEX_LOG_DEBUG, collect, &c, collected_free, &err), err);

    codex_options *opts = fake_server_options("garbage");
    CHECK_OK(codex_options_add_config(opts, "api_key=\"" CONFIG_SECRET "\"", &err), err);
    codex_client *client = NULL;
    CHECK_OK(codex_client_start(opts, &client, &err), err);
    codex_options_free(opts);
    char *thread_id = NULL;
    CHECK_OK(codex_client_thread_start(client, NULL, &thread_id, NULL, &err), err);
    codex_turn *turn = NULL;
    CHECK_OK(codex_turn_start(client, thread_id, "the secret prompt text", NULL, &turn, &err), err);
    codex_turn_result *result = NULL;
    CHECK_OK(codex_turn_run(turn, 60000, &result, &err), err);
    codex_turn_result_free(result);
    codex_turn_free(turn);
    /* A request the fake never answers: a timeout. */
    char *json = NULL;
    CHECK(codex_client_request(client, "test/hang", "{}", 1, &json, &err) == CODEX_ERR_TIMEOUT,
          "test/hang did not time out");
    codex_error_free(err);
    err = NULL;
    CHECK(codex_client_skipped_lines(client) > 0, "the garbage scenario skipped nothing");
    codex_string_free(thread_id);
    codex_client_close(client);
    codex_client_free(client);

    /* Removing the callback: its userdata_free runs once, at once. */
    CHECK_OK(codex_set_log_callback(CODEX_LOG_OFF, NULL, NULL, NULL, &err), err);
    CHECK(collected_freed == 1, "userdata_free ran %d times", collected_freed);

    const char *expect[] = {
        "3 started codex app-server (pid ",
        " -c api_key=… app-server --listen stdio://; environment set: FAKE_SCENARIO",
        "3 codex app-server initialized",
        "4 thread thr_1 started",
        "4 turn turn_1 started on thread thr_1",
        "2 skipped a line of ",
        ": not a JSON-RPC message",
        "4 the skipped line starts with \"",
        "2 test/hang (request ",
        "): no response within 1 ms",
        "3 codex app-server (pid ",
    };
    for (size_t i = 0; i < sizeof expect / sizeof *expect; i++)
        CHECK(strstr(c.text, expect[i]) != NULL, "no \"%s\" in the log:\n%s", expect[i], c.text);
    CHECK(c.count[CODEX_LOG_ERROR] == 0, "errors were logged:\n%s", c.text);
}

/* ---- 3. replacing the callback while others log ---- */

#define LOGGERS 4
#define SWAPS 40

typedef struct {
    atomic_int alive; /* 1 until userdata_free; a call after it is a failure */
    atomic_int calls;
    int frees;
} sink;

static atomic_int stop_logging;
static atomic_int late_calls;
static codex_client *shared_client;

static void counting(void *userdata, codex_log_level level, const char *message) {
    (void)level;
    (void)message;
    sink *s = userdata;
    if (atomic_load(&s->alive) != 1) atomic_fetch_add(&late_calls, 1);
    atomic_fetch_add(&s->calls, 1);
}

static void sink_free(void *userdata) {
    sink *s = userdata;
    s->frees++;
    CHECK(s->frees == 1, "userdata_free ran %d times", s->frees);
    atomic_store(&s->alive, 0);
}

/* Logs a warning per round: a request that times out at once. */
static void *keep_logging(void *arg) {
    (void)arg;
    while (!atomic_load(&stop_logging)) {
        char *json = NULL;
        codex_error *err = NULL;
        codex_result rc = codex_client_request(shared_client, "test/hang", "{}", 1, &json, &err);
        CHECK(rc == CODEX_ERR_TIMEOUT, "test/hang: %s", codex_result_name(rc));
        codex_error_free(err);
    }
    return NULL;
}

static void replace_while_logging(void) {
    codex_options *opts = fake_server_options("normal");
    codex_error *err = NULL;
    CHECK_OK(codex_client_start(opts, &shared_client, &err), err);
    codex_options_free(opts);

    sink *sinks[SWAPS];
    for (int i = 0; i < SWAPS; i++) {
        sinks[i] = calloc(1, sizeof *sinks[i]);
        atomic_store(&sinks[i]->alive, 1);
    }
    pthread_t threads[LOGGERS];
    for (int i = 0; i < LOGGERS; i++) pthread_create(&threads[i], NULL, keep_logging, NULL);
    for (int i = 0; i < SWAPS; i++) {
        CHECK_OK(codex_set_log_callback(CODEX_LOG_WARN, counting, sinks[i], sink_free, &err), err);
        /* The previous sink is done: freed once, and never called again. */
        if (i > 0) CHECK(sinks[i - 1]->frees == 1, "sink %d freed %d times", i - 1, sinks[i - 1]->frees);
        /* Wait (a bounded loop on a condition) until the loggers reached this sink. */
        for (long spin = 0; atomic_load(&sinks[i]->calls) == 0; spin++) {
            CHECK(spin < 600000, "sink %d got no call", i);
            nanosleep(&(struct timespec){.tv_nsec = 100000}, NULL);
        }
    }
    CHECK_OK(codex_set_log_callback(CODEX_LOG_OFF, NULL, NULL, NULL, &err), err);
    atomic_store(&stop_logging, 1);
    for (int i = 0; i < LOGGERS; i++) pthread_join(threads[i], NULL);
    int calls = 0;
    for (int i = 0; i < SWAPS; i++) {
        CHECK(sinks[i]->frees == 1, "sink %d freed %d times", i, sinks[i]->frees);
        calls += atomic_load(&sinks[i]->calls);
        free(sinks[i]);
    }
    CHECK(atomic_load(&late_calls) == 0, "%d calls after userdata_free", atomic_load(&late_calls));
    codex_client_close(shared_client);
    codex_client_free(shared_client);
    printf("log_test: %d swaps under %d logging threads, %d calls, none late\n", SWAPS, LOGGERS, calls);
}

/* ---- 4. a bad level ---- */

static int bad_freed;
static void bad_free(void *userdata) {
    (void)userdata;
    bad_freed++;
}

static void bad_level(void) {
    codex_error *err = NULL;
    CHECK(codex_set_log_callback(9, counting, NULL, bad_free, &err) == CODEX_ERR_INVALID_ARGUMENT,
          "level 9 was taken");
    CHECK(strstr(codex_error_message(err), "min_level") != NULL, "%s", codex_error_message(err));
    codex_error_free(err);
    CHECK(bad_freed == 1, "the refused userdata was freed %d times", bad_freed);
}

int main(void) {
    stderr_from_environment();
    what_a_callback_sees();
    replace_while_logging();
    bad_level();
    printf("log_test: stderr from CODEX_APP_SERVER_LOG, callback contents, replacement, bad level\n");
    return 0;
}
