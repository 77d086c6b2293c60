//! Test support: the real `codex app-server` (the pinned runtime in .runtime/) with the mock
//! model, each test in a fresh CODEX_HOME and workspace, driven through the C API.

#![allow(dead_code)]

use codex_app_server::ffi::client::*;
use codex_app_server::ffi::error::*;
use codex_app_server::ffi::event::*;
use codex_app_server::ffi::options::*;
use codex_app_server::ffi::request::*;
use codex_app_server::ffi::turn::*;
use codex_app_server::ffi::*;
use std::ffi::{c_char, CStr, CString};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

pub const CODEX_VERSION: &str = "0.163.0";

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The folder of the codex runtime under test (`bin/codex`, `codex-path`, `codex-resources`):
/// the pinned one (installed by scripts/install-runtime.sh), or the one whose binary
/// `$CODEX_TEST_BIN` names (`make test-compat` runs the suite against other releases so).
pub fn runtime() -> PathBuf {
    let dir = match std::env::var_os("CODEX_TEST_BIN") {
        Some(bin) => {
            let bin = PathBuf::from(bin);
            assert!(bin.is_file(), "CODEX_TEST_BIN: no such file: {}", bin.display());
            bin.parent().and_then(Path::parent).expect("CODEX_TEST_BIN is DIR/bin/codex").to_owned()
        }
        None => repo().join(format!(".runtime/codex-{CODEX_VERSION}/codex_cli_bin")),
    };
    assert!(
        dir.join("bin/codex").exists(),
        "the pinned codex runtime is missing: run ./scripts/install-runtime.sh (make test does)"
    );
    dir
}

/// The version of the codex under test, e.g. (0, 163, 0), from its `--version`.
pub fn codex_version() -> (u32, u32, u32) {
    static VERSION: std::sync::OnceLock<(u32, u32, u32)> = std::sync::OnceLock::new();
    *VERSION.get_or_init(|| {
        let out = Command::new(runtime().join("bin/codex")).arg("--version").output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let numbers: Vec<u32> = text
            .split_whitespace()
            .last()
            .unwrap_or_default()
            .split('.')
            .filter_map(|n| n.parse().ok())
            .collect();
        match numbers[..] {
            [major, minor, patch] => (major, minor, patch),
            _ => panic!("codex --version: {text:?}"),
        }
    })
}

/// A mock model and a codex home pointing at it; everything lives in a temp dir removed on drop.
pub struct Offline {
    pub dir: PathBuf,
    pub home: PathBuf,
    pub workspace: PathBuf,
    pub record: PathBuf,
    /// The mock model's port on 127.0.0.1.
    pub port: u16,
    mock: Child,
}

impl Offline {
    pub fn new(script: &serde_json::Value) -> Offline {
        let dir = std::env::temp_dir().join(format!(
            "codex-test-{}-{}",
            std::process::id(),
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()
        ));
        let (home, workspace) = (dir.join("home"), dir.join("workspace"));
        std::fs::create_dir_all(&workspace).unwrap();
        std::fs::create_dir_all(dir.join("tmp")).unwrap();
        let script_path = dir.join("script.json");
        std::fs::write(&script_path, script.to_string()).unwrap();
        let record = dir.join("requests.jsonl");
        let mut mock = Command::new("python3")
            .arg(repo().join("tools/mock_model/mock_model.py"))
            .arg("--script")
            .arg(&script_path)
            .arg("--write-codex-home")
            .arg(&home)
            .arg("--record")
            .arg(&record)
            .args(["--exit-on-stdin-eof", "--idle-exit", "120"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 runs the mock model");
        let mut port = String::new();
        BufReader::new(mock.stdout.as_mut().unwrap()).read_line(&mut port).unwrap();
        let port =
            port.trim().parse::<u16>().unwrap_or_else(|_| panic!("mock model port: {port:?}"));
        Offline { dir, home, workspace, record, port, mock }
    }

    /// One request to the mock model's control endpoints; the JSON it answers.
    pub fn mock_http(&self, method: &str, path: &str, body: &str) -> serde_json::Value {
        let mut conn = std::net::TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        write!(
            conn,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut reply = String::new();
        conn.read_to_string(&mut reply).unwrap();
        let (head, body) = reply.split_once("\r\n\r\n").expect("an HTTP reply");
        assert!(head.split(' ').nth(1) == Some("200"), "{method} {path}: {head}");
        serde_json::from_str(body).unwrap()
    }

    /// Lets the mock's held replies (`hold_after`) go on: those whose `match` is this text, or
    /// all of them. Sticky: a reply that has not reached its hold yet will not hold.
    pub fn release(&self, match_text: Option<&str>) {
        let body = match_text.map(|m| serde_json::json!({ "match": m }).to_string());
        self.mock_http("POST", "/_mock/release", body.as_deref().unwrap_or(""));
    }

    /// How each model request's held reply is doing ("holding") or ended ("client_closed",
    /// "released", "timed_out"; None for a reply without a hold), in arrival order.
    pub fn holds(&self) -> Vec<Option<String>> {
        let requests = self.mock_http("GET", "/_mock/requests", "");
        requests.as_array().unwrap().iter().map(|r| r["hold"].as_str().map(str::to_owned)).collect()
    }

    /// `holds` once none is "holding" any more (bounded: the mock's own hold timeout is 60 s).
    /// Codex may complete a turn before the mock notices that codex closed the held connection,
    /// so a test checks this rather than `holds` right after the turn ends.
    pub fn ended_holds(&self) -> Vec<Option<String>> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
        loop {
            let holds = self.holds();
            if !holds.iter().any(|h| h.as_deref() == Some("holding")) {
                return holds;
            }
            assert!(std::time::Instant::now() < deadline, "a reply is still held: {holds:?}");
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }

    /// Options for the real binary, offline, in this test's home and workspace.
    pub fn options(&self) -> *mut codex_options {
        offline_options(&self.dir, &self.home, &self.workspace)
    }

    /// The environment the options above give the child, for starting `codex` by hand (a
    /// server listening on a socket, the daemon).
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(runtime().join("bin/codex"));
        command
            .args(args)
            .envs(offline_env(&self.dir, &self.home))
            .env_remove("OPENAI_API_KEY")
            .current_dir(&self.workspace);
        command
    }

    pub fn start(&self) -> Client {
        self.start_with(|_| {})
    }

    /// Starts a client after `tune` adjusted the options.
    pub fn start_with(&self, tune: impl FnOnce(*mut codex_options)) -> Client {
        let o = self.options();
        tune(o);
        let mut client = std::ptr::null_mut();
        let mut err = std::ptr::null_mut();
        let rc = unsafe { codex_client_start(o, &mut client, &mut err) };
        unsafe { codex_options_free(o) };
        check(rc, err);
        Client(client)
    }

    /// The bodies of the model requests so far, as text.
    pub fn model_requests(&self) -> Vec<String> {
        std::fs::read_to_string(&self.record)
            .unwrap_or_default()
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                v["body"].to_string()
            })
            .collect()
    }
}

impl Drop for Offline {
    fn drop(&mut self) {
        let _ = self.mock.kill();
        let _ = self.mock.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// What the real binary's environment gets, offline, with `home` as its CODEX_HOME and a
/// TMPDIR in `dir` (OPENAI_API_KEY is removed besides).
pub fn offline_env(dir: &Path, home: &Path) -> [(&'static str, String); 5] {
    let rt = runtime();
    let path = format!(
        "{}:{}:{}",
        rt.join("codex-path").display(),
        rt.join("codex-resources").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    [
        ("CODEX_HOME", home.display().to_string()),
        ("TMPDIR", dir.join("tmp").display().to_string()),
        ("CODEX_APP_SERVER_DISABLE_MANAGED_CONFIG", "1".into()),
        ("RUST_LOG", "warn".into()),
        ("PATH", path),
    ]
}

/// Options for the real binary, offline (`offline_env`), working in `workspace`. Also for a
/// test's child process acting as the host, which gets the paths of its parent's `Offline`.
pub fn offline_options(dir: &Path, home: &Path, workspace: &Path) -> *mut codex_options {
    unsafe {
        let o = codex_options_new();
        ok(codex_options_set_codex_bin(o, cs(runtime().join("bin/codex")).as_ptr(), err_slot()));
        for (k, v) in offline_env(dir, home) {
            ok(codex_options_set_env(o, cs(k).as_ptr(), cs(v).as_ptr(), err_slot()));
        }
        ok(codex_options_set_env(o, cs("OPENAI_API_KEY").as_ptr(), std::ptr::null(), err_slot()));
        ok(codex_options_set_cwd(o, cs(workspace).as_ptr(), err_slot()));
        o
    }
}

pub fn cs(s: impl AsRef<std::ffi::OsStr>) -> CString {
    CString::new(s.as_ref().to_str().unwrap()).unwrap()
}

/// Starts a client with `o` (freed here), or returns the error.
/// Options for a remote app-server at `url` (nothing of a spawned one set).
pub fn remote_options(url: &str, tune: impl FnOnce(*mut codex_options)) -> *mut codex_options {
    let o = codex_options_new();
    set(|e| unsafe { codex_options_set_url(o, cs(url).as_ptr(), e) }).unwrap();
    tune(o);
    o
}

/// A client of the remote app-server at `url`.
pub fn connect(url: &str, tune: impl FnOnce(*mut codex_options)) -> Result<Client, CError> {
    start_client(remote_options(url, tune))
}

pub fn start_client(o: *mut codex_options) -> Result<Client, CError> {
    let mut client = std::ptr::null_mut();
    let mut err = std::ptr::null_mut();
    let rc = unsafe { codex_client_start(o, &mut client, &mut err) };
    unsafe { codex_options_free(o) };
    result(rc, err).map(|()| Client(client))
}

/// Runs a setter that writes an error, as a Result.
pub fn set(call: impl FnOnce(*mut *mut codex_error) -> codex_result) -> Result<(), CError> {
    let mut err = std::ptr::null_mut();
    let rc = call(&mut err);
    result(rc, err)
}

fn err_slot() -> *mut *mut codex_error {
    std::ptr::null_mut()
}

fn ok(rc: codex_result) {
    assert_eq!(rc, CODEX_OK);
}

/// A failed C call, as a Rust value.
#[derive(Debug)]
pub struct CError {
    pub code: codex_result,
    pub message: String,
}

pub fn take_error(rc: codex_result, err: *mut codex_error) -> CError {
    let message = if err.is_null() {
        String::new()
    } else {
        unsafe { CStr::from_ptr(codex_error_message(err)).to_string_lossy().into_owned() }
    };
    unsafe { codex_error_free(err) };
    CError { code: rc, message }
}

/// `Ok` for CODEX_OK, else the call's error.
pub fn result(rc: codex_result, err: *mut codex_error) -> Result<(), CError> {
    if rc == CODEX_OK {
        Ok(())
    } else {
        Err(take_error(rc, err))
    }
}

fn check(rc: codex_result, err: *mut codex_error) {
    if rc != CODEX_OK {
        let e = take_error(rc, err);
        panic!("C call failed: {}: {}", code_name(e.code), e.message);
    }
}

pub fn code_name(code: codex_result) -> String {
    unsafe { CStr::from_ptr(codex_result_name(code)).to_string_lossy().into_owned() }
}

pub unsafe fn owned(s: *mut c_char) -> String {
    let text = CStr::from_ptr(s).to_string_lossy().into_owned();
    codex_string_free(s);
    text
}

pub unsafe fn borrowed(s: *const c_char) -> Option<String> {
    (!s.is_null()).then(|| CStr::from_ptr(s).to_string_lossy().into_owned())
}

pub struct Client(pub *mut codex_client);
unsafe impl Send for Client {}
unsafe impl Sync for Client {}

impl Client {
    pub fn request(
        &self,
        method: &str,
        params: Option<&str>,
        timeout_ms: i64,
    ) -> Result<String, CError> {
        let params = params.map(cs);
        let mut out = std::ptr::null_mut();
        let mut err = std::ptr::null_mut();
        let rc = unsafe {
            codex_client_request(
                self.0,
                cs(method).as_ptr(),
                params.as_ref().map_or(std::ptr::null(), |p| p.as_ptr()),
                timeout_ms,
                &mut out,
                &mut err,
            )
        };
        if rc == CODEX_OK {
            Ok(unsafe { owned(out) })
        } else {
            Err(take_error(rc, err))
        }
    }

    pub fn thread_start(&self, params: &str) -> String {
        let mut id = std::ptr::null_mut();
        let mut err = std::ptr::null_mut();
        let rc = unsafe {
            codex_client_thread_start(
                self.0,
                cs(params).as_ptr(),
                &mut id,
                std::ptr::null_mut(),
                &mut err,
            )
        };
        check(rc, err);
        unsafe { owned(id) }
    }

    /// `codex_client_thread_resume`: (thread id, result JSON).
    pub fn thread_resume(&self, thread: &str) -> Result<(String, serde_json::Value), CError> {
        let mut id = std::ptr::null_mut();
        let mut result = std::ptr::null_mut();
        let mut err = std::ptr::null_mut();
        let rc = unsafe {
            codex_client_thread_resume(
                self.0,
                cs(thread).as_ptr(),
                std::ptr::null(),
                &mut id,
                &mut result,
                &mut err,
            )
        };
        if rc != CODEX_OK {
            return Err(take_error(rc, err));
        }
        unsafe { Ok((owned(id), serde_json::from_str(&owned(result)).unwrap())) }
    }

    pub fn turn_start(&self, thread: &str, input: &str) -> Result<Turn, CError> {
        let mut turn = std::ptr::null_mut();
        let mut err = std::ptr::null_mut();
        let rc = unsafe {
            codex_turn_start(
                self.0,
                cs(thread).as_ptr(),
                cs(input).as_ptr(),
                std::ptr::null(),
                &mut turn,
                &mut err,
            )
        };
        if rc == CODEX_OK {
            Ok(Turn(turn))
        } else {
            Err(take_error(rc, err))
        }
    }

    /// The next client-stream event, or None on timeout.
    pub fn next_client_event(&self, timeout_ms: i64) -> Option<Ev> {
        let mut ev = std::ptr::null_mut();
        let mut err = std::ptr::null_mut();
        let rc = unsafe { codex_client_next_event(self.0, timeout_ms, &mut ev, &mut err) };
        if rc != CODEX_OK {
            let e = take_error(rc, err);
            assert_eq!(e.code, CODEX_ERR_TIMEOUT, "{}", e.message);
            return None;
        }
        Some(unsafe { copy_event(ev) })
    }

    pub fn server_pid(&self) -> u32 {
        unsafe { codex_client_server_pid(self.0) }
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        unsafe { codex_client_free(self.0) };
    }
}

/// A server request handle.
#[derive(Debug)]
pub struct Req(pub *mut codex_request);
unsafe impl Send for Req {}
unsafe impl Sync for Req {}

impl Req {
    pub fn method(&self) -> String {
        unsafe { borrowed(codex_request_method(self.0)).unwrap() }
    }
    pub fn approve(&self, decision: u32) -> Result<(), CError> {
        let mut err = std::ptr::null_mut();
        let rc = unsafe { codex_request_approve(self.0, decision, &mut err) };
        result(rc, err)
    }
    pub fn is_open(&self) -> bool {
        unsafe { codex_request_is_open(self.0) }
    }
}

impl Drop for Req {
    fn drop(&mut self) {
        unsafe { codex_request_free(self.0) };
    }
}

/// An event copied out of the C accessors.
#[derive(Debug)]
pub struct Ev {
    pub kind: u32,
    pub method: String,
    pub thread_id: Option<String>,
    pub turn_id: Option<String>,
    pub params: serde_json::Value,
    pub delta: Option<String>,
    pub status: Option<String>,
    /// For server requests: a handle to answer it.
    pub request: Option<Req>,
}

/// Copies an event out of the C accessors (taking a request handle for server requests) and
/// frees it.
unsafe fn copy_event(ev: *mut codex_event) -> Ev {
    let mut copy = Ev {
        kind: codex_event_kind(ev),
        method: borrowed(codex_event_method(ev)).unwrap(),
        thread_id: borrowed(codex_event_thread_id(ev)),
        turn_id: borrowed(codex_event_turn_id(ev)),
        params: serde_json::from_str(
            &borrowed(codex_event_params(ev, std::ptr::null_mut())).unwrap(),
        )
        .unwrap(),
        delta: borrowed(codex_event_delta(ev, std::ptr::null_mut())),
        status: borrowed(codex_event_turn_status(ev)),
        request: None,
    };
    if copy.kind == CODEX_EVENT_SERVER_REQUEST {
        let mut req = std::ptr::null_mut();
        if codex_event_request(ev, &mut req, std::ptr::null_mut()) == CODEX_OK {
            copy.request = Some(Req(req));
        }
    }
    codex_event_free(ev);
    copy
}

pub struct Turn(pub *mut codex_turn);
unsafe impl Send for Turn {}
unsafe impl Sync for Turn {}

/// The outcome of `Turn::next`.
pub enum Next {
    Event(Ev),
    End,
    Failed(CError),
}

impl Turn {
    pub fn id(&self) -> String {
        unsafe { borrowed(codex_turn_id(self.0)).unwrap() }
    }

    pub fn next(&self, timeout_ms: i64) -> Next {
        let mut ev = std::ptr::null_mut();
        let mut err = std::ptr::null_mut();
        let rc = unsafe { codex_turn_next_event(self.0, timeout_ms, &mut ev, &mut err) };
        match rc {
            CODEX_OK => Next::Event(unsafe { copy_event(ev) }),
            CODEX_STREAM_END => Next::End,
            _ => Next::Failed(take_error(rc, err)),
        }
    }

    /// Every remaining event until the end of the stream; panics on failure.
    pub fn collect(&self) -> Vec<Ev> {
        let mut events = Vec::new();
        loop {
            match self.next(60_000) {
                Next::Event(e) => events.push(e),
                Next::End => return events,
                Next::Failed(e) => panic!("turn failed: {}: {}", code_name(e.code), e.message),
            }
        }
    }

    pub fn steer(&self, input: &str) -> Result<(), CError> {
        let mut err = std::ptr::null_mut();
        let rc = unsafe { codex_turn_steer(self.0, cs(input).as_ptr(), &mut err) };
        result(rc, err)
    }

    pub fn interrupt(&self) -> Result<(), CError> {
        let mut err = std::ptr::null_mut();
        let rc = unsafe { codex_turn_interrupt(self.0, &mut err) };
        result(rc, err)
    }

    /// `codex_turn_run`: (status, final answer, error message, usage JSON, items JSON).
    pub fn run(&self) -> RunResult {
        let mut res = std::ptr::null_mut();
        let mut err = std::ptr::null_mut();
        let rc = unsafe { codex_turn_run(self.0, 60_000, &mut res, &mut err) };
        check(rc, err);
        unsafe {
            let out = RunResult {
                status: borrowed(codex_turn_result_status(res)).unwrap(),
                final_answer: borrowed(codex_turn_result_final_answer(res)),
                error_message: borrowed(codex_turn_result_error_message(res)),
                usage: borrowed(codex_turn_result_usage_json(res))
                    .map(|u| serde_json::from_str(&u).unwrap()),
                items: serde_json::from_str(
                    &borrowed(codex_turn_result_items_json(res, std::ptr::null_mut())).unwrap(),
                )
                .unwrap(),
                gap: codex_turn_result_gap(res),
            };
            codex_turn_result_free(res);
            out
        }
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        unsafe { codex_turn_free(self.0) };
    }
}

#[derive(Debug)]
pub struct RunResult {
    pub status: String,
    pub final_answer: Option<String>,
    pub error_message: Option<String>,
    pub usage: Option<serde_json::Value>,
    pub items: serde_json::Value,
    /// The stream had a gap (a reconnect while the turn ran).
    pub gap: bool,
}

/// Sets how long a dropped ws/unix connection is made again (0: never).
pub fn reconnect_window(ms: i64) -> impl FnOnce(*mut codex_options) {
    move |o| unsafe { ok(codex_options_set_reconnect_window_ms(o, ms, err_slot())) }
}

/// Sets the server request answer timeout.
pub fn answer_timeout(ms: i64) -> impl FnOnce(*mut codex_options) {
    move |o| unsafe { ok(codex_options_set_server_request_timeout_ms(o, ms, err_slot())) }
}

pub fn deltas(events: &[Ev]) -> Vec<String> {
    events
        .iter()
        .filter(|e| e.kind == CODEX_EVENT_AGENT_MESSAGE_DELTA)
        .filter_map(|e| e.delta.clone())
        .collect()
}

pub fn exists(p: &Path) -> bool {
    p.exists()
}
