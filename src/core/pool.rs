//! A pool of app-servers: many clients (spawned or remote, in any mix) behind one placement
//! rule. A new Codex thread goes to the healthy member with the fewest active turns; its turns
//! go to the member that owns it. A member that fails takes only its own turns down; a
//! supervisor thread restarts (or reconnects) it with capped exponential backoff, and it takes
//! new threads again once it is back. Threads of a failed member are never moved silently:
//! starting a turn on one fails with the member's failure.

use super::client::turn::Turn;
use super::client::Client;
use super::error::{Error, ErrorKind, Result};
use super::options::Options;
use super::routing::dispatch::Callback;
use std::collections::HashMap;
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
    next_retry: Option<Instant>,
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
    supervisor: Mutex<Supervisor>,
    /// Wakes the supervisor: a member failed, or the pool is closing.
    wake: Condvar,
}

#[derive(Default)]
struct Supervisor {
    closing: bool,
    /// A member failed since the supervisor last looked (so no wake-up is lost).
    dirty: bool,
}

pub struct Pool {
    inner: Arc<Inner>,
    supervisor: Mutex<Option<JoinHandle<()>>>,
}

/// A member's state as the program sees it.
#[derive(Clone, Debug)]
pub struct MemberStatus {
    pub healthy: bool,
    pub active_turns: usize,
    pub last_error: Option<Error>,
}

impl Pool {
    /// Starts (or connects) every member at once. Succeeds when at least one member is up; the
    /// others are retried in the background. Fails, naming each member's error, when none is.
    pub fn start(members: Vec<Options>) -> Result<Pool> {
        if members.is_empty() {
            return Err(Error::invalid_argument("members: a pool needs at least one member"));
        }
        let inner = Arc::new(Inner {
            members: members
                .into_iter()
                .map(|options| Member { options, state: Mutex::new(MemberState::default()) })
                .collect(),
            placements: Mutex::new(HashMap::new()),
            supervisor: Mutex::new(Supervisor::default()),
            wake: Condvar::new(),
        });
        std::thread::scope(|scope| {
            for index in 0..inner.members.len() {
                let inner = &inner;
                scope.spawn(move || inner.start_member(index));
            }
        });
        let up = (0..inner.members.len()).filter(|&i| inner.client(i).is_some()).count();
        if up == 0 {
            let why: Vec<String> = inner
                .members
                .iter()
                .enumerate()
                .map(|(i, m)| {
                    let state = m.lock();
                    format!("member {i}: {}", state.last_error.as_ref().map_or("?", |e| &e.message))
                })
                .collect();
            return Err(Error::new(
                ErrorKind::Transport,
                format!("no member of the pool could be started: {}", why.join("; ")),
            ));
        }
        let supervisor = {
            let inner = inner.clone();
            std::thread::Builder::new()
                .name("codex-pool".into())
                .spawn(move || inner.supervise())
                .expect("cannot spawn the pool supervisor")
        };
        Ok(Pool { inner, supervisor: Mutex::new(Some(supervisor)) })
    }

    pub fn member_count(&self) -> usize {
        self.inner.members.len()
    }

    pub fn member_status(&self, index: usize) -> Result<MemberStatus> {
        let member = self.inner.member(index)?;
        let state = member.lock();
        let client = state.client.as_ref().filter(|c| c.failure().is_none());
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

    /// Stops the supervisor and closes every member at once (each waits for its own server).
    /// Idempotent.
    pub fn close(&self) {
        self.inner.supervisor().closing = true;
        self.inner.wake.notify_all();
        let supervisor = self.supervisor.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(thread) = supervisor {
            let _ = thread.join();
        }
        let clients: Vec<Arc<Client>> =
            (0..self.inner.members.len()).filter_map(|i| self.inner.client(i)).collect();
        std::thread::scope(|scope| {
            for client in &clients {
                scope.spawn(move || client.close());
            }
        });
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

    fn supervisor(&self) -> MutexGuard<'_, Supervisor> {
        self.supervisor.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts member `index` once; on failure schedules the next try.
    fn start_member(self: &Arc<Self>, index: usize) {
        let member = &self.members[index];
        let weak = Arc::downgrade(self);
        let on_failure = Arc::new(move || {
            if let Some(inner) = weak.upgrade() {
                inner.supervisor().dirty = true;
                inner.wake.notify_all();
            }
        });
        let started = Client::start_observed(&member.options, on_failure);
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
                state.next_retry = None;
                state.backoff = FIRST_RETRY;
                back.map(|m| (log::Level::Info, m))
            }
            Err(err) => {
                state.backoff = if state.backoff.is_zero() {
                    FIRST_RETRY
                } else {
                    (state.backoff * 2).min(MAX_RETRY)
                };
                state.next_retry = Some(Instant::now() + state.backoff);
                let message = format!(
                    "pool member {index} could not be started: {}; next try in {} ms",
                    err.message,
                    state.backoff.as_millis()
                );
                state.last_error = Some(err);
                Some((log::Level::Warn, message))
            }
        };
        drop(state);
        if let Some((level, message)) = message {
            log::log!(level, "{message}");
        }
    }

    fn least_busy(&self) -> Result<(usize, Arc<Client>, u64)> {
        if self.supervisor().closing {
            return Err(Error::new(ErrorKind::Closed, "the pool was closed by the program"));
        }
        // (active turns, threads placed on the current client), index, client, generation.
        type Candidate = ((usize, usize), usize, Arc<Client>, u64);
        let mut best: Option<Candidate> = None;
        for (index, member) in self.members.iter().enumerate() {
            let state = member.lock();
            let Some(client) = state.client.as_ref().filter(|c| c.failure().is_none()) else {
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

    /// The supervisor: takes failed members down and restarts them with backoff.
    fn supervise(self: Arc<Self>) {
        loop {
            self.supervisor().dirty = false;
            let now = Instant::now();
            let mut next: Option<Instant> = None;
            for index in 0..self.members.len() {
                if self.supervisor().closing {
                    return;
                }
                let member = &self.members[index];
                let failed = {
                    let mut state = member.lock();
                    match state.client.as_ref().and_then(|c| c.failure()) {
                        Some(err) => {
                            let wait = state.backoff.max(FIRST_RETRY);
                            let why = format!(
                                "pool member {index} failed: {}; restarting it in {} ms",
                                err.message,
                                wait.as_millis()
                            );
                            state.last_error = Some(err);
                            state.next_retry = Some(now + wait);
                            state.client.take().map(|client| (client, why))
                        }
                        None => None,
                    }
                };
                if let Some((client, why)) = failed {
                    log::warn!("{why}"); // not under the member's lock
                    client.close(); // ends its threads; its turns have failed already
                }
                let due = member.lock().next_retry;
                match due {
                    Some(at) if at <= now => self.start_member(index),
                    _ => {}
                }
                if let Some(at) = member.lock().next_retry {
                    next = Some(next.map_or(at, |n| n.min(at)));
                }
            }
            let state = self.supervisor();
            if state.closing {
                return;
            }
            if state.dirty {
                continue;
            }
            drop(match next {
                Some(at) => {
                    let wait = at.saturating_duration_since(Instant::now());
                    self.wake.wait_timeout(state, wait).unwrap_or_else(|p| p.into_inner()).0
                }
                None => self.wake.wait(state).unwrap_or_else(|p| p.into_inner()),
            });
        }
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
