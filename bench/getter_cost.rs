//! What reading one field of an event costs a program: a JSON Pointer getter of the C API
//! (`codex_event_json`'s document + `codex_json_get_*`, parsed lazily on the caller's thread) beside a
//! `serde_json::Value` parse of the same params followed by `Value::pointer`.
//!
//!   getter_cost [ITERATIONS]
//!
//! For each sample event: the cost of building the event alone (what the reader thread pays
//! whether or not anyone reads a field), then building it and reading one field (the difference
//! is the first getter's cost: the document is made on that call), then a second getter on the
//! same event, then the Value parse. Nanoseconds per event, the median of 5 runs.

use codex_app_server::core::protocol::document::Document;
use codex_app_server::core::routing::event::EventParts;
use codex_app_server::core::{Event, EventKind};
use codex_app_server::ffi::items::{codex_item_exit_code, codex_item_kind};
use codex_app_server::ffi::json::{
    codex_json, codex_json_get_int, codex_json_get_json, codex_json_get_string,
};
use codex_app_server::ffi::usage::{codex_token_counts, codex_usage_tokens, CODEX_USAGE_TOTAL};
use std::ffi::{c_char, CString};
use std::hint::black_box;
use std::time::Instant;

struct Sample {
    name: &'static str,
    method: &'static str,
    params: String,
    /// A string field, then an integer field (None: read the string twice).
    string: &'static str,
    int: Option<&'static str>,
}

fn samples() -> Vec<Sample> {
    let output = "line of command output\\n".repeat(40);
    vec![
        Sample {
            name: "delta",
            method: "item/agentMessage/delta",
            params: r#"{"threadId":"thr_1","turnId":"turn_1","itemId":"msg_turn_1","delta":"turn_1:17;"}"#
                .to_owned(),
            string: "/delta",
            int: None,
        },
        Sample {
            name: "command item",
            method: "item/completed",
            params: format!(
                r#"{{"item":{{"type":"commandExecution","id":"call_1","command":"/bin/bash -lc 'ls -la'","cwd":"/home/u/project","processId":null,"source":"agent","status":"completed","commandActions":[{{"type":"listFiles","command":"ls -la","path":null}}],"aggregatedOutput":"{output}","exitCode":0,"durationMs":12}},"threadId":"thr_1","turnId":"turn_1","completedAtMs":1764000000000}}"#
            ),
            string: "/item/command",
            int: Some("/item/exitCode"),
        },
        Sample {
            name: "token usage",
            method: "thread/tokenUsage/updated",
            params: r#"{"threadId":"thr_1","turnId":"turn_1","tokenUsage":{"total":{"totalTokens":8,"inputTokens":5,"cachedInputTokens":0,"outputTokens":3,"reasoningOutputTokens":0},"last":{"totalTokens":8,"inputTokens":5,"cachedInputTokens":0,"outputTokens":3,"reasoningOutputTokens":0},"modelContextWindow":258400}}"#
                .to_owned(),
            string: "/threadId",
            int: Some("/tokenUsage/total/totalTokens"),
        },
    ]
}

fn build(s: &Sample) -> Event {
    Event::new(
        EventKind::of_notification(s.method),
        &EventParts {
            method: s.method,
            thread_id: Some("thr_1"),
            turn_id: Some("turn_1"),
            params: &s.params,
            ..Default::default()
        },
    )
}

/// One getter through the C API; panics if it fails (the bench reads fields that are there).
fn read(json: *const codex_json, string: &CString, int: Option<&CString>) {
    unsafe {
        match int {
            Some(p) => {
                let mut v = 0i64;
                assert_eq!(codex_json_get_int(json, p.as_ptr(), &mut v, std::ptr::null_mut()), 0);
                black_box(v);
            }
            None => {
                let mut s: *const c_char = std::ptr::null();
                let rc = codex_json_get_string(
                    json,
                    string.as_ptr(),
                    &mut s,
                    std::ptr::null_mut(),
                    std::ptr::null_mut(),
                );
                assert_eq!(rc, 0);
                black_box(s);
            }
        }
    }
}

fn json_of(event: &mut Event) -> *const codex_json {
    // What `codex_event_json` returns (made on first use), without the event's handle check.
    (event.params_document() as *const Document).cast()
}

fn median_ns(iterations: usize, mut run: impl FnMut()) -> f64 {
    let mut runs: Vec<f64> = (0..5)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..iterations {
                run();
            }
            start.elapsed().as_nanos() as f64 / iterations as f64
        })
        .collect();
    runs.sort_by(|a, b| a.partial_cmp(b).unwrap());
    runs[2]
}

fn main() {
    let iterations: usize = std::env::args().nth(1).map_or(200_000, |n| n.parse().expect("N"));
    println!("getter cost, ns per event (median of 5 runs of {iterations}), on this thread:");
    println!(
        "{:<14} {:>7} {:>12} {:>14} {:>14} {:>16}",
        "event", "bytes", "build only", "first getter", "next getter", "Value+pointer"
    );
    for s in samples() {
        let string = CString::new(s.string).unwrap();
        let int = s.int.map(|p| CString::new(p).unwrap());
        let pointer = s.int.unwrap_or(s.string);
        let build_only = median_ns(iterations, || drop(black_box(build(&s))));
        let with_getter = median_ns(iterations, || {
            let mut ev = build(&s);
            read(json_of(&mut ev), &string, int.as_ref());
            drop(ev);
        });
        let mut kept = build(&s);
        let json = json_of(&mut kept);
        read(json, &string, int.as_ref());
        let next = median_ns(iterations, || read(json, &string, int.as_ref()));
        let value = median_ns(iterations, || {
            let v: serde_json::Value = serde_json::from_str(&s.params).unwrap();
            black_box(v.pointer(pointer).is_some());
        });
        println!(
            "{:<14} {:>7} {:>12.0} {:>14.0} {:>14.0} {:>16.0}",
            s.name,
            s.params.len(),
            build_only,
            with_getter - build_only,
            next,
            value
        );
    }
    typed_readers(iterations);
}

/// The typed readers (issue 18) on events whose document exists: one call each, beside the
/// same fields by pointer.
fn typed_readers(iterations: usize) {
    let all = samples();
    let null = std::ptr::null_mut();
    println!("typed readers, ns per call (the event's document already made):");
    let mut command = build(&all[1]);
    let json = json_of(&mut command);
    let mut item: *const codex_json = std::ptr::null();
    let at = CString::new("/item").unwrap();
    assert_eq!(unsafe { codex_json_get_json(json, at.as_ptr(), &mut item, null) }, 0);
    let kind_and_exit = median_ns(iterations, || unsafe {
        let (mut kind, mut code) = (0u32, 0i64);
        assert_eq!(codex_item_kind(item, &mut kind, null), 0);
        assert_eq!(codex_item_exit_code(item, &mut code, null), 0);
        black_box((kind, code));
    });
    println!("  command item: codex_item_kind + codex_item_exit_code  {kind_and_exit:>8.0}");
    let mut usage = build(&all[2]);
    let json = json_of(&mut usage);
    let tokens = median_ns(iterations, || unsafe {
        let mut counts = codex_token_counts::default();
        assert_eq!(codex_usage_tokens(json, CODEX_USAGE_TOTAL, &mut counts, null), 0);
        black_box(counts);
    });
    println!("  token usage: codex_usage_tokens (five counts)       {tokens:>8.0}");
}
