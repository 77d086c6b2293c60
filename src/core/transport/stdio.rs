//! The stdio transport: a spawned `codex app-server` speaking JSON lines over its stdin and
//! stdout. Threads: the writer and the one stdout reader. Its stderr (whose tail failures
//! report) and its exit (noticed even while a grandchild keeps its stdout open) are watched by
//! `process::watch_child`.

use super::framing::{Frame, LineReader};
use super::process::{self, lock_tail, Child};
use super::settings::Settings;
use super::stderr_tail::StderrTail;
use super::threads::{join_until, spawn_named, IoThread};
use super::{Inbound, Link, OnFailure, Writer};
use crate::core::error::{Error, ErrorKind, Result};
use crate::core::panic::panic_text;
use crate::core::timer;
use crossbeam_channel::{Receiver, TryRecvError};
use std::io::Write;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::process::{ChildStdout, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const READ_BUFFER_BYTES: usize = 1 << 20;
/// How often the exit watcher looks at a reader that has not seen EOF after the child exited.
const EXIT_CHECK_INTERVAL: Duration = Duration::from_millis(100);
/// How long shutdown waits for the I/O threads after the child is gone.
const THREAD_EXIT_WAIT: Duration = Duration::from_secs(1);

pub struct StdioLink {
    child: Arc<Mutex<Child>>,
    pid: u32,
    threads: Mutex<Vec<IoThread>>,
}

/// Starts `codex [args] app-server --listen stdio://` and the I/O threads; the writer thread
/// takes the messages `writer` queues on `rx`.
pub fn spawn(
    settings: &Settings,
    rx: Receiver<Vec<u8>>,
    writer: Writer,
    mut inbound: impl Inbound,
    on_failure: OnFailure,
) -> Result<StdioLink> {
    let program = resolve_program(settings)?;
    let mut command = Command::new(&program);
    command
        .args(&settings.args)
        .args(["app-server", "--listen", "stdio://"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (name, value) in &settings.env {
        match value {
            Some(v) => command.env(name, v),
            None => command.env_remove(name),
        };
    }
    if let Some(cwd) = &settings.cwd {
        command.current_dir(cwd);
    }
    let line = command_line(&program, settings);
    let mut child = process::spawn(&mut command).map_err(|e| {
        Error::new(ErrorKind::Spawn, format!("cannot start {}: {e}", program.display()))
    })?;
    let pid = child.id();
    log::info!("started codex app-server (pid {pid}): {line}");
    let stdin = child.stdin.take().expect("stdin is piped");
    let stdout = child.stdout.take().expect("stdout is piped");
    let stderr = child.stderr.take().expect("stderr is piped");
    process::enlarge_pipe(&stdout);
    let stdout_pipe = process::pipe_handle(&stdout);

    let tail = Arc::new(Mutex::new(StderrTail::default()));
    let child = Arc::new(Mutex::new(child));
    let mut threads = Vec::new();
    threads.push(spawn_named("codex-writer", move || write_loop(stdin, rx)));
    let reader = {
        let (child, writer, tail, on_failure) =
            (child.clone(), writer.clone(), tail.clone(), on_failure.clone());
        let max_line = settings.max_line_bytes;
        spawn_named("codex-reader", move || {
            inbound.reader_started();
            let lines = LineReader::new(stdout, READ_BUFFER_BYTES, max_line);
            read_loop(lines, inbound, &writer, &child, &tail, &on_failure)
        })
    };
    let exit = ExitCheck {
        reader_done: reader.done.clone(),
        stdout: stdout_pipe,
        child: child.clone(),
        tail: tail.clone(),
        on_failure,
        idle_checks: 0,
    };
    threads.push(reader);
    let on_exit = Box::new(move || exit.schedule());
    threads.extend(process::watch_child(process::ChildWatch { pid, stderr, tail, on_exit }));
    Ok(StdioLink { child, pid, threads: Mutex::new(threads) })
}

impl Link for StdioLink {
    fn pid(&self) -> u32 {
        self.pid
    }

    /// The writer's queue is closed already (stdin closes once it is written out): gives the
    /// server `grace` to exit, then kills it, and ends what it left running (Windows).
    fn shutdown(&self, grace: Duration) {
        let deadline = Instant::now() + grace;
        // Logged once the child's lock is released.
        let ended = loop {
            let mut child = lock_child(&self.child);
            match child.try_wait() {
                Ok(None) => {}
                Ok(Some(status)) => {
                    break Some(format!("exited ({})", process::describe_status(status)))
                }
                Err(_) => break None,
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                break Some(format!(
                    "did not exit within {} ms of its stdin closing: killed",
                    grace.as_millis()
                ));
            }
            drop(child);
            std::thread::sleep(Duration::from_millis(5));
        };
        lock_child(&self.child).end_tree();
        if let Some(how) = ended {
            log::info!("codex app-server (pid {}) {how}", self.pid);
        }
        join_until(&self.threads, Instant::now() + THREAD_EXIT_WAIT);
    }
}

fn lock_child(child: &Mutex<Child>) -> std::sync::MutexGuard<'_, Child> {
    child.lock().unwrap_or_else(|p| p.into_inner())
}

/// The command line as a log shows it: the values of `-c key=value` config overrides are left
/// out (they may hold secrets), and of the environment changes only the names are shown.
fn command_line(program: &std::path::Path, settings: &Settings) -> String {
    let mut line = program.display().to_string();
    let mut value_next = false;
    for arg in &settings.args {
        line.push(' ');
        line.push_str(&redacted_arg(arg, value_next));
        value_next = arg == "-c" || arg == "--config";
    }
    line.push_str(" app-server --listen stdio://");
    let names = |set: bool| -> Vec<&str> {
        settings.env.iter().filter(|(_, v)| v.is_some() == set).map(|(n, _)| n.as_str()).collect()
    };
    let (set, removed) = (names(true), names(false));
    if !set.is_empty() {
        line.push_str(&format!("; environment set: {}", set.join(", ")));
    }
    if !removed.is_empty() {
        line.push_str(&format!("; environment removed: {}", removed.join(", ")));
    }
    if let Some(cwd) = &settings.cwd {
        line.push_str(&format!("; in {}", cwd.display()));
    }
    line
}

/// `key=value` of a config override as `key=…`; other arguments as they are.
fn redacted_arg(arg: &str, is_config_value: bool) -> String {
    let key_only = |kv: &str| match kv.split_once('=') {
        Some((key, _)) => format!("{key}=…"),
        None => kv.to_owned(),
    };
    if is_config_value {
        key_only(arg)
    } else if let Some(kv) = arg.strip_prefix("--config=") {
        format!("--config={}", key_only(kv))
    } else if let Some(kv) = arg.strip_prefix("-c").filter(|kv| !kv.is_empty()) {
        format!("-c{}", key_only(kv))
    } else {
        arg.to_owned()
    }
}

/// The explicit path, else `$CODEX_BIN`, else `codex` on PATH; the error names what was tried.
fn resolve_program(settings: &Settings) -> Result<PathBuf> {
    let explicit = match &settings.codex_bin {
        Some(path) => Some((path.clone(), "the codex binary set in the options")),
        None => std::env::var_os("CODEX_BIN")
            .filter(|v| !v.is_empty())
            .map(|v| (PathBuf::from(v), "CODEX_BIN")),
    };
    if let Some((path, source)) = explicit {
        // Checked here so the error names the path, whatever the platform's spawn reports.
        if !process::is_executable(&path) {
            return Err(Error::new(
                ErrorKind::Spawn,
                format!("{source} ({}) is not an executable file", path.display()),
            ));
        }
        return Ok(path);
    }
    // The child's PATH: an override in the options, else ours.
    let path = match settings.env.iter().rev().find(|(name, _)| name == "PATH") {
        Some((_, value)) => value.clone().unwrap_or_default(),
        None => std::env::var("PATH").unwrap_or_default(),
    };
    for dir in std::env::split_paths(&path) {
        let candidate = dir.join(process::CODEX_PROGRAM);
        if process::is_executable(&candidate) {
            return Ok(candidate);
        }
    }
    Err(Error::new(
        ErrorKind::Spawn,
        format!(
            "no codex binary: none set in the options, CODEX_BIN is unset, and no executable \
             `codex` on PATH ({path})"
        ),
    ))
}

fn write_loop(stdin: std::process::ChildStdin, rx: Receiver<Vec<u8>>) {
    process::block_sigpipe_on_this_thread();
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, stdin);
    let write = |out: &mut std::io::BufWriter<_>, line: &[u8]| {
        out.write_all(line).and_then(|()| out.write_all(b"\n"))
    };
    while let Ok(line) = rx.recv() {
        if write(&mut out, &line).is_err() {
            return;
        }
        // Flush once nothing more is queued, so bursts go out in one write.
        while let Ok(more) = rx.try_recv() {
            if write(&mut out, &more).is_err() {
                return;
            }
        }
        if out.flush().is_err() {
            return;
        }
    }
}

fn read_loop(
    mut lines: LineReader<ChildStdout>,
    mut inbound: impl Inbound,
    writer: &Writer,
    child: &Mutex<Child>,
    tail: &Mutex<StderrTail>,
    on_failure: &OnFailure,
) {
    // A bug while routing must not leave every waiter hanging: it ends the client like a
    // dead server would, with the panic's message.
    let outcome = catch_unwind(AssertUnwindSafe(|| read_lines(&mut lines, &mut inbound, writer)));
    drop(lines);
    let error = match outcome {
        Ok(read_error) => exit_error(child, tail, read_error),
        Err(panic) => {
            let _ = child.lock().unwrap_or_else(|p| p.into_inner()).kill();
            Error::new(
                ErrorKind::Internal,
                format!("the reader thread failed: {}", panic_text(&*panic)),
            )
        }
    };
    on_failure(error);
}

/// After the child exited: normally the reader sees EOF right away and reports the failure
/// itself. While it is still draining what the server wrote, let it; only a reader that is idle
/// on an empty pipe at two checks in a row is blocked by someone else holding the pipe (a
/// grandchild that inherited it), and then the exit itself is reported. Runs on the timer.
struct ExitCheck {
    reader_done: Receiver<()>,
    stdout: process::PipeHandle,
    child: Arc<Mutex<Child>>,
    tail: Arc<Mutex<StderrTail>>,
    on_failure: OnFailure,
    idle_checks: u32,
}

impl ExitCheck {
    fn schedule(self) {
        timer::after(EXIT_CHECK_INTERVAL, move || self.check());
    }

    fn check(mut self) {
        if let Err(TryRecvError::Disconnected) = self.reader_done.try_recv() {
            return; // the reader ended and reported
        }
        // The reader is alive (checked just above), so the pipe is still open.
        let idle = process::pending_bytes(self.stdout) == 0;
        self.idle_checks = if idle { self.idle_checks + 1 } else { 0 };
        if self.idle_checks < 2 {
            return self.schedule();
        }
        // Describing the exit waits a little for the status and stderr: not on the timer.
        let _ = std::thread::Builder::new().name("codex-exit".into()).spawn(move || {
            (self.on_failure)(exit_error(&self.child, &self.tail, None));
        });
    }
}

/// Reads and hands over lines until EOF; returns the read error, if that is what ended it.
fn read_lines(
    lines: &mut LineReader<ChildStdout>,
    inbound: &mut impl Inbound,
    writer: &Writer,
) -> Option<std::io::Error> {
    let read_error = loop {
        let reply = match lines.next() {
            Ok(None) => break None,
            Ok(Some(Frame::Line(line))) => inbound.line(line),
            Ok(Some(Frame::Oversized { bytes })) => {
                inbound.oversized(bytes, lines.max_line());
                None
            }
            Err(e) => break Some(e),
        };
        if let Some(reply) = reply {
            // Fails only once the client is shut down, when nobody waits for it.
            let _ = writer.send(reply);
        }
        if lines.drained() {
            inbound.batch_end();
        }
    };
    inbound.batch_end();
    read_error
}

/// Waits briefly for the child to exit and its stderr to drain, then describes the failure.
fn exit_error(
    child: &Mutex<Child>,
    tail: &Mutex<StderrTail>,
    read_error: Option<std::io::Error>,
) -> Error {
    let deadline = Instant::now() + Duration::from_millis(300);
    let status = loop {
        let mut c = child.lock().unwrap_or_else(|p| p.into_inner());
        match c.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() < deadline => {}
            Ok(None) => {
                // stdout is gone, so the server is useless: do not leave it running.
                let _ = c.kill();
                break None;
            }
            Err(_) => break None,
        }
        drop(c);
        std::thread::sleep(Duration::from_millis(2));
    };
    while !lock_tail(tail).done && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(2));
    }
    let mut message = match (status, read_error) {
        (_, Some(e)) => format!("reading from codex app-server failed: {e}"),
        (Some(s), None) => format!("codex app-server exited ({})", process::describe_status(s)),
        (None, None) => "codex app-server closed its stdout; it was killed".to_owned(),
    };
    message.push_str(&lock_tail(tail).describe());
    Error::new(ErrorKind::Transport, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_logged_command_line_has_no_config_values_nor_environment_values() {
        let settings = Settings {
            args: ["-c", "api_key=\"sk-1\"", "--config=token=t2", "-cpass=p3", "--verbose"]
                .map(str::to_owned)
                .to_vec(),
            env: vec![("OPENAI_API_KEY".into(), None), ("HOME_TOKEN".into(), Some("t4".into()))],
            ..Settings::default()
        };
        let line = command_line(std::path::Path::new("/bin/codex"), &settings);
        assert_eq!(
            line,
            "/bin/codex -c api_key=… --config=token=… -cpass=… --verbose app-server --listen \
             stdio://; environment set: HOME_TOKEN; environment removed: OPENAI_API_KEY"
        );
    }
}
