/* Small helpers shared by the C tests: failing checks print where and exit(1). */
#ifndef CODEX_TEST_UTIL_H
#define CODEX_TEST_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include "codex_app_server.h"

#define CHECK(cond, ...)                                                        \
    do {                                                                        \
        if (!(cond)) {                                                          \
            fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                       \
            fprintf(stderr, "\n");                                              \
            exit(1);                                                            \
        }                                                                       \
    } while (0)

/* Fails the test with the error's code and message unless rc is CODEX_OK. */
#define CHECK_OK(rc, err)                                                       \
    do {                                                                        \
        codex_result rc_ = (rc);                                                \
        if (rc_ != CODEX_OK) {                                                  \
            fprintf(stderr, "%s:%d: %s failed: %s: %s\n", __FILE__, __LINE__, #rc, \
                    codex_result_name(rc_), (err) ? codex_error_message(err) : "(no error)"); \
            exit(1);                                                            \
        }                                                                       \
    } while (0)

/* setenv/unsetenv where the C library has them, their Windows equivalent elsewhere. */
#ifdef _WIN32
#define test_setenv(name, value) _putenv_s((name), (value))
#define test_unsetenv(name) _putenv_s((name), "")
#else
#define test_setenv(name, value) setenv((name), (value), 1)
#define test_unsetenv(name) unsetenv(name)
#endif

/* Options that run the scripted fake app-server (path in $CODEX_FAKE_SERVER). */
static inline codex_options *fake_server_options(const char *scenario) {
    const char *fake = getenv("CODEX_FAKE_SERVER");
    CHECK(fake != NULL, "set CODEX_FAKE_SERVER to target/release/fake_app_server");
    codex_options *opts = codex_options_new();
    codex_error *err = NULL;
    CHECK_OK(codex_options_set_codex_bin(opts, fake, &err), err);
    CHECK_OK(codex_options_set_env(opts, "FAKE_SCENARIO", scenario, &err), err);
    return opts;
}

#endif
