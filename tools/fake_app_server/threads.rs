//! Threads as resources (fork, list, read, turns list, archive, unarchive, name, compact,
//! unsubscribe), the models and the account, held in memory: what the bindings' tests of
//! those calls need. Errors use the real server's code (-32600) and messages.

use crate::json::{obj, Json};
use crate::message::Params;
use crate::output::send;
use crate::server::{error, result};
use crate::turn::note;
use std::io;
use std::sync::Mutex;

struct Thread {
    id: String,
    name: Option<String>,
    archived: bool,
    subscribed: bool,
}

#[derive(Default)]
struct Store {
    threads: Vec<Thread>,
    forks: u64,
    api_key: bool,
}

static STORE: Mutex<Store> = Mutex::new(Store { threads: Vec::new(), forks: 0, api_key: false });

fn store() -> std::sync::MutexGuard<'static, Store> {
    STORE.lock().unwrap_or_else(|p| p.into_inner())
}

/// A thread started by `thread/start`.
pub fn started(id: &str) {
    store().threads.push(Thread {
        id: id.to_owned(),
        name: None,
        archived: false,
        subscribed: true,
    });
}

fn summary(t: &Thread) -> Json {
    let name = t.name.as_deref().map_or(Json::Null, Json::from);
    obj! { "id" => &t.id, "name" => name, "preview" => "", "status" => obj! { "type" => "idle" },
    "turns" => vec![] }
}

/// Answers `method` when it is one of this room's; `None` leaves it to the server.
pub fn handle(method: &str, rid: &Json, params: &Params) -> Option<io::Result<()>> {
    let thread_id = params.str("threadId").unwrap_or("").to_owned();
    let mut store = store();
    let known = store.threads.iter().position(|t| t.id == thread_id);
    let answer = match method {
        "thread/fork" => match known {
            Some(i) => {
                store.forks += 1;
                let id = format!("{thread_id}-fork{}", store.forks);
                store.threads.push(Thread {
                    id: id.clone(),
                    name: None,
                    archived: false,
                    subscribed: true,
                });
                let mut thread = summary(&store.threads[i]);
                if let Json::Obj(fields) = &mut thread {
                    fields[0].1 = Json::from(&id);
                    fields.push(("forkedFromId", Json::from(&thread_id)));
                }
                result(rid, obj! { "thread" => thread, "model" => "fake-model" })
            }
            None => error(rid, -32600, &format!("thread not found: {thread_id}"), None),
        },
        "thread/list" => list(&store, rid, params),
        "thread/read" => match known {
            Some(i) => result(rid, obj! { "thread" => summary(&store.threads[i]) }),
            None => error(rid, -32600, &format!("thread not loaded: {thread_id}"), None),
        },
        "thread/turns/list" => match known {
            Some(_) => result(rid, obj! { "data" => vec![], "nextCursor" => Json::Null }),
            None => error(rid, -32600, &format!("thread not loaded: {thread_id}"), None),
        },
        "thread/archive" | "thread/unarchive" => match known {
            Some(i) => {
                store.threads[i].archived = method == "thread/archive";
                match method {
                    "thread/archive" => result(rid, obj! {}),
                    _ => result(rid, obj! { "thread" => summary(&store.threads[i]) }),
                }
            }
            None => {
                error(rid, -32600, &format!("no rollout found for thread id {thread_id}"), None)
            }
        },
        "thread/name/set" => match (known, params.str("name")) {
            (_, Some("")) => error(rid, -32600, "thread name must not be empty", None),
            (Some(i), Some(name)) => {
                store.threads[i].name = Some(name.to_owned());
                result(rid, obj! {})
            }
            _ => error(rid, -32600, &format!("thread not found: {thread_id}"), None),
        },
        "thread/compact/start" => match known {
            Some(_) => result(rid, obj! {}),
            None => error(rid, -32600, &format!("thread not found: {thread_id}"), None),
        },
        "thread/unsubscribe" => {
            let status = match known {
                Some(i) if store.threads[i].subscribed => {
                    store.threads[i].subscribed = false;
                    "unsubscribed"
                }
                Some(_) => "notSubscribed",
                None => "notLoaded",
            };
            result(rid, obj! { "status" => status })
        }
        "model/list" => models(rid, params),
        "account/read" => {
            let account = if store.api_key {
                obj! { "type" => "apiKey" }
            } else {
                Json::Null
            };
            result(rid, obj! { "account" => account, "requiresOpenaiAuth" => true })
        }
        "account/login/start" => match (params.str("type"), params.str("apiKey")) {
            (Some("apiKey"), Some(key)) if !key.is_empty() => {
                store.api_key = true;
                result(rid, obj! { "type" => "apiKey" })
            }
            _ => error(rid, -32600, "Invalid request: only apiKey logins are faked", None),
        },
        "account/logout" => {
            store.api_key = false;
            result(rid, obj! {})
        }
        // A snapshot, and the same as the notification a model response brings.
        "account/rateLimits/read" => {
            let snapshot = || {
                obj! { "limitId" => "codex",
                "primary" => obj! { "usedPercent" => 42, "windowDurationMins" => 300,
                                    "resetsAt" => 1800000000i64 },
                "secondary" => Json::Null }
            };
            result(rid, obj! { "rateLimits" => snapshot() }).and_then(|()| {
                send(&note("account/rateLimits/updated", obj! { "rateLimits" => snapshot() }))
            })
        }
        _ => return None,
    };
    Some(answer)
}

/// Newest first; `archived`, `searchTerm` (in the name) and `limit` filter; the cursor is an
/// offset, `fake-cursor:N`.
fn list(store: &Store, rid: &Json, params: &Params) -> io::Result<()> {
    let archived = params.get("archived").and_then(|v| v.as_bool()).unwrap_or(false);
    let term = params.str("searchTerm");
    let matching: Vec<&Thread> = store
        .threads
        .iter()
        .rev()
        .filter(|t| t.archived == archived)
        .filter(|t| term.is_none_or(|s| t.name.as_deref().is_some_and(|n| n.contains(s))))
        .collect();
    let start = match params.str("cursor") {
        None => 0,
        Some(c) => match c.strip_prefix("fake-cursor:").and_then(|n| n.parse::<usize>().ok()) {
            Some(n) => n,
            None => return error(rid, -32600, &format!("invalid cursor: {c}"), None),
        },
    };
    let limit = params.get("limit").and_then(|v| v.as_u64()).unwrap_or(25) as usize;
    let page: Vec<Json> = matching.iter().skip(start).take(limit).map(|t| summary(t)).collect();
    let end = start + page.len();
    let next =
        if end < matching.len() { Json::from(format!("fake-cursor:{end}")) } else { Json::Null };
    result(rid, obj! { "data" => page, "nextCursor" => next })
}

/// `fake-model`, and with `includeHidden` a second page holding `fake-hidden`.
fn models(rid: &Json, params: &Params) -> io::Result<()> {
    let model = |id: &str, hidden: bool| obj! { "id" => id, "model" => id, "hidden" => hidden };
    let hidden = params.get("includeHidden").and_then(|v| v.as_bool()).unwrap_or(false);
    match (hidden, params.str("cursor")) {
        (true, Some("fake-models:2")) => result(
            rid,
            obj! { "data" => vec![model("fake-hidden", true)], "nextCursor" => Json::Null },
        ),
        (true, _) => result(
            rid,
            obj! { "data" => vec![model("fake-model", false)], "nextCursor" => "fake-models:2" },
        ),
        (false, _) => result(
            rid,
            obj! { "data" => vec![model("fake-model", false)], "nextCursor" => Json::Null },
        ),
    }
}
