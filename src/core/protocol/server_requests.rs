//! The server→client requests of the protocol: which this library answers on purpose and how
//! (`SERVER_REQUESTS`, `APPROVAL_KINDS` — the protocol guard, tests/protocol.rs, fails when the
//! pinned codex's schema has one that is in neither list), the fail-closed answer of each, and
//! builders of the typed answers a program gives. Pure data: the routing of a request and its
//! one answer are `routing::requests`' business.

use crate::core::error::{Error, Result};
use serde_json::{json, Map, Value};

/// How a request method is answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Typed {
    /// `CODEX_DECISION_*` through `approval_answer`.
    Approval,
    /// `tool_call_answer`: content items and success.
    ToolCall,
    /// `user_input_answer`: answers per question id.
    UserInput,
    /// `elicitation_answer`: accept with content, decline, cancel (also an approval decision).
    Elicitation,
    /// `auth_tokens_answer`: the tokens an embedding program supplies.
    AuthTokens,
    /// Only a raw result or an error (`codex_request_respond*`); fail-closed otherwise.
    RawOnly,
}

/// What goes out when nobody answers: a result, or a JSON-RPC error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailClosed {
    Result(&'static str),
    Error,
}

/// A server request method this library knows, its typed answer, and its fail-closed answer.
pub struct Handled {
    pub method: &'static str,
    pub typed: Typed,
    pub fail_closed: FailClosed,
}

const fn handled(method: &'static str, typed: Typed, fail_closed: FailClosed) -> Handled {
    Handled { method, typed, fail_closed }
}

/// Declines a legacy approval request (`execCommandApproval`, `applyPatchApproval`).
pub const LEGACY_DENIED: &str = r#"{"decision":{"denied":{"rejection":"declined by the client"}}}"#;

/// Every server request method of the pinned codex (0.163.0; 0.171.0 the same but without
/// `currentTime/read`), each answered on purpose. A method not here is answered with the
/// "no handler" error, and the protocol guard fails until it is listed.
pub const SERVER_REQUESTS: &[Handled] = &[
    handled(
        "item/commandExecution/requestApproval",
        Typed::Approval,
        FailClosed::Result(r#"{"decision":"decline"}"#),
    ),
    handled(
        "item/fileChange/requestApproval",
        Typed::Approval,
        FailClosed::Result(r#"{"decision":"decline"}"#),
    ),
    handled(
        "item/permissions/requestApproval",
        Typed::Approval,
        FailClosed::Result(r#"{"permissions":{}}"#),
    ),
    handled(
        "mcpServer/elicitation/request",
        Typed::Elicitation,
        FailClosed::Result(r#"{"action":"decline"}"#),
    ),
    // The model gets a failed tool result and goes on; an error would fail the item instead.
    handled(
        "item/tool/call",
        Typed::ToolCall,
        FailClosed::Result(
            r#"{"contentItems":[{"type":"inputText","text":"this client has no handler for dynamic tool calls"}],"success":false}"#,
        ),
    ),
    handled("item/tool/requestUserInput", Typed::UserInput, FailClosed::Error),
    // No tokens: the request fails, and codex reports the account as logged out.
    handled("account/chatgptAuthTokens/refresh", Typed::AuthTokens, FailClosed::Error),
    // Sent only to clients that opt in (`requestAttestation`), which this library never does.
    handled("attestation/generate", Typed::RawOnly, FailClosed::Error),
    // 0.163.0 only; answered by `codex_request_respond` with `{"currentTimeMs": ...}`.
    handled("currentTime/read", Typed::RawOnly, FailClosed::Error),
    handled("execCommandApproval", Typed::Approval, FailClosed::Result(LEGACY_DENIED)),
    handled("applyPatchApproval", Typed::Approval, FailClosed::Result(LEGACY_DENIED)),
];

/// The `kind` values of a command approval (`CommandExecutionApprovalKind`), each handled on
/// purpose: `command` and `writeStdin` take every decision; `humanCommand` (codex 0.171, only
/// with the `requiredHumanApproval` capability) refuses `acceptForSession` (`approval_answer`).
pub const APPROVAL_KINDS: &[&str] = &["command", "writeStdin", "humanCommand"];

/// The approval kind for which only accept, decline and cancel are valid.
pub const HUMAN_COMMAND: &str = "humanCommand";

pub fn handled_method(method: &str) -> Option<&'static Handled> {
    SERVER_REQUESTS.iter().find(|h| h.method == method)
}

/// The `kind` of an approval request's params (absent: `command`, as older servers send).
pub fn approval_kind(params: &str) -> Option<String> {
    let params: Value = serde_json::from_str(params).ok()?;
    params.get("kind")?.as_str().map(str::to_owned)
}

fn check_method(method: &str, want: &str, what: &str) -> Result<()> {
    if method == want {
        return Ok(());
    }
    Err(Error::invalid_argument(format!("req: {method} is not {what} ({want})")))
}

/// The answer to a dynamic tool call (`item/tool/call`): `content_items_json` is a JSON array of
/// `{"type":"inputText","text":...}` and `{"type":"inputImage","imageUrl":...}` items.
pub fn tool_call_answer(method: &str, content_items_json: &str, success: bool) -> Result<String> {
    check_method(method, "item/tool/call", "a dynamic tool call")?;
    let items: Value = serde_json::from_str(content_items_json)
        .map_err(|e| Error::invalid_argument(format!("content_items_json: invalid JSON: {e}")))?;
    let Value::Array(items) = items else {
        return Err(Error::invalid_argument("content_items_json: must be a JSON array"));
    };
    for (i, item) in items.iter().enumerate() {
        let ok = match item.get("type").and_then(Value::as_str) {
            Some("inputText") => item.get("text").is_some_and(Value::is_string),
            Some("inputImage") => item.get("imageUrl").is_some_and(Value::is_string),
            _ => false,
        };
        if !ok {
            return Err(Error::invalid_argument(format!(
                "content_items_json: item {i} is neither {{\"type\":\"inputText\",\"text\":...}} \
                 nor {{\"type\":\"inputImage\",\"imageUrl\":...}}"
            )));
        }
    }
    Ok(json!({ "contentItems": items, "success": success }).to_string())
}

/// `tool_call_answer` with one text item.
pub fn tool_call_text_answer(method: &str, text: &str, success: bool) -> Result<String> {
    let items = json!([{ "type": "inputText", "text": text }]).to_string();
    tool_call_answer(method, &items, success)
}

/// The answer to `item/tool/requestUserInput`: `answers_json` maps each question id to its
/// answers, an array of strings (or the protocol's `{"answers": [...]}`).
pub fn user_input_answer(method: &str, answers_json: &str) -> Result<String> {
    check_method(method, "item/tool/requestUserInput", "a user-input request")?;
    let answers: Value = serde_json::from_str(answers_json)
        .map_err(|e| Error::invalid_argument(format!("answers_json: invalid JSON: {e}")))?;
    let Value::Object(answers) = answers else {
        return Err(Error::invalid_argument(
            "answers_json: must be a JSON object of question id to an array of answers",
        ));
    };
    let mut out = Map::new();
    for (id, given) in answers {
        let list = match &given {
            Value::Array(_) => given.clone(),
            Value::Object(o) => o.get("answers").cloned().unwrap_or(Value::Null),
            _ => Value::Null,
        };
        let strings = list.as_array().is_some_and(|l| l.iter().all(Value::is_string));
        if !strings {
            return Err(Error::invalid_argument(format!(
                "answers_json: the answers to \"{id}\" must be an array of strings"
            )));
        }
        out.insert(id, json!({ "answers": list }));
    }
    Ok(json!({ "answers": out }).to_string())
}

/// What the program does with an MCP elicitation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ElicitationAction {
    Accept,
    Decline,
    Cancel,
}

/// The answer to `mcpServer/elicitation/request`: accept with `content_json` (the form's
/// values, a JSON object; `None`: `{}`), decline, or cancel (no content).
pub fn elicitation_answer(
    method: &str,
    action: ElicitationAction,
    content_json: Option<&str>,
) -> Result<String> {
    check_method(method, "mcpServer/elicitation/request", "an MCP elicitation")?;
    let content = match (action, content_json) {
        (ElicitationAction::Accept, Some(text)) => {
            let value: Value = serde_json::from_str(text)
                .map_err(|e| Error::invalid_argument(format!("content_json: invalid JSON: {e}")))?;
            if !value.is_object() {
                return Err(Error::invalid_argument("content_json: must be a JSON object"));
            }
            value
        }
        (ElicitationAction::Accept, None) => json!({}),
        (_, Some(_)) => {
            return Err(Error::invalid_argument(
                "content_json: only an accepted elicitation carries content (give NULL)",
            ))
        }
        (_, None) => Value::Null,
    };
    let action = match action {
        ElicitationAction::Accept => "accept",
        ElicitationAction::Decline => "decline",
        ElicitationAction::Cancel => "cancel",
    };
    Ok(match content {
        Value::Null => json!({ "action": action }),
        content => json!({ "action": action, "content": content }),
    }
    .to_string())
}

/// The answer to `account/chatgptAuthTokens/refresh`: the tokens the embedding program holds.
pub fn auth_tokens_answer(
    method: &str,
    access_token: &str,
    chatgpt_account_id: &str,
    chatgpt_plan_type: Option<&str>,
) -> Result<String> {
    check_method(method, "account/chatgptAuthTokens/refresh", "an auth-token refresh")?;
    if access_token.is_empty() {
        return Err(Error::invalid_argument("access_token: must not be empty"));
    }
    if chatgpt_account_id.is_empty() {
        return Err(Error::invalid_argument("chatgpt_account_id: must not be empty"));
    }
    let mut answer = json!({ "accessToken": access_token, "chatgptAccountId": chatgpt_account_id });
    if let Some(plan) = chatgpt_plan_type {
        answer["chatgptPlanType"] = Value::String(plan.to_owned());
    }
    Ok(answer.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_method_is_distinct_and_fail_closed_results_are_json() {
        for (i, h) in SERVER_REQUESTS.iter().enumerate() {
            assert!(SERVER_REQUESTS[..i].iter().all(|o| o.method != h.method), "{}", h.method);
            if let FailClosed::Result(text) = h.fail_closed {
                serde_json::from_str::<Value>(text).unwrap();
            }
        }
    }

    #[test]
    fn typed_answers_have_the_schema_s_shape_and_check_their_arguments() {
        let tool = tool_call_text_answer("item/tool/call", "42", true).unwrap();
        assert_eq!(tool, r#"{"contentItems":[{"text":"42","type":"inputText"}],"success":true}"#);
        assert!(tool_call_answer("item/tool/call", r#"[{"type":"x"}]"#, true).is_err());
        assert!(tool_call_answer("item/tool/call", "{}", true).is_err());
        assert!(tool_call_answer("item/fileChange/requestApproval", "[]", true).is_err());

        let input = user_input_answer(
            "item/tool/requestUserInput",
            r#"{"q1":["yes"],"q2":{"answers":["a","b"]}}"#,
        )
        .unwrap();
        let input: Value = serde_json::from_str(&input).unwrap();
        assert_eq!(input, json!({"answers":{"q1":{"answers":["yes"]},"q2":{"answers":["a","b"]}}}));
        assert!(user_input_answer("item/tool/requestUserInput", r#"{"q":[1]}"#).is_err());

        let m = "mcpServer/elicitation/request";
        let accept = elicitation_answer(m, ElicitationAction::Accept, Some(r#"{"n":1}"#)).unwrap();
        assert_eq!(accept, r#"{"action":"accept","content":{"n":1}}"#);
        assert_eq!(
            elicitation_answer(m, ElicitationAction::Cancel, None).unwrap(),
            r#"{"action":"cancel"}"#
        );
        assert!(elicitation_answer(m, ElicitationAction::Decline, Some("{}")).is_err());
        assert!(elicitation_answer(m, ElicitationAction::Accept, Some("[1]")).is_err());

        let r = "account/chatgptAuthTokens/refresh";
        let tokens = auth_tokens_answer(r, "tok", "acct", Some("pro")).unwrap();
        let tokens: Value = serde_json::from_str(&tokens).unwrap();
        assert_eq!(
            tokens,
            json!({"accessToken":"tok","chatgptAccountId":"acct","chatgptPlanType":"pro"})
        );
        assert!(auth_tokens_answer(r, "", "acct", None).is_err());
        assert_eq!(approval_kind(r#"{"kind":"humanCommand"}"#).as_deref(), Some(HUMAN_COMMAND));
        assert_eq!(approval_kind("{}"), None);
    }
}
