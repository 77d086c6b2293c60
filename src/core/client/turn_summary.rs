//! What `run` returns: status, error, final answer, completed items and usage of a turn,
//! accumulated from its events.

use crate::core::routing::event::{Event, EventKind};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;

#[derive(Clone, Debug, Default)]
pub struct TurnOutcome {
    /// `completed`, `interrupted` or `failed` (from `turn/completed`).
    pub status: String,
    /// `turn.error.message`, else the last `error` notification's message.
    pub error_message: Option<String>,
    /// The last completed agent message with phase `final_answer`, else the last without a
    /// phase; `None` when the turn only had commentary.
    pub final_answer: Option<String>,
    /// JSON array of the turn's completed items, in order.
    pub items_json: String,
    /// The last `thread/tokenUsage/updated.tokenUsage` of the turn, as JSON.
    pub usage_json: Option<String>,
    /// The failure as a `TurnError` object (`message`, `codexErrorInfo`, ...): `turn.error`,
    /// else the last `error` notification's `error`.
    pub error_json: Option<String>,
    /// The stream had a gap (the connection dropped and was made again): events were missed;
    /// the items finished meanwhile were taken from the resumed thread's snapshot.
    pub gap: bool,
    /// The review's text: the `review` of the turn's last `exitedReviewMode` item (a
    /// `review/start` turn); `None` for other turns.
    pub review: Option<String>,
}

#[derive(Default)]
pub struct TurnSummary {
    status: Option<String>,
    turn_error: Option<String>,
    last_error: Option<String>,
    turn_error_json: Option<String>,
    last_error_json: Option<String>,
    final_answer: Option<String>,
    last_unphased: Option<String>,
    items: Vec<String>,
    /// The ids of `items`, for merging a snapshot's items after a gap.
    item_ids: std::collections::HashSet<String>,
    usage: Option<String>,
    gap: bool,
    review: Option<String>,
}

#[derive(Deserialize)]
struct ItemCompleted<'a> {
    #[serde(borrow)]
    item: &'a RawValue,
}

#[derive(Deserialize)]
struct Item<'a> {
    #[serde(borrow, default)]
    id: Option<Cow<'a, str>>,
    #[serde(rename = "type", borrow, default)]
    kind: Cow<'a, str>,
    #[serde(borrow, default)]
    text: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    phase: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    review: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct TokenUsage<'a> {
    #[serde(rename = "tokenUsage", borrow)]
    token_usage: &'a RawValue,
}

#[derive(Deserialize, Default)]
struct Message<'a> {
    #[serde(borrow, default)]
    message: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct ErrorNotice<'a> {
    #[serde(borrow, default)]
    error: Option<Message<'a>>,
}

/// The raw `error` object of an `error` notification or of `turn/completed`'s `turn`.
#[derive(Deserialize)]
struct RawError<'a> {
    #[serde(borrow, default)]
    error: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct RawTurnError<'a> {
    #[serde(borrow)]
    turn: RawError<'a>,
}

/// An error object's text, unless it is `null`.
fn error_object(raw: Option<&RawValue>) -> Option<String> {
    raw.map(RawValue::get).filter(|t| t.starts_with('{')).map(str::to_owned)
}

#[derive(Deserialize)]
struct TurnCompleted<'a> {
    #[serde(borrow)]
    turn: TurnBody<'a>,
}

#[derive(Deserialize)]
struct TurnBody<'a> {
    #[serde(borrow, default)]
    error: Option<Message<'a>>,
}

impl TurnSummary {
    /// Whether `observe` looks at events of this kind (deltas, the bulk of a stream, it does
    /// not: a callback turn skips the lock around `observe` for them).
    pub fn wants(kind: EventKind) -> bool {
        matches!(
            kind,
            EventKind::ItemCompleted
                | EventKind::TokenUsage
                | EventKind::Error
                | EventKind::TurnCompleted
                | EventKind::Gap
        )
    }

    pub fn observe(&mut self, event: &Event) {
        let params = event.params();
        match event.kind() {
            EventKind::ItemCompleted => {
                if let Ok(done) = serde_json::from_str::<ItemCompleted<'_>>(params) {
                    self.item(done.item.get());
                }
            }
            EventKind::Gap => self.merge_snapshot(params),
            EventKind::TokenUsage => {
                if let Ok(u) = serde_json::from_str::<TokenUsage<'_>>(params) {
                    self.usage = Some(u.token_usage.get().to_owned());
                }
            }
            EventKind::Error => {
                if let Ok(ErrorNotice { error: Some(Message { message: Some(m) }) }) =
                    serde_json::from_str(params)
                {
                    self.last_error = Some(m.into_owned());
                }
                if let Ok(RawError { error }) = serde_json::from_str(params) {
                    self.last_error_json = error_object(error).or(self.last_error_json.take());
                }
            }
            EventKind::TurnCompleted => {
                self.status = event.turn_status().map(str::to_owned);
                if let Ok(TurnCompleted {
                    turn: TurnBody { error: Some(Message { message: Some(m) }) },
                }) = serde_json::from_str(params)
                {
                    self.turn_error = Some(m.into_owned());
                }
                if let Ok(RawTurnError { turn: RawError { error } }) = serde_json::from_str(params)
                {
                    self.turn_error_json = error_object(error);
                }
            }
            _ => {}
        }
    }

    /// One completed item, in order.
    fn item(&mut self, raw: &str) {
        self.items.push(raw.to_owned());
        let Ok(item) = serde_json::from_str::<Item<'_>>(raw) else {
            return;
        };
        if let Some(id) = &item.id {
            self.item_ids.insert(id.clone().into_owned());
        }
        if item.kind == "exitedReviewMode" {
            self.review = item.review.map(Cow::into_owned);
            return;
        }
        if item.kind != "agentMessage" {
            return;
        }
        let text = item.text.map(Cow::into_owned);
        match item.phase.as_deref() {
            Some("final_answer") => self.final_answer = text,
            None => self.last_unphased = text,
            Some(_) => {}
        }
    }

    /// A gap (`codex/gap`): the snapshot's items not seen yet are taken as completed, in their
    /// order. User messages are left out: a snapshot gives them other ids than the live events.
    fn merge_snapshot(&mut self, params: &str) {
        self.gap = true;
        #[derive(Deserialize)]
        struct Gap<'a> {
            #[serde(borrow)]
            turn: Snapshot<'a>,
        }
        #[derive(Deserialize)]
        struct Snapshot<'a> {
            #[serde(borrow, default)]
            items: Vec<&'a RawValue>,
        }
        let Ok(gap) = serde_json::from_str::<Gap<'_>>(params) else {
            return;
        };
        for raw in gap.turn.items {
            let Ok(item) = serde_json::from_str::<Item<'_>>(raw.get()) else {
                continue;
            };
            let seen = item.id.as_deref().is_some_and(|id| self.item_ids.contains(id));
            if !seen && item.kind != "userMessage" {
                self.item(raw.get());
            }
        }
    }

    pub fn outcome(&self) -> TurnOutcome {
        TurnOutcome {
            status: self.status.clone().unwrap_or_else(|| "unknown".to_owned()),
            error_message: self.turn_error.clone().or_else(|| self.last_error.clone()),
            final_answer: self.final_answer.clone().or_else(|| self.last_unphased.clone()),
            items_json: format!("[{}]", self.items.join(",")),
            usage_json: self.usage.clone(),
            error_json: self.turn_error_json.clone().or_else(|| self.last_error_json.clone()),
            gap: self.gap,
            review: self.review.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::routing::event::EventParts;

    fn ev(method: &str, params: &str, status: Option<&str>) -> Event {
        Event::new(
            EventKind::of_notification(method),
            &EventParts { method, params, turn_status: status, ..Default::default() },
        )
    }

    fn item(kind: &str, text: &str, phase: Option<&str>) -> Event {
        let mut item = serde_json::json!({"type": kind, "id": "i", "text": text});
        if let Some(p) = phase {
            item["phase"] = p.into();
        }
        ev("item/completed", &serde_json::json!({"item": item}).to_string(), None)
    }

    #[test]
    fn final_answer_prefers_final_phase_then_unphased() {
        let mut s = TurnSummary::default();
        s.observe(&item("agentMessage", "thinking", Some("commentary")));
        s.observe(&item("agentMessage", "answer", Some("final_answer")));
        s.observe(&item("agentMessage", "later plain", None));
        s.observe(&ev(
            "thread/tokenUsage/updated",
            r#"{"tokenUsage":{"total":{"totalTokens":8}}}"#,
            None,
        ));
        s.observe(&ev(
            "turn/completed",
            r#"{"turn":{"id":"t","status":"completed","error":null}}"#,
            Some("completed"),
        ));
        let out = s.outcome();
        assert_eq!(out.final_answer.as_deref(), Some("answer"));
        assert_eq!(out.status, "completed");
        assert_eq!(out.usage_json.as_deref(), Some(r#"{"total":{"totalTokens":8}}"#));
        let items: serde_json::Value = serde_json::from_str(&out.items_json).unwrap();
        assert_eq!(items.as_array().unwrap().len(), 3);

        let mut s = TurnSummary::default();
        s.observe(&item("agentMessage", "plain", None));
        assert_eq!(s.outcome().final_answer.as_deref(), Some("plain"));

        let mut s = TurnSummary::default();
        s.observe(&item("agentMessage", "only commentary", Some("commentary")));
        assert_eq!(s.outcome().final_answer, None);
    }

    #[test]
    fn kinds_it_does_not_want_change_nothing() {
        let kinds = [
            EventKind::Other,
            EventKind::TurnStarted,
            EventKind::ItemStarted,
            EventKind::AgentMessageDelta,
            EventKind::ReasoningDelta,
            EventKind::CommandOutputDelta,
            EventKind::ServerRequest,
            EventKind::StreamError,
            EventKind::Skipped,
            EventKind::Disconnected,
            EventKind::Reconnected,
            EventKind::ReconnectFailed,
        ];
        let params = r#"{"item":{"type":"agentMessage","text":"x"},"tokenUsage":{},"error":{"message":"m"},"turn":{"error":{"message":"e"}}}"#;
        for kind in kinds {
            assert!(!TurnSummary::wants(kind), "{kind:?}");
            let mut s = TurnSummary::default();
            s.observe(&Event::new(
                kind,
                &EventParts { method: "x", params, turn_status: Some("s"), ..Default::default() },
            ));
            let out = s.outcome();
            assert_eq!(
                (out.status.as_str(), out.items_json.as_str()),
                ("unknown", "[]"),
                "{kind:?}"
            );
            assert!(out.error_message.is_none() && out.usage_json.is_none(), "{kind:?}");
        }
    }

    #[test]
    fn failure_message_from_turn_or_error_notification() {
        let mut s = TurnSummary::default();
        s.observe(&ev(
            "error",
            r#"{"error":{"message":"stream disconnected"},"willRetry":false}"#,
            None,
        ));
        s.observe(&ev(
            "turn/completed",
            r#"{"turn":{"status":"failed","error":{"message":"boom"}}}"#,
            Some("failed"),
        ));
        let out = s.outcome();
        assert_eq!(out.status, "failed");
        assert_eq!(out.error_message.as_deref(), Some("boom"));
        assert_eq!(out.error_json.as_deref(), Some(r#"{"message":"boom"}"#));
        let mut s = TurnSummary::default();
        s.observe(&ev(
            "error",
            r#"{"error":{"message":"stream disconnected"},"willRetry":false}"#,
            None,
        ));
        assert_eq!(s.outcome().error_message.as_deref(), Some("stream disconnected"));
        assert_eq!(s.outcome().error_json.as_deref(), Some(r#"{"message":"stream disconnected"}"#));
    }
}
