//! Linux: one thread for every spawned app-server of the process, polling their stderr pipes
//! and pidfds (an fd that becomes readable when the process exits), so a client costs no
//! thread for these.

use super::watch::{lock, ChildWatch, OnExit};
use crate::core::transport::stderr_tail::StderrTail;
use std::io::Read;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::process::ChildStderr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

struct Entry {
    pidfd: OwnedFd,
    /// `None` once stderr reached its end.
    stderr: Option<ChildStderr>,
    tail: Arc<Mutex<StderrTail>>,
    /// `None` once the exit was reported.
    on_exit: Option<OnExit>,
}

struct Watcher {
    entries: Mutex<Vec<Entry>>,
    /// An eventfd that wakes the poll when an entry is added.
    wake: OwnedFd,
}

fn watcher() -> Option<&'static Watcher> {
    static WATCHER: OnceLock<Option<&'static Watcher>> = OnceLock::new();
    *WATCHER.get_or_init(|| {
        let fd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
        if fd < 0 {
            return None;
        }
        let wake = unsafe { OwnedFd::from_raw_fd(fd) };
        let watcher: &'static Watcher =
            Box::leak(Box::new(Watcher { entries: Mutex::new(Vec::new()), wake }));
        std::thread::Builder::new().name("codex-watch".into()).spawn(move || watcher.run()).ok()?;
        Some(watcher)
    })
}

/// Hands the child to the shared watcher; gives it back when this kernel has no pidfd.
pub fn watch(watch: ChildWatch) -> Result<(), ChildWatch> {
    // Asked once: without pidfds (before Linux 5.3, or under valgrind) every child gets threads.
    static NO_PIDFD: AtomicBool = AtomicBool::new(false);
    if NO_PIDFD.load(Ordering::Relaxed) {
        return Err(watch);
    }
    let Some(watcher) = watcher() else { return Err(watch) };
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, watch.pid as libc::pid_t, 0) };
    if fd < 0 {
        if std::io::Error::last_os_error().raw_os_error() == Some(libc::ENOSYS) {
            NO_PIDFD.store(true, Ordering::Relaxed);
        }
        return Err(watch);
    }
    let pidfd = unsafe { OwnedFd::from_raw_fd(fd as i32) };
    let stderr_fd = watch.stderr.as_raw_fd();
    unsafe {
        let flags = libc::fcntl(stderr_fd, libc::F_GETFL);
        libc::fcntl(stderr_fd, libc::F_SETFL, flags | libc::O_NONBLOCK);
    }
    let entry =
        Entry { pidfd, stderr: Some(watch.stderr), tail: watch.tail, on_exit: Some(watch.on_exit) };
    watcher.entries.lock().unwrap_or_else(|p| p.into_inner()).push(entry);
    let one: u64 = 1;
    unsafe { libc::write(watcher.wake.as_raw_fd(), (&one as *const u64).cast(), 8) };
    Ok(())
}

/// Which fd of which entry a pollfd is.
enum Watched {
    Stderr(usize),
    Exit(usize),
}

impl Watcher {
    fn run(&self) {
        let mut fds: Vec<libc::pollfd> = Vec::new();
        let mut what: Vec<Watched> = Vec::new();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            fds.clear();
            what.clear();
            fds.push(libc::pollfd { fd: self.wake.as_raw_fd(), events: libc::POLLIN, revents: 0 });
            for (i, e) in self.entries.lock().unwrap_or_else(|p| p.into_inner()).iter().enumerate()
            {
                if let Some(stderr) = &e.stderr {
                    fds.push(libc::pollfd {
                        fd: stderr.as_raw_fd(),
                        events: libc::POLLIN,
                        revents: 0,
                    });
                    what.push(Watched::Stderr(i));
                }
                if e.on_exit.is_some() {
                    fds.push(libc::pollfd {
                        fd: e.pidfd.as_raw_fd(),
                        events: libc::POLLIN,
                        revents: 0,
                    });
                    what.push(Watched::Exit(i));
                }
            }
            let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, -1) };
            if n < 0 {
                continue; // EINTR
            }
            if fds[0].revents != 0 {
                let mut count = 0u64;
                unsafe { libc::read(self.wake.as_raw_fd(), (&mut count as *mut u64).cast(), 8) };
            }
            let mut exited = Vec::new();
            let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
            // Entries are only added (at the end) elsewhere, so the indexes still hold.
            for (pfd, watched) in fds[1..].iter().zip(&what) {
                if pfd.revents == 0 {
                    continue;
                }
                match *watched {
                    Watched::Stderr(i) => drain(&mut entries[i], &mut buf),
                    Watched::Exit(i) => exited.extend(entries[i].on_exit.take()),
                }
            }
            entries.retain(|e| e.stderr.is_some() || e.on_exit.is_some());
            drop(entries);
            for on_exit in exited {
                on_exit();
            }
        }
    }
}

/// Reads what a stderr pipe holds into its tail; at its end, closes it.
fn drain(entry: &mut Entry, buf: &mut [u8]) {
    let Some(stderr) = entry.stderr.as_mut() else { return };
    loop {
        match stderr.read(buf) {
            Ok(0) => break,
            Ok(n) => lock(&entry.tail).feed(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    lock(&entry.tail).finish();
    entry.stderr = None;
}
