//! Generates the C header with cbindgen into OUT_DIR, and into include/ when
//! CODEX_REGENERATE_HEADER=1 (`make header`). A test compares the two, so a committed header
//! that no longer matches the code fails the tests. Also gives the shared library a soname.

use std::env;
use std::path::PathBuf;

fn main() {
    let crate_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let out_dir = PathBuf::from(env::var("OUT_DIR").unwrap());
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-env-changed=CODEX_REGENERATE_HEADER");

    let major = env::var("CARGO_PKG_VERSION_MAJOR").unwrap();
    let minor = env::var("CARGO_PKG_VERSION_MINOR").unwrap();
    let patch = env::var("CARGO_PKG_VERSION_PATCH").unwrap();
    let version = env::var("CARGO_PKG_VERSION").unwrap();

    // No ABI stability before 1.0: every 0.x minor release gets its own soname.
    let soname = if major == "0" {
        format!("libcodex_app_server.so.0.{minor}")
    } else {
        format!("libcodex_app_server.so.{major}")
    };
    if env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,{soname}");
    }

    let mut config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml"))
        .expect("cbindgen.toml is readable");
    config.header = Some(HEADER_DOC.trim().to_owned());
    config.after_includes = Some(format!(
        "\n/** The version of this header, e.g. \"0.1.0\"; compare with `codex_version()`. */\n\
         #define CODEX_APP_SERVER_VERSION \"{version}\"\n\
         /** The major version of this header. */\n\
         #define CODEX_APP_SERVER_VERSION_MAJOR {major}\n\
         /** The minor version of this header (before 1.0, each minor version is a new ABI). */\n\
         #define CODEX_APP_SERVER_VERSION_MINOR {minor}\n\
         /** The patch version of this header. */\n\
         #define CODEX_APP_SERVER_VERSION_PATCH {patch}\n"
    ));
    let bindings = cbindgen::Builder::new()
        .with_crate(&crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen could not generate the header");
    bindings.write_to_file(out_dir.join("codex_app_server.h"));
    if env::var("CODEX_REGENERATE_HEADER").as_deref() == Ok("1") {
        bindings.write_to_file(crate_dir.join("include/codex_app_server.h"));
    }
}

const HEADER_DOC: &str = r#"
/**
 * @file codex_app_server.h
 * @brief C API of libcodex_app_server, a client of OpenAI Codex's `codex app-server`
 * (JSON-RPC over the child's stdio, or over a WebSocket to a remote one: ws://, wss://,
 * unix://).
 *
 * Rules of the API (a contract):
 * - Every fallible function returns a codex_result: CODEX_OK (0) or a CODEX_ERR_* code
 *   (CODEX_STREAM_END is not an error). It takes an optional `codex_error **err_out`, written
 *   only on failure with an error object the caller frees with codex_error_free. There is no
 *   thread-local "last error".
 * - Outputs are out-parameters named *_out, last before err_out, written only on success.
 * - Every argument is checked: NULL, invalid UTF-8, invalid JSON (the same rule everywhere:
 *   well-formed, no lone surrogate escape, nested at most 127 deep), an out-of-range value (a
 *   timeout above 2147483647 ms, a size above its CODEX_MAX_* bound) give
 *   CODEX_ERR_INVALID_ARGUMENT with a message naming the argument, before anything is sent.
 *   Panics never cross into C.
 * - Handles: a non-NULL handle must be live, of the parameter's type, and from this library.
 *   Passing a freed handle (freeing one twice included), a handle of another type, or any
 *   other pointer is undefined behaviour. The library reads a type tag from the handle and
 *   refuses a mismatch as an invalid handle (CODEX_ERR_INVALID_ARGUMENT, or the "not a live
 *   handle" value of functions without err_out; the tag is the first word of every handle, so
 *   a live handle of another type is refused without reading past it), but that is a
 *   debugging aid, not a check:
 *   it reads memory the handle no longer owns, and a freed handle whose memory went to a new
 *   handle of the same type is taken for that new one. "A live client" (turn, event, ...) in
 *   a function's Safety section means exactly this rule.
 * - What you receive through an out-parameter you own: free it with the matching
 *   codex_*_free (codex_string_free for `char *`), never with libc free. Strings returned by
 *   accessors are borrowed and live until their owner is freed.
 * - Threads: `const T *` arguments may be shared between threads unless the type's comment
 *   says otherwise; codex_client may be used from many threads at once; a codex_turn has one
 *   consumer at a time, but may be steered or interrupted from any thread; *_free is always
 *   exclusive.
 * - Shutdown: codex_client_close wakes every blocked call (CODEX_ERR_CLOSED) and stops the
 *   server; then free turns, events and the client in any order.
 * - If the app-server dies, every waiting call and every open turn fails promptly with
 *   CODEX_ERR_TRANSPORT, whose message has the exit status and the last lines of stderr; a
 *   remote connection that drops, is closed by the server or goes silent past the keepalive
 *   fails them the same way, its message naming the address (and the close code and reason).
 * - Any function that takes err_out may also return CODEX_ERR_INTERNAL: a bug in this
 *   library, caught before it reached your program (the message says where).
 * - Each function's entry ends with its **Threads:**, **Ownership:** and **Errors:**.
 * - Diagnostics: codex_set_log_callback, or CODEX_APP_SERVER_LOG=error|warn|info|debug to see
 *   the library's messages on stderr.
 * - No ABI stability is promised before 1.0: each 0.x minor release has its own soname
 *   (libcodex_app_server.so.0.MINOR). Rebuild against the header of the library you link
 *   (compare CODEX_APP_SERVER_VERSION with codex_version()).
 */
"#;
