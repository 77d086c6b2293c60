//! What the reader thread does with each line: parse it once, then hand a response to its
//! waiter, an event to the router, and answer server requests.

use super::event::{Event, EventKind, EventParts};
use super::requests::{self, PendingRequests};
use super::router::{Delivered, Router, Wakes};
use super::rpc::{answer_line, Rpc};
use super::transport::Inbound;
use super::turn::interrupt_params;
use super::wire::{self, Message, Notice, ResponseId};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

pub struct InboundRouter {
    pub rpc: Arc<Rpc>,
    pub pending: Arc<PendingRequests>,
    pub router: Arc<Router>,
    /// Lines that were not JSON-RPC messages (not UTF-8, not JSON, neither request, response
    /// nor notification), counted for `Client::skipped_lines`.
    pub skipped_lines: Arc<AtomicU64>,
    pub wakes: Wakes,
}

impl InboundRouter {
    fn skip(&self, line: &[u8], why: &str) {
        self.skipped_lines.fetch_add(1, Ordering::Relaxed);
        log_skipped(line, why);
    }

    /// A turn that overflowed its buffer is interrupted: nobody is consuming it.
    fn after_overflow(&self, delivered: &Delivered) {
        if let Delivered::Overflowed { thread, turn } = delivered {
            log::warn!(
                "turn {turn} of thread {thread} overflowed its event buffer: interrupting it"
            );
            let line =
                self.rpc.unanswered_line("turn/interrupt", Some(&interrupt_params(thread, turn)));
            let _ = self.pending.send(line);
        }
    }
}

fn event_of(kind: EventKind, notice: &Notice<'_>, request_id: Option<&str>) -> Event {
    Event::new(
        kind,
        &EventParts {
            method: &notice.method,
            thread_id: notice.thread_id.as_deref(),
            turn_id: notice.turn_id.as_deref(),
            params: notice.params,
            delta: if kind.carries_delta() { notice.delta.as_deref() } else { None },
            turn_status: notice.turn_status.as_deref(),
            request_id,
        },
    )
}

impl Inbound for InboundRouter {
    fn line(&mut self, bytes: &[u8]) -> Option<Vec<u8>> {
        let Ok(text) = std::str::from_utf8(bytes) else {
            self.skip(bytes, "not UTF-8");
            return None;
        };
        if text.trim().is_empty() {
            return None;
        }
        match wire::parse_line(text) {
            Err(_) => {
                self.skip(bytes, "not a JSON-RPC message");
                None
            }
            Ok(Message::Response { id: ResponseId::Number(id), outcome }) => {
                // No waiter: a response that came after its request timed out.
                self.rpc.complete(id, outcome);
                None
            }
            // Our ids are numbers: nobody waits for this one.
            Ok(Message::Response { id: ResponseId::Foreign(_), .. }) => None,
            Ok(Message::Notification(notice)) => {
                let kind = EventKind::of_notification(&notice.method);
                let completes = kind == EventKind::TurnCompleted;
                if completes {
                    if let Some(turn) = &notice.turn_id {
                        self.pending.turn_ended(turn);
                    }
                } else if notice.method == "serverRequest/resolved" {
                    if let Some(id) = resolved_request_id(notice.params) {
                        self.pending.resolved(&id);
                    }
                }
                let delivered =
                    self.router.route(event_of(kind, &notice, None), completes, &mut self.wakes);
                self.after_overflow(&delivered);
                None
            }
            Ok(Message::ServerRequest { id, notice }) => {
                let mut event = event_of(EventKind::ServerRequest, &notice, Some(id.get()));
                let registered = self.pending.register(
                    id.get(),
                    &notice.method,
                    notice.params,
                    notice.thread_id.as_deref(),
                    notice.turn_id.as_deref(),
                );
                let Some(request) = registered else {
                    // The program is never asked: answer fail-closed at once.
                    let delivered = self.router.route(event, false, &mut self.wakes);
                    self.after_overflow(&delivered);
                    return Some(answer_line(
                        id.get(),
                        &requests::fail_closed_answer(&notice.method),
                    ));
                };
                event.set_request(request.clone());
                if self.router.handler_on() {
                    let mut copy = event_of(EventKind::ServerRequest, &notice, Some(id.get()));
                    copy.set_request(request.clone());
                    self.router.offer_to_handler(copy, &mut self.wakes);
                }
                let delivered = self.router.route(event, false, &mut self.wakes);
                match delivered {
                    Delivered::Detached => {
                        request.decline_unanswered("declined: its turn handle was freed")
                    }
                    Delivered::Overflowed { .. } | Delivered::Discarded => {
                        request.decline_unanswered("declined: its turn overflowed")
                    }
                    Delivered::Turn | Delivered::ClientStream => {}
                }
                self.after_overflow(&delivered);
                None
            }
        }
    }

    fn oversized(&mut self, bytes: u64, limit: usize) {
        self.skipped_lines.fetch_add(1, Ordering::Relaxed);
        log::warn!("skipped a message of {bytes} bytes from the server: longer than the limit ({limit} bytes)");
        let params = format!(
            "{{\"reason\":\"the message is longer than the limit\",\"bytes\":{bytes},\"limitBytes\":{limit}}}"
        );
        let event = Event::new(
            EventKind::Skipped,
            &EventParts { method: "codex/lineSkipped", params: &params, ..Default::default() },
        );
        self.router.route(event, false, &mut self.wakes);
    }

    fn batch_end(&mut self) {
        for queue in self.wakes.drain(..) {
            queue.wake();
        }
    }
}

/// A skipped line: its length and why at warn; its first bytes only at debug, since a broken
/// message may hold text of the conversation.
#[cold]
fn log_skipped(line: &[u8], why: &str) {
    log::warn!("skipped a line of {} bytes from the server: {why}", line.len());
    if log::log_enabled!(log::Level::Debug) {
        const PREFIX: usize = 64;
        let start =
            String::from_utf8_lossy(&line[..line.len().min(PREFIX)]).escape_debug().to_string();
        let more = if line.len() > PREFIX { "…" } else { "" };
        log::debug!("the skipped line starts with \"{start}\"{more}");
    }
}

/// The raw JSON id in `serverRequest/resolved` params.
fn resolved_request_id(params: &str) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Resolved<'a> {
        #[serde(rename = "requestId", borrow)]
        request_id: &'a serde_json::value::RawValue,
    }
    serde_json::from_str::<Resolved<'_>>(params).ok().map(|r| r.request_id.get().to_owned())
}
