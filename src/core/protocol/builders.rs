//! `turn/start` input items and `turn/start` / `thread/start` params built field by field, so
//! a program never writes JSON or escapes a path. Values the schema closes (sandbox, approval
//! policy, summary, personality) are checked here; open ones (model, effort, service tier) are
//! the server's to judge.

use super::params::{check_json, object_map};
use crate::core::error::{Error, Result};
use serde_json::{json, Map, Value};

/// `UserInput` items, in the order added.
#[derive(Clone, Debug, Default)]
pub struct InputItems(Vec<Value>);

impl InputItems {
    pub fn text(&mut self, text: &str) {
        self.0.push(json!({ "type": "text", "text": text }));
    }
    pub fn image_url(&mut self, url: &str) {
        self.0.push(json!({ "type": "image", "url": url }));
    }
    pub fn local_image(&mut self, path: &str) {
        self.0.push(json!({ "type": "localImage", "path": path }));
    }
    pub fn skill(&mut self, name: &str, path: &str) {
        self.0.push(json!({ "type": "skill", "name": name, "path": path }));
    }
    pub fn mention(&mut self, name: &str, path: &str) {
        self.0.push(json!({ "type": "mention", "name": name, "path": path }));
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// The items as the JSON array `turn/start` takes.
    pub fn to_json(&self) -> String {
        Value::Array(self.0.clone()).to_string()
    }
}

/// One of a closed set of names, or an error listing them.
fn one_of<'a>(name: &str, value: &'a str, allowed: &[&str]) -> Result<&'a str> {
    if allowed.contains(&value) {
        Ok(value)
    } else {
        Err(Error::invalid_argument(format!(
            "{name}: \"{value}\" is not one of {}",
            allowed.iter().map(|a| format!("\"{a}\"")).collect::<Vec<_>>().join(", ")
        )))
    }
}

fn non_empty<'a>(name: &str, value: &'a str) -> Result<&'a str> {
    if value.is_empty() {
        Err(Error::invalid_argument(format!("{name}: must not be empty")))
    } else {
        Ok(value)
    }
}

pub const SANDBOX_MODES: &[&str] = &["read-only", "workspace-write", "danger-full-access"];
pub const APPROVAL_POLICIES: &[&str] = &["untrusted", "on-request", "never"];
pub const SUMMARIES: &[&str] = &["auto", "concise", "detailed", "none"];
pub const PERSONALITIES: &[&str] = &["none", "friendly", "pragmatic"];

/// `turn/start` params other than `threadId` and `input`.
#[derive(Clone, Debug, Default)]
pub struct TurnOptions(Map<String, Value>);

impl TurnOptions {
    pub fn model(&mut self, model: &str) -> Result<()> {
        self.set("model", non_empty("model", model)?)
    }
    pub fn effort(&mut self, effort: &str) -> Result<()> {
        self.set("effort", non_empty("effort", effort)?)
    }
    pub fn summary(&mut self, summary: &str) -> Result<()> {
        self.set("summary", one_of("summary", summary, SUMMARIES)?)
    }
    pub fn cwd(&mut self, cwd: &str) -> Result<()> {
        self.set("cwd", non_empty("cwd", cwd)?)
    }
    /// A sandbox mode name, sent as the `sandboxPolicy` object of that mode.
    pub fn sandbox(&mut self, mode: &str) -> Result<()> {
        let kind = match one_of("sandbox", mode, SANDBOX_MODES)? {
            "read-only" => "readOnly",
            "workspace-write" => "workspaceWrite",
            _ => "dangerFullAccess",
        };
        self.0.insert("sandboxPolicy".into(), json!({ "type": kind }));
        Ok(())
    }
    pub fn approval_policy(&mut self, policy: &str) -> Result<()> {
        self.set("approvalPolicy", one_of("approval_policy", policy, APPROVAL_POLICIES)?)
    }
    pub fn personality(&mut self, personality: &str) -> Result<()> {
        self.set("personality", one_of("personality", personality, PERSONALITIES)?)
    }
    pub fn service_tier(&mut self, tier: &str) -> Result<()> {
        self.set("serviceTier", non_empty("service_tier", tier)?)
    }
    /// A JSON Schema (an object) the final answer must follow.
    pub fn output_schema(&mut self, schema: &str) -> Result<()> {
        check_json(schema, "schema_json")?;
        match serde_json::from_str::<Value>(schema) {
            Ok(schema @ Value::Object(_)) => {
                self.0.insert("outputSchema".into(), schema);
                Ok(())
            }
            _ => Err(Error::invalid_argument("schema_json: must be a JSON object (a JSON Schema)")),
        }
    }
    fn set(&mut self, key: &str, value: &str) -> Result<()> {
        self.0.insert(key.into(), Value::String(value.into()));
        Ok(())
    }
    pub fn fields(&self) -> &Map<String, Value> {
        &self.0
    }
}

/// `thread/start` params.
#[derive(Clone, Debug, Default)]
pub struct ThreadOptions(Map<String, Value>);

impl ThreadOptions {
    pub fn model(&mut self, model: &str) -> Result<()> {
        self.set("model", Value::String(non_empty("model", model)?.into()))
    }
    pub fn cwd(&mut self, cwd: &str) -> Result<()> {
        self.set("cwd", Value::String(non_empty("cwd", cwd)?.into()))
    }
    pub fn sandbox(&mut self, mode: &str) -> Result<()> {
        self.set("sandbox", Value::String(one_of("sandbox", mode, SANDBOX_MODES)?.into()))
    }
    pub fn approval_policy(&mut self, policy: &str) -> Result<()> {
        let policy = one_of("approval_policy", policy, APPROVAL_POLICIES)?;
        self.set("approvalPolicy", Value::String(policy.into()))
    }
    pub fn base_instructions(&mut self, text: &str) -> Result<()> {
        self.set("baseInstructions", Value::String(text.into()))
    }
    pub fn developer_instructions(&mut self, text: &str) -> Result<()> {
        self.set("developerInstructions", Value::String(text.into()))
    }
    pub fn ephemeral(&mut self, ephemeral: bool) -> Result<()> {
        self.set("ephemeral", Value::Bool(ephemeral))
    }
    /// One config override (`config` member): `key` a config key as in `config.toml`, dotted
    /// for tables (`"features.plugins"`), `value_json` its JSON value.
    pub fn config(&mut self, key: &str, value_json: &str) -> Result<()> {
        non_empty("key", key)?;
        check_json(value_json, "value_json")?;
        let value = serde_json::from_str::<Value>(value_json)
            .map_err(|e| Error::invalid_argument(format!("value_json: invalid JSON: {e}")))?;
        let config = self.0.entry("config").or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(config) = config {
            config.insert(key.into(), value);
        }
        Ok(())
    }
    fn set(&mut self, key: &str, value: Value) -> Result<()> {
        self.0.insert(key.into(), value);
        Ok(())
    }
    pub fn fields(&self) -> &Map<String, Value> {
        &self.0
    }
}

/// `params_json` (an optional JSON object, without the `reserved` keys) with a builder's
/// fields laid over it: a builder field replaces the same key of `params_json`, except
/// `config`, whose members are merged one by one (the builder's win).
pub fn merge_params(
    params_json: Option<&str>,
    fields: &Map<String, Value>,
    reserved: &[&str],
) -> Result<String> {
    let mut params = object_map(params_json, "params_json", reserved)?;
    for (key, value) in fields {
        match (params.get_mut(key), value) {
            (Some(Value::Object(into)), Value::Object(from)) if key == "config" => {
                into.extend(from.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
            _ => {
                params.insert(key.clone(), value.clone());
            }
        }
    }
    Ok(Value::Object(params).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::ErrorKind;

    #[test]
    fn input_items_escape_nothing_by_hand() {
        let mut input = InputItems::default();
        input.text("say \"hi\"");
        input.image_url("https://example.com/a.png");
        input.local_image("/tmp/é \"q\" \\b.png");
        input.skill("deploy", "/skills/deploy/SKILL.md");
        input.mention("app", "app://x");
        let items: Value = serde_json::from_str(&input.to_json()).unwrap();
        assert_eq!(items[0], json!({"type":"text","text":"say \"hi\""}));
        assert_eq!(items[2]["path"], "/tmp/é \"q\" \\b.png");
        assert_eq!(
            items[3],
            json!({"type":"skill","name":"deploy","path":"/skills/deploy/SKILL.md"})
        );
        assert_eq!(items[4]["type"], "mention");
    }

    #[test]
    fn options_check_closed_values() {
        let mut turn = TurnOptions::default();
        turn.sandbox("workspace-write").unwrap();
        turn.approval_policy("never").unwrap();
        turn.output_schema(r#"{"type":"object"}"#).unwrap();
        assert_eq!(turn.fields()["sandboxPolicy"], json!({"type":"workspaceWrite"}));
        for bad in
            [turn.sandbox("rw"), turn.summary("long"), turn.model(""), turn.output_schema("[1]")]
        {
            assert_eq!(bad.unwrap_err().kind, ErrorKind::InvalidArgument);
        }
        assert!(turn
            .output_schema("{")
            .unwrap_err()
            .message
            .starts_with("schema_json: invalid JSON"));
        let mut thread = ThreadOptions::default();
        assert!(thread.config("model_reasoning_effort", "nope").is_err());
        thread.config("features.plugins", "false").unwrap();
        thread.ephemeral(true).unwrap();
        assert_eq!(thread.fields()["config"], json!({"features.plugins": false}));
    }

    #[test]
    fn builder_fields_lay_over_params_json() {
        let mut thread = ThreadOptions::default();
        thread.model("m2").unwrap();
        thread.config("a", "1").unwrap();
        let params = r#"{"model":"m1","cwd":"/x","config":{"a":0,"b":2}}"#;
        let merged: Value =
            serde_json::from_str(&merge_params(Some(params), thread.fields(), &[]).unwrap())
                .unwrap();
        assert_eq!(merged, json!({"model":"m2","cwd":"/x","config":{"a":1,"b":2}}));
        let err = merge_params(Some(r#"{"threadId":"t"}"#), thread.fields(), &["threadId"]);
        assert!(err.unwrap_err().message.contains("threadId"));
        assert_eq!(merge_params(None, &Map::new(), &[]).unwrap(), "{}");
    }
}
