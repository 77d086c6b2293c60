//! The protocol guard: the pinned codex describes its own protocol
//! (`codex app-server generate-json-schema --out DIR`), and every method, notification, field
//! and answer shape this library depends on must still be in it. A codex upgrade that renames
//! one fails here, naming it, instead of failing users at run time.
//!
//! What the library depends on is listed below, and the source is scanned too: a method name
//! written in `src/` that the schema does not know fails the test unless it is one the library
//! makes itself (`codex/...`).
//! Not on Windows: it runs the pinned Linux codex, which a Windows test under wine cannot spawn.
#![cfg(not(windows))]

mod support;

use codex_app_server::core::protocol::server_requests::{
    handled_method, APPROVAL_KINDS, SERVER_REQUESTS,
};
use serde_json::{Map, Value};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Requests the library sends.
const REQUESTS_SENT: &[&str] = &[
    "initialize",
    "thread/start",
    "thread/resume",
    "turn/start",
    "turn/steer",
    "turn/interrupt",
    "thread/fork",
    "thread/list",
    "thread/read",
    "thread/turns/list",
    "thread/archive",
    "thread/unarchive",
    "thread/name/set",
    "thread/compact/start",
    "thread/unsubscribe",
    "model/list",
    "account/read",
    "account/login/start",
    "account/logout",
    "account/rateLimits/read",
    "review/start",
];
/// Notifications the library sends.
const NOTIFICATIONS_SENT: &[&str] = &["initialized"];
/// Notifications the library routes by kind or acts on.
const NOTIFICATIONS_USED: &[&str] = &[
    "turn/started",
    "turn/completed",
    "item/started",
    "item/completed",
    "item/agentMessage/delta",
    "item/reasoning/textDelta",
    "item/reasoning/summaryTextDelta",
    "item/commandExecution/outputDelta",
    "thread/tokenUsage/updated",
    "thread/started",
    "thread/status/changed",
    "serverRequest/resolved",
    "error",
    "account/rateLimits/updated",
];
/// Server requests the library answers itself (approvals, fail-closed answers) or names.
const SERVER_REQUESTS_USED: &[&str] = &[
    "item/commandExecution/requestApproval",
    "item/fileChange/requestApproval",
    "item/permissions/requestApproval",
    "mcpServer/elicitation/request",
    "item/tool/requestUserInput",
    "item/tool/call",
    "execCommandApproval",
    "applyPatchApproval",
    // Named by codex_request_kind (typed access).
    "account/chatgptAuthTokens/refresh",
    "attestation/generate",
];
/// What of the schema's server requests and command-approval kinds the library does not
/// answer on purpose (`SERVER_REQUESTS`, `APPROVAL_KINDS` in src/core/protocol/server_requests.rs).
fn unhandled(server_requests: &BTreeSet<String>, approval_kinds: &BTreeSet<String>) -> Vec<String> {
    let methods = server_requests.iter().filter(|m| handled_method(m).is_none()).map(|m| {
        format!(
            "server request {m}: not in SERVER_REQUESTS (src/core/protocol/server_requests.rs); \
             decide its typed answer and its fail-closed answer"
        )
    });
    let kinds = approval_kinds.iter().filter(|k| !APPROVAL_KINDS.contains(&k.as_str())).map(|k| {
        format!(
            "command approval kind {k}: not in APPROVAL_KINDS (src/core/protocol/\
             server_requests.rs); decide which decisions it takes"
        )
    });
    methods.chain(kinds).collect()
}

/// The `kind` values of a command approval in `schema` (none before codex 0.171).
fn approval_kinds(schema: &Schema) -> BTreeSet<String> {
    let method = "item/commandExecution/requestApproval";
    schema
        .params_of("ServerRequest.json", method)
        .and_then(|(root, params)| Some(enum_values(&root, &at(&root, &params, &["kind"])?, 0)))
        .unwrap_or_default()
}

/// Names the library makes up for its own events; never sent by a server.
const OWN_METHODS: &[&str] = &[
    "codex/streamError",
    "codex/lineSkipped",
    // Reconnecting (src/core/reconnect/).
    "codex/gap",
    "codex/disconnected",
    "codex/reconnected",
    "codex/reconnectFailed",
];

/// The schema of the pinned binary, generated into a temporary folder.
struct Schema {
    dir: PathBuf,
}

impl Schema {
    fn generate() -> Schema {
        Self::generate_with(&[])
    }

    /// The schema with `extra` arguments (`--experimental`: also what a client that opts into
    /// the experimental API may get).
    fn generate_with(extra: &[&str]) -> Schema {
        let codex = support::runtime().join("bin/codex");
        let dir = std::env::temp_dir().join(format!(
            "codex-schema-{}{}",
            std::process::id(),
            extra.concat()
        ));
        let (home, tmp, out) = (dir.join("home"), dir.join("tmp"), dir.join("schema"));
        for d in [&home, &tmp] {
            std::fs::create_dir_all(d).unwrap();
        }
        let output = Command::new(&codex)
            .args(["app-server", "generate-json-schema"])
            .args(extra)
            .arg("--out")
            .arg(&out)
            .env("CODEX_HOME", &home)
            .env("TMPDIR", &tmp)
            .env("CODEX_APP_SERVER_DISABLE_MANAGED_CONFIG", "1")
            .env_remove("OPENAI_API_KEY")
            .output()
            .expect("the pinned codex runs");
        assert!(
            output.status.success(),
            "{} app-server generate-json-schema failed: {}",
            codex.display(),
            String::from_utf8_lossy(&output.stderr)
        );
        Schema { dir }
    }

    fn file(&self, name: &str) -> Value {
        let path = self.dir.join("schema").join(name);
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("the schema has no {name} ({}): {e}", path.display()));
        serde_json::from_str(&text).unwrap()
    }

    /// The `method` names of a union file (ClientRequest.json, ServerNotification.json, ...).
    fn methods(&self, file: &str) -> BTreeSet<String> {
        let root = self.file(file);
        let variants = root["oneOf"].as_array().unwrap_or_else(|| panic!("{file}: no oneOf"));
        variants
            .iter()
            .flat_map(|v| v["properties"]["method"]["enum"].as_array().cloned().unwrap_or_default())
            .filter_map(|m| m.as_str().map(str::to_owned))
            .collect()
    }

    /// The params schema of `method` in a union file, with the file (for its definitions).
    fn params_of(&self, file: &str, method: &str) -> Option<(Value, Value)> {
        let root = self.file(file);
        let variant = root["oneOf"].as_array()?.iter().find(|v| {
            v["properties"]["method"]["enum"]
                .as_array()
                .is_some_and(|e| e.iter().any(|m| m == method))
        })?;
        let params = variant["properties"]["params"].clone();
        Some((root, params))
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Follows `$ref`s and the alternatives of `allOf`/`anyOf`/`oneOf` to every object schema a
/// node can be, and collects their properties (a field is there if any alternative has it).
fn properties(root: &Value, node: &Value, depth: usize) -> Map<String, Value> {
    let mut out = Map::new();
    if depth > 20 {
        return out;
    }
    if let Some(r) = node["$ref"].as_str() {
        let name = r.trim_start_matches("#/definitions/");
        return properties(root, &root["definitions"][name], depth + 1);
    }
    if let Some(props) = node["properties"].as_object() {
        out.extend(props.clone());
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        for alt in node[key].as_array().into_iter().flatten() {
            out.extend(properties(root, alt, depth + 1));
        }
    }
    out
}

/// Every string an enum under `node` allows (through `$ref` and alternatives).
fn enum_values(root: &Value, node: &Value, depth: usize) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    if depth > 20 {
        return out;
    }
    if let Some(r) = node["$ref"].as_str() {
        let name = r.trim_start_matches("#/definitions/");
        return enum_values(root, &root["definitions"][name], depth + 1);
    }
    for v in node["enum"].as_array().into_iter().flatten() {
        if let Some(s) = v.as_str() {
            out.insert(s.to_owned());
        }
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        for alt in node[key].as_array().into_iter().flatten() {
            out.extend(enum_values(root, alt, depth + 1));
        }
    }
    out
}

/// The schema node at `path` (property names) from `node`, if every step exists.
fn at(root: &Value, node: &Value, path: &[&str]) -> Option<Value> {
    let mut current = node.clone();
    for step in path {
        current = properties(root, &current, 0).get(*step)?.clone();
    }
    Some(current)
}

/// Collects what is missing, so one run names every problem.
#[derive(Default)]
struct Missing(Vec<String>);

impl Missing {
    fn check(&mut self, ok: bool, what: impl FnOnce() -> String) {
        if !ok {
            self.0.push(what());
        }
    }
}

/// The method-like strings in the library's source ("a/b", "a/b/c").
fn methods_in_source(dir: &Path, out: &mut BTreeSet<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            methods_in_source(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs")
            // The fuzz harness is test code, not the library's use of the protocol.
            && !path.ends_with("src/fuzzing.rs")
        {
            let text = std::fs::read_to_string(&path).unwrap();
            // Only code before the unit tests, whose fixtures are not dependencies.
            let code = text.split("#[cfg(test)]").next().unwrap_or("");
            for quoted in code.split('"').skip(1).step_by(2) {
                let looks_like_method = quoted.contains('/')
                    && !quoted.starts_with('/')
                    && !quoted.ends_with('/')
                    && quoted.chars().all(|c| c.is_ascii_alphanumeric() || c == '/' || c == '_');
                if looks_like_method {
                    out.insert(quoted.to_owned());
                }
            }
        }
    }
}

#[test]
fn the_pinned_codex_still_has_every_method_and_field_the_library_uses() {
    let schema = Schema::generate();
    let client_requests = schema.methods("ClientRequest.json");
    let client_notifications = schema.methods("ClientNotification.json");
    let server_notifications = schema.methods("ServerNotification.json");
    let server_requests = schema.methods("ServerRequest.json");
    let mut missing = Missing::default();

    for m in REQUESTS_SENT {
        missing.check(client_requests.contains(*m), || format!("request {m} (ClientRequest.json)"));
    }
    for m in NOTIFICATIONS_SENT {
        missing.check(client_notifications.contains(*m), || {
            format!("client notification {m} (ClientNotification.json)")
        });
    }
    for m in NOTIFICATIONS_USED {
        missing.check(server_notifications.contains(*m), || {
            format!("notification {m} (ServerNotification.json)")
        });
    }
    for m in SERVER_REQUESTS_USED {
        missing.check(server_requests.contains(*m), || {
            format!("server request {m} (ServerRequest.json)")
        });
    }

    // Every server request the pinned codex may send, and every approval kind, is answered on
    // purpose — also those of the experimental API, which a program may opt into.
    for problem in unhandled(&server_requests, &approval_kinds(&schema)) {
        missing.check(false, || problem);
    }
    let experimental = Schema::generate_with(&["--experimental"]);
    let more = experimental.methods("ServerRequest.json");
    for problem in unhandled(&more, &approval_kinds(&experimental)) {
        missing.check(false, || format!("{problem} (--experimental)"));
    }

    // Every method named in the source is known to the server (or made by the library).
    let mut in_source = BTreeSet::new();
    methods_in_source(&support::repo().join("src"), &mut in_source);
    let known: BTreeSet<&String> = client_requests
        .iter()
        .chain(&client_notifications)
        .chain(&server_notifications)
        .chain(&server_requests)
        .chain(&more)
        .collect();
    for m in &in_source {
        let own = OWN_METHODS.contains(&m.as_str());
        // A server request answered on purpose may be gone from a newer codex (currentTime/read
        // after 0.163): answering it costs nothing when it never comes.
        let answered = handled_method(m).is_some();
        missing.check(own || answered || known.contains(m), || {
            format!("{m}: named in src/ but not in the schema (or add it to OWN_METHODS)")
        });
    }
    let listed: Vec<&str> = REQUESTS_SENT
        .iter()
        .chain(NOTIFICATIONS_USED)
        .chain(SERVER_REQUESTS_USED)
        .chain(OWN_METHODS)
        .copied()
        .chain(SERVER_REQUESTS.iter().map(|h| h.method))
        .collect();
    for m in &in_source {
        missing.check(listed.contains(&m.as_str()), || {
            format!("{m}: named in src/ but not listed in tests/protocol.rs")
        });
    }

    // The routing keys of the notifications (keys.rs), and what the turn summary reads.
    let field = |missing: &mut Missing, method: &str, path: &[&str]| {
        let found = schema
            .params_of("ServerNotification.json", method)
            .and_then(|(root, params)| at(&root, &params, path));
        missing.check(found.is_some(), || format!("{method}: params.{}", path.join(".")));
    };
    for method in [
        "item/started",
        "item/completed",
        "item/agentMessage/delta",
        "item/commandExecution/outputDelta",
        "item/reasoning/textDelta",
        "item/reasoning/summaryTextDelta",
        "thread/tokenUsage/updated",
        "error",
    ] {
        field(&mut missing, method, &["threadId"]);
        field(&mut missing, method, &["turnId"]);
    }
    for method in ["item/agentMessage/delta", "item/commandExecution/outputDelta"] {
        field(&mut missing, method, &["delta"]);
    }
    for method in ["turn/started", "turn/completed"] {
        field(&mut missing, method, &["threadId"]);
        field(&mut missing, method, &["turn", "id"]);
    }
    field(&mut missing, "turn/completed", &["turn", "status"]);
    field(&mut missing, "turn/completed", &["turn", "error", "message"]);
    field(&mut missing, "thread/started", &["thread", "id"]);
    field(&mut missing, "serverRequest/resolved", &["requestId"]);
    field(&mut missing, "thread/tokenUsage/updated", &["tokenUsage"]);
    field(&mut missing, "item/completed", &["item", "type"]);
    field(&mut missing, "item/completed", &["item", "text"]);
    field(&mut missing, "item/completed", &["item", "phase"]);
    field(&mut missing, "error", &["error", "message"]);
    if let Some((root, params)) = schema.params_of("ServerNotification.json", "turn/completed") {
        let statuses = at(&root, &params, &["turn", "status"])
            .map(|s| enum_values(&root, &s, 0))
            .unwrap_or_default();
        for s in ["completed", "interrupted", "failed"] {
            missing.check(statuses.contains(s), || format!("turn/completed: turn.status {s}"));
        }
    }
    for method in [
        "item/commandExecution/requestApproval",
        "item/fileChange/requestApproval",
        "item/permissions/requestApproval",
    ] {
        let found = schema.params_of("ServerRequest.json", method).and_then(|(root, params)| {
            Some((at(&root, &params, &["threadId"])?, at(&root, &params, &["turnId"])?))
        });
        missing.check(found.is_some(), || format!("{method}: params.threadId and params.turnId"));
    }

    // The params the library sends.
    let sent = |missing: &mut Missing, file: &str, path: &[&str]| {
        let root = schema.file(file);
        missing.check(at(&root, &root, path).is_some(), || format!("{file}: {}", path.join(".")));
    };
    sent(&mut missing, "v1/InitializeParams.json", &["clientInfo", "name"]);
    sent(&mut missing, "v1/InitializeParams.json", &["clientInfo", "title"]);
    sent(&mut missing, "v1/InitializeParams.json", &["clientInfo", "version"]);
    sent(&mut missing, "v1/InitializeParams.json", &["capabilities", "experimentalApi"]);
    sent(&mut missing, "v2/TurnStartParams.json", &["threadId"]);
    sent(&mut missing, "v2/TurnStartParams.json", &["input"]);
    sent(&mut missing, "v2/TurnSteerParams.json", &["threadId"]);
    sent(&mut missing, "v2/TurnSteerParams.json", &["expectedTurnId"]);
    sent(&mut missing, "v2/TurnSteerParams.json", &["input"]);
    sent(&mut missing, "v2/TurnInterruptParams.json", &["threadId"]);
    sent(&mut missing, "v2/TurnInterruptParams.json", &["turnId"]);
    sent(&mut missing, "v2/ThreadResumeParams.json", &["threadId"]);
    sent(&mut missing, "v2/ThreadResumeParams.json", &["excludeTurns"]);
    // The ids the library reads from the results.
    sent(&mut missing, "v2/ThreadStartResponse.json", &["thread", "id"]);
    sent(&mut missing, "v2/ThreadResumeResponse.json", &["thread", "id"]);
    // What a reconnect reads from the resume snapshot (src/core/reconnect/resume.rs).
    let resume = schema.file("v2/ThreadResumeResponse.json");
    let turn = at(&resume, &resume, &["thread", "turns"]).map(|t| t["items"].clone());
    for f in ["id", "status", "items", "error"] {
        let found = turn.as_ref().and_then(|t| at(&resume, t, &[f]));
        missing.check(found.is_some(), || format!("thread/resume: thread.turns[].{f}"));
    }
    if let Some(status) = turn.as_ref().and_then(|t| at(&resume, t, &["status"])) {
        let statuses = enum_values(&resume, &status, 0);
        for s in ["inProgress", "completed", "interrupted", "failed"] {
            missing.check(statuses.contains(s), || format!("thread/resume: turn status {s}"));
        }
    }
    sent(&mut missing, "v2/TurnStartResponse.json", &["turn", "id"]);
    // The thread, account and model calls (src/core/client/threads.rs, account.rs).
    for file in [
        "ThreadForkParams",
        "ThreadReadParams",
        "ThreadTurnsListParams",
        "ThreadArchiveParams",
        "ThreadUnarchiveParams",
        "ThreadSetNameParams",
        "ThreadCompactStartParams",
        "ThreadUnsubscribeParams",
    ] {
        sent(&mut missing, &format!("v2/{file}.json"), &["threadId"]);
    }
    sent(&mut missing, "v2/ThreadForkParams.json", &["excludeTurns"]);
    sent(&mut missing, "v2/ThreadReadParams.json", &["includeTurns"]);
    sent(&mut missing, "v2/ThreadSetNameParams.json", &["name"]);
    sent(&mut missing, "v2/ThreadListParams.json", &["cursor"]);
    sent(&mut missing, "v2/ModelListParams.json", &["cursor"]);
    sent(&mut missing, "v2/ModelListParams.json", &["includeHidden"]);
    sent(&mut missing, "v2/GetAccountParams.json", &["refreshToken"]);
    sent(&mut missing, "v2/LoginAccountParams.json", &["type"]);
    sent(&mut missing, "v2/LoginAccountParams.json", &["apiKey"]);
    sent(&mut missing, "v2/ThreadForkResponse.json", &["thread", "id"]);
    sent(&mut missing, "v2/ThreadUnsubscribeResponse.json", &["status"]);
    for file in ["v2/ThreadListResponse.json", "v2/ModelListResponse.json"] {
        sent(&mut missing, file, &["nextCursor"]);
        let root = schema.file(file);
        let item_id = at(&root, &root, &["data"]).and_then(|d| at(&root, &d["items"], &["id"]));
        missing.check(item_id.is_some(), || format!("{file}: data[].id"));
    }
    let window = ["usedPercent", "windowDurationMins", "resetsAt"];
    let limits = schema.file("v2/GetAccountRateLimitsResponse.json");
    for which in ["primary", "secondary"] {
        for f in window {
            missing.check(at(&limits, &limits, &["rateLimits", which, f]).is_some(), || {
                format!("account/rateLimits/read: rateLimits.{which}.{f}")
            });
            field(&mut missing, "account/rateLimits/updated", &["rateLimits", which, f]);
        }
    }
    field(&mut missing, "account/rateLimits/updated", &["rateLimits", "limitId"]);

    // Input items: {"type": "text", "text": ...}.
    let turn_start = schema.file("v2/TurnStartParams.json");
    let text_item = turn_start["definitions"]["UserInput"]["oneOf"].as_array().and_then(|alts| {
        alts.iter().find(|a| {
            a["properties"]["type"]["enum"]
                .as_array()
                .is_some_and(|e| e.iter().any(|t| t == "text"))
        })
    });
    missing.check(text_item.is_some_and(|a| a["properties"]["text"].is_object()), || {
        "turn/start: an input item {\"type\": \"text\", \"text\"} (definitions.UserInput)".into()
    });

    // The answers the library builds (codex_request_approve and the fail-closed defaults).
    let answer = |missing: &mut Missing, file: &str, field: &str, values: &[&str]| {
        let root = schema.file(file);
        let allowed = at(&root, &root, &[field]).map(|n| enum_values(&root, &n, 0));
        for v in values {
            missing.check(allowed.as_ref().is_some_and(|a| a.contains(*v)), || {
                format!("{file}: {field} = {v:?}")
            });
        }
    };
    let modern = ["accept", "acceptForSession", "decline", "cancel"];
    answer(&mut missing, "CommandExecutionRequestApprovalResponse.json", "decision", &modern);
    answer(&mut missing, "FileChangeRequestApprovalResponse.json", "decision", &modern);
    let legacy = ["approved", "approved_for_session", "abort"];
    for file in ["ExecCommandApprovalResponse.json", "ApplyPatchApprovalResponse.json"] {
        answer(&mut missing, file, "decision", &legacy);
        // The legacy decline: {"denied": {"rejection": "..."}}.
        let root = schema.file(file);
        missing.check(at(&root, &root, &["decision", "denied", "rejection"]).is_some(), || {
            format!("{file}: decision = {{\"denied\": {{\"rejection\": ...}}}}")
        });
    }
    answer(
        &mut missing,
        "McpServerElicitationRequestResponse.json",
        "action",
        &["accept", "decline", "cancel"],
    );
    answer(&mut missing, "PermissionsRequestApprovalResponse.json", "scope", &["turn", "session"]);
    let permissions = schema.file("PermissionsRequestApprovalResponse.json");
    missing.check(at(&permissions, &permissions, &["permissions"]).is_some(), || {
        "PermissionsRequestApprovalResponse.json: permissions".into()
    });
    let elicitation = schema.file("McpServerElicitationRequestResponse.json");
    missing.check(at(&elicitation, &elicitation, &["content"]).is_some(), || {
        "McpServerElicitationRequestResponse.json: content".into()
    });

    assert!(
        missing.0.is_empty(),
        "codex {} no longer has what libcodex_app_server depends on:\n  {}",
        support::CODEX_VERSION,
        missing.0.join("\n  ")
    );
    println!(
        "protocol: codex {}: {} requests, {} notifications and {} server requests in its schema; \
         every one of the {} names in src/ and the fields and answers the library uses are there",
        support::CODEX_VERSION,
        client_requests.len(),
        server_notifications.len(),
        server_requests.len(),
        in_source.len()
    );
}

/// The guard itself: a server request or an approval kind the library does not list is named.
#[test]
fn the_guard_names_a_new_server_request_or_approval_kind() {
    let set = |items: &[&str]| items.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
    let known = set(&["item/tool/call", "item/commandExecution/requestApproval"]);
    assert!(unhandled(&known, &set(&["command", "humanCommand"])).is_empty());
    let problems =
        unhandled(&set(&["item/tool/call", "item/future/ask"]), &set(&["command", "robotCommand"]));
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems[0].contains("item/future/ask") && problems[1].contains("robotCommand"));
}
