// The C++ layer's thread, account and model calls against the scripted fake app-server (which
// keeps threads, models and an account in memory: tools/fake_app_server/threads.rs).
#include <cstdio>
#include <cstdlib>
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

static bool contains(const std::string &text, const std::string &part) { return text.find(part) != std::string::npos; }

int main() {
    const char *fake = std::getenv("CODEX_FAKE_SERVER");
    CHECK(fake != nullptr);
    codex::Client client = codex::Client::start(codex::Options().codex_bin(fake).env("FAKE_SCENARIO", "normal"));

    std::vector<std::string> started;
    for (int i = 0; i < 3; i++) started.push_back(client.thread_start());

    // Fork: a new id, the full result when asked.
    std::string result;
    std::string fork = client.thread_fork(started[0], false, "", &result);
    CHECK(fork != started[0] && contains(result, "\"forkedFromId\":\"" + started[0] + "\""));

    // The listing, two threads a page: 4 threads (newest first) in pages of 2 and 2.
    codex::ThreadList list = client.thread_list("{\"limit\":2}");
    std::vector<std::vector<std::string>> pages;
    while (list.next_page()) {
        pages.push_back(list.ids());
        CHECK(contains(list.page_json(), "\"data\""));
        if (pages.size() == 1) CHECK(list.next_cursor().has_value());
    }
    CHECK(pages.size() == 2 && pages[0].size() == 2 && pages[1].size() == 2);
    CHECK(pages[0][0] == fork && pages[1][1] == started[0]);
    CHECK(!list.next_cursor().has_value());

    // Name, read, archive, unarchive, compact, unsubscribe.
    client.thread_set_name(started[1], "Nightly build");
    CHECK(contains(client.thread_read(started[1], true), "\"name\":\"Nightly build\""));
    codex::ThreadList named = client.thread_list("{\"searchTerm\":\"Nightly\"}");
    CHECK(named.next_page() && named.ids() == std::vector<std::string>{started[1]});
    client.thread_archive(started[2]);
    codex::ThreadList archived = client.thread_list("{\"archived\":true}");
    CHECK(archived.next_page() && archived.ids() == std::vector<std::string>{started[2]});
    CHECK(contains(client.thread_unarchive(started[2]), started[2]));
    CHECK(contains(client.thread_turns_list(started[2], "{\"limit\":1}"), "\"data\""));
    client.thread_compact(started[0]);
    CHECK(contains(client.thread_unsubscribe(started[0]), "\"unsubscribed\""));
    CHECK(contains(client.thread_unsubscribe(started[0]), "\"notSubscribed\""));

    // The server's errors are exceptions with its code.
    try {
        client.thread_read("no-such-thread");
        CHECK(false);
    } catch (const codex::Error &e) {
        CHECK(e.code() == CODEX_ERR_RPC && e.rpc_code() == -32600);
    }
    try {
        codex::ThreadList bad = client.thread_list("{\"cursor\":\"nonsense\"}");
        bad.next_page();
        CHECK(false);
    } catch (const codex::Error &e) {
        CHECK(e.code() == CODEX_ERR_RPC && contains(e.what(), "invalid cursor"));
    }
    try {
        client.thread_list("[1]");
        CHECK(false);
    } catch (const codex::Error &e) {
        CHECK(e.code() == CODEX_ERR_INVALID_ARGUMENT);
    }

    // Models (pages merged), account, rate limits read and notified.
    CHECK(contains(client.model_list(false), "fake-model") && !contains(client.model_list(false), "fake-hidden"));
    CHECK(contains(client.model_list(true), "fake-hidden"));
    CHECK(contains(client.account_read(), "\"account\":null"));
    client.account_login_api_key("sk-fake");
    CHECK(contains(client.account_read(), "\"apiKey\""));
    codex::RateLimits limits = client.account_rate_limits();
    auto primary = limits.window(CODEX_RATE_LIMIT_PRIMARY);
    CHECK(primary && primary->used_percent == 42 && primary->window_minutes == 300 && primary->resets_at == 1800000000);
    CHECK(!limits.window(CODEX_RATE_LIMIT_SECONDARY));
    for (;;) {
        codex::Event ev = client.next_event(codex::Timeout(60000));
        if (ev.method() != "account/rateLimits/updated") continue;
        codex::RateLimits notified = codex::RateLimits::from_event(ev);
        CHECK(notified.window(CODEX_RATE_LIMIT_PRIMARY)->used_percent == 42);
        break;
    }
    client.account_logout();
    CHECK(contains(client.account_read(), "\"account\":null"));
    std::puts("threads_test (C++): ok");
    return 0;
}
