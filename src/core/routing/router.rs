//! Where each notification goes: the stream of the turn it belongs to, or the client stream.
//!
//! # Which events are a handle's (the adoption rule)
//! A thread has at most one turn handle on this client: `begin_turn` refuses a second one, and
//! registers the handle's queue *before* `turn/start` is sent. An event of the thread (one that
//! carries both `threadId` and a turn id) goes to the handle when the handle owns its turn id:
//! - **Events before the answer.** Until the handle has seen one of its events, it adopts the
//!   turn id of the first event of its thread that is neither a `turn/completed` nor of a turn
//!   the thread has ended. From then on it takes that id's events, buffered until the program
//!   has the handle.
//! - **The answer** to `turn/start` is applied by the reader thread, in its place among the
//!   lines (`answered`, run by the response's waiter hook), so the events before it and after
//!   it are routed by what was known at their time. Its id becomes the handle's too.
//! - **An answer that never comes or fails** (an error, a `turn.id` that is no string, a
//!   timeout, a dropped connection): the start is abandoned, the thread is free again, the ids
//!   the handle had adopted are remembered as ended, and what it buffered goes to the client
//!   stream.
//! - **Drift** (openai/codex#36866: a start steered into a turn already running is answered
//!   with an id no event carries): the handle owns both ids, the adopted one and the answered
//!   one, and ends on the `turn/completed` of either. While it has seen none of its events, an
//!   id first seen after the answer is adopted by the same rule. The handle reports the id its
//!   events carry once it has seen one (steer and interrupt need that one), before that the
//!   answer's (`TurnIds`).
//! - **Given-up starts.** A start given up that way may leave its turn running on the server
//!   (a timeout, a dropped answer). The server then steers the thread's next `turn/start` into
//!   that turn and answers with an id no event carries (drift again). So the ids a given-up
//!   start had adopted stay *unfinished* until their `turn/completed` is seen: once the next
//!   handle has its answer and none of its own events yet, an event of an unfinished id is
//!   its (adopted as above, its completion ends the handle). Before the answer such events are
//!   a late tail for all the library can tell, and go to the client stream. A real server
//!   finishes a turn (its `turn/completed` sent) before it starts the next, so a start
//!   answered with a new turn never meets an unfinished id after its answer.
//! - **Attached handles** (`attach`: a turn this client did not start — another client's, a
//!   goal continuation, one found running by `thread/resume`) have no answer coming. Given a
//!   turn id, they own that id from the start. Without one they adopt the first event of their
//!   thread by the rule of events before the answer, except that a `turn/completed` may be
//!   that event (the turn running now ends): the handle then gets just that completion. An
//!   attach without an id while the thread has a handle waits behind it: it becomes the
//!   thread's handle when that one's turn completes, under the same lock, so the turn after it
//!   (a goal continuation) loses no event. The
//!   turn a given-up start left running is the one running now: an attached handle takes its
//!   events although the thread remembers its id as ended.
//! - **Late tails.** Each thread remembers the last `ENDED_PER_THREAD` turn ids it ended
//!   (completed, or abandoned at the start): their events go to the client stream, never to a
//!   handle, also when the thread's next turn is starting (the one exception: an unfinished
//!   id after the next answer, above).
//! - **Ghosts.** A `turn/completed` of an id the handle does not own goes to the client stream
//!   and ends nothing; it is never adopted (a turn's completion is never its first event).
//! - **Duplicates.** A second `turn/completed` of a turn finds its id ended: client stream. (A
//!   repeated server request is `requests`' business.)
//!
//! Limits: an id the thread ended `ENDED_PER_THREAD` turns ago, or before its memory was let go
//! (below), is no longer known; a late event of it would be adopted by a handle that has seen
//! none of its own events yet.
//!
//! # Memory
//! The table holds the threads with a handle, and threads whose turn ended, for their ended ids
//! (at most `ENDED_PER_THREAD` each). Threads without a handle are let go oldest first once
//! they have been idle for `IDLE_KEPT_FOR`, or at once when more than `IDLE_THREADS_KEPT` are
//! idle: the table never holds more than the live handles plus `IDLE_THREADS_KEPT` threads.

use super::event::Event;
use super::queue::{EventQueue, Pushed, StreamEnd};
use super::rpc::OnAnswer;
use super::wire::ResponseOutcome;
use crate::core::error::{Error, ErrorKind, Result};
use crate::core::protocol::params::turn_id_of;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

pub type TurnQueue = EventQueue<Event>;

/// Turn ids each thread remembers after they end (see "Late tails" above). A late tail comes
/// within a second or so (0.7 s seen from the real server); a thread ends one turn per round
/// trip at most.
const ENDED_PER_THREAD: usize = 8;
/// Threads without a handle kept for their ended ids, at most...
const IDLE_THREADS_KEPT: usize = 4096;
/// ...and for this long at most since their last turn ended.
const IDLE_KEPT_FOR: Duration = Duration::from_secs(30);

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

/// The ids a turn handle goes by, learnt by the router on the reader thread and read by the
/// handle: the `turn/start` answer's, and the one its events carry. Each is set once.
#[derive(Default, Debug)]
pub struct TurnIds {
    answered: OnceLock<Box<str>>,
    carried: OnceLock<Box<str>>,
}

impl TurnIds {
    /// The id the turn's events carry once one has arrived, else the answer's ("" before both).
    pub fn current(&self) -> &str {
        self.carried.get().or(self.answered.get()).map_or("", |id| id)
    }

    pub fn answered(&self) -> Option<&str> {
        self.answered.get().map(|id| &**id)
    }

    pub fn carried(&self) -> Option<&str> {
        self.carried.get().map(|id| &**id)
    }

    /// Both ids when they differ (drift), else the one.
    pub fn all(&self) -> impl Iterator<Item = &str> {
        let carried = self.carried();
        let answered = self.answered().filter(|a| Some(*a) != carried);
        carried.into_iter().chain(answered)
    }
}

/// The turn handle of a thread, as the router sees it.
struct Handle {
    queue: Arc<TurnQueue>,
    /// Attached to a turn this client did not start (`attach`): no answer will come, and a
    /// completion may be the first event it sees.
    attached: bool,
    /// The program freed the handle: the events go to the client stream.
    detached: bool,
    /// The id its events carry, once one of them arrived.
    carried: Option<Id>,
    /// The id of the `turn/start` answer, once the reader has seen it.
    answered: Option<Id>,
    ids: Arc<TurnIds>,
}

impl Handle {
    /// Whether an event of `turn` that is not of the carried id is this handle's (the adoption
    /// rule, opening comment); it adopts the id if so.
    #[cold]
    fn claim(&mut self, turn: &str, completes: bool, ended: &mut Ended) -> bool {
        let answered = self.answered.as_ref().is_some_and(|a| a.as_str() == turn);
        if self.carried.is_some() {
            return answered;
        }
        // Answered (or attached), none of its own events yet, and the turn a given-up start
        // left running goes on: the server steered this start into it ("Given-up starts"), or
        // it is the turn running now that an attached handle is for.
        let joined = (self.answered.is_some() || self.attached) && ended.unfinished_contains(turn);
        let ghost = completes && !self.attached;
        if !answered && !joined && (ghost || ended.contains(turn)) {
            return false;
        }
        if joined {
            ended.finish(turn);
        }
        self.carried = Some(Id::new(turn));
        let _ = self.ids.carried.set(turn.into());
        true
    }

    fn owns(&self, turn: &str) -> bool {
        [&self.carried, &self.answered].into_iter().flatten().any(|id| id.as_str() == turn)
    }
}

/// The last `ENDED_PER_THREAD` turn ids a thread ended (a ring; allocated on the first end),
/// and, rarely needed, which of them were given up at the start without their
/// `turn/completed` seen since, and turns completed while the thread had no handle.
#[derive(Default)]
struct Ended {
    ids: Vec<Id>,
    next: usize,
    /// Boxed and made on first use: the table entries the reader looks up stay small.
    rare: Option<Box<RareMemory>>,
}

#[derive(Default)]
struct RareMemory {
    /// Given up at the start, maybe still running on the server (at most `ENDED_PER_THREAD`).
    unfinished: Vec<Id>,
    /// Turns that completed while the thread had no handle (the last `ENDED_PER_THREAD`): only
    /// for refusing an attach to them. Not for adoption: a ghost looks the same.
    completed_unheld: VecDeque<Id>,
}

impl Ended {
    fn contains(&self, turn: &str) -> bool {
        self.ids.iter().any(|id| id.as_str() == turn)
    }

    fn rare(&mut self) -> &mut RareMemory {
        self.rare.get_or_insert_with(Default::default)
    }

    fn unfinished_contains(&self, turn: &str) -> bool {
        self.rare.as_ref().is_some_and(|r| r.unfinished.iter().any(|id| id.as_str() == turn))
    }

    /// `turn` completed, or a handle took it over: no longer a given-up turn still running.
    fn finish(&mut self, turn: &str) {
        if let Some(rare) = self.rare.as_mut() {
            rare.unfinished.retain(|id| id.as_str() != turn);
        }
    }

    fn completed_unheld(&mut self, turn: &str) {
        let completed = &mut self.rare().completed_unheld;
        if completed.len() == ENDED_PER_THREAD {
            completed.pop_front();
        }
        completed.push_back(Id::new(turn));
    }

    /// Whether `turn` is known to have completed.
    fn completed(&self, turn: &str) -> bool {
        let unheld = self
            .rare
            .as_ref()
            .is_some_and(|r| r.completed_unheld.iter().any(|id| id.as_str() == turn));
        (self.contains(turn) && !self.unfinished_contains(turn)) || unheld
    }

    fn remember_unfinished(&mut self, id: Id) {
        if self.unfinished_contains(id.as_str()) {
            return;
        }
        let unfinished = &mut self.rare().unfinished;
        if unfinished.len() == ENDED_PER_THREAD {
            unfinished.remove(0);
        }
        unfinished.push(id);
    }

    fn remember(&mut self, id: Id) {
        if self.contains(id.as_str()) {
            return;
        }
        if self.ids.len() < ENDED_PER_THREAD {
            self.ids.push(id);
        } else {
            self.ids[self.next] = id;
            self.next = (self.next + 1) % ENDED_PER_THREAD;
        }
    }
}

/// What the table knows of one thread.
#[derive(Default)]
struct ThreadRoute {
    handle: Option<Handle>,
    /// An attached handle waiting for the turn after `handle`'s ("Attached handles"); boxed,
    /// so that the entries the reader looks up stay small.
    queued: Option<Box<Handle>>,
    ended: Ended,
    /// When it last lost its handle (its record in `RouteTable::idle`).
    idle_since: Option<Instant>,
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
    /// Threads with a handle, and idle ones kept for their ended ids.
    threads: HashMap<Id, ThreadRoute, IdHash>,
    /// Threads as they lost their handle, oldest first (a thread may have stale records).
    idle: VecDeque<(Id, Instant)>,
    /// Threads with a handle.
    live: usize,
    failed: Option<Error>,
}

impl RouteTable {
    /// `thread`'s handle is gone: its ids are remembered as ended (`given_up`: at the start,
    /// so its turn may still run on the server); idle threads beyond the bounds are let go.
    fn end_handle(&mut self, thread: &str, given_up: bool) -> Option<Handle> {
        let route = self.threads.get_mut(thread)?;
        let handle = route.handle.take()?;
        for id in [&handle.carried, &handle.answered].into_iter().flatten() {
            route.ended.remember(id.clone());
        }
        if let (true, Some(id)) = (given_up, &handle.carried) {
            route.ended.remember_unfinished(id.clone());
        }
        if let Some(next) = route.queued.take() {
            // Under the same lock as the end: no event of the next turn can pass between.
            route.handle = Some(*next);
            return Some(handle);
        }
        let now = Instant::now();
        route.idle_since = Some(now);
        self.live -= 1;
        self.idle.push_back((Id::new(thread), now));
        self.let_idle_go(now);
        Some(handle)
    }

    /// A turn of a thread the table does not hold completed: the thread is kept (idle) to
    /// remember it, so that an attach to that turn is refused instead of waiting forever.
    #[cold]
    fn remember_completion(&mut self, thread: &str, turn: &str) {
        let now = Instant::now();
        let route = self.threads.entry(Id::new(thread)).or_default();
        route.ended.completed_unheld(turn);
        route.idle_since = Some(now);
        self.idle.push_back((Id::new(thread), now));
        self.let_idle_go(now);
    }

    /// Drops the idle threads past `IDLE_KEPT_FOR`, and the oldest beyond `IDLE_THREADS_KEPT`.
    fn let_idle_go(&mut self, now: Instant) {
        while let Some((thread, since)) = self.idle.front() {
            let expired = now.saturating_duration_since(*since) >= IDLE_KEPT_FOR;
            if !expired && self.idle.len() <= IDLE_THREADS_KEPT {
                break;
            }
            // A record is stale when the thread has had a handle since.
            if let Some(route) = self.threads.get(thread.as_str()) {
                if route.handle.is_none() && route.idle_since == Some(*since) {
                    self.threads.remove(thread.as_str());
                }
            }
            self.idle.pop_front();
        }
    }

    /// The handle of `thread` whose queue is `queue`.
    fn handle_with(&mut self, thread: &str, queue: &Arc<TurnQueue>) -> Option<&mut Handle> {
        let handle = self.threads.get_mut(thread)?.handle.as_mut()?;
        Arc::ptr_eq(&handle.queue, queue).then_some(handle)
    }
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

    /// Pushes to a stream that never overflows (the client stream, the handler's queue). A
    /// server request the full client stream drops is declined at once: nobody can answer it.
    fn push_to(queue: &Arc<TurnQueue>, event: Event, wakes: &mut Wakes) {
        let (pushed, evicted) = queue.push_evicting(event);
        if let Pushed::Queued { wake_owed: true } = pushed {
            wakes.push(queue.clone());
        }
        if let Some(request) = evicted.as_ref().and_then(Event::request) {
            request.decline_unanswered("declined: dropped from the full client stream");
        }
    }

    /// Threads with a turn handle on this client (running or starting).
    pub fn active_turns(&self) -> usize {
        self.table().live
    }

    /// The threads with a turn handle, and the ids each handle goes by (a reconnect resumes
    /// those threads).
    pub fn handles(&self) -> Vec<(String, Arc<TurnIds>)> {
        let table = self.table();
        let with_handle = table.threads.iter().filter_map(|(thread, route)| {
            route.handle.as_ref().map(|h| (thread.as_str().to_owned(), h.ids.clone()))
        });
        with_handle.collect()
    }

    /// Threads the table holds: those with a handle and idle ones kept for their ended ids.
    #[cfg(any(test, feature = "fuzzing"))]
    pub(crate) fn threads_held(&self) -> usize {
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
    /// the table's lock: one lookup, one comparison, no reference counting.
    #[allow(clippy::result_large_err)] // moved once per event, never boxed
    fn push_to_turn(
        &self,
        event: Event,
        completes: bool,
        wakes: &mut Wakes,
    ) -> std::result::Result<Delivered, (Event, Delivered)> {
        let Some(turn) = event.turn_id() else {
            return Err((event, Delivered::ClientStream));
        };
        let mut guard = self.table();
        let table = &mut *guard;
        let thread = match event.thread_id() {
            Some(thread) => thread,
            // Only a completion is looked for by its turn id alone (a walk over the threads: a
            // conforming server always names the thread).
            None if completes => match Self::thread_owning(table, turn) {
                Some(thread) => return self.complete_threadless(guard, thread, event),
                None => return Err((event, Delivered::ClientStream)),
            },
            None => return Err((event, Delivered::ClientStream)),
        };
        let Some(ThreadRoute { handle, ended, .. }) = table.threads.get_mut(thread) else {
            if completes {
                table.remember_completion(thread, turn);
            }
            return Err((event, Delivered::ClientStream));
        };
        let Some(handle) = handle else {
            if completes {
                ended.finish(turn);
                ended.completed_unheld(turn);
            }
            return Err((event, Delivered::ClientStream));
        };
        let owned = handle.carried.as_ref().is_some_and(|id| id.as_str() == turn)
            || handle.claim(turn, completes, ended);
        if !owned {
            if completes {
                ended.finish(turn);
            }
            return Err((event, Delivered::ClientStream));
        }
        let pushed = if completes {
            // The turn is over for the table: its handle goes, its ids are remembered.
            let handle = table.end_handle(thread, false).expect("the handle just found");
            if handle.detached {
                return Err((event, Delivered::Detached));
            }
            let pushed = handle.queue.push(event);
            (pushed, handle.queue)
        } else {
            if handle.detached {
                return Err((event, Delivered::Detached));
            }
            match handle.queue.push(event) {
                Pushed::Queued { wake_owed } => {
                    if wake_owed {
                        wakes.push(handle.queue.clone());
                    }
                    return Ok(Delivered::Turn);
                }
                other => (other, handle.queue.clone()),
            }
        };
        drop(guard);
        Self::after_push(pushed, completes)
    }

    /// The thread whose handle owns `turn`.
    #[cold]
    fn thread_owning(table: &RouteTable, turn: &str) -> Option<String> {
        table.threads.iter().find_map(|(thread, route)| {
            route.handle.as_ref().filter(|h| h.owns(turn)).map(|_| thread.as_str().to_owned())
        })
    }

    /// A `turn/completed` without `threadId` of a turn a handle owns: it ends that handle.
    #[cold]
    #[allow(clippy::result_large_err)]
    fn complete_threadless(
        &self,
        mut guard: MutexGuard<'_, RouteTable>,
        thread: String,
        event: Event,
    ) -> std::result::Result<Delivered, (Event, Delivered)> {
        let handle = guard.end_handle(&thread, false).expect("found under the same lock");
        drop(guard);
        if handle.detached {
            return Err((event, Delivered::Detached));
        }
        let pushed = handle.queue.push(event);
        Self::after_push((pushed, handle.queue), true)
    }

    /// What became of a push that was not simply queued, or of a completion.
    #[allow(clippy::result_large_err)]
    fn after_push(
        pushed: (Pushed<Event>, Arc<TurnQueue>),
        completes: bool,
    ) -> std::result::Result<Delivered, (Event, Delivered)> {
        match pushed {
            (Pushed::Queued { .. }, queue) => {
                // `completes`: the end is told at once (owed wakes included).
                debug_assert!(completes);
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

    /// Claims `thread` for a turn about to be started; refused while another is active. The
    /// ids are filled in as the router learns them (`answered`, the adoption rule).
    pub fn begin_turn(&self, thread: &str) -> Result<(Arc<TurnQueue>, Arc<TurnIds>)> {
        self.claim_thread(thread, None, false)
    }

    /// Claims `thread` for a turn this client did not start: `turn`, or (`None`) the one whose
    /// event comes first — the turn running there now, or the next one that starts. Its
    /// completion may be the first event it sees ("Attached handles", opening comment). Without
    /// a `turn`, while the thread has a handle, it waits behind that one (one may wait). Refused
    /// with a `turn` while the thread has a handle, and for a `turn` known to have ended.
    pub fn attach(
        &self,
        thread: &str,
        turn: Option<&str>,
    ) -> Result<(Arc<TurnQueue>, Arc<TurnIds>)> {
        self.claim_thread(thread, turn, true)
    }

    fn claim_thread(
        &self,
        thread: &str,
        turn: Option<&str>,
        attached: bool,
    ) -> Result<(Arc<TurnQueue>, Arc<TurnIds>)> {
        let mut guard = self.table();
        let table = &mut *guard;
        if let Some(err) = &table.failed {
            return Err(err.clone());
        }
        let queue_behind = turn.is_none() && attached;
        if let Some(route) = table.threads.get_mut(thread).filter(|r| r.handle.is_some()) {
            if queue_behind && route.queued.is_none() {
                let queue = Arc::new(EventQueue::limited(self.turn_buffer_events));
                let ids = Arc::new(TurnIds::default());
                route.queued = Some(Box::new(Handle {
                    queue: queue.clone(),
                    attached: true,
                    detached: false,
                    carried: None,
                    answered: None,
                    ids: ids.clone(),
                }));
                return Ok((queue, ids));
            }
            let handle = route.handle.as_ref().expect("filtered");
            let which = match handle.ids.current() {
                _ if route.queued.is_some() => {
                    "a handle is attached for it and another for its next turn".to_owned()
                }
                "" if handle.attached => "a handle waits for its next turn".to_owned(),
                "" => "a turn is still starting".to_owned(),
                id => format!("turn {id} is still running"),
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
        if let Some(turn) = turn {
            let ended = table.threads.get(thread).map(|r| &r.ended);
            if ended.is_some_and(|e| e.completed(turn)) {
                return Err(Error::new(
                    ErrorKind::NotFound,
                    format!(
                        "turn {turn} of thread {thread} has completed already (its \
                         turn/completed went to the client stream)"
                    ),
                ));
            }
        }
        let queue = Arc::new(EventQueue::limited(self.turn_buffer_events));
        let ids = Arc::new(TurnIds::default());
        if let Some(turn) = turn {
            let _ = ids.carried.set(turn.into());
        }
        let route = table.threads.entry(Id::new(thread)).or_default();
        if let Some(turn) = turn {
            route.ended.finish(turn);
        }
        route.idle_since = None;
        route.handle = Some(Handle {
            queue: queue.clone(),
            attached,
            detached: false,
            carried: turn.map(Id::new),
            answered: None,
            ids: ids.clone(),
        });
        table.live += 1;
        table.let_idle_go(Instant::now());
        Ok((queue, ids))
    }

    /// The `turn/start` answer named the turn (run by the reader, in the answer's place among
    /// the lines).
    pub fn answered(&self, thread: &str, queue: &Arc<TurnQueue>, turn_id: &str) {
        let mut table = self.table();
        if let Some(handle) = table.handle_with(thread, queue) {
            handle.answered = Some(Id::new(turn_id));
            let _ = handle.ids.answered.set(turn_id.into());
        }
    }

    /// What the reader does with the `turn/start` answer of the handle on `thread` whose queue
    /// is `queue`: a string `turn.id` is `answered`; anything else abandons the start.
    pub fn start_answer_hook(self: &Arc<Self>, thread: &str, queue: &Arc<TurnQueue>) -> OnAnswer {
        let (router, thread, queue) = (self.clone(), thread.to_owned(), queue.clone());
        Box::new(move |outcome: &ResponseOutcome<'_>| match outcome {
            ResponseOutcome::Result(raw) => match turn_id_of(raw) {
                Ok(id) => router.answered(&thread, &queue, &id),
                Err(_) => router.abandon_turn(&thread, &queue),
            },
            _ => router.abandon_turn(&thread, &queue),
        })
    }

    /// `turn/start` failed (an error or unusable answer, no answer, no connection): the thread
    /// is free again, the ids the handle adopted are remembered as ended, and anything it
    /// buffered goes to the client stream. Idempotent.
    pub fn abandon_turn(&self, thread: &str, queue: &Arc<TurnQueue>) {
        {
            let mut table = self.table();
            if table.handle_with(thread, queue).is_some() {
                table.end_handle(thread, true);
            }
        }
        let mut wakes = Wakes::new();
        for event in queue.drain() {
            Self::push_to(&self.client_stream, event, &mut wakes);
        }
        self.client_stream.wake();
    }

    /// The program dropped its handle: the turn's later events go to the client stream.
    pub fn detach(&self, thread: &str, queue: &Arc<TurnQueue>) {
        let mut table = self.table();
        if let Some(handle) = table.handle_with(thread, queue) {
            if handle.attached && handle.carried.is_none() {
                // Freed before any turn named it: it holds nothing, the thread is free (or
                // goes to the handle queued behind it).
                table.end_handle(thread, false);
            } else {
                handle.detached = true;
            }
            return;
        }
        // A queued attachment that never got its turn is simply dropped.
        if let Some(route) = table.threads.get_mut(thread) {
            if route.queued.as_ref().is_some_and(|q| Arc::ptr_eq(&q.queue, queue)) {
                route.queued = None;
            }
        }
    }

    /// Ends every open turn and the client stream with `error`; later turns fail at once.
    pub fn fail_all(&self, error: &Error) {
        let queues: Vec<Arc<TurnQueue>> = {
            let mut table = self.table();
            table.failed.get_or_insert_with(|| error.clone());
            table.live = 0;
            table.idle.clear();
            table
                .threads
                .drain()
                .flat_map(|(_, route)| {
                    let queued = route.queued.map(|h| h.queue);
                    route.handle.map(|h| h.queue).into_iter().chain(queued)
                })
                .collect()
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

    /// What the queue holds now (each event as `name` gives it), and whether it completed.
    fn taken(q: &TurnQueue, name: impl Fn(&Event) -> &str) -> (Vec<String>, bool) {
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
        (out.iter().map(|e| name(e).to_owned()).collect(), ended)
    }

    fn drain(q: &TurnQueue) -> (Vec<String>, bool) {
        taken(q, Event::method)
    }

    #[test]
    fn events_before_the_response_reach_the_turn_in_order() {
        let router = Router::new(16, 0);
        let mut wakes = Wakes::new();
        let (q, _) = router.begin_turn("thr").unwrap();
        router.route(ev("turn/started", Some("thr"), Some("t1")), false, &mut wakes);
        router.route(ev("item/agentMessage/delta", Some("thr"), Some("t1")), false, &mut wakes);
        router.route(ev("turn/completed", Some("thr"), Some("t1")), true, &mut wakes);
        router.answered("thr", &q, "t1");
        let (methods, ended) = drain(&q);
        assert_eq!(methods, ["turn/started", "item/agentMessage/delta", "turn/completed"]);
        assert!(ended);
        // The thread is free again; a late event of t1 is not adopted by the next turn.
        let (q2, _) = router.begin_turn("thr").unwrap();
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
        let (q, _) = router.begin_turn("a").unwrap();
        let err = router.begin_turn("a").unwrap_err();
        assert_eq!(err.kind, ErrorKind::TurnActive);
        assert!(err.message.contains("still starting"), "{}", err.message);
        router.answered("a", &q, "t1");
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
        let (q, _) = router.begin_turn("thr").unwrap();
        router.answered("thr", &q, "t1");
        router.route(ev("turn/started", Some("thr"), Some("t1")), false, &mut wakes);
        assert_eq!(drain(&q).0, ["turn/started"]);
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
        let (q, _) = router.begin_turn("thr").unwrap();
        router.fail_all(&Error::new(ErrorKind::Transport, "exited (exit status 3)"));
        let mut out = std::collections::VecDeque::new();
        assert!(
            matches!(q.take_all(&mut out, Wait::Forever), Taken::Ended(StreamEnd::Failed(e)) if e.kind == ErrorKind::Transport)
        );
        assert_eq!(router.begin_turn("x").unwrap_err().kind, ErrorKind::Transport);
    }

    fn client_events(router: &Router) -> Vec<(String, Option<String>)> {
        let mut out = Vec::new();
        while let Taken::Got(e) = router.client_stream().take_one(Wait::from_millis(0)) {
            out.push((e.method().to_owned(), e.turn_id().map(str::to_owned)));
        }
        out
    }

    fn turns_of(q: &TurnQueue) -> (Vec<String>, bool) {
        taken(q, |e| e.turn_id().unwrap_or_default())
    }

    /// Issue 25, case 1: the start of turn-2 fails after its turn/started and a delta; its late
    /// tail arrives while turn-3 is starting and must not be adopted by it.
    #[test]
    fn an_abandoned_start_s_late_tail_is_not_adopted_by_the_next_turn() {
        let router = Router::new(64, 0);
        let mut w = Wakes::new();
        let (q2, _) = router.begin_turn("thr").unwrap();
        router.route(ev("turn/started", Some("thr"), Some("turn-2")), false, &mut w);
        router.route(ev("item/agentMessage/delta", Some("thr"), Some("turn-2")), false, &mut w);
        router.abandon_turn("thr", &q2);
        assert_eq!(client_events(&router).len(), 2, "what it buffered goes to the client stream");
        let (q3, ids) = router.begin_turn("thr").unwrap();
        router.route(ev("item/agentMessage/delta", Some("thr"), Some("turn-2")), false, &mut w);
        router.route(ev("turn/completed", Some("thr"), Some("turn-2")), true, &mut w);
        router.route(ev("turn/started", Some("thr"), Some("turn-3")), false, &mut w);
        router.answered("thr", &q3, "turn-3");
        router.route(ev("turn/completed", Some("thr"), Some("turn-3")), true, &mut w);
        assert_eq!(turns_of(&q3), (vec!["turn-3".to_owned(), "turn-3".to_owned()], true));
        assert_eq!(ids.current(), "turn-3");
        let late: Vec<_> = client_events(&router).into_iter().map(|(_, t)| t).collect();
        assert_eq!(late, [Some("turn-2".to_owned()), Some("turn-2".to_owned())]);
        assert!(router.begin_turn("thr").is_ok(), "the thread takes a new turn");
    }

    /// A start given up while its turn goes on; the next start is steered into that turn and
    /// answered with an id no event carries: the handle takes the turn after the answer.
    #[test]
    fn a_start_steered_into_a_given_up_start_s_turn_takes_it_after_the_answer() {
        let router = Router::new(64, 0);
        let mut w = Wakes::new();
        let (q1, _) = router.begin_turn("thr").unwrap();
        router.route(ev("turn/started", Some("thr"), Some("run")), false, &mut w);
        router.abandon_turn("thr", &q1);
        let (q2, ids) = router.begin_turn("thr").unwrap();
        router.route(ev("item/agentMessage/delta", Some("thr"), Some("run")), false, &mut w);
        router.answered("thr", &q2, "sub-2");
        router.route(ev("item/agentMessage/delta", Some("thr"), Some("run")), false, &mut w);
        router.route(ev("turn/completed", Some("thr"), Some("run")), true, &mut w);
        router.route(ev("turn/completed", Some("thr"), Some("run")), true, &mut w);
        assert_eq!(turns_of(&q2), (vec!["run".to_owned(), "run".to_owned()], true));
        assert_eq!(ids.current(), "run");
        assert_eq!(client_events(&router).len(), 3, "started, the delta before, the duplicate");
        // Finished now: the next turn adopts none of it, even after its answer.
        let (q3, _) = router.begin_turn("thr").unwrap();
        router.answered("thr", &q3, "t3");
        router.route(ev("item/agentMessage/delta", Some("thr"), Some("run")), false, &mut w);
        router.route(ev("turn/completed", Some("thr"), Some("t3")), true, &mut w);
        assert_eq!(turns_of(&q3), (vec!["t3".to_owned()], true));
    }

    /// Goal continuations: an attach while the thread has a handle waits behind it and takes
    /// the next turn from its first event, however soon it follows; a queued handle freed
    /// before its turn, or an attached one freed before any turn named it, holds nothing.
    #[test]
    fn an_attach_behind_a_handle_takes_the_next_turn_without_a_gap() {
        let router = Router::new(64, 0);
        let mut w = Wakes::new();
        let (q1, _) = router.begin_turn("thr").unwrap();
        router.answered("thr", &q1, "t1");
        let (q2, ids2) = router.attach("thr", None).unwrap();
        let err = router.attach("thr", None).unwrap_err();
        assert!(err.message.contains("another for its next turn"), "{}", err.message);
        assert_eq!(router.begin_turn("thr").unwrap_err().kind, ErrorKind::TurnActive);
        router.route(ev("turn/started", Some("thr"), Some("t1")), false, &mut w);
        router.route(ev("turn/completed", Some("thr"), Some("t1")), true, &mut w);
        router.route(ev("turn/started", Some("thr"), Some("goal-2")), false, &mut w);
        let (q3, _) = router.attach("thr", None).unwrap(); // behind goal-2's handle
        router.route(ev("turn/completed", Some("thr"), Some("goal-2")), true, &mut w);
        router.route(ev("turn/started", Some("thr"), Some("goal-3")), false, &mut w);
        router.route(ev("turn/completed", Some("thr"), Some("goal-3")), true, &mut w);
        assert_eq!(turns_of(&q1), (vec!["t1".to_owned(), "t1".to_owned()], true));
        assert_eq!(turns_of(&q2), (vec!["goal-2".to_owned(), "goal-2".to_owned()], true));
        assert_eq!(turns_of(&q3), (vec!["goal-3".to_owned(), "goal-3".to_owned()], true));
        assert_eq!(ids2.current(), "goal-2");
        assert_eq!(router.active_turns(), 0);

        // Freed before their turns: the thread is free again.
        let (q4, _) = router.attach("thr", None).unwrap();
        let (q5, _) = router.attach("thr", None).unwrap();
        router.detach("thr", &q5);
        router.detach("thr", &q4);
        assert_eq!(router.active_turns(), 0);
        assert!(router.begin_turn("thr").is_ok());
    }

    /// A handle attached after a start was given up takes the turn that start left running.
    #[test]
    fn an_attached_handle_takes_the_turn_a_given_up_start_left_running() {
        let router = Router::new(64, 0);
        let mut w = Wakes::new();
        let (q1, _) = router.begin_turn("thr").unwrap();
        router.route(ev("turn/started", Some("thr"), Some("run")), false, &mut w);
        router.abandon_turn("thr", &q1);
        let (q, ids) = router.attach("thr", None).unwrap();
        let err = router.begin_turn("thr").unwrap_err();
        assert!(err.message.contains("waits for its next turn"), "{}", err.message);
        router.route(ev("item/agentMessage/delta", Some("thr"), Some("run")), false, &mut w);
        router.route(ev("turn/completed", Some("thr"), Some("run")), true, &mut w);
        assert_eq!(turns_of(&q), (vec!["run".to_owned(), "run".to_owned()], true));
        assert_eq!(ids.current(), "run");
        // Completed now: refused by id, never adopted again.
        assert_eq!(router.attach("thr", Some("run")).unwrap_err().kind, ErrorKind::NotFound);
    }

    /// The given-up start's turn completed before the next answer: not adopted after it.
    #[test]
    fn a_given_up_start_s_turn_that_completed_is_never_adopted() {
        let router = Router::new(64, 0);
        let mut w = Wakes::new();
        let (q1, _) = router.begin_turn("thr").unwrap();
        router.route(ev("turn/started", Some("thr"), Some("run")), false, &mut w);
        router.abandon_turn("thr", &q1);
        router.route(ev("turn/completed", Some("thr"), Some("run")), true, &mut w);
        let (q2, _) = router.begin_turn("thr").unwrap();
        router.answered("thr", &q2, "t2");
        router.route(
            ev("item/commandExecution/outputDelta", Some("thr"), Some("run")),
            false,
            &mut w,
        );
        router.route(ev("turn/started", Some("thr"), Some("t2")), false, &mut w);
        router.route(ev("turn/completed", Some("thr"), Some("t2")), true, &mut w);
        assert_eq!(turns_of(&q2), (vec!["t2".to_owned(), "t2".to_owned()], true));
    }

    /// Issue 25, case 2: the memory of ended turns is per thread, so completions elsewhere do
    /// not push a thread's ended ids out.
    #[test]
    fn ended_ids_are_remembered_per_thread_whatever_other_threads_do() {
        let router = Router::new(16, 0);
        let mut w = Wakes::new();
        let (q, _) = router.begin_turn("A").unwrap();
        router.answered("A", &q, "a-1");
        router.route(ev("turn/completed", Some("A"), Some("a-1")), true, &mut w);
        for i in 0..1030 {
            let thread = format!("other-{i}");
            let (q, _) = router.begin_turn(&thread).unwrap();
            router.route(ev("turn/started", Some(&thread), Some(&format!("t{i}"))), false, &mut w);
            router.route(ev("turn/completed", Some(&thread), Some(&format!("t{i}"))), true, &mut w);
            assert!(turns_of(&q).1);
        }
        let (q, _) = router.begin_turn("A").unwrap();
        router.route(
            ev("item/commandExecution/outputDelta", Some("A"), Some("a-1")),
            false,
            &mut w,
        );
        router.route(ev("turn/started", Some("A"), Some("a-2")), false, &mut w);
        assert_eq!(turns_of(&q).0, ["a-2"]);
        // The table holds the live handle and the idle threads, within its bound.
        assert!(router.threads_held() <= 1 + IDLE_THREADS_KEPT);
    }

    #[test]
    fn idle_threads_beyond_the_bound_are_let_go_oldest_first() {
        let router = Router::new(16, 0);
        let mut w = Wakes::new();
        for i in 0..IDLE_THREADS_KEPT + 10 {
            let thread = format!("t{i}");
            router.begin_turn(&thread).unwrap();
            router.route(ev("turn/started", Some(&thread), Some("x")), false, &mut w);
            router.route(ev("turn/completed", Some(&thread), Some("x")), true, &mut w);
        }
        assert_eq!(router.threads_held(), IDLE_THREADS_KEPT);
        assert_eq!(router.active_turns(), 0);
        // Each thread's own memory is bounded too.
        for i in 0..3 * ENDED_PER_THREAD {
            let id = format!("b{i}");
            router.begin_turn("busy").unwrap();
            router.route(ev("turn/started", Some("busy"), Some(&id)), false, &mut w);
            router.route(ev("turn/completed", Some("busy"), Some(&id)), true, &mut w);
        }
        let table = router.table();
        assert!(table.threads["busy"].ended.ids.len() <= ENDED_PER_THREAD);
    }

    /// Issue 25, case 4: a turn/completed of an unknown turn before the answer ends nothing.
    #[test]
    fn a_ghost_completion_ends_nothing_and_is_never_adopted() {
        let router = Router::new(16, 0);
        let mut w = Wakes::new();
        let (q, _) = router.begin_turn("thr").unwrap();
        router.route(ev("turn/completed", Some("thr"), Some("ghost")), true, &mut w);
        router.route(ev("turn/started", Some("thr"), Some("real")), false, &mut w);
        router.answered("thr", &q, "real");
        router.route(ev("turn/completed", Some("thr"), Some("ghost")), true, &mut w);
        router.route(ev("turn/completed", Some("thr"), Some("real")), true, &mut w);
        assert_eq!(turns_of(&q), (vec!["real".to_owned(), "real".to_owned()], true));
        assert_eq!(client_events(&router).len(), 2);
    }

    /// Issue 19, item 1: the answer's id differs from the events' id, which come before or
    /// after the answer; the handle gets them all, ends on their completion, reports their id.
    #[test]
    fn drift_the_answer_s_id_differs_from_the_events_before_or_after_it() {
        for events_first in [true, false] {
            let router = Router::new(16, 0);
            let mut w = Wakes::new();
            let (q, ids) = router.begin_turn("thr").unwrap();
            if events_first {
                router.route(ev("item/started", Some("thr"), Some("running")), false, &mut w);
            }
            router.answered("thr", &q, "submission-9");
            assert_eq!(ids.answered(), Some("submission-9"));
            router.route(
                ev("item/agentMessage/delta", Some("thr"), Some("running")),
                false,
                &mut w,
            );
            router.route(ev("turn/completed", Some("thr"), Some("running")), true, &mut w);
            let (turns, ended) = turns_of(&q);
            assert!(ended && turns.iter().all(|t| t == "running"), "{turns:?}");
            assert_eq!(ids.current(), "running");
            assert_eq!(ids.all().collect::<Vec<_>>(), ["running", "submission-9"]);
            assert!(client_events(&router).is_empty());
            // The thread is free; neither id is adopted by the next turn.
            let (q, _) = router.begin_turn("thr").unwrap();
            router.route(ev("item/started", Some("thr"), Some("running")), false, &mut w);
            router.route(ev("item/started", Some("thr"), Some("submission-9")), false, &mut w);
            router.route(ev("turn/started", Some("thr"), Some("next")), false, &mut w);
            assert_eq!(turns_of(&q).0, ["next"]);
        }
    }

    /// Issue 25, case 5: a completion without threadId still ends the handle owning its turn.
    #[test]
    fn a_completion_without_thread_id_ends_its_handle() {
        let router = Router::new(16, 0);
        let mut w = Wakes::new();
        let (q, _) = router.begin_turn("thr").unwrap();
        router.answered("thr", &q, "t1");
        router.route(ev("turn/completed", None, Some("other")), true, &mut w);
        assert!(!turns_of(&q).1);
        router.route(ev("turn/completed", None, Some("t1")), true, &mut w);
        assert_eq!(turns_of(&q), (vec!["t1".to_owned()], true));
        assert!(router.begin_turn("thr").is_ok());
    }
}
