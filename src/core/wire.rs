//! One pass over each incoming line: what kind of message it is, its id, method, routing keys
//! and raw params — borrowed from the line, never built into a `serde_json::Value`.

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
    /// Raw JSON of `result` (`null` when absent).
    Result(&'a str),
    Error(RpcErrorBody<'a>),
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

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow, default)]
    id: Option<&'a RawValue>,
    #[serde(borrow, default)]
    method: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    params: Option<&'a RawValue>,
    #[serde(borrow, default)]
    result: Option<&'a RawValue>,
    #[serde(borrow, default)]
    error: Option<&'a RawValue>,
}

/// Classifies one line (without its newline).
pub fn parse_line(line: &str) -> Result<Message<'_>, WireError> {
    // A derived struct also deserializes from an array (`[2]` would be a response to request 2):
    // only an object is a message. (Found by fuzzing.)
    if !line.trim_start_matches([' ', '\t', '\n', '\r']).starts_with('{') {
        return Err(WireError::NotJson("not a JSON object".to_owned()));
    }
    let env: Envelope<'_> =
        serde_json::from_str(line).map_err(|e| WireError::NotJson(e.to_string()))?;
    match (env.method, env.id) {
        (Some(method), id) => {
            let notice = notice(method, env.params);
            Ok(match id {
                Some(id) => Message::ServerRequest { id, notice },
                None => Message::Notification(notice),
            })
        }
        (None, Some(id)) => {
            let id = match id.get().parse::<u64>() {
                Ok(n) => ResponseId::Number(n),
                Err(_) => ResponseId::Foreign(id.get().to_owned()),
            };
            let outcome = match env.error {
                Some(raw) => match serde_json::from_str::<RpcErrorBody<'_>>(raw.get()) {
                    Ok(body) => ResponseOutcome::Error(body),
                    Err(_) => ResponseOutcome::Error(RpcErrorBody {
                        code: 0,
                        message: Cow::Owned(format!("malformed error object: {}", raw.get())),
                        data: None,
                    }),
                },
                None => ResponseOutcome::Result(env.result.map_or("null", RawValue::get)),
            };
            Ok(Message::Response { id, outcome })
        }
        (None, None) => Err(WireError::NotAMessage),
    }
}

fn notice<'a>(method: Cow<'a, str>, params: Option<&'a RawValue>) -> Notice<'a> {
    let params = params.map_or("null", RawValue::get);
    // `params` already passed the envelope's validation, so one quick pass finds the keys.
    let keys = super::keys::read(params);
    Notice {
        method,
        params,
        thread_id: keys.thread_id,
        turn_id: keys.turn_id,
        delta: keys.delta,
        turn_status: keys.turn_status,
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
