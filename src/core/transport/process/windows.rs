//! Windows: spawning without a console window and inside a Job Object (closing or killing it
//! ends the app-server's whole process tree, as a process group would on Unix), waiting for an
//! exit without reaping it, bytes pending in a pipe, and how an exit code reads.

use std::os::windows::io::AsRawHandle;
use std::os::windows::process::CommandExt;
use std::path::Path;
use std::process::{Child, ChildStdout, Command, ExitStatus};
use windows_sys::Win32::Foundation::{CloseHandle, HANDLE, WAIT_OBJECT_0};
use windows_sys::Win32::System::JobObjects::{
    AssignProcessToJobObject, CreateJobObjectW, JobObjectExtendedLimitInformation,
    SetInformationJobObject, TerminateJobObject, JOBOBJECT_EXTENDED_LIMIT_INFORMATION,
    JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE,
};
use windows_sys::Win32::System::Pipes::PeekNamedPipe;
use windows_sys::Win32::System::Threading::{
    OpenProcess, WaitForSingleObject, CREATE_NO_WINDOW, INFINITE, PROCESS_SYNCHRONIZE,
};

/// The exit code of processes ended by `kill` (what the standard library's kill gives too).
const KILLED_EXIT_CODE: u32 = 1;

/// No console window for the app-server, whatever kind of program hosts the library.
pub fn prepare(command: &mut Command) {
    command.creation_flags(CREATE_NO_WINDOW);
}

/// `ERROR_INTERNAL_ERROR` from CreateProcess says nothing about the program and passes: seen
/// under wine while many processes started at once on a loaded machine.
pub fn is_transient_spawn_error(error: &std::io::Error) -> bool {
    error.raw_os_error() == Some(windows_sys::Win32::Foundation::ERROR_INTERNAL_ERROR as i32)
}

/// The Job Object holding the app-server and everything it starts; closing the last handle
/// (this one) kills them all. `None` when the child could not be put in one (then only the
/// child itself is killed).
pub struct ProcessTree {
    job: Option<Job>,
}

struct Job(HANDLE);

// A kernel handle, usable from any thread; closed once, on drop.
unsafe impl Send for Job {}
unsafe impl Sync for Job {}

impl Drop for Job {
    fn drop(&mut self) {
        unsafe { CloseHandle(self.0) };
    }
}

impl ProcessTree {
    /// Puts the just-spawned child in a new kill-on-close job. Processes it starts from then on
    /// are in the job too; the child has had no time to start any before this runs but the few
    /// microseconds since `spawn` returned.
    pub fn adopt(child: &Child) -> ProcessTree {
        ProcessTree { job: new_job().filter(|job| assign(job, child)) }
    }

    pub fn kill(&self) {
        if let Some(job) = &self.job {
            unsafe { TerminateJobObject(job.0, KILLED_EXIT_CODE) };
        }
    }
}

fn new_job() -> Option<Job> {
    let handle = unsafe { CreateJobObjectW(std::ptr::null(), std::ptr::null()) };
    if handle.is_null() {
        return None;
    }
    let job = Job(handle);
    let mut limits: JOBOBJECT_EXTENDED_LIMIT_INFORMATION = unsafe { std::mem::zeroed() };
    limits.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
    let ok = unsafe {
        SetInformationJobObject(
            job.0,
            JobObjectExtendedLimitInformation,
            (&limits as *const JOBOBJECT_EXTENDED_LIMIT_INFORMATION).cast(),
            std::mem::size_of::<JOBOBJECT_EXTENDED_LIMIT_INFORMATION>() as u32,
        )
    };
    (ok != 0).then_some(job)
}

fn assign(job: &Job, child: &Child) -> bool {
    unsafe { AssignProcessToJobObject(job.0, child.as_raw_handle() as HANDLE) != 0 }
}

/// The raw handle of the child's stdout, to look at while the reader owns it (an address-sized
/// integer, so it can cross threads).
pub type PipeHandle = usize;

pub fn pipe_handle(stdout: &ChildStdout) -> PipeHandle {
    stdout.as_raw_handle() as usize
}

/// Windows has no executable bit: any file will be tried.
pub fn is_executable(path: &Path) -> bool {
    path.metadata().map(|m| m.is_file()).unwrap_or(false)
}

/// The name of the binary on PATH.
pub const CODEX_PROGRAM: &str = "codex.exe";

/// The pipe's size is fixed when the standard library creates it.
pub fn enlarge_pipe(_stdout: &ChildStdout) {}

/// No SIGPIPE on Windows: writing to a closed pipe is an error.
pub fn block_sigpipe_on_this_thread() {}

/// Blocks until process `pid` exits, without reaping it (the `Child` keeps its handle and
/// collects the status). False when the process cannot be opened (already gone).
pub fn wait_exit_without_reaping(pid: u32) -> bool {
    let handle = unsafe { OpenProcess(PROCESS_SYNCHRONIZE, 0, pid) };
    if handle.is_null() {
        return false;
    }
    let waited = unsafe { WaitForSingleObject(handle, INFINITE) };
    unsafe { CloseHandle(handle) };
    waited == WAIT_OBJECT_0
}

/// Bytes waiting in a pipe (0 when unknown). Only call while the pipe's owner keeps it open.
pub fn pending_bytes(pipe: PipeHandle) -> usize {
    let mut available: u32 = 0;
    let ok = unsafe {
        PeekNamedPipe(
            pipe as HANDLE,
            std::ptr::null_mut(),
            0,
            std::ptr::null_mut(),
            &mut available,
            std::ptr::null_mut(),
        )
    };
    if ok != 0 {
        available as usize
    } else {
        0
    }
}

/// Exit codes from 0xC0000000 on are NTSTATUS values (a crash, e.g. 0xC0000005 for an access
/// violation), shown in hex; others in decimal, as on Unix.
pub fn describe_status(status: ExitStatus) -> String {
    match status.code().map(|c| c as u32) {
        Some(code) if code >= 0xC000_0000 => format!("exit status 0x{code:08X}"),
        Some(code) => format!("exit status {code}"),
        None => status.to_string(),
    }
}
