// Concurrent turns from C++: three turns polled by three std::threads, and two turns whose
// events go to lambdas on library threads, all on one client; the library's log messages go to
// a lambda too. Uses the app-server in $CODEX_BIN, else `codex` on PATH.
//
//   c++ -std=c++17 concurrent_turns.cpp $(pkg-config --cflags --libs codex_app_server) -pthread
#include <cstdio>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <codex_app_server.hpp>

// One line at a time on stdout, from many threads. Global: the log handler may outlive main's
// locals until it is removed.
static std::mutex out;
static void say(const std::string &line) {
    std::lock_guard<std::mutex> lock(out);
    std::cout << line << std::endl;
}

int main() {
    // The library's warnings and errors (skipped lines, timeouts, a dying server).
    codex::set_log_handler(CODEX_LOG_WARN, [](codex_log_level level, std::string_view message) {
        say(std::string(level == CODEX_LOG_ERROR ? "[codex error] " : "[codex warn] ") + std::string(message));
    });
    try {
        codex::Client client = codex::Client::start();

        // Polling: each std::thread owns one turn and reads its events in order.
        const std::vector<std::string> prompts = {"Name a prime number", "Name a colour", "Name a river"};
        std::vector<std::string> replies(prompts.size());
        std::vector<std::thread> readers;
        for (size_t i = 0; i < prompts.size(); i++) {
            readers.emplace_back([&, i] {
                codex::Turn turn = client.turn_start(client.thread_start(), prompts[i]);
                std::string status;
                while (auto ev = turn.next_event(codex::Timeout(60000))) {
                    if (auto delta = ev->delta(); delta && ev->kind() == CODEX_EVENT_AGENT_MESSAGE_DELTA)
                        replies[i] += *delta;
                    if (ev->kind() == CODEX_EVENT_TURN_COMPLETED) status = ev->turn_status().value_or("");
                }
                say("polled turn " + turn.id() + ": " + status + ", " + std::to_string(replies[i].size()) +
                    " characters");
            });
        }

        // Callbacks: lambdas run on library threads, one call at a time per turn, in order.
        struct Streamed {
            std::mutex lock;
            std::string text;
        };
        std::vector<Streamed> streamed(2);
        std::vector<codex::Turn> callback_turns;
        for (size_t i = 0; i < streamed.size(); i++) {
            Streamed &s = streamed[i];
            callback_turns.push_back(
                client.turn_start(client.thread_start(), "Name a mountain", [&s](const codex::Event &ev) {
                    if (ev.kind() == CODEX_EVENT_AGENT_MESSAGE_DELTA) {
                        std::lock_guard<std::mutex> lock(s.lock);
                        s.text += *ev.delta();
                    }
                }));
        }
        int completed = 0;
        for (size_t i = 0; i < callback_turns.size(); i++) {
            codex::TurnResult result = callback_turns[i].run();  // after the last callback call
            completed += result.status == "completed";
            std::lock_guard<std::mutex> lock(streamed[i].lock);
            say("callback turn " + callback_turns[i].id() + ": " + result.status + ", " +
                std::to_string(streamed[i].text.size()) + " characters, final answer: " +
                result.final_answer.value_or("(none)"));
        }

        for (std::thread &t : readers) t.join();
        for (const std::string &reply : replies) completed += !reply.empty();
        say("c++ example: " + std::to_string(completed) + " of 5 turns completed");
        client.close();
        codex::set_log_handler(CODEX_LOG_OFF, nullptr);
        return completed == 5 ? 0 : 1;
    } catch (const codex::Error &e) {
        std::cerr << "codex error " << e.code_name() << ": " << e.what() << std::endl;
        return 1;
    }
}
