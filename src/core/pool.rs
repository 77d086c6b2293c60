//! A pool of app-servers: many clients (spawned or remote, in any mix) behind one placement
//! rule. A new Codex thread goes to the healthy member with the fewest active turns; its turns
//! go to the member that owns it. A member that fails takes only its own turns down. Each
//! member has a thread of its own that starts it and restarts (or reconnects) it with capped
//! exponential backoff, so no member's start, restart or hang ever waits for another's; it
//! takes new threads again once it is back. Threads of a failed member are never moved
//! silently: starting a turn on one fails with the member's failure.

use super::client::turn::Turn;
use super::client::Client;
use super::error::{Error, ErrorKind, Result};
use super::options::Options;
use super::routing::dispatch::Callback;
use super::transport::Cancel;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Backoff of a member's restarts: the first retry comes this soon, each failure doubles it,
/// up to the cap.
const FIRST_RETRY: Duration = Duration::from_millis(100);
const MAX_RETRY: Duration = Duration::from_secs(10);

/// One app-server of the pool.
struct Member {
    options: Options,
    state: Mutex<MemberState>,
    /// Wakes the member's thread: its client failed, or the pool is closing.
    wake: Condvar,
    /// Ends the member's start in flight when the pool closes.
    cancel: Cancel,
}

#[derive(Default)]
struct MemberState {
    /// The running client; `None` while the member is down.
    client: Option<Arc<Client>>,
    /// Counts the clients this member has had, so a thread placed on an earlier one is known.
    generation: u64,
    /// Threads placed on the current client (counted here, so placing a thread never walks
    /// every thread the pool has started).
    placed: usize,
    /// Why the member is down (what its last client failed with, or its last start).
    last_error: Option<Error>,
    backoff: Duration,
}

/// Where a Codex thread lives: a member, and which of its clients.
#[derive(Clone, Copy)]
struct Placement {
    member: usize,
    generation: u64,
}

struct Inner {
    members: Vec<Member>,
    placements: Mutex<HashMap<String, Placement>>,
    closing: AtomicBool,
    /// How the members' first starts went; `Pool::start` waits on it.
    first_round: Mutex<FirstRound>,
    first_round_changed: Condvar,
}

#[derive(Default)]
struct FirstRound {
    tried: usize,
    up: bool,
}

pub struct Pool {
    inner: Arc<Inner>,
    /// The members' threads, joined by `close`.
    threads: Mutex<Vec<JoinHandle<()>>>,
}

/// A member's state as the program sees it.
#[derive(Clone, Debug)]
pub struct MemberStatus {
    pub healthy: bool,
    pub active_turns: usize,
    pub last_error: Option<Error>,
}

impl Pool {
    /// Starts (or connects) every member at once, each on its own thread. Returns as soon as
    /// one member is up; the others go on starting in the background. Fails, naming each
    /// member's error, when every member's first start failed.
    pub fn start(members: Vec<Options>) -> Result<Pool> {
        if members.is_empty() {
            return Err(Error::invalid_argument("members: a pool needs at least one member"));
        }
        let inner = Arc::new(Inner {
            members: members
                .into_iter()
                .map(|options| Member {
                    options,
                    state: Mutex::new(MemberState::default()),
                    wake: Condvar::new(),
                    cancel: Cancel::default(),
                })
                .collect(),
            placements: Mutex::new(HashMap::new()),
            closing: AtomicBool::new(false),
            first_round: Mutex::new(FirstRound::default()),
            first_round_changed: Condvar::new(),
        });
        let threads = (0..inner.members.len())
            .map(|index| {
                let inner = inner.clone();
                std::thread::Builder::new()
                    .name(format!("codex-pool-{index}"))
                    .spawn(move || inner.run_member(index))
                    .expect("cannot spawn a pool member's thread")
            })
            .collect();
        let pool = Pool { inner, threads: Mutex::new(threads) };
        if pool.inner.wait_first_round() {
            return Ok(pool);
        }
        let why: Vec<String> = pool
            .inner
            .members
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let state = m.lock();
                format!("member {i}: {}", state.last_error.as_ref().map_or("?", |e| &e.message))
            })
            .collect();
        pool.close();
        Err(Error::new(
            ErrorKind::Transport,
            format!("no member of the pool could be started: {}", why.join("; ")),
        ))
    }

    pub fn member_count(&self) -> usize {
        self.inner.members.len()
    }

    pub fn member_status(&self, index: usize) -> Result<MemberStatus> {
        let member = self.inner.member(index)?;
        let state = member.lock();
        // A member whose connection is being made again keeps its threads, takes no new ones.
        let client = state.client.as_ref().filter(|c| c.connected());
        Ok(MemberStatus {
            healthy: client.is_some(),
            active_turns: client.map_or(0, |c| c.active_turns()),
            last_error: state.last_error.clone(),
        })
    }

    /// The client currently serving member `index`, if it is up.
    pub fn member_client(&self, index: usize) -> Result<Option<Arc<Client>>> {
        self.inner.member(index)?;
        Ok(self.inner.client(index))
    }

    /// `thread/start` on the healthy member with the fewest active turns (ties: the one with
    /// the fewest threads placed so far). Returns the thread id and the full result.
    pub fn thread_start(&self, params: Option<&str>) -> Result<(String, String)> {
        let (member, client, generation) = self.inner.least_busy()?;
        let (thread, result) = client.thread_start(params)?;
        self.inner.placements().insert(thread.clone(), Placement { member, generation });
        let mut state = self.inner.members[member].lock();
        if state.generation == generation {
            state.placed += 1;
        }
        Ok((thread, result))
    }

    /// The member that owns `thread_id`, and its client when that thread is still reachable.
    pub fn client_for_thread(&self, thread_id: &str) -> Result<(usize, Arc<Client>)> {
        let placement = self.inner.placements().get(thread_id).copied().ok_or_else(|| {
            Error::invalid_argument(format!(
                "thread_id: {thread_id} was not started through this pool"
            ))
        })?;
        let member = &self.inner.members[placement.member];
        let state = member.lock();
        let alive = state
            .client
            .as_ref()
            .filter(|c| state.generation == placement.generation && c.failure().is_none());
        match alive {
            Some(client) => Ok((placement.member, client.clone())),
            None => {
                let why = state
                    .client
                    .as_ref()
                    .and_then(|c| c.failure())
                    .or_else(|| state.last_error.clone())
                    .map_or_else(|| "it was restarted".to_owned(), |e| e.message);
                Err(Error::new(
                    ErrorKind::Transport,
                    format!(
                        "thread {thread_id} lived on pool member {}, whose app-server failed \
                         ({why}); its turns cannot go on there. Start a new thread, or \
                         thread/resume this one on a member that can reach its storage",
                        placement.member
                    ),
                ))
            }
        }
    }

    /// Starts a turn on the member that owns `thread_id` (see `Client::turn_start`).
    pub fn turn_start(
        &self,
        thread_id: &str,
        input: &str,
        params: Option<&str>,
        callback: Option<Callback>,
    ) -> Result<Turn> {
        let (_, client) = self.client_for_thread(thread_id)?;
        client.turn_start(thread_id, input, params, callback)
    }

    /// Closes every member at once: starts in flight are cancelled (the child killed, the
    /// socket shut), each member's thread closes its client (waiting for its own server) and
    /// ends. Returns once every member's thread has. Idempotent.
    pub fn close(&self) {
        self.inner.closing.store(true, Ordering::SeqCst);
        for member in &self.inner.members {
            member.wake_up();
            member.cancel.cancel();
        }
        let threads = std::mem::take(&mut *self.threads.lock().unwrap_or_else(|p| p.into_inner()));
        for thread in threads {
            let _ = thread.join();
        }
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.close();
    }
}

impl Member {
    fn lock(&self) -> MutexGuard<'_, MemberState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Under the lock, so a thread between its check and its wait cannot miss it.
    fn wake_up(&self) {
        let _state = self.lock();
        self.wake.notify_all();
    }
}

impl Inner {
    fn member(&self, index: usize) -> Result<&Member> {
        self.members.get(index).ok_or_else(|| {
            Error::invalid_argument(format!(
                "index: {index} is not a member (the pool has {})",
                self.members.len()
            ))
        })
    }

    fn client(&self, index: usize) -> Option<Arc<Client>> {
        self.members[index].lock().client.clone()
    }

    fn placements(&self) -> MutexGuard<'_, HashMap<String, Placement>> {
        self.placements.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn closing(&self) -> bool {
        self.closing.load(Ordering::SeqCst)
    }

    /// Waits until a member is up (true) or every member's first start has failed (false).
    fn wait_first_round(&self) -> bool {
        let mut round = self.first_round.lock().unwrap_or_else(|p| p.into_inner());
        while !round.up && round.tried < self.members.len() {
            round = self.first_round_changed.wait(round).unwrap_or_else(|p| p.into_inner());
        }
        round.up
    }

    fn first_start_done(&self, up: bool) {
        let mut round = self.first_round.lock().unwrap_or_else(|p| p.into_inner());
        round.tried += 1;
        round.up |= up;
        self.first_round_changed.notify_all();
    }

    /// Member `index`'s own thread: starts it, and restarts it after its backoff whenever it
    /// fails, until the pool closes; then closes its client.
    fn run_member(self: Arc<Self>, index: usize) {
        let member = &self.members[index];
        let mut first = FirstStart(Some(&self));
        while !self.closing() {
            let up = self.start_member(index);
            first.done(up);
            let wait = match up {
                true => match self.wait_for_failure(index) {
                    Some(wait) => wait,
                    None => break, // closing
                },
                false => member.lock().backoff,
            };
            self.pause(member, wait);
        }
        let client = member.lock().client.clone();
        if let Some(client) = client {
            client.close();
        }
    }

    /// Starts member `index` once; on failure doubles its backoff. Returns whether it is up.
    fn start_member(self: &Arc<Self>, index: usize) -> bool {
        let member = &self.members[index];
        let weak = Arc::downgrade(self);
        let on_failure = Arc::new(move || {
            if let Some(inner) = weak.upgrade() {
                inner.members[index].wake_up();
            }
        });
        let started = Client::start_observed(&member.options, on_failure, &member.cancel);
        let up = started.is_ok();
        let mut state = member.lock();
        // Logged once the lock is released: a log callback may call back into the pool.
        let message = match started {
            Ok(client) => {
                let back = (state.generation > 0 || state.last_error.is_some()).then(|| {
                    format!("pool member {index} is up again (pid {})", client.server_pid())
                });
                state.client = Some(Arc::new(client));
                state.generation += 1;
                state.placed = 0;
                state.backoff = FIRST_RETRY;
                back.map(|m| (log::Level::Info, m))
            }
            Err(err) => {
                state.backoff = if state.backoff.is_zero() {
                    FIRST_RETRY
                } else {
                    (state.backoff * 2).min(MAX_RETRY)
                };
                let message = format!(
                    "pool member {index} could not be started: {}; next try in {} ms",
                    err.message,
                    state.backoff.as_millis()
                );
                state.last_error = Some(err);
                // Said only when the pool goes on: a start cancelled by the close is no news.
                (!self.closing()).then_some((log::Level::Warn, message))
            }
        };
        drop(state);
        if let Some((level, message)) = message {
            log::log!(level, "{message}");
        }
        up
    }

    /// Waits until member `index`'s client fails, then takes it down and closes it; returns how
    /// long to wait before restarting. `None` when the pool closes first.
    fn wait_for_failure(&self, index: usize) -> Option<Duration> {
        let member = &self.members[index];
        let mut state = member.lock();
        let (client, why, wait) = loop {
            if self.closing() {
                return None;
            }
            if let Some(err) = state.client.as_ref().and_then(|c| c.failure()) {
                let wait = state.backoff.max(FIRST_RETRY);
                let why = format!(
                    "pool member {index} failed: {}; restarting it in {} ms",
                    err.message,
                    wait.as_millis()
                );
                state.last_error = Some(err);
                break (state.client.take(), why, wait);
            }
            state = member.wake.wait(state).unwrap_or_else(|p| p.into_inner());
        };
        drop(state);
        log::warn!("{why}"); // not under the member's lock
        if let Some(client) = client {
            client.close(); // ends its threads; its turns have failed already
        }
        Some(wait)
    }

    /// Sleeps `wait`, or less when the pool closes.
    fn pause(&self, member: &Member, wait: Duration) {
        let until = Instant::now() + wait;
        let mut state = member.lock();
        loop {
            let left = until.saturating_duration_since(Instant::now());
            if self.closing() || left.is_zero() {
                return;
            }
            state = member.wake.wait_timeout(state, left).unwrap_or_else(|p| p.into_inner()).0;
        }
    }

    fn least_busy(&self) -> Result<(usize, Arc<Client>, u64)> {
        if self.closing() {
            return Err(Error::new(ErrorKind::Closed, "the pool was closed by the program"));
        }
        // (active turns, threads placed on the current client), index, client, generation.
        type Candidate = ((usize, usize), usize, Arc<Client>, u64);
        let mut best: Option<Candidate> = None;
        for (index, member) in self.members.iter().enumerate() {
            let state = member.lock();
            let Some(client) = state.client.as_ref().filter(|c| c.connected()) else {
                continue;
            };
            let load = (client.active_turns(), state.placed);
            if best.as_ref().is_none_or(|(b, ..)| load < *b) {
                best = Some((load, index, client.clone(), state.generation));
            }
        }
        best.map(|(_, index, client, generation)| (index, client, generation)).ok_or_else(|| {
            Error::new(
                ErrorKind::Transport,
                "no member of the pool is healthy; they are being restarted in the background",
            )
        })
    }
}

/// Reports a member's first start to `Pool::start` once, and as failed if the member's thread
/// ends (or panics) before it, so the pool's start never waits for a thread that is gone.
struct FirstStart<'a>(Option<&'a Inner>);

impl FirstStart<'_> {
    fn done(&mut self, up: bool) {
        if let Some(inner) = self.0.take() {
            inner.first_start_done(up);
        }
    }
}

impl Drop for FirstStart<'_> {
    fn drop(&mut self) {
        self.done(false);
    }
}

impl Pool {
    /// Lets go of `thread_id`: unsubscribes it on the member that owns it (see
    /// `Client::thread_unsubscribe`) and forgets where it lives, so placement no longer counts
    /// it. A thread whose member's app-server died since is only forgotten: nothing holds it.
    pub fn thread_release(&self, thread_id: &str) -> Result<()> {
        match self.client_for_thread(thread_id) {
            Ok((_, client)) => {
                client.thread_unsubscribe(thread_id)?;
            }
            Err(err) if err.kind == ErrorKind::Transport => {}
            Err(err) => return Err(err),
        }
        let placement = self.inner.placements().remove(thread_id);
        if let Some(placement) = placement {
            let mut state = self.inner.members[placement.member].lock();
            if state.generation == placement.generation {
                state.placed = state.placed.saturating_sub(1);
            }
        }
        Ok(())
    }
}
