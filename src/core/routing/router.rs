//! Where each notification goes: the stream of the turn it belongs to, or the client stream.
//!
//! A thread has at most one active turn (this client refuses a second). The turn's queue is
//! registered *before* `turn/start` is sent, so events that arrive before the response are
//! buffered in the queue the turn handle will read. While the turn id is still unknown, the
//! first turn id seen on that thread (and not of a recently finished turn) is adopted.
//!
//! The table holds only threads with an active turn: an entry goes when its turn completes
//! (or fails to start), so it does not grow with the number of threads ever used.

use super::event::Event;
use super::queue::{EventQueue, Pushed, StreamEnd};
use crate::core::error::{Error, ErrorKind, Result};
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

pub type TurnQueue = EventQueue<Event>;

/// Turn ids remembered after they complete, so their late events are not adopted by the next
/// turn of their thread (which could otherwise adopt one before its own id is known).
const FINISHED_TURNS_KEPT: usize = 1024;

/// Queues owed a wake at the end of the current read batch.
pub type Wakes = Vec<Arc<TurnQueue>>;

/// Where `route` put an event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Delivered {
    Turn,
    /// The turn is active but its handle was freed: the event went to the client stream.
    Detached,
    ClientStream,
    /// This event overflowed its turn's buffer: the turn failed; it should be interrupted.
    Overflowed {
        thread: String,
        turn: String,
    },
    /// The event's turn overflowed earlier: the event was discarded (and counted).
    Discarded,
}

/// An id kept inside the table's own memory when short (ids of real servers are UUIDs, 36
/// bytes): comparing it reads the entry's cache line, not a heap string elsewhere — with
/// thousands of turns, that miss was a fifth of routing.
#[derive(Clone)]
enum Id {
    Inline { len: u8, bytes: [u8; Id::INLINE] },
    Heap(Box<str>),
}

impl Id {
    const INLINE: usize = 46;

    fn new(id: &str) -> Id {
        if id.len() <= Id::INLINE {
            let mut bytes = [0u8; Id::INLINE];
            bytes[..id.len()].copy_from_slice(id.as_bytes());
            Id::Inline { len: id.len() as u8, bytes }
        } else {
            Id::Heap(id.into())
        }
    }

    fn as_str(&self) -> &str {
        match self {
            // Copied from a &str.
            Id::Inline { len, bytes } => unsafe {
                std::str::from_utf8_unchecked(&bytes[..*len as usize])
            },
            Id::Heap(id) => id,
        }
    }
}

impl PartialEq for Id {
    fn eq(&self, other: &Id) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Id {}

impl std::hash::Hash for Id {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        // As `str` hashes, so that the table can be searched with a `&str`.
        self.as_str().hash(state)
    }
}

impl std::borrow::Borrow<str> for Id {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

struct ActiveTurn {
    turn_id: Option<Id>,
    /// `None` once the program dropped its handle: the events go to the client stream.
    queue: Option<Arc<TurnQueue>>,
}

/// Thread ids hashed with a fast keyed hash of this module (the default SipHash costs more
/// than the rest of a lookup; the ids come from the app-server, and only threads with a running
/// turn are in the table).
#[derive(Clone)]
struct IdHash(u64);

impl Default for IdHash {
    fn default() -> Self {
        use std::hash::BuildHasher;
        // A random key per table, from the standard library's random source.
        IdHash(std::collections::hash_map::RandomState::new().hash_one(0x5eed_u64) | 1)
    }
}

impl std::hash::BuildHasher for IdHash {
    type Hasher = IdHasher;
    fn build_hasher(&self) -> IdHasher {
        IdHasher(self.0)
    }
}

/// Eight bytes at a time: xor, multiply by an odd constant, rotate; a final mix spreads the
/// high bits the table's tags come from.
struct IdHasher(u64);

const MIX: u64 = 0x9e37_79b9_7f4a_7c15;

impl std::hash::Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut h = self.0;
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            h = (h ^ u64::from_le_bytes(chunk.try_into().unwrap()))
                .wrapping_mul(MIX)
                .rotate_left(29);
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut last = [0u8; 8];
            last[..rest.len()].copy_from_slice(rest);
            h = (h ^ u64::from_le_bytes(last) ^ rest.len() as u64)
                .wrapping_mul(MIX)
                .rotate_left(29);
        }
        self.0 = h;
    }

    fn finish(&self) -> u64 {
        let h = (self.0 ^ (self.0 >> 31)).wrapping_mul(MIX);
        h ^ (h >> 29)
    }
}

#[derive(Default)]
struct RouteTable {
    /// Threads with an active turn.
    threads: HashMap<Id, ActiveTurn, IdHash>,
    /// Recently completed turn ids, oldest first.
    finished: VecDeque<String>,
    failed: Option<Error>,
}

pub struct Router {
    table: Mutex<RouteTable>,
    /// Unconsumed events after which a turn overflows (0: never).
    turn_buffer_events: usize,
    client_stream: Arc<TurnQueue>,
    /// Copies of server-request events for the program's request handler, when one is set.
    request_handler: Arc<TurnQueue>,
    handler_on: AtomicBool,
}

impl Router {
    pub fn new(client_stream_capacity: usize, turn_buffer_events: usize) -> Router {
        Router {
            table: Mutex::new(RouteTable::default()),
            turn_buffer_events,
            client_stream: Arc::new(EventQueue::bounded(client_stream_capacity)),
            request_handler: Arc::new(EventQueue::unbounded()),
            handler_on: AtomicBool::new(false),
        }
    }

    fn table(&self) -> MutexGuard<'_, RouteTable> {
        self.table.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn client_stream(&self) -> &Arc<TurnQueue> {
        &self.client_stream
    }

    pub fn request_handler(&self) -> &Arc<TurnQueue> {
        &self.request_handler
    }

    pub fn set_handler_on(&self, on: bool) {
        self.handler_on.store(on, Ordering::SeqCst);
    }

    /// Whether server requests should also go to the request handler.
    pub fn handler_on(&self) -> bool {
        self.handler_on.load(Ordering::SeqCst)
    }

    /// Queues a copy of a server-request event for the request handler.
    pub fn offer_to_handler(&self, event: Event, wakes: &mut Wakes) {
        Self::push_to(&self.request_handler, event, wakes);
    }

    /// Pushes to a stream that never overflows (the client stream, the handler's queue).
    fn push_to(queue: &Arc<TurnQueue>, event: Event, wakes: &mut Wakes) {
        if let Pushed::Queued { wake_owed: true } = queue.push(event) {
            wakes.push(queue.clone());
        }
    }

    /// Threads with an active turn on this client.
    pub fn active_turns(&self) -> usize {
        self.table().threads.len()
    }

    /// Delivers one event. `completes_turn` is true for `turn/completed`, which ends the stream.
    pub fn route(&self, event: Event, completes_turn: bool, wakes: &mut Wakes) -> Delivered {
        let (event, delivered) = match self.push_to_turn(event, completes_turn, wakes) {
            Ok(delivered) => return delivered,
            Err(unrouted) => unrouted,
        };
        Self::push_to(&self.client_stream, event, wakes);
        delivered
    }

    /// Pushes `event` to its turn's queue; hands it back with where it goes instead when it
    /// has no turn held by a handle. The common case (an event of a running turn) pushes under
    /// the table's lock: one lookup, no reference counting.
    #[allow(clippy::result_large_err)] // moved once per event, never boxed
    fn push_to_turn(
        &self,
        event: Event,
        completes: bool,
        wakes: &mut Wakes,
    ) -> std::result::Result<Delivered, (Event, Delivered)> {
        let (Some(thread), Some(turn)) = (event.thread_id(), event.turn_id()) else {
            return Err((event, Delivered::ClientStream));
        };
        let mut guard = self.table();
        let table = &mut *guard;
        let Some(active) = table.threads.get_mut(thread) else {
            return Err((event, Delivered::ClientStream));
        };
        match &active.turn_id {
            Some(id) if id.as_str() == turn => {}
            Some(_) => return Err((event, Delivered::ClientStream)),
            None if table.finished.iter().any(|t| t == turn) => {
                return Err((event, Delivered::ClientStream))
            }
            None => active.turn_id = Some(Id::new(turn)),
        }
        let pushed = if completes {
            // The turn is over for the table: its entry goes, its id is remembered.
            let queue = table.threads.remove(thread).and_then(|active| active.queue);
            if table.finished.len() == FINISHED_TURNS_KEPT {
                table.finished.pop_front();
            }
            table.finished.push_back(turn.to_owned());
            let Some(queue) = queue else { return Err((event, Delivered::Detached)) };
            let pushed = queue.push(event);
            (pushed, queue)
        } else {
            let Some(queue) = &active.queue else { return Err((event, Delivered::Detached)) };
            match queue.push(event) {
                Pushed::Queued { wake_owed } => {
                    if wake_owed {
                        wakes.push(queue.clone());
                    }
                    return Ok(Delivered::Turn);
                }
                other => (other, queue.clone()),
            }
        };
        drop(guard);
        match pushed {
            (Pushed::Queued { .. }, queue) => {
                // `completes`: the end is told at once (owed wakes included).
                queue.finish(StreamEnd::Completed);
                Ok(Delivered::Turn)
            }
            (Pushed::Overflowed { buffered, event }, queue) => {
                let thread = event.thread_id().unwrap_or_default().to_owned();
                let turn = event.turn_id().unwrap_or_default().to_owned();
                let message = format!(
                    "turn {turn} buffered {buffered} events that nobody consumed \
                     (codex_options_set_turn_buffer_events); it was interrupted and its \
                     later events are discarded"
                );
                queue.finish(StreamEnd::Failed(Error::new(ErrorKind::Overflow, message)));
                Ok(Delivered::Overflowed { thread, turn })
            }
            (Pushed::Discarded, _) => Ok(Delivered::Discarded),
            // Ended by its handle being freed, an idle timeout, or a failure.
            (Pushed::Refused(event), _) => Err((event, Delivered::Detached)),
        }
    }

    /// Claims `thread` for a turn about to be started; refused while another is active.
    pub fn begin_turn(&self, thread: &str) -> Result<Arc<TurnQueue>> {
        let mut table = self.table();
        if let Some(err) = &table.failed {
            return Err(err.clone());
        }
        if let Some(active) = table.threads.get(thread) {
            let which = match &active.turn_id {
                Some(id) => format!("turn {} is still running", id.as_str()),
                None => "a turn is still starting".to_owned(),
            };
            return Err(Error::new(
                ErrorKind::TurnActive,
                format!(
                    "thread {thread} already has an active turn: {which}. Add input to it with \
                     codex_turn_steer (turn/steer), or stop it with codex_turn_interrupt \
                     (turn/interrupt) and start the next turn once it has completed"
                ),
            ));
        }
        let queue = Arc::new(EventQueue::limited(self.turn_buffer_events));
        table
            .threads
            .insert(Id::new(thread), ActiveTurn { turn_id: None, queue: Some(queue.clone()) });
        Ok(queue)
    }

    /// The `turn/start` response named the turn.
    pub fn confirm_turn(&self, thread: &str, queue: &Arc<TurnQueue>, turn_id: &str) {
        let mut table = self.table();
        if let Some(active) = Self::active_with(&mut table, thread, queue) {
            active.turn_id = Some(Id::new(turn_id));
        }
    }

    /// `turn/start` failed: release the thread; anything buffered goes to the client stream.
    pub fn abandon_turn(&self, thread: &str, queue: &Arc<TurnQueue>) {
        {
            let mut table = self.table();
            if Self::active_with(&mut table, thread, queue).is_some() {
                table.threads.remove(thread);
            }
        }
        for event in queue.drain() {
            let _ = self.client_stream.push(event);
        }
        self.client_stream.wake();
    }

    /// The program dropped its handle: the turn's later events go to the client stream.
    pub fn detach(&self, thread: &str, queue: &Arc<TurnQueue>) {
        let mut table = self.table();
        if let Some(active) = Self::active_with(&mut table, thread, queue) {
            active.queue = None;
        }
    }

    fn active_with<'t>(
        table: &'t mut RouteTable,
        thread: &str,
        queue: &Arc<TurnQueue>,
    ) -> Option<&'t mut ActiveTurn> {
        let active = table.threads.get_mut(thread)?;
        match &active.queue {
            Some(q) if Arc::ptr_eq(q, queue) => Some(active),
            _ => None,
        }
    }

    /// Ends every open turn and the client stream with `error`; later turns fail at once.
    pub fn fail_all(&self, error: &Error) {
        let queues: Vec<Arc<TurnQueue>> = {
            let mut table = self.table();
            table.failed.get_or_insert_with(|| error.clone());
            table.threads.drain().filter_map(|(_, active)| active.queue).collect()
        };
        // The client stream first: a program that sees a turn fail finds it failed too.
        self.client_stream.finish(StreamEnd::Failed(error.clone()));
        self.request_handler.finish(StreamEnd::Failed(error.clone()));
        for queue in queues {
            queue.finish(StreamEnd::Failed(error.clone()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::routing::event::{EventKind, EventParts};
    use crate::core::routing::queue::{Taken, Wait};

    fn ev(method: &str, thread: Option<&str>, turn: Option<&str>) -> Event {
        Event::new(
            EventKind::of_notification(method),
            &EventParts {
                method,
                thread_id: thread,
                turn_id: turn,
                params: "{}",
                ..Default::default()
            },
        )
    }

    fn drain(q: &TurnQueue) -> (Vec<String>, bool) {
        let mut out = std::collections::VecDeque::new();
        let mut ended = false;
        loop {
            match q.take_all(&mut out, Wait::from_millis(0)) {
                Taken::Got(()) => {}
                Taken::Ended(StreamEnd::Completed) => {
                    ended = true;
                    break;
                }
                _ => break,
            }
        }
        (out.iter().map(|e| e.method().to_owned()).collect(), ended)
    }

    #[test]
    fn events_before_the_response_reach_the_turn_in_order() {
        let router = Router::new(16, 0);
        let mut wakes = Wakes::new();
        let q = router.begin_turn("thr").unwrap();
        router.route(ev("turn/started", Some("thr"), Some("t1")), false, &mut wakes);
        router.route(ev("item/agentMessage/delta", Some("thr"), Some("t1")), false, &mut wakes);
        router.route(ev("turn/completed", Some("thr"), Some("t1")), true, &mut wakes);
        router.confirm_turn("thr", &q, "t1");
        let (methods, ended) = drain(&q);
        assert_eq!(methods, ["turn/started", "item/agentMessage/delta", "turn/completed"]);
        assert!(ended);
        // The thread is free again; a late event of t1 is not adopted by the next turn.
        let q2 = router.begin_turn("thr").unwrap();
        router.route(
            ev("item/commandExecution/outputDelta", Some("thr"), Some("t1")),
            false,
            &mut wakes,
        );
        router.route(ev("turn/started", Some("thr"), Some("t2")), false, &mut wakes);
        assert_eq!(drain(&q2).0, ["turn/started"]);
        let late = router.client_stream().take_one(Wait::from_millis(0));
        assert!(matches!(late, Taken::Got(e) if e.turn_id() == Some("t1")));
    }

    #[test]
    fn second_turn_on_a_busy_thread_is_refused_other_threads_are_not() {
        let router = Router::new(16, 0);
        let q = router.begin_turn("a").unwrap();
        let err = router.begin_turn("a").unwrap_err();
        assert_eq!(err.kind, ErrorKind::TurnActive);
        assert!(err.message.contains("still starting"), "{}", err.message);
        router.confirm_turn("a", &q, "t1");
        let err = router.begin_turn("a").unwrap_err();
        assert!(err.message.contains("turn t1") && err.message.contains("codex_turn_steer"));
        assert!(router.begin_turn("b").is_ok());
        router.abandon_turn("a", &q);
        assert!(router.begin_turn("a").is_ok());
    }

    #[test]
    fn turnless_foreign_and_detached_events_go_to_the_client_stream() {
        let router = Router::new(16, 0);
        let mut wakes = Wakes::new();
        let q = router.begin_turn("thr").unwrap();
        router.confirm_turn("thr", &q, "t1");
        router.route(ev("thread/status/changed", Some("thr"), None), false, &mut wakes);
        router.route(ev("item/started", Some("other"), Some("x")), false, &mut wakes);
        router.route(ev("item/started", Some("thr"), Some("zzz")), false, &mut wakes);
        router.detach("thr", &q);
        router.route(ev("item/completed", Some("thr"), Some("t1")), false, &mut wakes);
        assert_eq!(drain(&q).0, Vec::<String>::new());
        let mut n = 0;
        while let Taken::Got(_) = router.client_stream().take_one(Wait::from_millis(0)) {
            n += 1;
        }
        assert_eq!(n, 4);
        // Still active until it completes, even detached.
        assert!(router.begin_turn("thr").is_err());
        router.route(ev("turn/completed", Some("thr"), Some("t1")), true, &mut wakes);
        assert!(router.begin_turn("thr").is_ok());
    }

    #[test]
    fn failure_ends_every_turn_and_refuses_new_ones() {
        let router = Router::new(16, 0);
        let q = router.begin_turn("thr").unwrap();
        router.fail_all(&Error::new(ErrorKind::Transport, "exited (exit status 3)"));
        let mut out = std::collections::VecDeque::new();
        assert!(
            matches!(q.take_all(&mut out, Wait::Forever), Taken::Ended(StreamEnd::Failed(e)) if e.kind == ErrorKind::Transport)
        );
        assert_eq!(router.begin_turn("x").unwrap_err().kind, ErrorKind::Transport);
    }
}
