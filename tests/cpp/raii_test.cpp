// The C++ layer (include/codex_app_server.hpp) against the scripted fake app-server:
// RAII handles, exceptions with codes, polling and lambda callbacks, answering a request.
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

static codex::Client start(const char *scenario) {
    const char *fake = std::getenv("CODEX_FAKE_SERVER");
    CHECK(fake != nullptr);
    return codex::Client::start(codex::Options().codex_bin(fake).env("FAKE_SCENARIO", scenario).env("FAKE_DELTAS", "20"));
}

int main() {
    // Errors are exceptions with the C code.
    try {
        codex::Options().config("no equals sign");
        CHECK(false);
    } catch (const codex::Error &e) {
        CHECK(e.code() == CODEX_ERR_INVALID_ARGUMENT);
    }
    {
        codex::Client client = start("normal");
        try {
            client.request("test/error_with_data", "{}");
            CHECK(false);
        } catch (const codex::Error &e) {
            CHECK(e.code() == CODEX_ERR_RPC && e.rpc_code() == -32602 && e.data().has_value());
        }
        CHECK(client.request("test/echo", "{\"a\":1}") == "{\"a\":1}");

        // Polling from several threads at once.
        std::vector<std::thread> workers;
        std::atomic<int> turns_ok{0};
        for (int i = 0; i < 4; i++) {
            workers.emplace_back([&] {
                std::string thread = client.thread_start();
                codex::Turn turn = client.turn_start(thread, "hi");
                int deltas = 0;
                while (auto ev = turn.next_event(codex::Timeout(60000))) {
                    CHECK(ev->turn_id() == turn.id());
                    if (ev->kind() == CODEX_EVENT_AGENT_MESSAGE_DELTA)
                        CHECK(*ev->delta() == turn.id() + ":" + std::to_string(deltas++) + ";");
                }
                codex::TurnResult result = turn.run();
                if (deltas == 20 && result.status == "completed" && result.final_answer) turns_ok++;
            });
        }
        for (auto &w : workers) w.join();
        CHECK(turns_ok == 4);

        // A lambda callback; the handler is released by the library after its last call.
        std::string thread = client.thread_start();
        std::atomic<int> calls{0};
        auto counted = std::make_shared<int>(0);
        codex::Turn turn = client.turn_start(thread, "hi", [&calls, counted](const codex::Event &ev) {
            (void)ev;
            calls++;
        });
        codex::TurnResult result = turn.run();
        CHECK(result.status == "completed");
        CHECK(calls > 20);
        CHECK(counted.use_count() == 1);  // the library destroyed its copy of the lambda

        // A second turn on a busy thread is refused. The fake holds the first turn after one
        // delta until the interrupt arrives, so it is surely still running at both steps.
        std::string busy = client.thread_start();
        codex::Turn first = client.turn_start(busy, "one hold-after:1");
        try {
            client.turn_start(busy, "two");
            CHECK(false);
        } catch (const codex::Error &e) {
            CHECK(e.code() == CODEX_ERR_TURN_ACTIVE);
        }
        first.interrupt();
        codex::TurnResult interrupted = first.run();
        CHECK(interrupted.status == "interrupted");
    }
    {
        // Answering a server request through the C++ layer.
        codex::Client client = start("approval");
        codex::Turn turn = client.turn_start(client.thread_start(), "run");
        bool accepted = false;
        while (auto ev = turn.next_event(codex::Timeout(60000))) {
            if (ev->kind() != CODEX_EVENT_SERVER_REQUEST) continue;
            codex::Request req = ev->request();
            if (req.method() == "item/commandExecution/requestApproval") {
                CHECK(req.json().string("/command") == "echo hi" && req.json().string("/cwd") == "/tmp");
                req.approve(CODEX_DECISION_ACCEPT);
                accepted = true;
            } else {
                req.respond_error(-32000, "not here");
            }
        }
        CHECK(accepted);
        CHECK(turn.run().items_json.find("\"decision\":\"accept\"") != std::string::npos);
    }
    {
        // Reading by JSON Pointer: absent is std::nullopt, a wrong type throws.
        codex::Json doc = codex::Json::parse(R"({"a":[1,{"b":"x\u00e9"}],"n":null})");
        CHECK(doc.array_len("/a") == 2u && doc.int64("/a/0") == 1);
        CHECK(doc.at("/a/1")->string("/b") == "x\xc3\xa9");
        CHECK(!doc.string("/missing").has_value() && doc.type("/n") == CODEX_JSON_NULL);
        try {
            doc.int64("/a/1/b");
            CHECK(false);
        } catch (const codex::Error &e) {
            CHECK(e.code() == CODEX_ERR_WRONG_TYPE);
        }
        codex::Client client = start("normal");
        CHECK(client.request_json("test/echo", R"({"k":[true]})").boolean("/k/0") == true);
        codex::Turn turn = client.turn_start(client.thread_start(), "deltas=1");
        int64_t total = 0;
        while (auto ev = turn.next_event(codex::Timeout(60000))) {
            if (ev->kind() == CODEX_EVENT_TOKEN_USAGE) total = *ev->json().int64("/tokenUsage/total/totalTokens");
        }
        CHECK(total == 8);
        codex::TurnResult result = turn.run();
        CHECK(result.items().string("/0/type") == "agentMessage");
        CHECK(result.usage()->int64("/last/outputTokens") == 3);
    }
    std::printf("raii_test: ok\n");
    return 0;
}
