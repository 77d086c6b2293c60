// Typed access in C++ (include/codex_app_server.hpp) against the scripted fake: builders start
// a thread and turns, an approval's command and cwd are read with accessors, items and
// failures read by kind; bad builder values throw codex::Error with CODEX_ERR_INVALID_ARGUMENT.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "codex_app_server.hpp"

#define CHECK(cond)                                                                   \
    do {                                                                              \
        if (!(cond)) {                                                                \
            std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            std::exit(1);                                                             \
        }                                                                             \
    } while (0)

template <typename F>
static void expect_invalid(F f) {
    try {
        f();
        CHECK(false);
    } catch (const codex::Error &e) {
        CHECK(e.code() == CODEX_ERR_INVALID_ARGUMENT);
    }
}

int main() {
    const char *fake = std::getenv("CODEX_FAKE_SERVER");
    CHECK(fake != nullptr);
    expect_invalid([] { codex::TurnOptions().sandbox("everything"); });
    expect_invalid([] { codex::TurnOptions().output_schema("{"); });
    expect_invalid([] { codex::ThreadOptions().config("k", "not json"); });
    expect_invalid([] { codex::Input().image_url(""); });

    CHECK(codex::Input().text("a\"b").to_json() == R"([{"text":"a\"b","type":"text"}])");
    CHECK(codex::TurnOptions().model("m2").to_json(R"({"model":"m1"})") == R"({"model":"m2"})");
    CHECK(codex::ThreadOptions().ephemeral(true).to_json() == R"({"ephemeral":true})");
    expect_invalid([] { codex::Input().to_json(); });

    // Readers over documents shaped as codex sends them.
    codex::Json item_doc = codex::Json::parse(
        R"({"type":"fileChange","id":"f1","status":"completed","changes":[{"path":"/a","kind":{"type":"delete"},"diff":"-x"}]})");
    codex::Item change(item_doc);
    CHECK(change.kind() == CODEX_ITEM_KIND_FILE_CHANGE && change.change_count() == 1);
    CHECK(change.change_path(0) == "/a" && change.change_kind(0) == CODEX_CHANGE_DELETE);
    CHECK(!change.exit_code().has_value() && !change.change_path(1).has_value());
    codex::Json failure_doc = codex::Json::parse(R"({"message":"m","codexErrorInfo":"serverOverloaded"})");
    codex::Failure failure(failure_doc);
    CHECK(failure.kind() == CODEX_FAILURE_SERVER_OVERLOADED && failure.message() == "m" && !failure.http_status());

    for (const char *scenario : {"normal", "approval"}) {
        codex::Client client =
            codex::Client::start(codex::Options().codex_bin(fake).env("FAKE_SCENARIO", scenario));
        std::string thread =
            codex::thread_start(client, codex::ThreadOptions().cwd("/tmp/\"q\" \\ é").ephemeral(true), R"({"model":"x"})");
        codex::TurnOptions options;
        options.model("m").approval_policy("on-request");
        codex::Turn turn = codex::turn_start(client, thread, codex::Input().text("hello").local_image("/tmp/a.png"), &options);
        bool asked = false;
        while (auto ev = turn.next_event(codex::Timeout(30000))) {
            if (ev->kind() == CODEX_EVENT_SERVER_REQUEST) {
                codex::Request req = ev->request();
                if (codex::request_kind(req) == CODEX_REQUEST_KIND_COMMAND_APPROVAL) {
                    CHECK(codex::request_command(req) == "echo hi" && codex::request_cwd(req) == "/tmp");
                    CHECK(codex::request_item_id(req) == "cmd_1" && !codex::request_reason(req));
                    asked = true;
                    req.approve(CODEX_DECISION_ACCEPT);
                } else {
                    CHECK(codex::request_kind(req) == CODEX_REQUEST_KIND_UNKNOWN);
                    req.respond_error(-32601, "unknown");
                }
            }
            if (auto item = codex::item_of(*ev)) CHECK(item->kind().has_value());
        }
        CHECK(asked == (std::string(scenario) == "approval"));
        codex::TurnResult result = turn.run();
        CHECK(!result.failure().has_value() || result.status == "failed");
        if (auto usage = result.usage()) {
            auto tokens = codex::usage_tokens(*usage);
            CHECK(!tokens || tokens->total >= 0);
        }
    }
    std::printf("typed_cpp_test: ok\n");
    return 0;
}
