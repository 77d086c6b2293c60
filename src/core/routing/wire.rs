//! One pass over each incoming line: what kind of message it is, its id, method, routing keys
//! and raw params — borrowed from the line, never built into a `serde_json::Value`.

use super::keys::{Invalid, Keys, Scanner};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;

/// A classified line from the app-server.
#[derive(Debug)]
pub enum Message<'a> {
    /// The answer to one of our requests.
    Response { id: ResponseId, outcome: ResponseOutcome<'a> },
    /// A notification (`method`, no `id`).
    Notification(Notice<'a>),
    /// A server→client request (`method` and `id`): it must be answered.
    ServerRequest { id: &'a RawValue, notice: Notice<'a> },
}

/// Our request ids are integers; anything else cannot match a waiter.
#[derive(Debug, PartialEq, Eq)]
pub enum ResponseId {
    Number(u64),
    Foreign(String),
}

#[derive(Debug)]
pub enum ResponseOutcome<'a> {
    /// Raw JSON of `result`.
    Result(&'a str),
    Error(RpcErrorBody<'a>),
    /// Neither `result` nor `error`: the caller gets a protocol error saying this.
    Malformed(&'static str),
}

#[derive(Debug, Deserialize)]
pub struct RpcErrorBody<'a> {
    #[serde(default)]
    pub code: i64,
    #[serde(borrow, default)]
    pub message: Cow<'a, str>,
    #[serde(borrow, default)]
    pub data: Option<&'a RawValue>,
}

/// The parts of a notification or server request that routing and events need.
#[derive(Debug)]
pub struct Notice<'a> {
    pub method: Cow<'a, str>,
    /// Raw JSON of `params` (`null` when absent).
    pub params: &'a str,
    pub thread_id: Option<Cow<'a, str>>,
    /// `turnId`, or `turn.id` for `turn/started` and `turn/completed`.
    pub turn_id: Option<Cow<'a, str>>,
    pub delta: Option<Cow<'a, str>>,
    /// `turn.status` (on `turn/completed`).
    pub turn_status: Option<Cow<'a, str>>,
}

#[derive(Debug)]
pub enum WireError {
    /// Not a JSON object (or not valid JSON at all).
    NotJson(String),
    /// Valid JSON, but neither a response, a notification nor a request.
    NotAMessage,
}

/// The members of the envelope, as found in the one pass.
#[derive(Default)]
struct Envelope<'a> {
    id: Option<&'a str>,
    method: Option<Cow<'a, str>>,
    params: Option<&'a str>,
    keys: Keys<'a>,
    result: Option<&'a str>,
    error: Option<&'a str>,
    /// `"result": null` (a result, unlike an absent one).
    null_result: bool,
    /// `"id": null`: a request nobody can answer by its id.
    null_id: bool,
}

/// Classifies one line (without its newline), checking that it is valid JSON in the same pass
/// that finds its members and the routing keys of its params.
pub fn parse_line(line: &str) -> Result<Message<'_>, WireError> {
    let env = envelope(line).map_err(|Invalid| WireError::NotJson(not_json(line)))?;
    match (env.method, env.id) {
        (Some(method), id) => {
            let keys = env.keys;
            let notice = Notice {
                method,
                params: env.params.unwrap_or("null"),
                thread_id: keys.thread_id,
                turn_id: keys.turn_id,
                delta: keys.delta,
                turn_status: keys.turn_status,
            };
            Ok(match id {
                Some(id) => Message::ServerRequest { id: raw_value(id), notice },
                None if env.null_id => Message::ServerRequest { id: raw_value("null"), notice },
                None => Message::Notification(notice),
            })
        }
        (None, Some(id)) => {
            let id = match id.parse::<u64>() {
                Ok(n) => ResponseId::Number(n),
                Err(_) => ResponseId::Foreign(id.to_owned()),
            };
            let outcome = match env.error {
                Some(raw) => match serde_json::from_str::<RpcErrorBody<'_>>(raw) {
                    Ok(body) => ResponseOutcome::Error(body),
                    Err(_) => ResponseOutcome::Error(RpcErrorBody {
                        code: 0,
                        message: Cow::Owned(format!("malformed error object: {raw}")),
                        data: None,
                    }),
                },
                None => match env.result {
                    Some(raw) => ResponseOutcome::Result(raw),
                    None if env.null_result => ResponseOutcome::Result("null"),
                    None => ResponseOutcome::Malformed("the response has neither result nor error"),
                },
            };
            Ok(Message::Response { id, outcome })
        }
        (None, None) => Err(WireError::NotAMessage),
    }
}

/// The one pass over a line: a JSON object whose `method` (when present) is a string; `id`,
/// `params`, `result` and `error` may be any value (given raw), and each may appear once.
fn envelope(line: &str) -> Result<Envelope<'_>, Invalid> {
    let mut scan = Scanner::new(line);
    let mut env = Envelope::default();
    scan.expect(b'{')?;
    if !scan.eat(b'}') {
        loop {
            let key = scan.string()?;
            scan.expect(b':')?;
            scan.ws();
            let start = scan.position();
            // The envelope's members by name (a key with escapes is decoded first).
            let decoded;
            let name = if key.escaped() {
                decoded = key.text().ok_or(Invalid)?;
                &*decoded
            } else {
                key.inner()
            };
            let wanted = matches!(name, "method" | "params" | "id" | "result" | "error");
            if wanted && scan.starts_with(b'n') {
                // `null` counts as absent, as for an `Option` field (but is noted where it
                // means something).
                env.null_result |= name == "result";
                env.null_id |= name == "id";
                scan.value(1)?;
                if !scan.eat(b',') {
                    scan.expect(b'}')?;
                    break;
                }
                continue;
            }
            let slot = match name {
                "method" => {
                    if env.method.is_some() {
                        return Err(Invalid);
                    }
                    env.method = Some(scan.string()?.text().ok_or(Invalid)?);
                    None
                }
                "params" => {
                    if env.params.is_some() {
                        return Err(Invalid);
                    }
                    scan.params(&mut env.keys)?;
                    env.params = Some(scan.since(start));
                    None
                }
                "id" => Some(&mut env.id),
                "result" => Some(&mut env.result),
                "error" => Some(&mut env.error),
                _ => {
                    scan.value(1)?;
                    None
                }
            };
            if let Some(slot) = slot {
                if slot.is_some() {
                    return Err(Invalid);
                }
                scan.value(1)?;
                *slot = Some(scan.since(start));
            }
            if !scan.eat(b',') {
                scan.expect(b'}')?;
                break;
            }
        }
    }
    scan.end()?;
    Ok(env)
}

/// The text of a value already checked, as a `RawValue`.
fn raw_value(raw: &str) -> &RawValue {
    // Checked by the scan; serde_json only borrows it.
    serde_json::from_str(raw).expect("a value the scan accepted")
}

/// What is wrong with a line that is not a JSON-RPC object (serde_json says it best; this runs
/// only for lines that are skipped).
fn not_json(line: &str) -> String {
    match serde_json::from_str::<serde::de::IgnoredAny>(line) {
        Err(e) => e.to_string(),
        Ok(_) => "not a JSON object with a string method".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notification(line: &str) -> Notice<'_> {
        match parse_line(line).unwrap() {
            Message::Notification(n) => n,
            other => panic!("not a notification: {other:?}"),
        }
    }

    #[test]
    fn delta_notification_keys_and_raw_params() {
        let line = r#"{"method":"item/agentMessage/delta","params":{"threadId":"thr_1","turnId":"t1","itemId":"m","delta":"a\"b\u00e9"},"emittedAtMs":1}"#;
        let n = notification(line);
        assert_eq!(n.method, "item/agentMessage/delta");
        assert_eq!(n.thread_id.as_deref(), Some("thr_1"));
        assert_eq!(n.turn_id.as_deref(), Some("t1"));
        assert_eq!(n.delta.as_deref(), Some("a\"bé"));
        assert!(n.params.starts_with(r#"{"threadId":"thr_1""#) && n.params.ends_with('}'));
    }

    #[test]
    fn turn_completed_nests_turn_id_and_status() {
        let n = notification(
            r#"{"method":"turn/completed","params":{"threadId":"thr_1","turn":{"id":"t9","items":[],"status":"failed","error":{"message":"x"}}}}"#,
        );
        assert_eq!(n.turn_id.as_deref(), Some("t9"));
        assert_eq!(n.turn_status.as_deref(), Some("failed"));
    }

    #[test]
    fn thread_started_nests_thread_id_and_unexpected_types_are_absent() {
        let n = notification(
            r#"{"method":"thread/started","params":{"thread":{"id":"thr_2"},"turnId":5,"delta":{"x":[1,2]}}}"#,
        );
        assert_eq!(n.thread_id.as_deref(), Some("thr_2"));
        assert_eq!(n.turn_id, None);
        assert_eq!(n.delta, None);
    }

    #[test]
    fn responses_requests_and_errors() {
        match parse_line(r#"{"id":7,"result":{"thread":{"id":"a"}}}"#).unwrap() {
            Message::Response { id, outcome: ResponseOutcome::Result(r) } => {
                assert_eq!(id, ResponseId::Number(7));
                assert_eq!(r, r#"{"thread":{"id":"a"}}"#);
            }
            other => panic!("{other:?}"),
        }
        match parse_line(r#"{"id":3,"error":{"code":-32001,"message":"Server overloaded; retry later.","data":null}}"#).unwrap() {
            Message::Response { outcome: ResponseOutcome::Error(e), .. } => {
                assert_eq!(e.code, -32001);
                assert_eq!(e.message, "Server overloaded; retry later.");
            }
            other => panic!("{other:?}"),
        }
        match parse_line(r#"{"id":0,"method":"item/commandExecution/requestApproval","params":{"threadId":"a","turnId":"b"}}"#).unwrap() {
            Message::ServerRequest { id, notice } => {
                assert_eq!(id.get(), "0");
                assert_eq!(notice.turn_id.as_deref(), Some("b"));
            }
            other => panic!("{other:?}"),
        }
        match parse_line(r#"{"id":"abc","result":null}"#).unwrap() {
            Message::Response { id, outcome: ResponseOutcome::Result(r) } => {
                assert_eq!(id, ResponseId::Foreign("\"abc\"".into()));
                assert_eq!(r, "null");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(matches!(parse_line("this is not json"), Err(WireError::NotJson(_))));
        assert!(matches!(parse_line(r#"{"broken": "#), Err(WireError::NotJson(_))));
        assert!(matches!(parse_line("[1,2]"), Err(WireError::NotJson(_))));
        // Arrays in the order of the envelope's fields are not messages either.
        assert!(matches!(parse_line("[2]"), Err(WireError::NotJson(_))));
        assert!(matches!(parse_line(r#" [null,"turn/started",{}]"#), Err(WireError::NotJson(_))));
        assert!(parse_line(" \t{\"id\":2}").is_ok());
        assert!(matches!(parse_line("{}"), Err(WireError::NotAMessage)));
        assert!(matches!(parse_line(""), Err(WireError::NotJson(_))));
    }
}
