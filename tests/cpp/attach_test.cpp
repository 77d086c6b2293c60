// The C++ layer's turn_attach and review_start against the scripted fake: the fake writes a
// script's lines once it has the turn starts the script waits for, so nothing here races.
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "codex_app_server.hpp"

#define CHECK(cond)                                                              \
    do {                                                                         \
        if (!(cond)) {                                                           \
            std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            std::exit(1);                                                        \
        }                                                                        \
    } while (0)

// A line of a script, as a JSON string.
static std::string quoted(const std::string &line) {
    std::string out = "\"";
    for (char c : line) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\"";
}

static void script(const codex::Client &client, int after_starts, const std::string &lines) {
    client.request("test/script", "{\"afterStarts\":" + std::to_string(after_starts) + ",\"lines\":[" + lines + "]}",
                   codex::Timeout(60000));
}

static std::string turn_lines(const std::string &thread, const std::string &turn) {
    return quoted("{\"method\":\"turn/started\",\"params\":{\"threadId\":\"" + thread + "\",\"turn\":{\"id\":\"" + turn +
                  "\"}}}") +
           "," +
           quoted("{\"method\":\"turn/completed\",\"params\":{\"threadId\":\"" + thread + "\",\"turn\":{\"id\":\"" +
                  turn + "\",\"status\":\"completed\"}}}");
}

int main() {
    const char *fake = std::getenv("CODEX_FAKE_SERVER");
    CHECK(fake != nullptr);
    codex::Client client = codex::Client::start(codex::Options().codex_bin(fake).env("FAKE_SCENARIO", "scripted").required_human_approval(true));
    std::string thread = client.thread_start();

    // The next turn of the thread, polled.
    codex::Turn next = codex::turn_attach(client, thread);
    CHECK(next.id().empty());
    {
        codex::Turn waiting = codex::turn_attach(client, thread);  // behind `next`; freed unused
        try {
            codex::turn_attach(client, thread);
            CHECK(false);
        } catch (const codex::Error &e) {
            CHECK(e.code() == CODEX_ERR_TURN_ACTIVE);
        }
    }
    script(client, 0, turn_lines(thread, "goal-1"));
    CHECK(next.run(codex::Timeout(60000)).status == "completed");
    CHECK(next.id() == "goal-1");

    // By id, with a handler.
    std::atomic<int> seen{0};
    codex::Turn by_id = codex::turn_attach(
        client, thread, [&](const codex::Event &ev) { seen += ev.turn_id() == std::optional<std::string>("goal-2"); },
        std::string("goal-2"));
    script(client, 0, turn_lines(thread, "goal-2"));
    by_id.run(codex::Timeout(60000));
    CHECK(seen == 2);

    // A review: the script waits for its review/start.
    std::thread scripter([&] {
        script(client, 1,
               quoted("{\"id\":$START,\"result\":{\"turn\":{\"id\":\"rev\"},\"reviewThreadId\":\"" + thread + "\"}}") +
                   "," +
                   quoted("{\"method\":\"item/completed\",\"params\":{\"threadId\":\"" + thread +
                          "\",\"turnId\":\"rev\",\"item\":{\"type\":\"exitedReviewMode\",\"id\":\"x\",\"review\":\"Fine.\"}}}") +
                   "," +
                   quoted("{\"method\":\"turn/completed\",\"params\":{\"threadId\":\"" + thread +
                          "\",\"turn\":{\"id\":\"rev\",\"status\":\"completed\"}}}"));
    });
    codex::Turn review = codex::review_start(client, thread, "{\"target\":{\"type\":\"uncommittedChanges\"}}");
    scripter.join();
    codex::TurnResult result = review.run(codex::Timeout(60000));
    CHECK(result.review && *result.review == "Fine.");
    // Typed answers: a dynamic tool call and a humanCommand approval (issue 19, item 3).
    script(client, 0,
           quoted("{\"id\":1,\"method\":\"item/tool/call\",\"params\":{\"threadId\":\"t\",\"tool\":\"x\"}}") + "," +
               quoted("{\"id\":2,\"method\":\"item/commandExecution/requestApproval\",\"params\":{\"threadId\":"
                      "\"t\",\"kind\":\"humanCommand\"}}"));
    for (int answered = 0; answered < 2;) {
        codex::Event ev = client.next_event(codex::Timeout(60000));
        if (ev.kind() != CODEX_EVENT_SERVER_REQUEST) continue;
        codex::Request req = ev.request();
        if (req.method() == "item/tool/call") {
            req.respond_tool_text("42", true);
        } else {
            try {
                req.approve(CODEX_DECISION_ACCEPT_FOR_SESSION);
                CHECK(false);
            } catch (const codex::Error &e) {
                CHECK(e.code() == CODEX_ERR_INVALID_ARGUMENT);
            }
            req.approve(CODEX_DECISION_DECLINE);
        }
        answered++;
    }
    std::string answers = client.request("test/answers", "", codex::Timeout(60000));
    CHECK(answers.find("\"success\":true") != std::string::npos);
    CHECK(answers.find("{\"decision\":\"decline\"}") != std::string::npos);
    std::printf("attach_cpp_test: ok\n");
    return 0;
}
