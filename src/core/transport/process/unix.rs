//! Unix: executable bits, the pipe size, SIGPIPE, waiting for an exit without reaping it,
//! bytes pending in a pipe, and how an exit status reads.

use std::os::unix::io::{AsRawFd, RawFd};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, ExitStatus};

/// Nothing to add to the command on Unix.
pub fn prepare(_command: &mut Command) {}

/// No spawn error on Unix is worth a second try.
pub fn is_transient_spawn_error(_error: &std::io::Error) -> bool {
    false
}

/// On Unix killing the child is all there is (no process group of its own).
pub struct ProcessTree;

impl ProcessTree {
    pub fn adopt(_child: &Child) -> ProcessTree {
        ProcessTree
    }

    pub fn kill(&self) {}
}

/// Asked of the kernel for the stdout pipe, so a flood is read in large batches.
#[cfg(target_os = "linux")]
const STDOUT_PIPE_BYTES: i32 = 1 << 20;

/// The raw handle of the child's stdout, to look at while the reader owns it.
pub type PipeHandle = RawFd;

pub fn pipe_handle(stdout: &ChildStdout) -> PipeHandle {
    stdout.as_raw_fd()
}

pub fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata().map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0).unwrap_or(false)
}

/// The name of the binary on PATH.
pub const CODEX_PROGRAM: &str = "codex";

#[cfg(target_os = "linux")]
pub fn enlarge_pipe(stdout: &ChildStdout) {
    // Best effort: the default 64 KiB pipe still works, in smaller batches.
    unsafe {
        libc::fcntl(stdout.as_raw_fd(), libc::F_SETPIPE_SZ, STDOUT_PIPE_BYTES);
    }
}

#[cfg(not(target_os = "linux"))]
pub fn enlarge_pipe(_stdout: &ChildStdout) {}

/// A C host may not ignore SIGPIPE: blocked on the calling (writer) thread, a dead child gives
/// EPIPE instead of killing the host.
pub fn block_sigpipe_on_this_thread() {
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGPIPE);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
    }
}

/// Blocks until process `pid` exits, without reaping it (whoever holds the `Child` still
/// collects the status). False when it was already reaped.
pub fn wait_exit_without_reaping(pid: u32) -> bool {
    loop {
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        let flags = libc::WEXITED | libc::WNOWAIT;
        match unsafe { libc::waitid(libc::P_PID, pid as libc::id_t, &mut info, flags) } {
            0 => return true,
            _ if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted => {}
            _ => return false,
        }
    }
}

/// Bytes waiting in a pipe (0 when unknown). Only call while the pipe's owner keeps it open.
pub fn pending_bytes(pipe: PipeHandle) -> usize {
    let mut n: libc::c_int = 0;
    let rc = unsafe { libc::ioctl(pipe, libc::FIONREAD, &mut n) };
    if rc == 0 {
        n.max(0) as usize
    } else {
        0
    }
}

pub fn describe_status(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit status {code}"),
        (None, Some(sig)) => format!("killed by signal {sig}"),
        _ => status.to_string(),
    }
}
