//! The FAKE_* environment variables, read once (see README.md).

use crate::output::log;
use std::collections::HashSet;
use std::sync::OnceLock;
use std::time::Duration;

pub struct Config {
    /// FAKE_SCENARIO: normal, silent, early, interleaved, crash, close_stdout, orphan_pipe,
    /// garbage, late_event, approval, flood.
    pub scenario: String,
    /// FAKE_DELTAS: agent-message deltas per turn (a turn's `deltas=N` overrides it).
    pub deltas: usize,
    /// FAKE_DELAY_MS: the pause after each streamed event (1 ms in `interleaved` by default).
    pub delay: Duration,
    /// FAKE_TURNS: the turns a flood waits for.
    pub flood_turns: i64,
    /// FAKE_THREAD_PREFIX: thread ids are PREFIX1, PREFIX2, ... (fakes in one pool need their
    /// own).
    pub thread_prefix: String,
    /// FAKE_IGNORE: methods never answered (as by a server that stopped reading), e.g.
    /// "turn/interrupt,turn/steer".
    pub ignored: HashSet<String>,
    /// FAKE_HOLD_TIMEOUT_S: the longest a held turn waits for its interrupt, steer or
    /// test/release before it goes on, in seconds.
    pub hold_timeout_s: f64,
    /// FAKE_HOLD_INITIALIZE: a file; while it exists, `initialize` is not answered (the fake
    /// writes its pid into it once it holds). The test removes it to release the fake.
    pub hold_initialize: Option<std::path::PathBuf>,
    /// FAKE_STDERR_LINES: lines written to stderr at start.
    pub stderr_lines: i64,
    /// FAKE_CRASH_AT: the fraction of the flood after which the fake exits (0: none).
    pub crash_at: f64,
    /// FAKE_ORPHAN_SECONDS: how long the orphan of `orphan_pipe` lives.
    pub orphan_seconds: String,
    /// FAKE_LINGER_S: how long `close_stdout` lives on after closing stdout.
    pub linger: Duration,
}

static CONFIG: OnceLock<Config> = OnceLock::new();

pub fn config() -> &'static Config {
    CONFIG.get_or_init(Config::from_env)
}

fn var(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

/// A number from the environment; a value that is none ends the fake (exit 1), as Python's
/// int() and float() did with a traceback.
fn number<T: std::str::FromStr>(name: &str, default: &str) -> T {
    let text = var(name, default);
    text.trim().parse().unwrap_or_else(|_| {
        log(&format!("{name}: not a number: {text:?}"));
        std::process::exit(1)
    })
}

/// Seconds as a Duration; negative, NaN and absurd values clamp instead of panicking.
pub fn seconds(s: f64) -> Duration {
    Duration::try_from_secs_f64(s.clamp(0.0, 1e9)).unwrap_or(Duration::ZERO)
}

impl Config {
    fn from_env() -> Config {
        let scenario = var("FAKE_SCENARIO", "normal");
        let delay_default = if scenario == "interleaved" { "1" } else { "0" };
        let delay_ms: f64 = number("FAKE_DELAY_MS", delay_default);
        Config {
            deltas: number::<i64>("FAKE_DELTAS", "5").max(0) as usize,
            delay: seconds(delay_ms / 1000.0),
            flood_turns: number("FAKE_TURNS", "1"),
            thread_prefix: var("FAKE_THREAD_PREFIX", "thr_"),
            ignored: var("FAKE_IGNORE", "")
                .split(',')
                .filter(|m| !m.is_empty())
                .map(str::to_owned)
                .collect(),
            hold_timeout_s: number("FAKE_HOLD_TIMEOUT_S", "60"),
            hold_initialize: std::env::var_os("FAKE_HOLD_INITIALIZE").map(Into::into),
            stderr_lines: number("FAKE_STDERR_LINES", "0"),
            crash_at: number("FAKE_CRASH_AT", "0"),
            orphan_seconds: var("FAKE_ORPHAN_SECONDS", "10"),
            linger: seconds(number("FAKE_LINGER_S", "30")),
            scenario,
        }
    }

    pub fn hold_timeout(&self) -> Duration {
        seconds(self.hold_timeout_s)
    }
}
