//! Threads, the account and the models against the real `codex app-server` and the mock model,
//! through the C API, each test in a fresh CODEX_HOME: fork, list pages, read, turns list,
//! archive/unarchive, set name, compact, unsubscribe (and the pool's release), API-key login,
//! account read, logout, model list, rate limits; bad input.
//! Not on Windows: the mock model is a Python program (see real_codex.rs).
#![cfg(not(windows))]

mod support;

use codex_app_server::ffi::account::*;
use codex_app_server::ffi::client::{codex_client, codex_client_next_event};
use codex_app_server::ffi::error::codex_error;
use codex_app_server::ffi::event::*;
use codex_app_server::ffi::options::codex_options_add_config;
use codex_app_server::ffi::pool::*;
use codex_app_server::ffi::rate_limits::*;
use codex_app_server::ffi::thread_list::*;
use codex_app_server::ffi::threads::*;
use codex_app_server::ffi::*;
use serde_json::{json, Value};
use std::ffi::{c_char, CString};
use std::ptr::{null, null_mut};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use support::*;

/// A thread whose history is kept (listed, read, forked): not ephemeral.
const KEPT: &str = "{}";

/// Runs a C call that writes a string, as a Result.
fn string_call(
    call: impl FnOnce(*mut *mut c_char, *mut *mut codex_error) -> codex_result,
) -> Result<String, CError> {
    let mut out = null_mut();
    let mut err = null_mut();
    let rc = call(&mut out, &mut err);
    result(rc, err).map(|()| unsafe { owned(out) })
}

fn json_call(
    call: impl FnOnce(*mut *mut c_char, *mut *mut codex_error) -> codex_result,
) -> Result<Value, CError> {
    string_call(call).map(|s| serde_json::from_str(&s).unwrap())
}

fn fork(client: &Client, thread: &str, include_turns: bool) -> (String, Value) {
    let mut result = null_mut();
    let id = string_call(|out, err| unsafe {
        codex_client_thread_fork(
            client.0,
            cs(thread).as_ptr(),
            include_turns,
            null(),
            out,
            &mut result,
            err,
        )
    })
    .unwrap();
    (id, serde_json::from_str(&unsafe { owned(result) }).unwrap())
}

fn read(client: &Client, thread: &str, include_turns: bool) -> Result<Value, CError> {
    json_call(|out, err| unsafe {
        codex_client_thread_read(client.0, cs(thread).as_ptr(), include_turns, out, err)
    })
}

type ThreadCallFn = unsafe extern "C" fn(
    *const codex_client,
    *const c_char,
    *mut *mut c_char,
    *mut *mut codex_error,
) -> codex_result;

/// archive, unarchive, compact, unsubscribe: the result JSON.
fn thread_call(client: &Client, call: ThreadCallFn, thread: &str) -> Result<Value, CError> {
    json_call(|out, err| unsafe { call(client.0, cs(thread).as_ptr(), out, err) })
}

/// The final answers of a thread's turns, as `thread/read` gives them.
fn answers(thread: &Value) -> Vec<String> {
    thread["thread"]["turns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|turn| {
            turn["items"]
                .as_array()
                .unwrap()
                .iter()
                .rfind(|i| i["type"] == "agentMessage")
                .map(|i| i["text"].as_str().unwrap().to_owned())
                .unwrap_or_default()
        })
        .collect()
}

/// Runs one turn to its end; its final answer.
fn run_turn(client: &Client, thread: &str, prompt: &str) -> Option<String> {
    let turn = client.turn_start(thread, prompt).unwrap();
    let result = turn.run();
    assert_eq!(result.status, "completed", "{result:?}");
    result.final_answer
}

/// Every thread id of a listing with these params, page by page: (pages, ids).
fn list_all(client: &Client, params: &str) -> Result<(Vec<Vec<String>>, Option<String>), CError> {
    let mut list = null_mut();
    set(|e| unsafe { codex_client_thread_list(client.0, cs(params).as_ptr(), &mut list, e) })?;
    let mut pages = Vec::new();
    let mut outcome = Ok(());
    loop {
        let mut err = null_mut();
        let rc = unsafe { codex_thread_list_next_page(list, &mut err) };
        if rc == CODEX_STREAM_END {
            assert!(err.is_null(), "the end of a listing makes no error object");
            break;
        }
        if rc != CODEX_OK {
            outcome = Err(take_error(rc, err));
            break;
        }
        let n = unsafe { codex_thread_list_count(list) };
        let ids: Vec<String> = (0..n)
            .map(|i| unsafe { borrowed(codex_thread_list_thread_id(list, i)).unwrap() })
            .collect();
        assert!(unsafe { codex_thread_list_thread_id(list, n) }.is_null(), "past the page");
        let page: Value = serde_json::from_str(&unsafe {
            borrowed(codex_thread_list_page_json(list, null_mut())).unwrap()
        })
        .unwrap();
        let json_ids: Vec<&str> =
            page["data"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap()).collect();
        assert_eq!(ids, json_ids, "the typed ids are the page's");
        let cursor = unsafe { borrowed(codex_thread_list_next_cursor(list)) };
        assert_eq!(cursor.as_deref(), page["nextCursor"].as_str());
        pages.push(ids);
    }
    let last_cursor = unsafe { borrowed(codex_thread_list_next_cursor(list)) };
    unsafe { codex_thread_list_free(list) };
    outcome.map(|()| (pages, last_cursor))
}

fn listed(client: &Client, params: &str) -> Vec<String> {
    list_all(client, params).unwrap().0.concat()
}

/// A thread whose creation second differs from every earlier one's: codex 0.158.0 and 0.163.0
/// page `thread/list` by whole seconds and skip threads that share the second of a page's
/// last thread (0.171.0 adds the id to its cursor). Waits on the clock, bounded.
fn thread_in_a_new_second(client: &Client, after: &mut u64) -> String {
    let deadline = Instant::now() + Duration::from_secs(5);
    while SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() <= *after {
        assert!(Instant::now() < deadline, "the clock stands still");
        std::thread::sleep(Duration::from_millis(10));
    }
    let thread = client.thread_start(KEPT);
    let read = read(client, &thread, false).unwrap();
    *after = read["thread"]["createdAt"].as_u64().unwrap();
    thread
}

#[test]
fn a_fork_runs_its_own_turn_while_the_original_keeps_its_history() {
    let env = Offline::new(&json!({"responses": [
        {"match": "first question", "text": "first answer", "phase": "final_answer"},
        {"match": "fork question", "text": "fork answer", "phase": "final_answer"}]}));
    let client = env.start();
    let original = client.thread_start(KEPT);
    assert_eq!(run_turn(&client, &original, "first question").as_deref(), Some("first answer"));

    let (forked, result) = fork(&client, &original, true);
    assert_ne!(forked, original);
    assert_eq!(result["thread"]["id"], forked.as_str());
    assert_eq!(result["thread"]["turns"].as_array().unwrap().len(), 1, "{result}");
    assert_eq!(run_turn(&client, &forked, "fork question").as_deref(), Some("fork answer"));

    assert_eq!(answers(&read(&client, &original, true).unwrap()), ["first answer"]);
    assert_eq!(answers(&read(&client, &forked, true).unwrap()), ["first answer", "fork answer"]);

    // Without its turns in the result, the fork still has them.
    let (bare, result) = fork(&client, &original, false);
    assert!(result["thread"]["turns"].as_array().unwrap().is_empty(), "{result}");
    assert_eq!(answers(&read(&client, &bare, true).unwrap()), ["first answer"]);
}

#[test]
fn a_listing_pages_through_more_threads_than_a_page_holds() {
    let env = Offline::new(&json!({"default": {"text": "ok"}}));
    let client = env.start();
    let mut second = 0;
    let threads: Vec<String> =
        (0..3).map(|_| thread_in_a_new_second(&client, &mut second)).collect();
    // Threads are listed once they have a turn (a user message to preview).
    for thread in &threads {
        run_turn(&client, thread, "hello");
    }
    let (pages, last_cursor) = list_all(&client, r#"{"limit": 2}"#).unwrap();
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [2, 1], "{pages:?}");
    assert!(last_cursor.is_none(), "the last page has no next cursor");
    let newest_first: Vec<String> = threads.iter().rev().cloned().collect();
    assert_eq!(pages.concat(), newest_first);
    let oldest_first = listed(&client, r#"{"limit": 2, "sortDirection": "asc"}"#);
    assert_eq!(oldest_first, threads);
}

#[test]
fn read_shows_turns_and_final_answers_and_turns_page() {
    let env = Offline::new(&json!({"responses": [
        {"match": "one", "text": "answer one", "phase": "final_answer"},
        {"match": "two", "text": "answer two", "phase": "final_answer"}]}));
    let client = env.start();
    let thread = client.thread_start(KEPT);
    run_turn(&client, &thread, "question one");
    run_turn(&client, &thread, "question two");

    let full = read(&client, &thread, true).unwrap();
    assert_eq!(full["thread"]["id"], thread.as_str());
    assert_eq!(answers(&full), ["answer one", "answer two"]);
    let first_items: Vec<&str> = full["thread"]["turns"][0]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["type"].as_str().unwrap())
        .collect();
    assert_eq!(first_items, ["userMessage", "agentMessage"]);
    let bare = read(&client, &thread, false).unwrap();
    assert!(bare["thread"]["turns"].as_array().unwrap().is_empty(), "{bare}");

    // A page of one turn at a time, oldest first.
    let page = |params: &str| {
        json_call(|out, err| unsafe {
            codex_client_thread_turns_list(
                client.0,
                cs(&thread).as_ptr(),
                cs(params).as_ptr(),
                out,
                err,
            )
        })
        .unwrap()
    };
    let first = page(r#"{"limit": 1, "sortDirection": "asc"}"#);
    assert_eq!(first["data"].as_array().unwrap().len(), 1, "{first}");
    let cursor = first["nextCursor"].as_str().expect("a next page");
    let second = page(&json!({"limit": 1, "sortDirection": "asc", "cursor": cursor}).to_string());
    assert_eq!(second["data"].as_array().unwrap().len(), 1, "{second}");
    assert_ne!(first["data"][0]["id"], second["data"][0]["id"]);
}

#[test]
fn archive_leaves_the_default_listing_and_unarchive_brings_it_back() {
    let env = Offline::new(&json!({"default": {"text": "ok"}}));
    let client = env.start();
    let kept = client.thread_start(KEPT);
    let archived = client.thread_start(KEPT);
    run_turn(&client, &kept, "hello");
    run_turn(&client, &archived, "hello");
    let mut both = listed(&client, "{}");
    both.sort();
    let mut expected = vec![kept.clone(), archived.clone()];
    expected.sort();
    assert_eq!(both, expected);

    thread_call(&client, codex_client_thread_archive, &archived).unwrap();
    assert_eq!(listed(&client, "{}"), std::slice::from_ref(&kept));
    assert_eq!(listed(&client, r#"{"archived": true}"#), std::slice::from_ref(&archived));

    let result = thread_call(&client, codex_client_thread_unarchive, &archived).unwrap();
    assert_eq!(result["thread"]["id"], archived.as_str(), "{result}");
    let mut back = listed(&client, "{}");
    back.sort();
    assert_eq!(back, expected);
    assert!(listed(&client, r#"{"archived": true}"#).is_empty());
}

#[test]
fn a_name_shows_in_read_and_in_the_listing() {
    let env = Offline::new(&json!({"default": {"text": "ok"}}));
    let client = env.start();
    let named = client.thread_start(KEPT);
    let other = client.thread_start(KEPT);
    run_turn(&client, &named, "hello");
    run_turn(&client, &other, "hello");
    string_call(|out, err| unsafe {
        codex_client_thread_set_name(
            client.0,
            cs(&named).as_ptr(),
            cs("Nightly build").as_ptr(),
            out,
            err,
        )
    })
    .unwrap();
    assert_eq!(read(&client, &named, false).unwrap()["thread"]["name"], "Nightly build");
    assert_eq!(listed(&client, r#"{"searchTerm": "Nightly"}"#), std::slice::from_ref(&named));
    let mut list = null_mut();
    set(|e| unsafe { codex_client_thread_list(client.0, cs("{}").as_ptr(), &mut list, e) })
        .unwrap();
    set(|e| unsafe { codex_thread_list_next_page(list, e) }).unwrap();
    let page: Value = serde_json::from_str(&unsafe {
        borrowed(codex_thread_list_page_json(list, null_mut())).unwrap()
    })
    .unwrap();
    unsafe { codex_thread_list_free(list) };
    let entry =
        page["data"].as_array().unwrap().iter().find(|t| t["id"] == named.as_str()).unwrap();
    assert_eq!(entry["name"], "Nightly build");
    // An empty name is the server's to refuse.
    let err = string_call(|out, err| unsafe {
        codex_client_thread_set_name(client.0, cs(&other).as_ptr(), cs("").as_ptr(), out, err)
    })
    .unwrap_err();
    assert_eq!(err.code, CODEX_ERR_RPC, "{}", err.message);
}

#[test]
fn compact_succeeds_and_unsubscribe_lets_the_server_unload_the_thread() {
    let env = Offline::new(&json!({"responses": [
        {"match": "long job", "text": "tick tick tick", "hold_after": 1}],
        "default": {"text": "short", "phase": "final_answer"}}));
    // The server unloads an unsubscribed thread after `thread_unload_delay_secs` idle (60 s by
    // default): 0 unloads it at once.
    let client = env.start_with(|o| {
        set(|e| unsafe {
            codex_options_add_config(o, cs("thread_unload_delay_secs=0").as_ptr(), e)
        })
        .unwrap()
    });
    let thread = client.thread_start(KEPT);
    run_turn(&client, &thread, "hello");
    thread_call(&client, codex_client_thread_compact, &thread).unwrap();
    // The compaction runs as a turn of the thread that no handle holds: its events, up to its
    // turn/completed, arrive on the client stream.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        assert!(Instant::now() < deadline, "the compaction never completed");
        if let Some(ev) = client.next_client_event(1000) {
            if ev.method == "turn/completed" && ev.thread_id.as_deref() == Some(thread.as_str()) {
                assert_eq!(ev.status.as_deref(), Some("completed"), "{:?}", ev.params);
                break;
            }
        }
    }
    let compacted = read(&client, &thread, true).unwrap();
    let types: Vec<String> = compacted["thread"]["turns"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|t| t["items"].as_array().unwrap().iter())
        .map(|i| i["type"].as_str().unwrap().to_owned())
        .collect();
    assert!(types.iter().any(|t| t == "contextCompaction"), "{types:?}");

    // Not while a turn of this client runs on it: its events would stop.
    let turn = client.turn_start(&thread, "long job").unwrap();
    let busy = thread_call(&client, codex_client_thread_unsubscribe, &thread).unwrap_err();
    assert_eq!(busy.code, CODEX_ERR_TURN_ACTIVE, "{}", busy.message);
    assert!(busy.message.contains("before letting the thread go"), "{}", busy.message);
    env.release(Some("long job"));
    assert_eq!(turn.run().status, "completed");

    let loaded = |client: &Client| -> Vec<String> {
        let r: Value =
            serde_json::from_str(&client.request("thread/loaded/list", Some("{}"), 0).unwrap())
                .unwrap();
        r["data"].as_array().unwrap().iter().map(|t| t.as_str().unwrap().to_owned()).collect()
    };
    assert!(loaded(&client).contains(&thread));
    let result = thread_call(&client, codex_client_thread_unsubscribe, &thread).unwrap();
    assert_eq!(result["status"], "unsubscribed", "{result}");
    let deadline = Instant::now() + Duration::from_secs(60);
    while loaded(&client).contains(&thread) {
        assert!(Instant::now() < deadline, "the server kept the thread loaded");
        std::thread::sleep(Duration::from_millis(20));
    }
    let again = thread_call(&client, codex_client_thread_unsubscribe, &thread).unwrap();
    assert_ne!(again["status"], "unsubscribed", "{again}");
    // Taken up again, it goes on.
    client.thread_resume(&thread).unwrap();
    assert_eq!(run_turn(&client, &thread, "back").as_deref(), Some("short"));
}

#[test]
fn a_pool_releases_its_thread_and_forgets_it() {
    let env = Offline::new(&json!({"default": {"text": "ok"}}));
    let options = env.options();
    let members = [options.cast_const()];
    let mut pool = null_mut();
    set(|e| unsafe { codex_pool_start(members.as_ptr(), 1, &mut pool, e) }).unwrap();
    unsafe { codex_app_server::ffi::options::codex_options_free(options) };
    let thread = string_call(|out, e| unsafe {
        codex_pool_thread_start(pool, cs(KEPT).as_ptr(), out, null_mut(), e)
    })
    .unwrap();
    let mut member = null();
    set(|e| unsafe { codex_pool_client_for_thread(pool, cs(&thread).as_ptr(), &mut member, e) })
        .unwrap();
    set(|e| unsafe { codex_pool_thread_release(pool, cs(&thread).as_ptr(), e) }).unwrap();
    // The member's connection was unsubscribed from it.
    let status = json_call(|out, e| unsafe {
        codex_client_thread_unsubscribe(member, cs(&thread).as_ptr(), out, e)
    })
    .unwrap();
    assert_eq!(status["status"], "notSubscribed", "{status}");
    let again =
        set(|e| unsafe { codex_pool_thread_release(pool, cs(&thread).as_ptr(), e) }).unwrap_err();
    assert_eq!(again.code, CODEX_ERR_INVALID_ARGUMENT, "{}", again.message);
    assert!(again.message.contains("not started through this pool"), "{}", again.message);
    let null_id = set(|e| unsafe { codex_pool_thread_release(pool, null(), e) }).unwrap_err();
    assert_eq!(null_id.code, CODEX_ERR_INVALID_ARGUMENT);
    unsafe { codex_pool_free(pool) };
}

/// A mock whose provider needs an OpenAI login (so the server keeps an account) and serves a
/// model catalog.
fn with_account(script: Value) -> Offline {
    let env = Offline::new(&script);
    let extra = format!(
        "requires_openai_auth = true\nmodel_catalog_url = \"http://127.0.0.1:{}/v1/models\"\n",
        env.port
    );
    let config = env.home.join("config.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    assert!(text.trim_end().ends_with("stream_max_retries = 0"), "the provider table is last");
    text.push_str(&extra);
    std::fs::write(config, text).unwrap();
    env
}

fn account(client: &Client) -> Value {
    json_call(|out, err| unsafe { codex_client_account_read(client.0, false, out, err) }).unwrap()
}

#[test]
fn api_key_login_then_account_read_then_logout() {
    let env = with_account(json!({}));
    let client = env.start();
    assert_eq!(account(&client)["account"], Value::Null);
    set(|e| unsafe {
        codex_client_account_login_api_key(client.0, cs("sk-test-not-real").as_ptr(), e)
    })
    .unwrap();
    assert_eq!(account(&client)["account"], json!({"type": "apiKey"}));
    assert!(env.home.join("auth.json").exists(), "the key is stored in the scratch CODEX_HOME");
    set(|e| unsafe { codex_client_account_logout(client.0, e) }).unwrap();
    assert_eq!(account(&client)["account"], Value::Null);
}

#[test]
fn the_model_list_is_what_the_provider_serves() {
    let env = with_account(json!({"models": [
        {"slug": "mock-visible", "display_name": "Mock Visible"},
        {"slug": "mock-hidden", "visibility": "hide"}]}));
    let client = env.start();
    set(|e| unsafe {
        codex_client_account_login_api_key(client.0, cs("sk-test-not-real").as_ptr(), e)
    })
    .unwrap();
    let models = |hidden: bool| -> Vec<(String, bool)> {
        let r =
            json_call(|out, err| unsafe { codex_client_model_list(client.0, hidden, out, err) })
                .unwrap();
        r["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| (m["id"].as_str().unwrap().to_owned(), m["hidden"].as_bool().unwrap()))
            .collect()
    };
    if codex_version() < (0, 163, 0) {
        // 0.158.0 does not read a provider's `model_catalog_url` (checked): it lists its
        // built-in catalog, hidden models only on request.
        assert!(models(false).iter().all(|(_, hidden)| !hidden));
        assert!(models(true).len() >= models(false).len());
        return;
    }
    assert_eq!(models(false), [("mock-visible".to_owned(), false)]);
    assert_eq!(
        models(true),
        [("mock-visible".to_owned(), false), ("mock-hidden".to_owned(), true)]
    );
}

#[test]
fn rate_limits_arrive_as_numbers_and_reading_them_needs_chatgpt() {
    let env = with_account(json!({"default": {"text": "ok", "headers": {
        "x-codex-primary-used-percent": "42", "x-codex-primary-window-minutes": "300",
        "x-codex-primary-reset-at": "1800000000", "x-codex-secondary-used-percent": "7",
        "x-codex-secondary-window-minutes": "10080"}}}));
    let client = env.start();
    set(|e| unsafe {
        codex_client_account_login_api_key(client.0, cs("sk-test-not-real").as_ptr(), e)
    })
    .unwrap();
    let thread = client.thread_start(KEPT);
    run_turn(&client, &thread, "hello");
    // The notification is on the client stream; find the one with the mock's numbers.
    let deadline = Instant::now() + Duration::from_secs(60);
    let limits = loop {
        assert!(Instant::now() < deadline, "no account/rateLimits/updated with a window");
        let mut ev = null_mut();
        if unsafe { codex_client_next_event(client.0, 1000, &mut ev, null_mut()) } != CODEX_OK {
            continue;
        }
        let mut limits = null_mut();
        let rc = unsafe { codex_rate_limits_from_event(ev, &mut limits, null_mut()) };
        unsafe { codex_event_free(ev) };
        if rc == CODEX_OK {
            if unsafe {
                codex_rate_limits_window(
                    limits,
                    CODEX_RATE_LIMIT_PRIMARY,
                    null_mut(),
                    null_mut(),
                    null_mut(),
                )
            } {
                break limits;
            }
            unsafe { codex_rate_limits_free(limits) };
        }
    };
    let (mut used, mut minutes, mut resets) = (0i32, 0i64, 0i64);
    assert!(unsafe {
        codex_rate_limits_window(
            limits,
            CODEX_RATE_LIMIT_PRIMARY,
            &mut used,
            &mut minutes,
            &mut resets,
        )
    });
    assert_eq!((used, minutes, resets), (42, 300, 1_800_000_000));
    assert!(unsafe {
        codex_rate_limits_window(
            limits,
            CODEX_RATE_LIMIT_SECONDARY,
            &mut used,
            &mut minutes,
            &mut resets,
        )
    });
    assert_eq!((used, minutes, resets), (7, 10080, -1), "no reset time: -1");
    assert!(!unsafe { codex_rate_limits_window(limits, 2, &mut used, null_mut(), null_mut()) });
    let json: Value =
        serde_json::from_str(&unsafe { borrowed(codex_rate_limits_json(limits)).unwrap() })
            .unwrap();
    assert_eq!(json["rateLimits"]["primary"]["usedPercent"], 42);
    unsafe { codex_rate_limits_free(limits) };

    // Read on demand: with an API key the server refuses, and says why.
    let mut read = null_mut();
    let err =
        set(|e| unsafe { codex_client_account_rate_limits(client.0, &mut read, e) }).unwrap_err();
    assert_eq!(err.code, CODEX_ERR_RPC, "{}", err.message);
    assert!(err.message.contains("authentication required"), "{}", err.message);
    assert!(read.is_null());
}

#[test]
fn bad_input_gets_the_servers_error_or_a_clear_one() {
    let env = Offline::new(&json!({"default": {"text": "ok"}}));
    let client = env.start();
    let unknown = "019a0000-0000-0000-0000-000000000000";
    for (what, err) in [
        ("read", read(&client, unknown, true).unwrap_err()),
        ("read malformed", read(&client, "not-a-thread", false).unwrap_err()),
        ("archive", thread_call(&client, codex_client_thread_archive, unknown).unwrap_err()),
        (
            "fork",
            string_call(|out, e| unsafe {
                codex_client_thread_fork(
                    client.0,
                    cs(unknown).as_ptr(),
                    true,
                    null(),
                    out,
                    null_mut(),
                    e,
                )
            })
            .unwrap_err(),
        ),
    ] {
        assert_eq!(err.code, CODEX_ERR_RPC, "{what}: {}", err.message);
        assert!(!err.message.is_empty(), "{what}");
    }
    let bad_cursor = list_all(&client, r#"{"cursor": "not-a-cursor"}"#).unwrap_err();
    assert_eq!(bad_cursor.code, CODEX_ERR_RPC);
    assert!(bad_cursor.message.contains("cursor"), "{}", bad_cursor.message);

    // The library's own: nothing is sent.
    let invalid = |err: CError, names: &str| {
        assert_eq!(err.code, CODEX_ERR_INVALID_ARGUMENT, "{}", err.message);
        assert!(err.message.contains(names), "{names}: {}", err.message);
    };
    invalid(read(&client, "", true).unwrap_err(), "thread_id");
    invalid(
        string_call(|out, e| unsafe { codex_client_thread_read(client.0, null(), true, out, e) })
            .unwrap_err(),
        "thread_id",
    );
    invalid(
        string_call(|out, e| unsafe {
            codex_client_thread_read(null(), cs(unknown).as_ptr(), true, out, e)
        })
        .unwrap_err(),
        "client",
    );
    invalid(
        set(|e| unsafe {
            codex_client_thread_read(client.0, cs(unknown).as_ptr(), true, null_mut(), e)
        })
        .unwrap_err(),
        "result_out",
    );
    let not_utf8 = CString::new(vec![0xff, 0xfe]).unwrap();
    invalid(
        string_call(|out, e| unsafe {
            codex_client_thread_archive(client.0, not_utf8.as_ptr(), out, e)
        })
        .unwrap_err(),
        "UTF-8",
    );
    invalid(
        string_call(|out, e| unsafe {
            codex_client_thread_set_name(client.0, cs(unknown).as_ptr(), not_utf8.as_ptr(), out, e)
        })
        .unwrap_err(),
        "name",
    );
    invalid(
        string_call(|out, e| unsafe {
            codex_client_thread_fork(
                client.0,
                cs(unknown).as_ptr(),
                true,
                cs("{not json").as_ptr(),
                out,
                null_mut(),
                e,
            )
        })
        .unwrap_err(),
        "params_json",
    );
    invalid(
        string_call(|out, e| unsafe {
            codex_client_thread_fork(
                client.0,
                cs(unknown).as_ptr(),
                false,
                cs(r#"{"excludeTurns": false}"#).as_ptr(),
                out,
                null_mut(),
                e,
            )
        })
        .unwrap_err(),
        "excludeTurns",
    );
    let mut list = null_mut();
    invalid(
        set(|e| unsafe { codex_client_thread_list(client.0, cs("[1]").as_ptr(), &mut list, e) })
            .unwrap_err(),
        "params_json",
    );
    invalid(
        set(|e| unsafe {
            codex_client_thread_list(client.0, cs(r#"{"cursor": 5}"#).as_ptr(), &mut list, e)
        })
        .unwrap_err(),
        "cursor",
    );
    invalid(
        set(|e| unsafe { codex_client_thread_list(null(), null(), &mut list, e) }).unwrap_err(),
        "client",
    );
    invalid(set(|e| unsafe { codex_thread_list_next_page(null_mut(), e) }).unwrap_err(), "list");
    assert!(list.is_null(), "nothing written on failure");
    assert_eq!(unsafe { codex_thread_list_count(null()) }, 0);
    assert!(unsafe { codex_thread_list_next_cursor(null()) }.is_null());
    invalid(
        set(|e| unsafe { codex_client_account_login_api_key(client.0, cs("").as_ptr(), e) })
            .unwrap_err(),
        "api_key",
    );
    invalid(
        set(|e| unsafe { codex_client_account_login_api_key(client.0, null(), e) }).unwrap_err(),
        "api_key",
    );
    invalid(
        string_call(|out, e| unsafe { codex_client_model_list(null(), false, out, e) })
            .unwrap_err(),
        "client",
    );
    let mut limits = null_mut();
    invalid(
        set(|e| unsafe { codex_rate_limits_from_event(null(), &mut limits, e) }).unwrap_err(),
        "ev",
    );
    assert!(!unsafe { codex_rate_limits_window(null(), 0, null_mut(), null_mut(), null_mut()) });
    assert!(unsafe { codex_rate_limits_json(null()) }.is_null());
    unsafe { codex_rate_limits_free(null_mut()) };
    unsafe { codex_thread_list_free(null_mut()) };
    // A thread-level event is no rate-limit snapshot.
    let thread = client.thread_start(KEPT);
    run_turn(&client, &thread, "hello");
    let mut ev = null_mut();
    set(|e| unsafe { codex_client_next_event(client.0, 60_000, &mut ev, e) }).unwrap();
    let method = unsafe { borrowed(codex_event_method(ev)).unwrap() };
    let from_other = set(|e| unsafe { codex_rate_limits_from_event(ev, &mut limits, e) });
    unsafe { codex_event_free(ev) };
    if method != "account/rateLimits/updated" {
        invalid(from_other.unwrap_err(), "ev");
    }
    // A listing of a closed client ends with the close, not a hang.
    let mut list = null_mut();
    set(|e| unsafe { codex_client_thread_list(client.0, null(), &mut list, e) }).unwrap();
    unsafe { codex_app_server::ffi::client::codex_client_close(client.0) };
    let closed = set(|e| unsafe { codex_thread_list_next_page(list, e) }).unwrap_err();
    assert_eq!(closed.code, CODEX_ERR_CLOSED, "{}", closed.message);
    unsafe { codex_thread_list_free(list) };
}
