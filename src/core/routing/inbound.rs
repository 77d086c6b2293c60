//! What the reader thread does with each line: parse it once, then hand a response to its
//! waiter, an event to the router, and answer server requests.

use super::event::{Event, EventKind, EventParts};
use super::requests::{self, PendingRequests};
use super::router::{Delivered, Router, Wakes};
use super::rpc::{answer_line, Rpc};
use super::wire::{self, Message, Notice, ResponseId};
use crate::core::protocol::params::interrupt_params;
use crate::core::transport::Inbound;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A batch of at least this many bytes means the reader is behind: the server wrote that much
/// while it routed the previous batch.
const SATURATED_BATCH_BYTES: usize = 256 << 10;
/// While the reader is behind, the wakes owed to idle consumers are put off until there are this
/// many events per owed wake...
const EVENTS_PER_WAKE: usize = 64;
/// ...or for this long at most (paid by the timer if the reader blocks meanwhile)...
/// ...and only when this many pollers are owed a wake: with a few hundred turns or fewer the
/// wakes are cheap enough, and latency matters more.
const MIN_DEFERRED_WAKES: usize = 256;
const MAX_WAKE_DELAY: Duration = Duration::from_millis(50);

/// How many lines the reader routes between frees of what consumers handed back, within a
/// batch (a flood's batch is thousands of lines; the channel holds 4,096 blocks).
const RECLAIM_EVERY: usize = 1024;

pub struct InboundRouter {
    pub rpc: Arc<Rpc>,
    pub pending: Arc<PendingRequests>,
    pub router: Arc<Router>,
    /// Lines that were not JSON-RPC messages (not UTF-8, not JSON, neither request, response
    /// nor notification), counted for `Client::skipped_lines`.
    pub skipped_lines: Arc<AtomicU64>,
    pub wakes: WakeBatch,
}

/// The wakes owed to consumers (blocked pollers, idle callback deliveries) by the queues the
/// reader pushed to. They are paid when the reader has read everything it had (the end of a
/// read batch), so a flood costs one wake per queue per batch, not one per event.
///
/// When the reader is behind (a batch of `SATURATED_BATCH_BYTES` or more) and the owed wakes
/// are many for the events routed (thousands of turns with an event or two each), waking every
/// consumer for one event each costs more than the events themselves: a wake is a futex call
/// on the reader and a context switch for the consumer. Then the wakes are put off until
/// `EVENTS_PER_WAKE` events per owed wake have been routed, or `MAX_WAKE_DELAY` has passed
/// (the process timer pays them if the reader blocks before that), so each consumer takes
/// more events per wake. Only blocked pollers' wakes are put off: a callback delivery's wake
/// is a place in the worker pool's queue, paid at once. A reader that keeps up (every batch smaller than that) pays every
/// wake at the end of its batch: paced streams are not delayed.
#[derive(Default)]
pub struct WakeBatch {
    /// Owed by the current batch.
    owed: Wakes,
    bytes: usize,
    /// Events routed since the last payment.
    events: usize,
    deferred: Arc<Mutex<Deferred>>,
    /// The list being paid (kept for its capacity).
    paying: Wakes,
}

#[derive(Default)]
struct Deferred {
    queues: Wakes,
    since: Option<Instant>,
    timer_armed: bool,
}

fn lock(deferred: &Mutex<Deferred>) -> std::sync::MutexGuard<'_, Deferred> {
    deferred.lock().unwrap_or_else(|p| p.into_inner())
}

impl WakeBatch {
    /// Ends a read batch: pays what is owed, or puts it off (see above).
    fn end(&mut self) {
        let bytes = std::mem::take(&mut self.bytes);
        // A callback delivery's wake only schedules it on the worker pool (no thread is woken
        // per queue): paid at once, so the workers never idle while wakes wait.
        let mut deferred = lock(&self.deferred);
        for queue in self.owed.drain(..) {
            if queue.is_subscribed() {
                queue.wake();
            } else {
                deferred.queues.push(queue);
            }
        }
        if deferred.queues.is_empty() {
            self.events = 0;
            return;
        }
        let since = *deferred.since.get_or_insert_with(Instant::now);
        let behind = bytes >= SATURATED_BATCH_BYTES && deferred.queues.len() >= MIN_DEFERRED_WAKES;
        let few_events = self.events < EVENTS_PER_WAKE * deferred.queues.len();
        if behind && few_events && since.elapsed() < MAX_WAKE_DELAY {
            if !deferred.timer_armed {
                deferred.timer_armed = true;
                let shared = self.deferred.clone();
                crate::core::timer::after(MAX_WAKE_DELAY, move || pay_deferred(shared));
            }
            return;
        }
        // Swapped with a spare list, so that neither is allocated again each batch.
        std::mem::swap(&mut deferred.queues, &mut self.paying);
        deferred.since = None;
        drop(deferred);
        self.events = 0;
        for queue in self.paying.drain(..) {
            queue.wake();
        }
    }
}

/// On the process timer: pays the wakes the reader put off (it may be blocked by now), a few
/// hundred per task so that other timers are not held up behind thousands of futex calls.
fn pay_deferred(shared: Arc<Mutex<Deferred>>) {
    const PER_TASK: usize = 256;
    let (queues, more) = {
        let mut deferred = lock(&shared);
        let at = deferred.queues.len().saturating_sub(PER_TASK);
        let queues = deferred.queues.split_off(at);
        let more = !deferred.queues.is_empty();
        if !more {
            deferred.since = None;
            deferred.timer_armed = false;
        }
        (queues, more)
    };
    for queue in queues {
        queue.wake();
    }
    if more {
        crate::core::timer::after(Duration::ZERO, move || pay_deferred(shared));
    }
}

impl InboundRouter {
    fn skip(&self, line: &[u8], why: &str) {
        self.skipped_lines.fetch_add(1, Ordering::Relaxed);
        log_skipped(line, why);
    }

    /// A message that is JSON-RPC but that nobody can use: counted with the skipped lines,
    /// logged at debug only (a response after its request timed out is no news).
    #[cold]
    fn drop_message(&self, line: &[u8], why: &str) {
        self.skipped_lines.fetch_add(1, Ordering::Relaxed);
        if log::log_enabled!(log::Level::Debug) {
            log::debug!("dropped a message from the server: {why}: \"{}\"", prefix(line));
        }
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
        self.wakes.bytes += bytes.len() + 1;
        self.wakes.events += 1;
        // Consumers hand freed events back meanwhile; in a long batch they would fill the
        // channel before its end (see `event::free_returned`).
        if self.wakes.events % RECLAIM_EVERY == 0 {
            super::event::free_returned();
        }
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
                if !self.rpc.complete(id, outcome) {
                    self.drop_message(
                        bytes,
                        "a response nobody waits for (after its timeout, a second one, or an id \
                         never sent)",
                    );
                }
                None
            }
            // Our ids are numbers below 2^64: nobody waits for this one.
            Ok(Message::Response { id: ResponseId::Foreign(_), .. }) => {
                self.drop_message(bytes, "a response whose id is not one this client sends");
                None
            }
            Ok(Message::ServerRequest { id, notice }) if id.get() == "null" => {
                // Nobody can answer it by its id: declined here (answered with a null id, as
                // JSON-RPC answers what it cannot identify), never shown to the program.
                self.drop_message(bytes, "a server request with a null id, declined");
                Some(answer_line("null", &requests::fail_closed_answer(&notice.method)))
            }
            Ok(Message::Notification(notice)) => {
                let kind = EventKind::of_notification(&notice.method);
                let completes = kind == EventKind::TurnCompleted;
                if completes {
                    if let Some(turn) = &notice.turn_id {
                        self.pending.turn_ended(turn);
                    }
                    if notice.thread_id.is_none() {
                        log::debug!("a turn/completed without threadId: looked up by its turn id");
                    }
                } else if notice.method == "serverRequest/resolved" {
                    if let Some(id) = resolved_request_id(notice.params) {
                        self.pending.resolved(&id);
                    }
                }
                let delivered = self.router.route(
                    event_of(kind, &notice, None),
                    completes,
                    &mut self.wakes.owed,
                );
                self.after_overflow(&delivered);
                None
            }
            Ok(Message::ServerRequest { id, notice }) => {
                // Sent again after a reconnect, and answered already: the same answer again.
                let answers = &self.pending.answers;
                if let Some(answer) = answers.replay(id.get(), &notice.method, notice.params) {
                    log::debug!("server request {} sent again: answered as before", id.get());
                    return Some(answer);
                }
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
                    let delivered = self.router.route(event, false, &mut self.wakes.owed);
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
                    self.router.offer_to_handler(copy, &mut self.wakes.owed);
                }
                let delivered = self.router.route(event, false, &mut self.wakes.owed);
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
        self.router.route(event, false, &mut self.wakes.owed);
    }

    fn batch_end(&mut self) {
        self.wakes.end();
        super::event::free_returned();
    }

    /// The reader builds the events (and frees what consumers hand back, see
    /// `event::free_returned`), and asks for a short scheduler slice so that it preempts
    /// CPU-bound work soon after the server writes (see `prefer_short_slices`).
    fn reader_started(&mut self) {
        super::event::register_reader();
        super::dispatch::prefer_short_slices();
    }
}

/// A skipped line: its length and why at warn; its first bytes only at debug, since a broken
/// message may hold text of the conversation.
#[cold]
fn log_skipped(line: &[u8], why: &str) {
    log::warn!("skipped a line of {} bytes from the server: {why}", line.len());
    if log::log_enabled!(log::Level::Debug) {
        log::debug!("the skipped line starts with \"{}\"", prefix(line));
    }
}

/// The first bytes of a line, escaped, for a debug log ("…" when there is more).
fn prefix(line: &[u8]) -> String {
    const PREFIX: usize = 64;
    let start = String::from_utf8_lossy(&line[..line.len().min(PREFIX)]).escape_debug().to_string();
    let more = if line.len() > PREFIX { "…" } else { "" };
    format!("{start}{more}")
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
