// The C++ layer's asynchronous starts (issue 23) against the scripted fake app-server: a
// Pending waited for and read as text and as a document, futures settled on a callback
// thread, a future that carries the server's error, a cancelled start, and a turn started
// without waiting.
#include <cstdio>
#include <cstdlib>
#include <future>
#include <string>
#include <vector>

#include "codex_app_server.hpp"

#define CHECK(cond)                                                              \
    do {                                                                         \
        if (!(cond)) {                                                           \
            std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            std::exit(1);                                                        \
        }                                                                        \
    } while (0)

int main() {
    const char *fake = std::getenv("CODEX_FAKE_SERVER");
    CHECK(fake != nullptr);
    codex::Client client = codex::Client::start(codex::Options().codex_bin(fake).env("FAKE_SCENARIO", "normal"));
    const codex::Timeout safety(60000);

    // A Pending: waited for, then read both ways.
    codex::Pending echo = codex::request_async(client, "test/echo", "{\"a\":[1,2]}");
    CHECK(echo.wait(safety) && echo.done());
    CHECK(echo.result() == "{\"a\":[1,2]}");
    CHECK(echo.result_json().array_len("/a") == 2u);

    // Futures: ten thread starts in flight at once, each settled by its answer.
    std::vector<std::future<std::string>> starts;
    for (int i = 0; i < 10; i++) starts.push_back(codex::thread_start_future(client));
    std::vector<std::string> threads;
    for (auto &f : starts) {
        CHECK(f.wait_for(std::chrono::seconds(60)) == std::future_status::ready);
        std::string result = f.get();
        codex::Json doc = codex::Json::parse(result);
        threads.push_back(std::string(*doc.string("/thread/id")));
    }
    CHECK(threads.size() == 10 && threads[0] != threads[9]);

    // A failed request's future throws the request's error.
    std::future<std::string> bad = codex::request_future(client, "no/such");
    try {
        bad.get();
        CHECK(false);
    } catch (const codex::Error &e) {
        CHECK(e.code() == CODEX_ERR_RPC);
    }

    // A start cancelled before its answer: the answer, when released, goes to nobody.
    {
        codex::Pending held = codex::thread_start_async(client, "{\"fakeHold\":true}");
        CHECK(!held.done());
    }
    CHECK(client.request("test/release_held") == "{\"released\":1}");

    // A turn returned before its answer streams as usual.
    codex::Turn turn = codex::turn_start_async(client, threads[0], "hi");
    int events = 0;
    while (turn.next_event(safety)) events++;
    CHECK(events > 0 && !turn.id().empty());

    // Interrupted without waiting: the fake holds the turn after its first delta.
    codex::Turn held = codex::turn_start_async(client, threads[1], "stop hold-after:1");
    for (;;) {
        std::optional<codex::Event> ev = held.next_event(safety);
        CHECK(ev.has_value());
        if (ev->kind() == CODEX_EVENT_AGENT_MESSAGE_DELTA) break;
    }
    codex::Pending stop = codex::interrupt_async(held);
    CHECK(stop.wait(safety));
    stop.result();
    CHECK(held.run(safety).status == "interrupted");

    // A turn whose start fails ends its stream with the error.
    codex::Turn lost = codex::turn_start_async(client, "thr_404", "hi");
    try {
        lost.next_event(safety);
        CHECK(false);
    } catch (const codex::Error &e) {
        CHECK(e.code() == CODEX_ERR_RPC);
    }
    // A client started without waiting: a Starting, then a future.
    codex::Starting starting = codex::start_async(codex::Options().codex_bin(fake).env("FAKE_SCENARIO", "normal"));
    CHECK(starting.wait(safety) && starting.done());
    codex::Client second = starting.finish();
    CHECK(second.request("test/echo", "[5]") == "[5]");
    std::future<codex::Client> third = codex::start_future(codex::Options().codex_bin(fake));
    CHECK(third.wait_for(std::chrono::seconds(60)) == std::future_status::ready);
    codex::Client c3 = third.get();
    CHECK(c3.request("test/echo", "[6]") == "[6]");
    std::future<codex::Client> failed = codex::start_future(codex::Options().codex_bin("/nonexistent/codex-async"));
    try {
        failed.get();
        CHECK(false);
    } catch (const codex::Error &e) {
        CHECK(e.code() == CODEX_ERR_SPAWN);
    }
    std::printf("async_test (C++): ok\n");
    return 0;
}
