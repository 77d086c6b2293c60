//! Options that run the scripted fake app-server (tools/fake_app_server, a program of this
//! package that cargo builds for the tests) through the core API, shared by the Rust tests that
//! use it.

#![allow(dead_code)] // each test binary uses part of it

use codex_app_server::core::{Client, Options};
use std::path::PathBuf;

/// Options for the fake in `scenario`, with extra `FAKE_*` settings.
pub fn options(scenario: &str, env: &[(&str, &str)]) -> Options {
    let mut options = Options::default();
    options.transport.codex_bin = Some(PathBuf::from(env!("CARGO_BIN_EXE_fake_app_server")));
    options.transport.env.push(("FAKE_SCENARIO".into(), Some(scenario.into())));
    for (k, v) in env {
        options.transport.env.push((k.to_string(), Some(v.to_string())));
    }
    options
}

/// A client of the fake; `tune` changes the options first.
pub fn client(scenario: &str, env: &[(&str, &str)], tune: impl FnOnce(&mut Options)) -> Client {
    let mut options = options(scenario, env);
    tune(&mut options);
    Client::start(&options).expect("the fake app-server starts")
}
