// codex::Pool (include/codex_app_server.hpp) against two scripted fake app-servers: threads
// spread over the members, a polled turn and a lambda-callback turn, the limits' setters.
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "codex_app_server.hpp"

#define CHECK(cond)                                                              \
    do {                                                                         \
        if (!(cond)) {                                                           \
            std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            std::exit(1);                                                        \
        }                                                                        \
    } while (0)

static codex::Options member(const char *prefix) {
    const char *fake = std::getenv("CODEX_FAKE_SERVER");
    CHECK(fake != nullptr);
    return std::move(codex::Options()
                         .codex_bin(fake)
                         .env("FAKE_SCENARIO", "normal")
                         .env("FAKE_THREAD_PREFIX", prefix)
                         .control_timeout(std::chrono::seconds(5))
                         .turn_buffer_events(1000)
                         .max_line_bytes(1 << 20)
                         .turn_idle_timeout(std::chrono::milliseconds(0)));
}

int main() {
    try {
        codex::Options().control_timeout(std::chrono::milliseconds(0));
        CHECK(false);
    } catch (const codex::Error &e) {
        CHECK(e.code() == CODEX_ERR_INVALID_ARGUMENT);
    }
    // The remote options are checked as they are set.
    try {
        codex::Options().url("ftp://example");
        CHECK(false);
    } catch (const codex::Error &e) {
        CHECK(e.code() == CODEX_ERR_INVALID_ARGUMENT);
    }
    codex::Options().url("ws://127.0.0.1:4500").auth_token("t").connect_timeout(std::chrono::seconds(1))
        .keepalive(std::chrono::seconds(30), std::chrono::seconds(20));
    std::vector<codex::Options> members;
    members.push_back(member("a_"));
    members.push_back(member("b_"));
    codex::Pool pool = codex::Pool::start(members);
    // The start returns once one member is up; wait (bounded) for the other.
    for (int waited_ms = 0; !(pool.member_healthy(0) && pool.member_healthy(1)); waited_ms++) {
        CHECK(waited_ms < 30000);
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    CHECK(pool.member_count() == 2);
    std::string first = pool.thread_start(), second = pool.thread_start();
    CHECK(first[0] != second[0]);  // one thread on each member

    codex::TurnResult polled = pool.turn_start(first, "hi").run(std::chrono::seconds(30));
    CHECK(polled.status == "completed");

    std::atomic<int> deltas{0};
    codex::Turn turn = pool.turn_start(second, "hi", [&](const codex::Event &ev) {
        if (ev.delta()) deltas++;
    });
    CHECK(turn.run(std::chrono::seconds(30)).status == "completed");
    CHECK(deltas == 5);
    CHECK(pool.client_for_thread(second) != nullptr);
    try {
        pool.turn_start("unknown", "x");
        CHECK(false);
    } catch (const codex::Error &e) {
        CHECK(e.code() == CODEX_ERR_INVALID_ARGUMENT);
    }
    pool.close();
    std::printf("pool_test (C++): ok\n");
    return 0;
}
