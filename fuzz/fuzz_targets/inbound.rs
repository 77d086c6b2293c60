//! Bytes as the app-server could write them → lines → the reader thread's routing, with the
//! invariants of `codex_app_server::fuzzing::run` checked after every input.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    codex_app_server::fuzzing::run(data);
});
