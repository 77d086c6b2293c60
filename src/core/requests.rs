//! Server→client requests. A request left unanswered blocks its turn forever, so every one is
//! answered; with no program decision the answer fails closed: approvals are declined, and
//! requests this client cannot answer get a JSON-RPC error.

use super::rpc::Answer;

/// JSON-RPC "method not found", for requests nobody handles.
pub(crate) const NO_HANDLER_CODE: i64 = -32601;

/// The answer that grants nothing.
pub fn fail_closed_answer(method: &str) -> Answer {
    let result = match method {
        "item/commandExecution/requestApproval" | "item/fileChange/requestApproval" => {
            r#"{"decision":"decline"}"#
        }
        // The older approval requests take the legacy decision names.
        "execCommandApproval" | "applyPatchApproval" => r#"{"decision":"denied"}"#,
        "item/permissions/requestApproval" => r#"{"permissions":{}}"#,
        "mcpServer/elicitation/request" => r#"{"action":"decline"}"#,
        _ => {
            return Answer::Error {
                code: NO_HANDLER_CODE,
                message: format!("{method}: this client has no handler for this request"),
            }
        }
    };
    Answer::Result(result.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn approvals_decline_and_others_error() {
        assert_eq!(
            fail_closed_answer("item/commandExecution/requestApproval"),
            Answer::Result(r#"{"decision":"decline"}"#.into())
        );
        assert_eq!(
            fail_closed_answer("item/fileChange/requestApproval"),
            Answer::Result(r#"{"decision":"decline"}"#.into())
        );
        assert!(matches!(
            fail_closed_answer("item/tool/call"),
            Answer::Error {
                code: NO_HANDLER_CODE,
                ..
            }
        ));
    }
}
