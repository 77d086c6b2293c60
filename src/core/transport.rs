//! The child process: spawning it, the writer thread, the one stdout reader thread, and the
//! stderr tail that failures report.

use super::error::{Error, ErrorKind, Result};
use super::options::Options;
use crossbeam_channel::{unbounded, Receiver, RecvTimeoutError, Sender};
use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::io::{AsRawFd, RawFd};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How much of the app-server's stderr a failure reports.
const STDERR_TAIL_LINES: usize = 20;
const STDERR_LINE_MAX: usize = 2000;
/// Asked of the kernel for the stdout pipe, so a flood is read in large batches.
#[cfg(target_os = "linux")]
const STDOUT_PIPE_BYTES: i32 = 1 << 20;
const READ_BUFFER_BYTES: usize = 1 << 20;
/// How often the exit watcher looks at a reader that has not seen EOF after the child exited.
const EXIT_CHECK_INTERVAL: Duration = Duration::from_millis(100);
/// How long shutdown waits for the I/O threads after the child is gone.
const THREAD_EXIT_WAIT: Duration = Duration::from_secs(1);

/// What the reader thread hands each line to.
pub trait Inbound: Send + 'static {
    /// One line, without its newline. Returns a line to write back (an answer to a server
    /// request), which the writer sends without the reader ever blocking on the pipe.
    fn line(&mut self, line: &[u8]) -> Option<Vec<u8>>;
    /// The reader is about to block: deliver what this batch produced.
    fn batch_end(&mut self);
}

/// Ends every waiter and stream with the transport's failure (exit status, stderr tail). Called
/// when stdout closes, or when the child exits while something else keeps stdout open; the
/// first call decides, later ones change nothing.
pub type OnFailure = Arc<dyn Fn(Error) + Send + Sync>;

/// The writer thread's queue; `None` once the client is shut down, which closes stdin.
type WriterSlot = Arc<Mutex<Option<Sender<Vec<u8>>>>>;

/// A handle on the writer thread that other parts (server-request answers) can keep.
#[derive(Clone)]
pub struct Writer(WriterSlot);

impl Writer {
    /// Queues one line (without its newline) for the child's stdin.
    pub fn send(&self, line: Vec<u8>) -> Result<()> {
        send_line(&self.0, line)
    }
}

pub struct Transport {
    writer: WriterSlot,
    child: Arc<Mutex<Child>>,
    pid: u32,
    threads: Mutex<Vec<IoThread>>,
}

#[derive(Default)]
struct StderrTail {
    lines: VecDeque<String>,
    done: bool,
}

impl Transport {
    /// Starts `codex [args] app-server --listen stdio://` and the I/O threads.
    pub fn spawn(
        options: &Options,
        inbound: impl Inbound,
        on_failure: OnFailure,
    ) -> Result<Transport> {
        let program = resolve_program(options)?;
        let mut command = Command::new(&program);
        command
            .args(&options.args)
            .args(["app-server", "--listen", "stdio://"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (name, value) in &options.env {
            match value {
                Some(v) => command.env(name, v),
                None => command.env_remove(name),
            };
        }
        if let Some(cwd) = &options.cwd {
            command.current_dir(cwd);
        }
        let mut child = command.spawn().map_err(|e| {
            Error::new(ErrorKind::Spawn, format!("cannot start {}: {e}", program.display()))
        })?;
        let pid = child.id();
        let stdin = child.stdin.take().expect("stdin is piped");
        let stdout = child.stdout.take().expect("stdout is piped");
        let stderr = child.stderr.take().expect("stderr is piped");
        enlarge_pipe(&stdout);
        let stdout_fd = stdout.as_raw_fd();

        let tail = Arc::new(Mutex::new(StderrTail::default()));
        let child = Arc::new(Mutex::new(child));
        let (tx, rx) = unbounded::<Vec<u8>>();
        let writer: WriterSlot = Arc::new(Mutex::new(Some(tx)));
        let mut threads = Vec::new();
        threads.push(spawn_named("codex-writer", move || write_loop(stdin, rx)));
        {
            let tail = tail.clone();
            threads.push(spawn_named("codex-stderr", move || stderr_loop(stderr, &tail)));
        }
        let reader = {
            let (child, writer, tail, on_failure) =
                (child.clone(), writer.clone(), tail.clone(), on_failure.clone());
            spawn_named("codex-reader", move || {
                read_loop(stdout, inbound, &writer, &child, &tail, &on_failure)
            })
        };
        let reader_done = reader.done.clone();
        threads.push(reader);
        {
            let child = child.clone();
            threads.push(spawn_named("codex-exit-watch", move || {
                watch_exit(pid, stdout_fd, &reader_done, &child, &tail, &on_failure)
            }));
        }
        Ok(Transport { writer, child, pid, threads: Mutex::new(threads) })
    }

    /// Queues one line for the writer thread (never blocks on the pipe).
    pub fn send(&self, line: Vec<u8>) -> Result<()> {
        send_line(&self.writer, line)
    }

    pub fn writer(&self) -> Writer {
        Writer(self.writer.clone())
    }

    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Closes stdin, gives the server `grace` to exit, then kills it; joins the I/O threads
    /// that end within `THREAD_EXIT_WAIT` (a grandchild that inherited a pipe could keep one
    /// blocked: that thread is left to end by itself rather than hang the close).
    pub fn shutdown(&self, grace: Duration) {
        self.writer.lock().unwrap_or_else(|p| p.into_inner()).take();
        let deadline = Instant::now() + grace;
        loop {
            let mut child = self.child.lock().unwrap_or_else(|p| p.into_inner());
            if !matches!(child.try_wait(), Ok(None)) {
                break;
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                break;
            }
            drop(child);
            std::thread::sleep(Duration::from_millis(5));
        }
        let threads = std::mem::take(&mut *self.threads.lock().unwrap_or_else(|p| p.into_inner()));
        let me = std::thread::current().id();
        let deadline = Instant::now() + THREAD_EXIT_WAIT;
        for t in threads {
            // Disconnected: the thread ended. Timeout: it is still blocked; leave it.
            let ended =
                matches!(t.done.recv_deadline(deadline), Err(RecvTimeoutError::Disconnected));
            if ended && t.handle.thread().id() != me {
                let _ = t.handle.join();
            }
        }
    }
}

fn send_line(writer: &WriterSlot, mut line: Vec<u8>) -> Result<()> {
    line.push(b'\n');
    let writer = writer.lock().unwrap_or_else(|p| p.into_inner());
    match writer.as_ref().map(|w| w.send(line)) {
        Some(Ok(())) => Ok(()),
        _ => Err(Error::new(ErrorKind::Closed, "the client is closed")),
    }
}

/// An I/O thread; `done` disconnects when it ends, so shutdown can wait for it with a bound.
struct IoThread {
    handle: JoinHandle<()>,
    done: Receiver<()>,
}

fn spawn_named(name: &str, f: impl FnOnce() + Send + 'static) -> IoThread {
    let (alive, done) = crossbeam_channel::bounded::<()>(0);
    let handle = std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            let _alive = alive; // dropped when the thread ends
            f()
        })
        .expect("cannot spawn an I/O thread");
    IoThread { handle, done }
}

/// The explicit path, else `$CODEX_BIN`, else `codex` on PATH; the error names what was tried.
fn resolve_program(options: &Options) -> Result<PathBuf> {
    let explicit = match &options.codex_bin {
        Some(path) => Some((path.clone(), "the codex binary set in the options")),
        None => std::env::var_os("CODEX_BIN")
            .filter(|v| !v.is_empty())
            .map(|v| (PathBuf::from(v), "CODEX_BIN")),
    };
    if let Some((path, source)) = explicit {
        // Checked here so the error names the path, whatever the platform's spawn reports.
        if !is_executable(&path) {
            return Err(Error::new(
                ErrorKind::Spawn,
                format!("{source} ({}) is not an executable file", path.display()),
            ));
        }
        return Ok(path);
    }
    // The child's PATH: an override in the options, else ours.
    let path = match options.env.iter().rev().find(|(name, _)| name == "PATH") {
        Some((_, value)) => value.clone().unwrap_or_default(),
        None => std::env::var("PATH").unwrap_or_default(),
    };
    for dir in std::env::split_paths(&path) {
        let candidate = dir.join("codex");
        if is_executable(&candidate) {
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

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata().map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0).unwrap_or(false)
}

#[cfg(target_os = "linux")]
fn enlarge_pipe(stdout: &ChildStdout) {
    // Best effort: the default 64 KiB pipe still works, in smaller batches.
    unsafe {
        libc::fcntl(stdout.as_raw_fd(), libc::F_SETPIPE_SZ, STDOUT_PIPE_BYTES);
    }
}

#[cfg(not(target_os = "linux"))]
fn enlarge_pipe(_stdout: &ChildStdout) {}

fn write_loop(stdin: std::process::ChildStdin, rx: Receiver<Vec<u8>>) {
    // A C host may not ignore SIGPIPE: block it on this thread so a dead child gives EPIPE.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGPIPE);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
    }
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, stdin);
    while let Ok(line) = rx.recv() {
        if out.write_all(&line).is_err() {
            return;
        }
        // Flush once nothing more is queued, so bursts go out in one write.
        while let Ok(more) = rx.try_recv() {
            if out.write_all(&more).is_err() {
                return;
            }
        }
        if out.flush().is_err() {
            return;
        }
    }
}

fn stderr_loop(stderr: std::process::ChildStderr, tail: &Mutex<StderrTail>) {
    let mut reader = BufReader::new(stderr);
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) => {
                let text = String::from_utf8_lossy(&line);
                let text = text.trim_end();
                let mut cut = text.len().min(STDERR_LINE_MAX);
                while !text.is_char_boundary(cut) {
                    cut -= 1;
                }
                let mut t = tail.lock().unwrap_or_else(|p| p.into_inner());
                if t.lines.len() == STDERR_TAIL_LINES {
                    t.lines.pop_front();
                }
                t.lines.push_back(text[..cut].to_owned());
            }
        }
    }
    tail.lock().unwrap_or_else(|p| p.into_inner()).done = true;
}

fn read_loop(
    stdout: ChildStdout,
    mut inbound: impl Inbound,
    writer: &WriterSlot,
    child: &Mutex<Child>,
    tail: &Mutex<StderrTail>,
    on_failure: &OnFailure,
) {
    let mut reader = BufReader::with_capacity(READ_BUFFER_BYTES, stdout);
    // A bug while routing must not leave every waiter hanging: it ends the client like a
    // dead server would, with the panic's message.
    let outcome = catch_unwind(AssertUnwindSafe(|| read_lines(&mut reader, &mut inbound, writer)));
    drop(reader);
    let error = match outcome {
        Ok(read_error) => exit_error(child, tail, read_error),
        Err(panic) => {
            let _ = child.lock().unwrap_or_else(|p| p.into_inner()).kill();
            Error::new(
                ErrorKind::Internal,
                format!("the reader thread failed: {}", panic_text(&panic)),
            )
        }
    };
    on_failure(error);
}

/// Reports the child's exit when stdout stays open after it (a grandchild that inherited the
/// pipe), so waiters fail promptly all the same.
fn watch_exit(
    pid: u32,
    stdout_fd: RawFd,
    reader_done: &Receiver<()>,
    child: &Mutex<Child>,
    tail: &Mutex<StderrTail>,
    on_failure: &OnFailure,
) {
    // Waits for the exit without reaping: whoever holds `child` still collects the status.
    let exited = loop {
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        let flags = libc::WEXITED | libc::WNOWAIT;
        match unsafe { libc::waitid(libc::P_PID, pid as libc::id_t, &mut info, flags) } {
            0 => break true,
            _ if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted => {}
            _ => break false, // already reaped: the reader or shutdown saw it
        }
    };
    if !exited {
        return;
    }
    // Normally the reader sees EOF right away and reports the failure itself. While it is still
    // draining what the server wrote, let it; only a reader that is idle on an empty pipe twice
    // in a row is blocked by someone else holding the pipe.
    let mut idle_checks = 0;
    while idle_checks < 2 {
        if let Err(RecvTimeoutError::Disconnected) = reader_done.recv_timeout(EXIT_CHECK_INTERVAL) {
            return;
        }
        idle_checks = if pending_bytes(stdout_fd) == 0 { idle_checks + 1 } else { 0 };
    }
    on_failure(exit_error(child, tail, None));
}

/// Bytes waiting in a pipe (0 when unknown).
fn pending_bytes(fd: RawFd) -> usize {
    let mut n: libc::c_int = 0;
    // Only read while the reader thread, which owns `fd`, is alive (checked just before).
    let rc = unsafe { libc::ioctl(fd, libc::FIONREAD, &mut n) };
    if rc == 0 {
        n.max(0) as usize
    } else {
        0
    }
}

/// Reads and hands over lines until EOF; returns the read error, if that is what ended it.
fn read_lines(
    reader: &mut BufReader<ChildStdout>,
    inbound: &mut impl Inbound,
    writer: &WriterSlot,
) -> Option<std::io::Error> {
    let mut line = Vec::with_capacity(4096);
    let read_error = loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) => break None,
            Ok(_) => {
                if line.last() == Some(&b'\n') {
                    line.pop();
                }
                if let Some(reply) = inbound.line(&line) {
                    // Fails only once the client is shut down, when nobody waits for it.
                    let _ = send_line(writer, reply);
                }
                if reader.buffer().is_empty() {
                    inbound.batch_end();
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => break Some(e),
        }
    };
    inbound.batch_end();
    read_error
}

/// The message of a caught panic.
pub fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned())
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
    while !tail.lock().unwrap_or_else(|p| p.into_inner()).done && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(2));
    }
    let mut message = match (status, read_error) {
        (_, Some(e)) => format!("reading from codex app-server failed: {e}"),
        (Some(s), None) => format!("codex app-server exited ({})", describe_status(s)),
        (None, None) => "codex app-server closed its stdout; it was killed".to_owned(),
    };
    let t = tail.lock().unwrap_or_else(|p| p.into_inner());
    if t.lines.is_empty() {
        message.push_str("; stderr was empty");
    } else {
        message.push_str("; last stderr lines:\n");
        message.push_str(&t.lines.iter().cloned().collect::<Vec<_>>().join("\n"));
    }
    Error::new(ErrorKind::Transport, message)
}

fn describe_status(status: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit status {code}"),
        (None, Some(sig)) => format!("killed by signal {sig}"),
        _ => status.to_string(),
    }
}
