//! Typed answers to server requests that are no approval, against the real `codex app-server`
//! and the mock model: a dynamic tool declared at `thread/start` and called by the model
//! (`item/tool/call`), answered with content items; a user-input request
//! (`item/tool/requestUserInput`) answered with the user's choice. Not on Windows: under wine the test cannot
//! spawn the Python mock model.
#![cfg(not(windows))]

mod support;

use codex_app_server::ffi::answers::*;
use codex_app_server::ffi::options::{
    codex_options_set_experimental_api, codex_options_set_required_human_approval,
};
use codex_app_server::ffi::turn::codex_turn_start;
use serde_json::json;
use support::*;

#[test]
fn a_dynamic_tool_call_is_answered_with_content_items_and_reaches_the_model() {
    let env = Offline::new(&json!({"responses": [
        {"match": "CALL-THE-TOOL", "function_call": {"name": "lookup_weather", "call_id": "call-7",
            "arguments": {"city": "Oslo"}}},
        {"match": "TOOL-ANSWER-5521", "text": "It is sunny.", "phase": "final_answer"}
    ]}));
    // Dynamic tools are part of the experimental API.
    let client = env.start_with(|o| {
        set(|e| unsafe { codex_options_set_experimental_api(o, true, e) }).unwrap()
    });
    let tools = json!({"ephemeral": true, "dynamicTools": [{
        "type": "function", "name": "lookup_weather", "description": "The weather in a city.",
        "inputSchema": {"type": "object", "properties": {"city": {"type": "string"}},
                        "required": ["city"]}}]});
    let thread = client.thread_start(&tools.to_string());
    let turn = client.turn_start(&thread, "CALL-THE-TOOL").unwrap();
    let mut called = None;
    loop {
        match turn.next(60_000) {
            Next::Event(e) => {
                if let Some(req) = &e.request {
                    assert_eq!(req.method(), "item/tool/call");
                    called = Some(e.params.clone());
                    let items = json!([{"type": "inputText", "text": "TOOL-ANSWER-5521: sunny"}]);
                    let items = cs(items.to_string());
                    set(|err| unsafe {
                        codex_request_respond_tool_call(req.0, items.as_ptr(), true, err)
                    })
                    .unwrap();
                }
            }
            Next::End => break,
            Next::Failed(e) => panic!("{}", e.message),
        }
    }
    let called = called.expect("the tool was called");
    assert_eq!(called["tool"], "lookup_weather");
    assert_eq!(called["arguments"]["city"], "Oslo");
    assert_eq!(turn.run().final_answer.as_deref(), Some("It is sunny."));
    // The tool's output went back to the model in its next request.
    assert!(env.model_requests().iter().any(|r| r.contains("TOOL-ANSWER-5521: sunny")));
}

/// A user-input request (the model's `request_user_input` tool, offered in plan mode) answered
/// with the user's choice, which reaches the model.
#[test]
fn a_user_input_request_is_answered_and_the_answer_reaches_the_model() {
    let env = Offline::new(&json!({"responses": [
        {"match": "ASK-THE-USER", "function_call": {"name": "request_user_input", "call_id": "call-8",
            "arguments": {"questions": [{"id": "color", "header": "Color", "question": "Which color?",
                "options": [{"label": "Red", "description": "warm"},
                            {"label": "Blue", "description": "cool"}]}]}}},
        {"text": "Blue it is.", "phase": "final_answer"}
    ]}));
    let client = env.start_with(|o| {
        set(|e| unsafe { codex_options_set_experimental_api(o, true, e) }).unwrap()
    });
    let thread = client.thread_start(r#"{"ephemeral": true}"#);
    let plan = json!({"collaborationMode": {"mode": "plan", "settings": {"model": "mock-model"}}});
    let mut t = std::ptr::null_mut();
    let (th, input, params) = (cs(&thread), cs("ASK-THE-USER"), cs(plan.to_string()));
    set(|e| unsafe {
        codex_turn_start(client.0, th.as_ptr(), input.as_ptr(), params.as_ptr(), &mut t, e)
    })
    .unwrap();
    let turn = Turn(t);
    let mut asked = None;
    loop {
        match turn.next(60_000) {
            Next::Event(e) => {
                if let Some(req) = &e.request {
                    assert_eq!(req.method(), "item/tool/requestUserInput");
                    asked = Some(e.params["questions"][0]["id"].clone());
                    // Not a tool call: the typed answer of another kind is refused.
                    let text = cs("x");
                    let wrong = set(|err| unsafe {
                        codex_request_respond_tool_text(req.0, text.as_ptr(), true, err)
                    });
                    assert!(wrong.unwrap_err().message.contains("not a dynamic tool call"));
                    let answers = cs(r#"{"color": ["Blue-8812"]}"#);
                    set(|err| unsafe {
                        codex_request_respond_user_input(req.0, answers.as_ptr(), err)
                    })
                    .unwrap();
                }
            }
            Next::End => break,
            Next::Failed(e) => panic!("{}", e.message),
        }
    }
    assert_eq!(asked, Some(json!("color")));
    assert_eq!(turn.run().final_answer.as_deref(), Some("Blue it is."));
    let requests = env.model_requests();
    assert!(requests.last().unwrap().contains("Blue-8812"), "the answer reached the model");
}

/// The `requiredHumanApproval` capability is accepted by the server (0.171 knows it; older ones
/// ignore a capability they do not know), and a turn runs as usual with it.
#[test]
fn the_required_human_approval_capability_is_accepted() {
    let env = Offline::new(&json!({"responses": [{"text": "fine", "phase": "final_answer"}]}));
    let client = env.start_with(|o| {
        set(|e| unsafe { codex_options_set_required_human_approval(o, true, e) }).unwrap()
    });
    let thread = client.thread_start(r#"{"ephemeral": true}"#);
    let turn = client.turn_start(&thread, "hello").unwrap();
    assert_eq!(turn.run().final_answer.as_deref(), Some("fine"));
}
