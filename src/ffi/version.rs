//! The library's version, to compare with the header's `CODEX_APP_SERVER_VERSION`.

use std::ffi::c_char;

/// The version of the library (e.g. `"0.1.0"`), static. It matches the header's
/// `CODEX_APP_SERVER_VERSION` when header and library come from the same build. No ABI
/// stability is promised before 1.0.
///
/// - **Threads:** any thread.
/// - **Ownership:** a static string: never free it.
/// - **Errors:** none.
#[no_mangle]
pub extern "C" fn codex_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}
