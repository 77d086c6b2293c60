//! Typed access against the real `codex app-server` and the mock model: items, usage,
//! failures and approvals read with the `codex_item_*`, `codex_usage_*`, `codex_failure_*` and
//! `codex_request_*` readers, and turns and threads started from builders
//! (`codex_input`, `codex_turn_options`, `codex_thread_options`). The kind lists are checked
//! against the schema the pinned codex prints.
//! Not on Windows: under wine the test cannot spawn the Python mock model.
#![cfg(not(windows))]

mod support;

use codex_app_server::core::protocol::kinds::*;
use codex_app_server::ffi::event::*;
use codex_app_server::ffi::failure::*;
use codex_app_server::ffi::input::*;
use codex_app_server::ffi::items::*;
use codex_app_server::ffi::json::*;
use codex_app_server::ffi::request::*;
use codex_app_server::ffi::request_fields::*;
use codex_app_server::ffi::thread_options::*;
use codex_app_server::ffi::turn::*;
use codex_app_server::ffi::turn_options::*;
use codex_app_server::ffi::usage::*;
use codex_app_server::ffi::*;
use serde_json::{json, Value};
use std::ffi::{c_char, CStr};
use std::ptr::{null, null_mut};
use support::*;

fn ok(rc: codex_result, err: *mut codex_app_server::ffi::error::codex_error) {
    result(rc, err).unwrap_or_else(|e| panic!("{}: {}", code_name(e.code), e.message));
}

/// Runs `call` with an error slot; the result code and the error's message.
fn call(
    f: impl FnOnce(*mut *mut codex_app_server::ffi::error::codex_error) -> codex_result,
) -> Result<(), CError> {
    let mut err = null_mut();
    let rc = f(&mut err);
    result(rc, err)
}

unsafe fn text(ptr: *const c_char) -> String {
    CStr::from_ptr(ptr).to_str().unwrap().to_owned()
}

/// A string reader's answer.
unsafe fn read_text(
    f: impl FnOnce(
        *mut *const c_char,
        *mut *mut codex_app_server::ffi::error::codex_error,
    ) -> codex_result,
) -> Result<String, CError> {
    let mut value = null();
    call(|e| f(&mut value, e)).map(|_| text(value))
}

/// Starts a thread from options laid over `params_json`.
fn thread_with(
    client: &Client,
    opts: *const codex_thread_options,
    params: Option<&str>,
) -> (String, Value) {
    let params = params.map(cs);
    let (mut id, mut result) = (null_mut(), null_mut());
    let mut err = null_mut();
    let rc = unsafe {
        codex_client_thread_start_with(
            client.0,
            opts,
            params.as_ref().map_or(null(), |p| p.as_ptr()),
            &mut id,
            &mut result,
            &mut err,
        )
    };
    ok(rc, err);
    unsafe { (owned(id), serde_json::from_str(&owned(result)).unwrap()) }
}

fn turn_with(
    client: &Client,
    thread: &str,
    input: *const codex_input,
    opts: *const codex_turn_options,
) -> Turn {
    let mut turn = null_mut();
    let mut err = null_mut();
    let rc = unsafe {
        codex_turn_start_with(
            client.0,
            cs(thread).as_ptr(),
            input,
            opts,
            null(),
            &mut turn,
            &mut err,
        )
    };
    ok(rc, err);
    Turn(turn)
}

fn text_input(prompt: &str) -> *mut codex_input {
    let input = codex_input_new();
    ok(unsafe { codex_input_add_text(input, cs(prompt).as_ptr(), null_mut()) }, null_mut());
    input
}

/// `codex_turn_run`'s result handle (free with `codex_turn_result_free`).
fn run(turn: &Turn) -> *mut codex_turn_result {
    let mut res = null_mut();
    let mut err = null_mut();
    ok(unsafe { codex_turn_run(turn.0, 60_000, &mut res, &mut err) }, err);
    res
}

fn failure_of(status: u16, body: Value) -> (u32, Option<i64>, String) {
    let env = Offline::new(&json!({"responses": [{"status": status, "body": body.to_string()}]}));
    let client = env.start();
    let thread = client.thread_start("{}");
    let input = text_input("fail please");
    let turn = turn_with(&client, &thread, input, null());
    unsafe { codex_input_free(input) };
    let res = run(&turn);
    unsafe {
        assert_eq!(text(codex_turn_result_status(res)), "failed");
        let failure = codex_turn_result_error(res);
        assert!(!failure.is_null(), "a failed turn has its failure");
        let mut kind = 0;
        ok(codex_failure_kind(failure, &mut kind, null_mut()), null_mut());
        let mut status = 0;
        let http =
            call(|e| codex_failure_http_status(failure, &mut status, e)).ok().map(|_| status);
        let message = read_text(|v, e| codex_failure_message(failure, v, null_mut(), e)).unwrap();
        codex_turn_result_free(res);
        (kind, http, message)
    }
}

#[test]
fn a_usage_limit_fails_the_turn_with_its_kind() {
    let body = json!({"error": {"type": "usage_limit_reached", "message": "limit",
                                "plan_type": "plus", "resets_in_seconds": 60}});
    let (kind, http, message) = failure_of(429, body);
    assert_eq!(kind, CODEX_FAILURE_USAGE_LIMIT_EXCEEDED);
    assert_eq!(http, None, "this kind carries no HTTP status");
    assert!(message.contains("usage limit"), "{message}");
}

#[test]
fn a_refused_connection_fails_the_turn_with_its_http_status() {
    let (kind, http, _) = failure_of(401, json!({"error": {"message": "bad key"}}));
    assert_eq!(kind, CODEX_FAILURE_HTTP_CONNECTION_FAILED);
    assert_eq!(http, Some(401));
}

const MARKER: &str = "typed-marker-2718";

/// The model asks to run `echo MARKER` with escalated permissions, then answers.
fn approval_script() -> Value {
    json!({"responses": [
        {"match": "RUN-THE-COMMAND", "function_call": {"name": "exec_command", "call_id": "call-1",
            "arguments": {"cmd": format!("echo {MARKER}"), "sandbox_permissions": "require_escalated",
                          "justification": "typed test"}}}],
        "default": {"text": "after the command", "phase": "final_answer"}})
}

/// An approval's command and cwd read with accessors, the command item's exit code and output
/// from the event and from the turn result, and the usage from the event and the result.
#[test]
fn approval_command_item_and_usage_read_without_json() {
    let env = Offline::new(&approval_script());
    let client = env.start();
    let opts = codex_thread_options_new();
    unsafe {
        ok(
            codex_thread_options_set_approval_policy(opts, cs("on-request").as_ptr(), null_mut()),
            null_mut(),
        );
        ok(codex_thread_options_set_ephemeral(opts, true, null_mut()), null_mut());
    }
    // What the builder lacks goes in params_json beside it.
    let (thread, _) = thread_with(&client, opts, Some(r#"{"approvalsReviewer": "user"}"#));
    unsafe { codex_thread_options_free(opts) };
    let input = text_input("RUN-THE-COMMAND");
    let turn = turn_with(&client, &thread, input, null());
    unsafe { codex_input_free(input) };
    let workspace = std::fs::canonicalize(&env.workspace).unwrap();
    let (mut asked, mut command_items, mut usage_events) = (false, 0, 0);
    loop {
        let mut ev = null_mut();
        let mut err = null_mut();
        let rc = unsafe { codex_turn_next_event(turn.0, 60_000, &mut ev, &mut err) };
        if rc == CODEX_STREAM_END {
            break;
        }
        ok(rc, err);
        unsafe {
            match codex_event_kind(ev) {
                CODEX_EVENT_SERVER_REQUEST => {
                    let mut req = null_mut();
                    ok(codex_event_request(ev, &mut req, null_mut()), null_mut());
                    assert_eq!(codex_request_kind(req), CODEX_REQUEST_KIND_COMMAND_APPROVAL);
                    let command =
                        read_text(|v, e| codex_request_command(req, v, null_mut(), e)).unwrap();
                    assert!(command.contains(&format!("echo {MARKER}")), "{command}");
                    let cwd = read_text(|v, e| codex_request_cwd(req, v, null_mut(), e)).unwrap();
                    assert_eq!(std::fs::canonicalize(&cwd).unwrap(), workspace);
                    assert!(read_text(|v, e| codex_request_item_id(req, v, null_mut(), e)).is_ok());
                    ok(codex_request_approve(req, CODEX_DECISION_ACCEPT, null_mut()), null_mut());
                    codex_request_free(req);
                    asked = true;
                }
                CODEX_EVENT_ITEM_COMPLETED => {
                    let item = codex_event_item(ev);
                    let mut kind = 0;
                    ok(codex_item_kind(item, &mut kind, null_mut()), null_mut());
                    if kind == CODEX_ITEM_KIND_COMMAND_EXECUTION {
                        command_items += 1;
                        let mut code = -1;
                        ok(codex_item_exit_code(item, &mut code, null_mut()), null_mut());
                        assert_eq!(code, 0);
                        let mut status = 0;
                        ok(codex_item_status(item, &mut status, null_mut()), null_mut());
                        assert_eq!(status, CODEX_ITEM_STATUS_COMPLETED);
                    }
                }
                CODEX_EVENT_TOKEN_USAGE => {
                    let mut counts = codex_token_counts::default();
                    let usage = codex_event_json(ev);
                    ok(
                        codex_usage_tokens(usage, CODEX_USAGE_LAST, &mut counts, null_mut()),
                        null_mut(),
                    );
                    assert!(
                        counts.input > 0 && counts.output > 0 && counts.total > 0,
                        "{counts:?}"
                    );
                    usage_events += 1;
                }
                _ => {}
            }
            codex_event_free(ev);
        }
    }
    assert!(asked, "the server asked for approval");
    assert_eq!(command_items, 1);
    assert!(usage_events > 0, "usage came as events");
    let res = run(&turn);
    unsafe {
        let mut count = 0;
        ok(codex_turn_result_item_count(res, &mut count, null_mut()), null_mut());
        let mut found = None;
        for i in 0..count {
            let mut item = null();
            ok(codex_turn_result_item(res, i, &mut item, null_mut()), null_mut());
            let mut kind = 0;
            ok(codex_item_kind(item, &mut kind, null_mut()), null_mut());
            if kind == CODEX_ITEM_KIND_COMMAND_EXECUTION {
                found = Some(item);
            }
        }
        let item = found.expect("the command item is among the result's items");
        let output = read_text(|v, e| codex_item_output(item, v, null_mut(), e)).unwrap();
        assert_eq!(output.trim(), MARKER);
        let mut duration = -1;
        ok(codex_item_duration_ms(item, &mut duration, null_mut()), null_mut());
        assert!(duration >= 0);
        let mut past = null();
        let e = call(|e| codex_turn_result_item(res, count, &mut past, e)).unwrap_err();
        assert_eq!(e.code, CODEX_ERR_NOT_FOUND);
        let mut counts = codex_token_counts::default();
        let usage = codex_turn_result_usage(res);
        ok(codex_usage_tokens(usage, CODEX_USAGE_TOTAL, &mut counts, null_mut()), null_mut());
        assert!(counts.input > 0 && counts.output > 0, "{counts:?}");
        assert_eq!(counts.total, counts.input + counts.output, "{counts:?}");
        assert!(codex_turn_result_error(res).is_null(), "a completed turn has no failure");
        codex_turn_result_free(res);
    }
}

/// A 1x1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0xf0,
    0x1f, 0x00, 0x05, 0x00, 0x01, 0xff, 0x89, 0x99, 0x3d, 0x1d, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

const PNG_BASE64: &str =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGP4z8DwHwAFAAH/iZk9HQAAAABJRU5ErkJggg==";

#[test]
fn an_image_url_and_a_local_image_reach_the_model() {
    let env = Offline::new(&json!({"default": {"text": "a pixel", "phase": "final_answer"}}));
    let image = env.workspace.join("pixel.png");
    std::fs::write(&image, PNG).unwrap();
    let client = env.start();
    let thread = client.thread_start(r#"{"ephemeral": true}"#);
    let input = text_input("DESCRIBE-THESE");
    unsafe {
        // Codex refuses remote URLs ("use an inline data URL instead").
        let url = format!("data:image/png;base64,{PNG_BASE64}");
        ok(codex_input_add_image_url(input, cs(url).as_ptr(), null_mut()), null_mut());
        ok(codex_input_add_local_image(input, cs(&image).as_ptr(), null_mut()), null_mut());
    }
    let turn = turn_with(&client, &thread, input, null());
    unsafe { codex_input_free(input) };
    let res = run(&turn);
    unsafe {
        assert_eq!(text(codex_turn_result_status(res)), "completed");
        codex_turn_result_free(res);
    }
    let request = env.model_requests().into_iter().find(|r| r.contains("DESCRIBE-THESE")).unwrap();
    // Both arrive as images: the URL as given, the file inlined by codex.
    let images = request.matches(&format!("data:image/png;base64,{PNG_BASE64}")).count();
    assert_eq!(images, 2, "the URL image and the local image");
    assert!(request.contains("input_image"), "sent as image input");
}

#[test]
fn a_cwd_with_quotes_backslashes_and_non_ascii_round_trips() {
    let env = Offline::new(&json!({"default": {"text": "ok", "phase": "final_answer"}}));
    let dir = env.workspace.join("q\"uo'te \\back\\ é日本");
    std::fs::create_dir_all(&dir).unwrap();
    let dir = dir.to_str().unwrap().to_owned();
    let client = env.start();
    let opts = codex_thread_options_new();
    unsafe { ok(codex_thread_options_set_cwd(opts, cs(&dir).as_ptr(), null_mut()), null_mut()) };
    let (thread, result) =
        thread_with(&client, opts, Some(r#"{"cwd": "/elsewhere", "ephemeral": true}"#));
    unsafe { codex_thread_options_free(opts) };
    assert_eq!(result["cwd"], dir.as_str(), "the builder's cwd wins over params_json's: {result}");
    // The same path as a turn option: the turn starts there.
    let topts = codex_turn_options_new();
    unsafe { ok(codex_turn_options_set_cwd(topts, cs(&dir).as_ptr(), null_mut()), null_mut()) };
    let input = text_input("WHERE-AM-I");
    let turn = turn_with(&client, &thread, input, topts);
    unsafe {
        codex_input_free(input);
        codex_turn_options_free(topts);
    }
    let res = run(&turn);
    unsafe {
        assert_eq!(text(codex_turn_result_status(res)), "completed");
        codex_turn_result_free(res);
    }
    let request = env.model_requests().into_iter().find(|r| r.contains("WHERE-AM-I")).unwrap();
    // Codex writes it into the model's environment context, XML-escaped.
    let xml = dir.replace('&', "&amp;").replace('"', "&quot;").replace('\'', "&apos;");
    let encoded = serde_json::to_string(&format!("<cwd>{xml}</cwd>")).unwrap();
    assert!(request.contains(&encoded[1..encoded.len() - 1]), "the turn's cwd reached the model");
}

#[test]
fn a_structured_answer_is_read_with_getters() {
    let answer = json!({"city": "Zürich", "population": 421878, "tags": ["lake", "\"old\""]});
    let env = Offline::new(&json!({"responses": [
        {"match": "STRUCTURED", "text": answer.to_string(), "phase": "final_answer"}]}));
    let client = env.start();
    let thread = client.thread_start(r#"{"ephemeral": true}"#);
    let schema = json!({"type": "object", "additionalProperties": false,
        "required": ["city", "population", "tags"],
        "properties": {"city": {"type": "string"}, "population": {"type": "integer"},
                       "tags": {"type": "array", "items": {"type": "string"}}}});
    let opts = codex_turn_options_new();
    unsafe {
        ok(
            codex_turn_options_set_output_schema(opts, cs(schema.to_string()).as_ptr(), null_mut()),
            null_mut(),
        );
    }
    let input = text_input("STRUCTURED");
    let turn = turn_with(&client, &thread, input, opts);
    unsafe {
        codex_input_free(input);
        codex_turn_options_free(opts);
    }
    let res = run(&turn);
    unsafe {
        let final_answer = codex_turn_result_final_answer(res);
        assert!(!final_answer.is_null());
        let mut doc = null_mut();
        ok(codex_json_parse(final_answer, &mut doc, null_mut()), null_mut());
        let city =
            read_text(|v, e| codex_json_get_string(doc, cs("/city").as_ptr(), v, null_mut(), e));
        assert_eq!(city.unwrap(), "Zürich");
        let mut population = 0;
        ok(
            codex_json_get_int(doc, cs("/population").as_ptr(), &mut population, null_mut()),
            null_mut(),
        );
        assert_eq!(population, 421878);
        let tag =
            read_text(|v, e| codex_json_get_string(doc, cs("/tags/1").as_ptr(), v, null_mut(), e));
        assert_eq!(tag.unwrap(), "\"old\"");
        // The last item is the answer: kind, phase and text by accessor.
        let mut count = 0;
        ok(codex_turn_result_item_count(res, &mut count, null_mut()), null_mut());
        let mut item = null();
        ok(codex_turn_result_item(res, count - 1, &mut item, null_mut()), null_mut());
        let (mut kind, mut phase) = (0, 0);
        ok(codex_item_kind(item, &mut kind, null_mut()), null_mut());
        ok(codex_item_phase(item, &mut phase, null_mut()), null_mut());
        assert_eq!((kind, phase), (CODEX_ITEM_KIND_AGENT_MESSAGE, CODEX_PHASE_FINAL_ANSWER));
        let text_of = read_text(|v, e| codex_item_text(item, v, null_mut(), e)).unwrap();
        assert_eq!(serde_json::from_str::<Value>(&text_of).unwrap(), answer);
        let mut display = 0;
        let e = call(|e| codex_item_moderation(item, &mut display, e)).unwrap_err();
        assert_eq!(e.code, CODEX_ERR_NOT_FOUND, "not moderated");
        codex_json_free(doc);
        codex_turn_result_free(res);
    }
    let request = env.model_requests().into_iter().find(|r| r.contains("STRUCTURED")).unwrap();
    assert!(request.contains("json_schema") && request.contains("population"), "{request}");
}

/// The pinned codex's schema (`generate-json-schema --experimental`).
fn pinned_schema() -> Value {
    let dir = std::env::temp_dir().join(format!("codex-typed-schema-{}", std::process::id()));
    let (home, tmp, out) = (dir.join("home"), dir.join("tmp"), dir.join("schema"));
    for d in [&home, &tmp] {
        std::fs::create_dir_all(d).unwrap();
    }
    let output = std::process::Command::new(runtime().join("bin/codex"))
        .args(["app-server", "generate-json-schema", "--experimental", "--out"])
        .arg(&out)
        .env("CODEX_HOME", &home)
        .env("TMPDIR", &tmp)
        .env("CODEX_APP_SERVER_DISABLE_MANAGED_CONFIG", "1")
        .env_remove("OPENAI_API_KEY")
        .output()
        .expect("the pinned codex runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let read = |name: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(out.join(name)).unwrap()).unwrap()
    };
    let mut v2 = read("codex_app_server_protocol.v2.schemas.json");
    v2["ServerRequest"] = read("ServerRequest.json");
    let _ = std::fs::remove_dir_all(&dir);
    v2
}

/// Every string an enum-like schema node allows: `enum`s, `oneOf`/`anyOf` branches, and the one
/// required member of an object branch.
fn names(defs: &Value, node: &Value) -> Vec<String> {
    if let Some(r) = node["$ref"].as_str() {
        return names(defs, &defs[r.trim_start_matches("#/definitions/")]);
    }
    let mut out: Vec<String> = node["enum"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    for key in ["oneOf", "anyOf", "allOf"] {
        for branch in node[key].as_array().into_iter().flatten() {
            if branch["type"] == "object" && branch["required"].as_array().map(Vec::len) == Some(1)
            {
                out.push(branch["required"][0].as_str().unwrap().to_owned());
            } else {
                out.extend(names(defs, branch));
            }
        }
    }
    out
}

fn wire<T>(list: &[(&str, T)]) -> Vec<String> {
    list.iter().map(|(w, _)| w.to_string()).collect()
}

fn missing(schema: &[String], known: &[String]) -> Vec<String> {
    schema.iter().filter(|n| !known.contains(n)).cloned().collect()
}

#[test]
fn the_kind_lists_match_the_pinned_schema() {
    let schema = pinned_schema();
    let defs = &schema["definitions"];
    let item_types: Vec<String> = defs["ThreadItem"]["oneOf"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["properties"]["type"]["enum"][0].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(missing(&item_types, &wire(ItemKind::WIRE)), Vec::<String>::new(), "item types");
    if std::env::var_os("CODEX_TEST_BIN").is_none() {
        // The pinned codex: the list is exactly its ThreadItem types, in its order.
        assert_eq!(item_types, wire(ItemKind::WIRE), "ThreadItem types");
    }
    let mut statuses = Vec::new();
    for branch in defs["ThreadItem"]["oneOf"].as_array().unwrap() {
        let status = &branch["properties"]["status"];
        if !status.is_null() {
            statuses.extend(names(defs, status));
        }
    }
    assert_eq!(missing(&statuses, &wire(ItemStatus::WIRE)), Vec::<String>::new(), "item statuses");
    let failure = names(defs, &defs["CodexErrorInfo"]);
    assert_eq!(missing(&failure, &wire(FailureKind::WIRE)), Vec::<String>::new(), "codexErrorInfo");
    let phases = names(defs, &defs["MessagePhase"]);
    assert_eq!(missing(&phases, &wire(MessagePhase::WIRE)), Vec::<String>::new(), "phases");
    let changes = names(defs, &defs["PatchChangeKind"]);
    let changes: Vec<String> = changes.into_iter().filter(|n| n != "type").collect();
    let change_types: Vec<String> = defs["PatchChangeKind"]["oneOf"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["properties"]["type"]["enum"][0].as_str().unwrap().to_owned())
        .collect();
    assert!(changes.is_empty() || !change_types.is_empty());
    assert_eq!(change_types, wire(ChangeKind::WIRE), "file change kinds");
    if let Some(display) = defs.get("AgentMessageDisplay") {
        let modes: Vec<String> = display["oneOf"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["properties"]["mode"]["enum"][0].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(modes, wire(ModerationDisplay::WIRE), "moderation display modes");
    }
    let methods: Vec<String> = schema["ServerRequest"]["oneOf"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["properties"]["method"]["enum"][0].as_str().unwrap().to_owned())
        // Experimental in 0.163.0 and gone in 0.171.0: left UNKNOWN.
        .filter(|m| m != "currentTime/read")
        .collect();
    assert_eq!(
        missing(&methods, &wire(RequestKind::WIRE)),
        Vec::<String>::new(),
        "server requests"
    );
}
