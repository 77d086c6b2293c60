//! The one error type of the core. The C layer maps `ErrorKind` to result codes.

use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// A bad argument from the caller (NULL, invalid UTF-8, invalid JSON, unknown value).
    InvalidArgument,
    /// The app-server could not be started.
    Spawn,
    /// No answer or event within the given time.
    Timeout,
    /// The server answered a request with a JSON-RPC error.
    Rpc,
    /// The server answered -32001 "Server overloaded; retry later.": retryable.
    Overloaded,
    /// The app-server exited or closed its stdout, or the connection to a remote one failed
    /// (refused, unreachable, timed out, dropped, closed, silent past the keepalive).
    Transport,
    /// A remote app-server refused the connection's credentials (HTTP 401/403 at the upgrade).
    Auth,
    /// The client was closed by the program.
    Closed,
    /// A turn is already running (or starting) on that thread.
    TurnActive,
    /// The server sent something this client cannot use (e.g. a result without a turn id).
    Protocol,
    /// A bug in this library (a caught panic).
    Internal,
    /// A server request that is no longer open (answered, resolved, expired, turn ended).
    StaleRequest,
    /// A turn's unconsumed events reached the buffer limit; the turn was interrupted.
    Overflow,
    /// A JSON Pointer named no value in the document (a getter's answer, not a failure).
    NotFound,
    /// A JSON Pointer named a value of another type than the getter reads.
    WrongType,
    /// An asynchronous start was refused: the client's bound of requests in flight is reached.
    TooManyPending,
}

#[derive(Clone, Debug)]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
    /// The JSON-RPC error code, for `Rpc` and `Overloaded`.
    pub rpc_code: Option<i64>,
    /// The JSON-RPC error's `data`, as raw JSON, when the server gave one.
    pub rpc_data: Option<String>,
}

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error { kind, message: message.into(), rpc_code: None, rpc_data: None }
    }

    pub fn invalid_argument(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidArgument, message)
    }

    pub fn protocol(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Protocol, message)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;
