// codex_app_server.hpp — a header-only C++17 layer over codex_app_server.h: RAII handles,
// exceptions for errors, std::string / std::optional results, lambdas as callbacks.
//
// Threads: as in the C API. A codex::Client may be used from many threads at once; a
// codex::Turn has one consumer at a time but may be steered or interrupted from any thread.
// Objects are movable, not copyable; destroying a Client closes it. Destroy turns, events and
// requests in any order relative to their client.
#ifndef CODEX_APP_SERVER_HPP
#define CODEX_APP_SERVER_HPP

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "codex_app_server.h"

namespace codex {

/// A failed call: its codex_result code, message, and for JSON-RPC errors the server's code
/// and data.
class Error : public std::runtime_error {
public:
    Error(codex_result code, std::string message, std::optional<int64_t> rpc_code = std::nullopt,
          std::optional<std::string> data = std::nullopt)
        : std::runtime_error(std::move(message)), code_(code), rpc_code_(rpc_code), data_(std::move(data)) {}
    codex_result code() const noexcept { return code_; }
    const char *code_name() const noexcept { return codex_result_name(code_); }
    std::optional<int64_t> rpc_code() const { return rpc_code_; }
    const std::optional<std::string> &data() const { return data_; }

private:
    codex_result code_;
    std::optional<int64_t> rpc_code_;
    std::optional<std::string> data_;
};

namespace detail {
/// Throws codex::Error (taking ownership of err) unless rc is CODEX_OK. `err` is taken by
/// reference so that it is read after the call in `check(codex_f(..., &err), err)` has run.
inline void check(codex_result rc, codex_error *const &err) {
    if (rc == CODEX_OK) return;
    std::string message = err ? codex_error_message(err) : codex_result_name(rc);
    std::optional<int64_t> rpc;
    int64_t code = 0;
    if (err && codex_error_rpc_code(err, &code)) rpc = code;
    std::optional<std::string> data;
    if (err && codex_error_data(err)) data = codex_error_data(err);
    codex_error_free(err);
    throw Error(rc, std::move(message), rpc, std::move(data));
}

/// Takes a string the library returned through an out-parameter.
inline std::string take(char *s) {
    std::string out = s ? s : "";
    codex_string_free(s);
    return out;
}

inline std::optional<std::string> opt(const char *s) {
    return s ? std::optional<std::string>(s) : std::nullopt;
}

inline const char *c_or_null(const std::optional<std::string> &s) { return s ? s->c_str() : nullptr; }

template <typename T, void (*Free)(T *)>
struct Deleter {
    void operator()(T *p) const noexcept { Free(p); }
};
template <typename T, void (*Free)(T *)>
using Owned = std::unique_ptr<T, Deleter<T, Free>>;
}  // namespace detail

/// Milliseconds to wait; -1 waits without limit.
using Timeout = std::chrono::milliseconds;
inline constexpr Timeout forever{-1};

/// Settings for Client::start (see codex_options_* in the C header).
class Options {
public:
    Options() : p_(codex_options_new()) {}
    Options &codex_bin(const std::string &path) { return set(codex_options_set_codex_bin, path); }
    Options &arg(const std::string &arg) { return set(codex_options_add_arg, arg); }
    Options &config(const std::string &key_value) { return set(codex_options_add_config, key_value); }
    Options &cwd(const std::string &dir) { return set(codex_options_set_cwd, dir); }
    Options &env(const std::string &name, const std::optional<std::string> &value) {
        codex_error *err = nullptr;
        detail::check(codex_options_set_env(p_.get(), name.c_str(), detail::c_or_null(value), &err), err);
        return *this;
    }
    Options &client_info(const std::string &name, const std::string &version) {
        codex_error *err = nullptr;
        detail::check(codex_options_set_client_info(p_.get(), name.c_str(), nullptr, version.c_str(), &err), err);
        return *this;
    }
    Options &experimental_api(bool on) {
        codex_error *err = nullptr;
        detail::check(codex_options_set_experimental_api(p_.get(), on, &err), err);
        return *this;
    }
    /// Declares requiredHumanApproval (codex_options_set_required_human_approval).
    Options &required_human_approval(bool on) {
        codex_error *err = nullptr;
        detail::check(codex_options_set_required_human_approval(p_.get(), on, &err), err);
        return *this;
    }
    Options &request_timeout(Timeout t) {
        codex_error *err = nullptr;
        detail::check(codex_options_set_request_timeout_ms(p_.get(), t.count(), &err), err);
        return *this;
    }
    Options &server_request_timeout(Timeout t) {
        codex_error *err = nullptr;
        detail::check(codex_options_set_server_request_timeout_ms(p_.get(), t.count(), &err), err);
        return *this;
    }
    /// stdio:// (default), ws://HOST:PORT[/path], wss://..., unix:///path.sock or unix:// (the
    /// local daemon); see codex_options_set_url.
    Options &url(const std::string &url) { return set(codex_options_set_url, url); }
    Options &auth_token(const std::string &token) { return set(codex_options_set_auth_token, token); }
    Options &ca_file(const std::string &path) { return set(codex_options_set_ca_file, path); }
    Options &connect_timeout(Timeout t) { return set_number(codex_options_set_connect_timeout_ms, t.count()); }
    /// Spawn or connect through the answer to `initialize`; see codex_options_set_start_timeout_ms.
    Options &start_timeout(Timeout t) { return set_number(codex_options_set_start_timeout_ms, t.count()); }
    /// A ping every `interval` (0: none); the connection ends after `interval + timeout` of silence.
    Options &keepalive(Timeout interval, Timeout timeout) {
        codex_error *err = nullptr;
        detail::check(codex_options_set_keepalive_ms(p_.get(), interval.count(), timeout.count(), &err), err);
        return *this;
    }
    Options &control_timeout(Timeout t) { return set_number(codex_options_set_control_timeout_ms, t.count()); }
    /// 0 = off (the default).
    Options &turn_idle_timeout(Timeout t) { return set_number(codex_options_set_turn_idle_timeout_ms, t.count()); }
    /// ws/wss/unix: how long a dropped connection is made again, turns resumed (0 = never;
    /// default 30 s); see codex_options_set_reconnect_window_ms.
    Options &reconnect_window(Timeout t) { return set_number(codex_options_set_reconnect_window_ms, t.count()); }
    /// Library threads for this client's callbacks (default: the CPUs, at least 2).
    Options &callback_threads(size_t n) { return set_number(codex_options_set_callback_threads, n); }
    /// 0 = no limit.
    Options &turn_buffer_events(size_t n) { return set_number(codex_options_set_turn_buffer_events, n); }
    /// 0 = no limit.
    Options &max_line_bytes(size_t n) { return set_number(codex_options_set_max_line_bytes, n); }
    const codex_options *get() const { return p_.get(); }

private:
    template <typename F, typename N>
    Options &set_number(F f, N value) {
        codex_error *err = nullptr;
        detail::check(f(p_.get(), value, &err), err);
        return *this;
    }
    template <typename F>
    Options &set(F f, const std::string &value) {
        codex_error *err = nullptr;
        detail::check(f(p_.get(), value.c_str(), &err), err);
        return *this;
    }
    detail::Owned<codex_options, codex_options_free> p_;
};

/// A JSON document read by JSON Pointer (see codex_json in the C header): a view that never
/// frees. Getters give std::nullopt when nothing is at the pointer and throw codex::Error for a
/// value of another type (CODEX_ERR_WRONG_TYPE) or a bad pointer (CODEX_ERR_INVALID_ARGUMENT).
/// Views lent by an event, a request or a Json live as long as their owner.
class JsonView {
public:
    explicit JsonView(const codex_json *p) : p_(p) {}
    /// The CODEX_JSON_* type at `pointer`, std::nullopt when absent.
    std::optional<uint32_t> type(const char *pointer = "") const {
        uint32_t t = 0;
        codex_error *err = nullptr;
        return read(codex_json_get_type(p_, pointer, &t, &err), err, t);
    }
    std::optional<std::string_view> string(const char *pointer) const {
        const char *s = nullptr;
        codex_error *err = nullptr;
        size_t len = 0;
        auto found = read(codex_json_get_string(p_, pointer, &s, &len, &err), err, s);
        return found ? std::optional<std::string_view>(std::string_view(s, len)) : std::nullopt;
    }
    std::optional<int64_t> int64(const char *pointer) const {
        int64_t v = 0;
        codex_error *err = nullptr;
        return read(codex_json_get_int(p_, pointer, &v, &err), err, v);
    }
    std::optional<double> number(const char *pointer) const {
        double v = 0;
        codex_error *err = nullptr;
        return read(codex_json_get_double(p_, pointer, &v, &err), err, v);
    }
    std::optional<bool> boolean(const char *pointer) const {
        bool v = false;
        codex_error *err = nullptr;
        return read(codex_json_get_bool(p_, pointer, &v, &err), err, v);
    }
    std::optional<size_t> array_len(const char *pointer = "") const {
        size_t n = 0;
        codex_error *err = nullptr;
        return read(codex_json_get_array_len(p_, pointer, &n, &err), err, n);
    }
    /// The raw JSON text of the value at `pointer`.
    std::optional<std::string_view> raw(const char *pointer = "") const {
        const char *s = nullptr;
        codex_error *err = nullptr;
        size_t len = 0;
        auto found = read(codex_json_get_raw(p_, pointer, &s, &len, &err), err, s);
        return found ? std::optional<std::string_view>(std::string_view(s, len)) : std::nullopt;
    }
    /// The value at `pointer` as a document of its own, lent for as long as this one lives.
    std::optional<JsonView> at(const char *pointer) const {
        const codex_json *sub = nullptr;
        codex_error *err = nullptr;
        auto found = read(codex_json_get_json(p_, pointer, &sub, &err), err, sub);
        return found ? std::optional<JsonView>(JsonView(*found)) : std::nullopt;
    }
    const codex_json *get() const { return p_; }

private:
    // Reads `value` and `err` after the call that wrote them (arguments are evaluated first).
    template <typename T>
    static std::optional<T> read(codex_result rc, codex_error *const &err, const T &value) {
        if (rc == CODEX_ERR_NOT_FOUND) {
            codex_error_free(err);
            return std::nullopt;
        }
        detail::check(rc, err);
        return value;
    }
    const codex_json *p_;
};

/// An owned JSON document (codex_json_parse, Client::request_json): a JsonView that frees it.
class Json : public JsonView {
public:
    static Json parse(const std::string &text) {
        codex_json *p = nullptr;
        codex_error *err = nullptr;
        detail::check(codex_json_parse(text.c_str(), &p, &err), err);
        return Json(p);
    }
    explicit Json(codex_json *p) : JsonView(p), owned_(p) {}

private:
    detail::Owned<codex_json, codex_json_free> owned_;
};

/// A server request waiting for an answer (see codex_request in the C header).
class Request {
public:
    explicit Request(codex_request *p) : p_(p) {}
    std::string method() const { return codex_request_method(p_.get()); }
    std::string params() const { return codex_request_params(p_.get()); }
    /// The params read by pointer; lent until the request is destroyed.
    JsonView json() const { return JsonView(codex_request_json(p_.get())); }
    bool is_open() const { return codex_request_is_open(p_.get()); }
    /// decision: CODEX_DECISION_ACCEPT, _ACCEPT_FOR_SESSION, _DECLINE or _CANCEL.
    void approve(uint32_t decision) const {
        codex_error *err = nullptr;
        detail::check(codex_request_approve(p_.get(), decision, &err), err);
    }
    void respond(const std::string &result_json) const {
        codex_error *err = nullptr;
        detail::check(codex_request_respond(p_.get(), result_json.c_str(), &err), err);
    }
    void respond_error(int64_t code, const std::string &message) const {
        codex_error *err = nullptr;
        detail::check(codex_request_respond_error(p_.get(), code, message.c_str(), &err), err);
    }
    const codex_request *get() const { return p_.get(); }
    // Typed answers (issue 19): see codex_request_respond_tool_call and the ones after it.
    /// item/tool/call: a JSON array of {"type":"inputText","text"} / {"type":"inputImage","imageUrl"}.
    void respond_tool_call(const std::string &content_items_json, bool success) const {
        codex_error *err = nullptr;
        detail::check(codex_request_respond_tool_call(p_.get(), content_items_json.c_str(), success, &err), err);
    }
    void respond_tool_text(const std::string &text, bool success) const {
        codex_error *err = nullptr;
        detail::check(codex_request_respond_tool_text(p_.get(), text.c_str(), success, &err), err);
    }
    /// item/tool/requestUserInput: {"question id": ["answer", ...], ...}.
    void respond_user_input(const std::string &answers_json) const {
        codex_error *err = nullptr;
        detail::check(codex_request_respond_user_input(p_.get(), answers_json.c_str(), &err), err);
    }
    /// mcpServer/elicitation/request: CODEX_ELICITATION_*; content only with accept.
    void respond_elicitation(uint32_t action, const std::optional<std::string> &content_json = std::nullopt) const {
        codex_error *err = nullptr;
        detail::check(codex_request_respond_elicitation(p_.get(), action, detail::c_or_null(content_json), &err), err);
    }
    /// account/chatgptAuthTokens/refresh.
    void respond_auth_tokens(const std::string &access_token, const std::string &account_id,
                             const std::optional<std::string> &plan_type = std::nullopt) const {
        codex_error *err = nullptr;
        detail::check(codex_request_respond_auth_tokens(p_.get(), access_token.c_str(), account_id.c_str(),
                                                        detail::c_or_null(plan_type), &err),
                      err);
    }

private:
    detail::Owned<codex_request, codex_request_free> p_;
};

/// An event. Owned when returned by next_event; a view (valid during the call only) when
/// passed to a callback.
class Event {
public:
    static Event owned(codex_event *p) { return Event(p, true); }
    static Event view(const codex_event *p) { return Event(const_cast<codex_event *>(p), false); }
    Event(Event &&o) noexcept : p_(std::exchange(o.p_, nullptr)), owned_(o.owned_) {}
    Event &operator=(Event &&o) noexcept {
        reset();
        p_ = std::exchange(o.p_, nullptr);
        owned_ = o.owned_;
        return *this;
    }
    Event(const Event &) = delete;
    Event &operator=(const Event &) = delete;
    ~Event() { reset(); }

    uint32_t kind() const { return codex_event_kind(p_); }
    std::string_view method() const { return codex_event_method(p_); }
    std::optional<std::string> thread_id() const { return detail::opt(codex_event_thread_id(p_)); }
    std::optional<std::string> turn_id() const { return detail::opt(codex_event_turn_id(p_)); }
    std::string_view params() const {
        size_t len = 0;
        const char *s = codex_event_params(p_, &len);
        return {s, len};
    }
    std::optional<std::string_view> delta() const {
        size_t len = 0;
        const char *s = codex_event_delta(p_, &len);
        return s ? std::optional<std::string_view>(std::string_view(s, len)) : std::nullopt;
    }
    std::optional<std::string> turn_status() const { return detail::opt(codex_event_turn_status(p_)); }
    /// The params read by pointer; lent until the event is destroyed.
    JsonView json() const { return JsonView(codex_event_json(p_)); }
    /// The request of a CODEX_EVENT_SERVER_REQUEST event, to answer (it outlives the event).
    Request request() const {
        codex_request *req = nullptr;
        codex_error *err = nullptr;
        detail::check(codex_event_request(p_, &req, &err), err);
        return Request(req);
    }
    const codex_event *get() const { return p_; }

private:
    Event(codex_event *p, bool owned) : p_(p), owned_(owned) {}
    void reset() {
        if (owned_ && p_) codex_event_free(p_);
        p_ = nullptr;
    }
    codex_event *p_;
    bool owned_;
};

/// The summary of a finished turn (codex_turn_run).
struct TurnResult {
    std::string status;
    std::optional<std::string> error_message;
    std::optional<std::string> final_answer;
    std::string items_json;
    std::optional<std::string> usage_json;
    /// The failure as a TurnError object (codex_turn_result_error), when the turn failed.
    std::optional<std::string> error_json;
    /// The stream had a gap: a reconnect while the turn ran (codex_turn_result_gap).
    bool gap = false;
    /// The review's text, for a review turn (codex_turn_result_review).
    std::optional<std::string> review;
    /// items_json and usage_json read by pointer ("/0/type", "/total/totalTokens").
    Json items() const { return Json::parse(items_json); }
    std::optional<Json> usage() const {
        return usage_json ? std::optional<Json>(Json::parse(*usage_json)) : std::nullopt;
    }
    /// error_json read by pointer, for codex::Failure.
    std::optional<Json> failure() const {
        return error_json ? std::optional<Json>(Json::parse(*error_json)) : std::nullopt;
    }
};

/// A callback for a turn's or the client's events: runs on a library thread.
using EventHandler = std::function<void(const Event &)>;

namespace detail {
inline void call_handler(void *userdata, const codex_event *ev) noexcept {
    try {
        (*static_cast<EventHandler *>(userdata))(Event::view(ev));
    } catch (...) {
        // An exception must not cross the C library; the handler should catch its own.
    }
}
inline void free_handler(void *userdata) noexcept { delete static_cast<EventHandler *>(userdata); }
}  // namespace detail

class Turn {
public:
    explicit Turn(codex_turn *p) : p_(p) {}
    const codex_turn *get() const { return p_.get(); }
    std::string id() const { return codex_turn_id(p_.get()); }
    std::string thread_id() const { return codex_turn_thread_id(p_.get()); }
    /// The next event; std::nullopt once the stream ended after turn/completed. Throws
    /// codex::Error (CODEX_ERR_TIMEOUT on timeout, CODEX_ERR_TRANSPORT, ...).
    std::optional<Event> next_event(Timeout timeout = forever) const {
        codex_event *ev = nullptr;
        codex_error *err = nullptr;
        codex_result rc = codex_turn_next_event(p_.get(), timeout.count(), &ev, &err);
        if (rc == CODEX_STREAM_END) return std::nullopt;
        detail::check(rc, err);
        return Event::owned(ev);
    }
    void steer(const std::string &input) const {
        codex_error *err = nullptr;
        detail::check(codex_turn_steer(p_.get(), input.c_str(), &err), err);
    }
    void interrupt() const {
        codex_error *err = nullptr;
        detail::check(codex_turn_interrupt(p_.get(), &err), err);
    }
    TurnResult run(Timeout each_wait = forever) const {
        codex_turn_result *r = nullptr;
        codex_error *err = nullptr;
        detail::check(codex_turn_run(p_.get(), each_wait.count(), &r, &err), err);
        detail::Owned<codex_turn_result, codex_turn_result_free> owned(r);
        size_t len = 0;
        const char *items = codex_turn_result_items_json(r, &len);
        std::optional<std::string> error_json;
        if (const codex_json *failure = codex_turn_result_error(r)) {
            const char *raw = nullptr;
            if (codex_json_get_raw(failure, "", &raw, nullptr, nullptr) == CODEX_OK) error_json = raw;
        }
        return TurnResult{codex_turn_result_status(r), detail::opt(codex_turn_result_error_message(r)),
                          detail::opt(codex_turn_result_final_answer(r)), std::string(items, len),
                          detail::opt(codex_turn_result_usage_json(r)), std::move(error_json),
                          codex_turn_result_gap(r), detail::opt(codex_turn_result_review(r))};
    }

private:
    detail::Owned<codex_turn, codex_turn_free> p_;
};

/// A listing of threads, a page at a time (see codex_client_thread_list).
class ThreadList {
public:
    explicit ThreadList(codex_thread_list *p) : p_(p) {}
    /// Fetches the next page (the first on the first call); false after the last page.
    bool next_page() const {
        codex_error *err = nullptr;
        codex_result rc = codex_thread_list_next_page(p_.get(), &err);
        if (rc == CODEX_STREAM_END) return false;
        detail::check(rc, err);
        return true;
    }
    /// The current page's thread ids, in the server's order.
    std::vector<std::string> ids() const {
        std::vector<std::string> out;
        for (size_t i = 0, n = codex_thread_list_count(p_.get()); i < n; i++)
            out.emplace_back(codex_thread_list_thread_id(p_.get(), i));
        return out;
    }
    /// The cursor after the current page; std::nullopt on the last page.
    std::optional<std::string> next_cursor() const { return detail::opt(codex_thread_list_next_cursor(p_.get())); }
    /// The current page's result JSON.
    std::string page_json() const {
        size_t len = 0;
        const char *s = codex_thread_list_page_json(p_.get(), &len);
        return s ? std::string(s, len) : std::string();
    }

private:
    detail::Owned<codex_thread_list, codex_thread_list_free> p_;
};

/// One window of a rate limit (see codex_rate_limits_window).
struct RateLimitWindow {
    int32_t used_percent;
    std::optional<int64_t> window_minutes;
    std::optional<int64_t> resets_at;  ///< Unix seconds
};

/// A rate-limit snapshot: read with Client::account_rate_limits, or from an
/// account/rateLimits/updated event.
class RateLimits {
public:
    explicit RateLimits(codex_rate_limits *p) : p_(p) {}
    static RateLimits from_event(const Event &ev) {
        codex_rate_limits *l = nullptr;
        codex_error *err = nullptr;
        detail::check(codex_rate_limits_from_event(ev.get(), &l, &err), err);
        return RateLimits(l);
    }
    /// CODEX_RATE_LIMIT_PRIMARY or CODEX_RATE_LIMIT_SECONDARY; std::nullopt when absent.
    std::optional<RateLimitWindow> window(uint32_t which) const {
        int32_t used = 0;
        int64_t minutes = -1, resets = -1;
        if (!codex_rate_limits_window(p_.get(), which, &used, &minutes, &resets)) return std::nullopt;
        auto known = [](int64_t v) { return v < 0 ? std::nullopt : std::optional<int64_t>(v); };
        return RateLimitWindow{used, known(minutes), known(resets)};
    }
    std::string json() const { return codex_rate_limits_json(p_.get()); }

private:
    detail::Owned<codex_rate_limits, codex_rate_limits_free> p_;
};

class Client {
public:
    /// Starts the app-server (see codex_client_start).
    static Client start(const Options &options = Options()) {
        codex_client *c = nullptr;
        codex_error *err = nullptr;
        detail::check(codex_client_start(options.get(), &c, &err), err);
        return Client(c);
    }
    /// Takes ownership of a started client (from codex_client_starting_finish).
    static Client adopt(codex_client *p) { return Client(p); }
    std::string initialize_result() const { return codex_client_initialize_result(p_.get()); }
    /// Any protocol method; params_json empty for none. timeout 0 = the client's default.
    std::string request(const std::string &method, const std::string &params_json = "",
                        Timeout timeout = Timeout(0)) const {
        char *out = nullptr;
        codex_error *err = nullptr;
        detail::check(codex_client_request(p_.get(), method.c_str(), params_json.empty() ? nullptr : params_json.c_str(),
                                           timeout.count(), &out, &err),
                      err);
        return detail::take(out);
    }
    /// Any protocol method, its result read by pointer.
    Json request_json(const std::string &method, const std::string &params_json = "",
                      Timeout timeout = Timeout(0)) const {
        codex_json *out = nullptr;
        codex_error *err = nullptr;
        detail::check(codex_client_request_json(p_.get(), method.c_str(),
                                                params_json.empty() ? nullptr : params_json.c_str(),
                                                timeout.count(), &out, &err),
                      err);
        return Json(out);
    }
    /// thread/start; returns the thread id.
    std::string thread_start(const std::string &params_json = "{}") const {
        char *id = nullptr;
        codex_error *err = nullptr;
        detail::check(codex_client_thread_start(p_.get(), params_json.c_str(), &id, nullptr, &err), err);
        return detail::take(id);
    }
    Turn turn_start(const std::string &thread_id, const std::string &input, const std::string &params_json = "") const {
        codex_turn *t = nullptr;
        codex_error *err = nullptr;
        detail::check(codex_turn_start(p_.get(), thread_id.c_str(), input.c_str(),
                                       params_json.empty() ? nullptr : params_json.c_str(), &t, &err),
                      err);
        return Turn(t);
    }
    /// A turn whose events go to `handler` on a library thread (see codex_turn_start_with_callback).
    Turn turn_start(const std::string &thread_id, const std::string &input, EventHandler handler,
                    const std::string &params_json = "") const {
        codex_turn *t = nullptr;
        codex_error *err = nullptr;
        auto *boxed = new EventHandler(std::move(handler));  // freed by the library, exactly once
        detail::check(codex_turn_start_with_callback(p_.get(), thread_id.c_str(), input.c_str(),
                                                     params_json.empty() ? nullptr : params_json.c_str(),
                                                     detail::call_handler, boxed, detail::free_handler, &t, &err),
                      err);
        return Turn(t);
    }
    /// The client stream's next event (see codex_client_next_event). Throws on timeout.
    Event next_event(Timeout timeout = forever) const {
        codex_event *ev = nullptr;
        codex_error *err = nullptr;
        detail::check(codex_client_next_event(p_.get(), timeout.count(), &ev, &err), err);
        return Event::owned(ev);
    }
    /// Sends the client stream to `handler`; an empty handler removes it.
    void set_event_handler(EventHandler handler) const {
        codex_error *err = nullptr;
        if (!handler) {
            detail::check(codex_client_set_event_callback(p_.get(), nullptr, nullptr, nullptr, &err), err);
            return;
        }
        auto *boxed = new EventHandler(std::move(handler));
        detail::check(codex_client_set_event_callback(p_.get(), detail::call_handler, boxed, detail::free_handler, &err),
                      err);
    }
    /// Wakes every blocked call and stops the server; idempotent.
    void close() const { codex_client_close(p_.get()); }
    const codex_client *get() const { return p_.get(); }

    /// thread/fork (see codex_client_thread_fork); returns the fork's id. `result_json`, when
    /// given, receives the full result.
    std::string thread_fork(const std::string &thread_id, bool include_turns = true,
                            const std::string &params_json = "", std::string *result_json = nullptr) const {
        char *id = nullptr, *result = nullptr;
        codex_error *err = nullptr;
        detail::check(codex_client_thread_fork(p_.get(), thread_id.c_str(), include_turns,
                                               params_json.empty() ? nullptr : params_json.c_str(), &id,
                                               result_json ? &result : nullptr, &err),
                      err);
        if (result_json) *result_json = detail::take(result);
        return detail::take(id);
    }
    /// A listing of threads; `params_json` holds the filters (see codex_client_thread_list).
    ThreadList thread_list(const std::string &params_json = "") const {
        codex_thread_list *l = nullptr;
        codex_error *err = nullptr;
        detail::check(codex_client_thread_list(p_.get(), params_json.empty() ? nullptr : params_json.c_str(), &l, &err),
                      err);
        return ThreadList(l);
    }
    /// thread/read: the result JSON.
    std::string thread_read(const std::string &thread_id, bool include_turns = true) const {
        return string_call([&](char **out, codex_error **err) {
            return codex_client_thread_read(p_.get(), thread_id.c_str(), include_turns, out, err);
        });
    }
    /// thread/turns/list: one page of turns, as JSON.
    std::string thread_turns_list(const std::string &thread_id, const std::string &params_json = "") const {
        return string_call([&](char **out, codex_error **err) {
            return codex_client_thread_turns_list(p_.get(), thread_id.c_str(),
                                                  params_json.empty() ? nullptr : params_json.c_str(), out, err);
        });
    }
    std::string thread_archive(const std::string &thread_id) const {
        return thread_call(codex_client_thread_archive, thread_id);
    }
    std::string thread_unarchive(const std::string &thread_id) const {
        return thread_call(codex_client_thread_unarchive, thread_id);
    }
    std::string thread_set_name(const std::string &thread_id, const std::string &name) const {
        return string_call([&](char **out, codex_error **err) {
            return codex_client_thread_set_name(p_.get(), thread_id.c_str(), name.c_str(), out, err);
        });
    }
    std::string thread_compact(const std::string &thread_id) const {
        return thread_call(codex_client_thread_compact, thread_id);
    }
    /// Lets go of the thread on this connection (see codex_client_thread_unsubscribe).
    std::string thread_unsubscribe(const std::string &thread_id) const {
        return thread_call(codex_client_thread_unsubscribe, thread_id);
    }
    /// model/list, every page merged: {"data": [...]}.
    std::string model_list(bool include_hidden = false) const {
        return string_call([&](char **out, codex_error **err) {
            return codex_client_model_list(p_.get(), include_hidden, out, err);
        });
    }
    std::string account_read(bool refresh_token = false) const {
        return string_call([&](char **out, codex_error **err) {
            return codex_client_account_read(p_.get(), refresh_token, out, err);
        });
    }
    void account_login_api_key(const std::string &api_key) const {
        codex_error *err = nullptr;
        detail::check(codex_client_account_login_api_key(p_.get(), api_key.c_str(), &err), err);
    }
    void account_logout() const {
        codex_error *err = nullptr;
        detail::check(codex_client_account_logout(p_.get(), &err), err);
    }
    RateLimits account_rate_limits() const {
        codex_rate_limits *l = nullptr;
        codex_error *err = nullptr;
        detail::check(codex_client_account_rate_limits(p_.get(), &l, &err), err);
        return RateLimits(l);
    }

private:
    explicit Client(codex_client *p) : p_(p) {}
    template <typename F>
    static std::string string_call(F call) {
        char *out = nullptr;
        codex_error *err = nullptr;
        detail::check(call(&out, &err), err);
        return detail::take(out);
    }
    template <typename F>
    std::string thread_call(F f, const std::string &thread_id) const {
        return string_call([&](char **out, codex_error **err) { return f(p_.get(), thread_id.c_str(), out, err); });
    }
    detail::Owned<codex_client, codex_client_free> p_;
};

/// Many app-servers behind one placement rule (see codex_pool in the C header).
class Pool {
public:
    static Pool start(const std::vector<Options> &members) {
        std::vector<const codex_options *> raw;
        for (const Options &m : members) raw.push_back(m.get());
        codex_pool *p = nullptr;
        codex_error *err = nullptr;
        detail::check(codex_pool_start(raw.data(), raw.size(), &p, &err), err);
        return Pool(p);
    }
    /// thread/start on the least busy healthy member; returns the thread id.
    std::string thread_start(const std::string &params_json = "{}") const {
        char *id = nullptr;
        codex_error *err = nullptr;
        detail::check(codex_pool_thread_start(p_.get(), params_json.c_str(), &id, nullptr, &err), err);
        return detail::take(id);
    }
    Turn turn_start(const std::string &thread_id, const std::string &input, const std::string &params_json = "") const {
        codex_turn *t = nullptr;
        codex_error *err = nullptr;
        detail::check(codex_pool_turn_start(p_.get(), thread_id.c_str(), input.c_str(),
                                            params_json.empty() ? nullptr : params_json.c_str(), &t, &err),
                      err);
        return Turn(t);
    }
    Turn turn_start(const std::string &thread_id, const std::string &input, EventHandler handler,
                    const std::string &params_json = "") const {
        codex_turn *t = nullptr;
        codex_error *err = nullptr;
        auto *boxed = new EventHandler(std::move(handler));  // freed by the library, exactly once
        detail::check(codex_pool_turn_start_with_callback(p_.get(), thread_id.c_str(), input.c_str(),
                                                          params_json.empty() ? nullptr : params_json.c_str(),
                                                          detail::call_handler, boxed, detail::free_handler, &t,
                                                          &err),
                      err);
        return Turn(t);
    }
    /// The client of the member that owns the thread: borrowed, valid while the pool lives.
    const codex_client *client_for_thread(const std::string &thread_id) const {
        const codex_client *c = nullptr;
        codex_error *err = nullptr;
        detail::check(codex_pool_client_for_thread(p_.get(), thread_id.c_str(), &c, &err), err);
        return c;
    }
    size_t member_count() const { return codex_pool_member_count(p_.get()); }
    bool member_healthy(size_t index) const { return codex_pool_member_healthy(p_.get(), index); }
    size_t member_active_turns(size_t index) const { return codex_pool_member_active_turns(p_.get(), index); }
    /// Lets go of a thread of the pool (see codex_pool_thread_release).
    void thread_release(const std::string &thread_id) const {
        codex_error *err = nullptr;
        detail::check(codex_pool_thread_release(p_.get(), thread_id.c_str(), &err), err);
    }
    /// Closes every member at once; idempotent.
    void close() const { codex_pool_close(p_.get()); }
    const codex_pool *get() const { return p_.get(); }

private:
    explicit Pool(codex_pool *p) : p_(p) {}
    detail::Owned<codex_pool, codex_pool_free> p_;
};

/// A handler of the library's log messages: the level (CODEX_LOG_ERROR .. CODEX_LOG_DEBUG) and
/// one line of text, borrowed for the call. Called on whichever thread logs, on several at once.
using LogHandler = std::function<void(codex_log_level, std::string_view)>;

namespace detail {
inline void call_log_handler(void *userdata, codex_log_level level, const char *message) noexcept {
    try {
        (*static_cast<LogHandler *>(userdata))(level, message);
    } catch (...) {
        // An exception must not cross the C library.
    }
}
inline void free_log_handler(void *userdata) noexcept { delete static_cast<LogHandler *>(userdata); }
}  // namespace detail

/// Sends the library's log messages at `min_level` and more severe to `handler`, for the whole
/// process (see codex_set_log_callback); an empty handler goes back to CODEX_APP_SERVER_LOG on
/// stderr. When this returns, the previous handler is not running and has been destroyed.
inline void set_log_handler(codex_log_level min_level, LogHandler handler) {
    codex_error *err = nullptr;
    if (!handler) {
        detail::check(codex_set_log_callback(min_level, nullptr, nullptr, nullptr, &err), err);
        return;
    }
    auto *boxed = new LogHandler(std::move(handler));  // freed by the library, exactly once
    detail::check(codex_set_log_callback(min_level, detail::call_log_handler, boxed, detail::free_log_handler, &err),
                  err);
}

// ---- Typed access (issue 18): items, usage, failures and approvals read without JSON; turns
// and threads started from builders. ----

namespace detail {
/// A reader's answer: std::nullopt for CODEX_ERR_NOT_FOUND, codex::Error for other failures.
template <typename T>
inline std::optional<T> found(codex_result rc, codex_error *const &err, const T &value) {
    if (rc == CODEX_ERR_NOT_FOUND) {
        codex_error_free(err);
        return std::nullopt;
    }
    check(rc, err);
    return value;
}
template <typename F, typename... A>
inline std::optional<std::string_view> text(F f, A... args) {
    const char *s = nullptr;
    size_t len = 0;
    codex_error *err = nullptr;
    auto rc = f(args..., &s, &len, &err);
    auto ok = found(rc, err, s);
    return ok ? std::optional<std::string_view>(std::string_view(s, len)) : std::nullopt;
}
template <typename T, typename F, typename... A>
inline std::optional<T> value(F f, A... args) {
    T v{};
    codex_error *err = nullptr;
    auto rc = f(args..., &v, &err);
    return found(rc, err, v);
}
}  // namespace detail

/// One thread item (codex_item_* in the C header): from Event::item(), or any view of an item
/// (`Item(result.items().at("/0").value())`). Readers give std::nullopt for a field that is
/// absent or null; kinds are CODEX_ITEM_KIND_*, CODEX_ITEM_KIND_UNKNOWN for a newer codex's.
class Item : public JsonView {
public:
    explicit Item(JsonView view) : JsonView(view) {}
    std::optional<uint32_t> kind() const { return detail::value<uint32_t>(codex_item_kind, get()); }
    std::optional<std::string_view> id() const { return detail::text(codex_item_id, get()); }
    std::optional<uint32_t> status() const { return detail::value<uint32_t>(codex_item_status, get()); }
    std::optional<int64_t> started_at_ms() const { return detail::value<int64_t>(codex_item_started_at_ms, get()); }
    std::optional<int64_t> completed_at_ms() const {
        return detail::value<int64_t>(codex_item_completed_at_ms, get());
    }
    std::optional<std::string_view> command() const { return detail::text(codex_item_command, get()); }
    std::optional<std::string_view> cwd() const { return detail::text(codex_item_cwd, get()); }
    std::optional<int64_t> exit_code() const { return detail::value<int64_t>(codex_item_exit_code, get()); }
    std::optional<std::string_view> output() const { return detail::text(codex_item_output, get()); }
    std::optional<int64_t> duration_ms() const { return detail::value<int64_t>(codex_item_duration_ms, get()); }
    std::optional<std::string_view> text() const { return detail::text(codex_item_text, get()); }
    std::optional<uint32_t> phase() const { return detail::value<uint32_t>(codex_item_phase, get()); }
    std::optional<uint32_t> moderation() const { return detail::value<uint32_t>(codex_item_moderation, get()); }
    size_t change_count() const { return detail::value<size_t>(codex_item_change_count, get()).value_or(0); }
    std::optional<std::string_view> change_path(size_t i) const { return detail::text(codex_item_change_path, get(), i); }
    std::optional<std::string_view> change_diff(size_t i) const { return detail::text(codex_item_change_diff, get(), i); }
    std::optional<uint32_t> change_kind(size_t i) const {
        return detail::value<uint32_t>(codex_item_change_kind, get(), i);
    }
};

/// The item an item/started or item/completed event carries, if any.
inline std::optional<Item> item_of(const Event &ev) {
    const codex_json *item = codex_event_item(ev.get());
    return item ? std::optional<Item>(Item(JsonView(item))) : std::nullopt;
}

/// Token counts of a usage (TurnResult::usage(), or Event::json() of a CODEX_EVENT_TOKEN_USAGE
/// event); scope CODEX_USAGE_TOTAL or CODEX_USAGE_LAST. std::nullopt when it holds none.
inline std::optional<codex_token_counts> usage_tokens(JsonView usage, uint32_t scope = CODEX_USAGE_TOTAL) {
    return detail::value<codex_token_counts>(codex_usage_tokens, usage.get(), scope);
}

/// Why a turn failed (TurnResult::failure(), or Event::json() of an error event).
class Failure : public JsonView {
public:
    explicit Failure(JsonView view) : JsonView(view) {}
    /// A CODEX_FAILURE_*; std::nullopt when codex gave no kind.
    std::optional<uint32_t> kind() const { return detail::value<uint32_t>(codex_failure_kind, get()); }
    std::optional<int64_t> http_status() const { return detail::value<int64_t>(codex_failure_http_status, get()); }
    std::optional<std::string_view> message() const { return detail::text(codex_failure_message, get()); }
};

/// A server request's kind (CODEX_REQUEST_KIND_*) and an approval's fields.
inline uint32_t request_kind(const Request &req) { return codex_request_kind(req.get()); }
inline std::optional<std::string_view> request_command(const Request &req) {
    return detail::text(codex_request_command, req.get());
}
inline std::optional<std::string_view> request_cwd(const Request &req) { return detail::text(codex_request_cwd, req.get()); }
inline std::optional<std::string_view> request_reason(const Request &req) {
    return detail::text(codex_request_reason, req.get());
}
inline std::optional<std::string_view> request_item_id(const Request &req) {
    return detail::text(codex_request_item_id, req.get());
}

/// A turn's input items (codex_input): `Input().text("Describe").local_image("/a.png")`.
class Input {
public:
    Input() : p_(codex_input_new()) {}
    Input &text(const std::string &t) { return add(codex_input_add_text, t); }
    Input &image_url(const std::string &url) { return add(codex_input_add_image_url, url); }
    Input &local_image(const std::string &path) { return add(codex_input_add_local_image, path); }
    Input &skill(const std::string &name, const std::string &path) { return add2(codex_input_add_skill, name, path); }
    Input &mention(const std::string &name, const std::string &path) { return add2(codex_input_add_mention, name, path); }
    /// The items as JSON, for functions taking input text (a callback turn, steer, a pool).
    std::string to_json() const {
        char *out = nullptr;
        codex_error *err = nullptr;
        detail::check(codex_input_to_json(p_.get(), &out, &err), err);
        return detail::take(out);
    }
    const codex_input *get() const { return p_.get(); }

private:
    template <typename F>
    Input &add(F f, const std::string &v) {
        codex_error *err = nullptr;
        detail::check(f(p_.get(), v.c_str(), &err), err);
        return *this;
    }
    template <typename F>
    Input &add2(F f, const std::string &a, const std::string &b) {
        codex_error *err = nullptr;
        detail::check(f(p_.get(), a.c_str(), b.c_str(), &err), err);
        return *this;
    }
    detail::Owned<codex_input, codex_input_free> p_;
};

/// Options of one turn (codex_turn_options); fields set here replace the same keys of the
/// params_json given beside them.
class TurnOptions {
public:
    TurnOptions() : p_(codex_turn_options_new()) {}
    TurnOptions &model(const std::string &v) { return set(codex_turn_options_set_model, v); }
    TurnOptions &effort(const std::string &v) { return set(codex_turn_options_set_effort, v); }
    TurnOptions &summary(const std::string &v) { return set(codex_turn_options_set_summary, v); }
    TurnOptions &cwd(const std::string &v) { return set(codex_turn_options_set_cwd, v); }
    TurnOptions &sandbox(const std::string &v) { return set(codex_turn_options_set_sandbox, v); }
    TurnOptions &approval_policy(const std::string &v) { return set(codex_turn_options_set_approval_policy, v); }
    TurnOptions &personality(const std::string &v) { return set(codex_turn_options_set_personality, v); }
    TurnOptions &service_tier(const std::string &v) { return set(codex_turn_options_set_service_tier, v); }
    TurnOptions &output_schema(const std::string &schema_json) {
        return set(codex_turn_options_set_output_schema, schema_json);
    }
    /// The turn/start params these make over params_json, for functions taking params_json.
    std::string to_json(const std::string &params_json = "") const {
        char *out = nullptr;
        codex_error *err = nullptr;
        detail::check(codex_turn_options_to_json(p_.get(), params_json.empty() ? nullptr : params_json.c_str(), &out, &err),
                      err);
        return detail::take(out);
    }
    const codex_turn_options *get() const { return p_.get(); }

private:
    template <typename F>
    TurnOptions &set(F f, const std::string &v) {
        codex_error *err = nullptr;
        detail::check(f(p_.get(), v.c_str(), &err), err);
        return *this;
    }
    detail::Owned<codex_turn_options, codex_turn_options_free> p_;
};

/// Options of a new thread (codex_thread_options); fields replace the same keys of
/// params_json, config overrides merge key by key.
class ThreadOptions {
public:
    ThreadOptions() : p_(codex_thread_options_new()) {}
    ThreadOptions &model(const std::string &v) { return set(codex_thread_options_set_model, v); }
    ThreadOptions &cwd(const std::string &v) { return set(codex_thread_options_set_cwd, v); }
    ThreadOptions &sandbox(const std::string &v) { return set(codex_thread_options_set_sandbox, v); }
    ThreadOptions &approval_policy(const std::string &v) { return set(codex_thread_options_set_approval_policy, v); }
    ThreadOptions &base_instructions(const std::string &v) {
        return set(codex_thread_options_set_base_instructions, v);
    }
    ThreadOptions &developer_instructions(const std::string &v) {
        return set(codex_thread_options_set_developer_instructions, v);
    }
    ThreadOptions &ephemeral(bool on) {
        codex_error *err = nullptr;
        detail::check(codex_thread_options_set_ephemeral(p_.get(), on, &err), err);
        return *this;
    }
    ThreadOptions &config(const std::string &key, const std::string &value_json) {
        codex_error *err = nullptr;
        detail::check(codex_thread_options_set_config(p_.get(), key.c_str(), value_json.c_str(), &err), err);
        return *this;
    }
    /// The thread/start params these make over params_json, for functions taking params_json.
    std::string to_json(const std::string &params_json = "") const {
        char *out = nullptr;
        codex_error *err = nullptr;
        detail::check(
            codex_thread_options_to_json(p_.get(), params_json.empty() ? nullptr : params_json.c_str(), &out, &err), err);
        return detail::take(out);
    }
    const codex_thread_options *get() const { return p_.get(); }

private:
    template <typename F>
    ThreadOptions &set(F f, const std::string &v) {
        codex_error *err = nullptr;
        detail::check(f(p_.get(), v.c_str(), &err), err);
        return *this;
    }
    detail::Owned<codex_thread_options, codex_thread_options_free> p_;
};

/// thread/start from options (and params_json beside them); returns the thread id.
inline std::string thread_start(const Client &client, const ThreadOptions &options,
                                const std::string &params_json = "") {
    char *id = nullptr;
    codex_error *err = nullptr;
    detail::check(codex_client_thread_start_with(client.get(), options.get(),
                                                 params_json.empty() ? nullptr : params_json.c_str(), &id, nullptr,
                                                 &err),
                  err);
    return detail::take(id);
}

/// turn/start from built input and options (and params_json beside them).
inline Turn turn_start(const Client &client, const std::string &thread_id, const Input &input,
                       const TurnOptions *options = nullptr, const std::string &params_json = "") {
    codex_turn *t = nullptr;
    codex_error *err = nullptr;
    detail::check(codex_turn_start_with(client.get(), thread_id.c_str(), input.get(),
                                        options ? options->get() : nullptr,
                                        params_json.empty() ? nullptr : params_json.c_str(), &t, &err),
                  err);
    return Turn(t);
}

// ---- Turns this client did not start, and reviews (issue 19) ----

/// A handle for the turn running on `thread_id` now, or the next one that starts there; with
/// `turn_id`, for that turn only (see codex_client_turn_attach). Nothing is sent.
inline Turn turn_attach(const Client &client, const std::string &thread_id,
                        const std::optional<std::string> &turn_id = std::nullopt) {
    codex_turn *t = nullptr;
    codex_error *err = nullptr;
    detail::check(codex_client_turn_attach(client.get(), thread_id.c_str(), turn_id ? turn_id->c_str() : nullptr,
                                           &t, &err),
                  err);
    return Turn(t);
}

/// turn_attach, the turn's events going to `handler` on a library thread.
inline Turn turn_attach(const Client &client, const std::string &thread_id, EventHandler handler,
                        const std::optional<std::string> &turn_id = std::nullopt) {
    codex_turn *t = nullptr;
    codex_error *err = nullptr;
    auto *boxed = new EventHandler(std::move(handler));  // freed by the library, exactly once
    detail::check(codex_client_turn_attach_with_callback(client.get(), thread_id.c_str(),
                                                         turn_id ? turn_id->c_str() : nullptr, detail::call_handler,
                                                         boxed, detail::free_handler, &t, &err),
                  err);
    return Turn(t);
}

/// review/start on `thread_id` as a turn; `params_json` holds `target` (see codex_review_start).
/// The review's text is TurnResult::review.
inline Turn review_start(const Client &client, const std::string &thread_id, const std::string &params_json) {
    codex_turn *t = nullptr;
    codex_error *err = nullptr;
    detail::check(codex_review_start(client.get(), thread_id.c_str(), params_json.c_str(), &t, &err), err);
    return Turn(t);
}

/// review_start, the turn's events going to `handler` on a library thread.
inline Turn review_start(const Client &client, const std::string &thread_id, const std::string &params_json,
                         EventHandler handler) {
    codex_turn *t = nullptr;
    codex_error *err = nullptr;
    auto *boxed = new EventHandler(std::move(handler));  // freed by the library, exactly once
    detail::check(codex_review_start_with_callback(client.get(), thread_id.c_str(), params_json.c_str(),
                                                   detail::call_handler, boxed, detail::free_handler, &t, &err),
                  err);
    return Turn(t);
}

}  // namespace codex

#endif

// ---- Asynchronous starts (issue 23): codex::Pending, futures, turns started without waiting.
#include <future>
#include <memory>

namespace codex {

/// A request started without waiting (see codex_pending in the C header): watch it on the
/// client's event descriptor, wait for it, or read it once done. Destroying it cancels it.
class Pending {
public:
    explicit Pending(codex_pending *p) : p_(p) {}
    bool done() const { return codex_pending_is_done(p_.get()); }
    /// Waits until it is over; false when `timeout` passed first.
    bool wait(Timeout timeout = forever) const {
        codex_error *err = nullptr;
        codex_result rc = codex_pending_wait(p_.get(), timeout.count(), &err);
        if (rc == CODEX_ERR_TIMEOUT) {
            codex_error_free(err);
            return false;
        }
        detail::check(rc, err);
        return true;
    }
    /// The result JSON; throws the request's own error (or CODEX_ERR_INVALID_ARGUMENT before
    /// it is over).
    std::string result() const {
        const char *text = nullptr;
        codex_error *err = nullptr;
        detail::check(codex_pending_result(p_.get(), &text, &err), err);
        return text;
    }
    /// The result as a document, lent for as long as this Pending lives.
    JsonView result_json() const {
        const codex_json *doc = nullptr;
        codex_error *err = nullptr;
        detail::check(codex_pending_result_json(p_.get(), &doc, &err), err);
        return JsonView(doc);
    }
    /// Reports completion through codex_client_next_ready (see codex_pending_watch).
    void watch() const {
        codex_error *err = nullptr;
        detail::check(codex_pending_watch(p_.get(), &err), err);
    }
    codex_pending *get() const { return p_.get(); }

private:
    detail::Owned<codex_pending, codex_pending_free> p_;
};

namespace detail {
inline codex_pending *started(codex_result rc, codex_error *const &err, codex_pending *p) {
    check(rc, err);
    return p;
}
/// Settles a promise from a finished pending request, then frees the request.
inline void settle(void *userdata, codex_pending *pending) noexcept {
    auto *promise = static_cast<std::promise<std::string> *>(userdata);
    const char *text = nullptr;
    codex_error *err = nullptr;
    codex_result rc = codex_pending_result(pending, &text, &err);
    try {
        check(rc, err);
        promise->set_value(text);
    } catch (...) {
        promise->set_exception(std::current_exception());
    }
    codex_pending_free(pending);
}
inline void free_promise(void *userdata) noexcept { delete static_cast<std::promise<std::string> *>(userdata); }
/// A future settled by the callback, which owns `pending` from here on.
inline std::future<std::string> future_of(codex_pending *pending) {
    auto *promise = new std::promise<std::string>();  // freed by the library, exactly once
    std::future<std::string> future = promise->get_future();
    codex_error *err = nullptr;
    codex_result rc = codex_pending_set_callback(pending, settle, promise, free_promise, &err);
    if (rc != CODEX_OK) codex_pending_free(pending);
    check(rc, err);
    return future;
}
}  // namespace detail

/// Any protocol method without waiting (codex_client_request_async).
inline Pending request_async(const Client &client, const std::string &method, const std::string &params_json = "",
                             Timeout timeout = Timeout(0)) {
    codex_pending *p = nullptr;
    codex_error *err = nullptr;
    codex_result rc = codex_client_request_async(client.get(), method.c_str(),
                                                 params_json.empty() ? nullptr : params_json.c_str(),
                                                 timeout.count(), &p, &err);
    return Pending(detail::started(rc, err, p));
}
/// thread/start without waiting; the id is at "/thread/id" of the result.
inline Pending thread_start_async(const Client &client, const std::string &params_json = "{}") {
    codex_pending *p = nullptr;
    codex_error *err = nullptr;
    codex_result rc = codex_client_thread_start_async(client.get(), params_json.c_str(), &p, &err);
    return Pending(detail::started(rc, err, p));
}
/// thread/resume without waiting.
inline Pending thread_resume_async(const Client &client, const std::string &thread_id,
                                   const std::string &params_json = "") {
    codex_pending *p = nullptr;
    codex_error *err = nullptr;
    codex_result rc = codex_client_thread_resume_async(client.get(), thread_id.c_str(),
                                                       params_json.empty() ? nullptr : params_json.c_str(), &p, &err);
    return Pending(detail::started(rc, err, p));
}
/// Any protocol method as a std::future of its result JSON, settled on a callback thread (the
/// future throws codex::Error for a failed request).
inline std::future<std::string> request_future(const Client &client, const std::string &method,
                                               const std::string &params_json = "", Timeout timeout = Timeout(0)) {
    codex_pending *p = nullptr;
    codex_error *err = nullptr;
    codex_result rc = codex_client_request_async(client.get(), method.c_str(),
                                                 params_json.empty() ? nullptr : params_json.c_str(),
                                                 timeout.count(), &p, &err);
    return detail::future_of(detail::started(rc, err, p));
}
/// thread/start as a std::future of its result JSON.
inline std::future<std::string> thread_start_future(const Client &client, const std::string &params_json = "{}") {
    codex_pending *p = nullptr;
    codex_error *err = nullptr;
    codex_result rc = codex_client_thread_start_async(client.get(), params_json.c_str(), &p, &err);
    return detail::future_of(detail::started(rc, err, p));
}
/// A turn returned before its turn/start answer (codex_turn_start_async): a failed start ends
/// its stream with the error.
inline Turn turn_start_async(const Client &client, const std::string &thread_id, const std::string &input,
                             const std::string &params_json = "") {
    codex_turn *t = nullptr;
    codex_error *err = nullptr;
    detail::check(codex_turn_start_async(client.get(), thread_id.c_str(), input.c_str(),
                                         params_json.empty() ? nullptr : params_json.c_str(), &t, &err),
                  err);
    return Turn(t);
}

/// Steers a running turn without waiting (codex_turn_steer_async); its id must be known.
inline Pending steer_async(const Turn &turn, const std::string &input) {
    codex_pending *p = nullptr;
    codex_error *err = nullptr;
    codex_result rc = codex_turn_steer_async(turn.get(), input.c_str(), &p, &err);
    return Pending(detail::started(rc, err, p));
}
/// Interrupts a turn without waiting (codex_turn_interrupt_async); its id must be known.
inline Pending interrupt_async(const Turn &turn) {
    codex_pending *p = nullptr;
    codex_error *err = nullptr;
    codex_result rc = codex_turn_interrupt_async(turn.get(), &p, &err);
    return Pending(detail::started(rc, err, p));
}

/// A client being started without waiting (codex_client_start_async): watch fd(), wait, or ask
/// done(), then finish() for the Client. Destroying it cancels a start still under way.
class Starting {
public:
    explicit Starting(codex_client_starting *p) : p_(p) {}
    bool done() const { return codex_client_starting_is_done(p_.get()); }
    bool wait(Timeout timeout = forever) const {
        codex_error *err = nullptr;
        codex_result rc = codex_client_starting_wait(p_.get(), timeout.count(), &err);
        if (rc == CODEX_ERR_TIMEOUT) {
            codex_error_free(err);
            return false;
        }
        detail::check(rc, err);
        return true;
    }
    /// Readable once the start is over.
    int fd() const {
        int fd = -1;
        codex_error *err = nullptr;
        detail::check(codex_client_starting_fd(p_.get(), &fd, &err), err);
        return fd;
    }
    /// The started client (once), or throws the start's error.
    Client finish() const {
        codex_client *c = nullptr;
        codex_error *err = nullptr;
        detail::check(codex_client_starting_finish(p_.get(), &c, &err), err);
        return Client::adopt(c);
    }

private:
    detail::Owned<codex_client_starting, codex_client_starting_free> p_;
};

/// Starts a client without waiting.
inline Starting start_async(const Options &options = Options()) {
    codex_client_starting *p = nullptr;
    codex_error *err = nullptr;
    detail::check(codex_client_start_async(options.get(), &p, &err), err);
    return Starting(p);
}

namespace detail {
inline void settle_start(void *userdata, codex_client_starting *starting) noexcept {
    auto *promise = static_cast<std::promise<Client> *>(userdata);
    codex_client *c = nullptr;
    codex_error *err = nullptr;
    codex_result rc = codex_client_starting_finish(starting, &c, &err);
    try {
        check(rc, err);
        promise->set_value(Client::adopt(c));
    } catch (...) {
        promise->set_exception(std::current_exception());
    }
    codex_client_starting_free(starting);
}
inline void free_start_promise(void *userdata) noexcept { delete static_cast<std::promise<Client> *>(userdata); }
}  // namespace detail

/// Starts a client as a std::future, settled on the start's library thread.
inline std::future<Client> start_future(const Options &options = Options()) {
    codex_client_starting *p = nullptr;
    codex_error *err = nullptr;
    detail::check(codex_client_start_async(options.get(), &p, &err), err);
    auto *promise = new std::promise<Client>();  // freed by the library, exactly once
    std::future<Client> future = promise->get_future();
    codex_result rc = codex_client_starting_set_callback(p, detail::settle_start, promise, detail::free_start_promise, &err);
    if (rc != CODEX_OK) codex_client_starting_free(p);
    detail::check(rc, err);
    return future;
}

}  // namespace codex
