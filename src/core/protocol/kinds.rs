//! The protocol's closed sets of names (item types, statuses, error kinds, request methods) as
//! numbered kinds. Every set keeps `Unknown` (0) for a name a newer codex adds, so a program
//! built today still runs against tomorrow's server. The lists follow the pinned schema
//! (`codex app-server generate-json-schema`); tests/typed_access.rs checks them against it.

/// A numbered kind per wire name; `Unknown` (0) for any other name.
macro_rules! wire_kind {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $value:literal => $wire:literal,)* }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[repr(u32)]
        pub enum $name {
            Unknown = 0,
            $($variant = $value,)*
        }

        impl $name {
            /// Every known wire name with its kind, in number order.
            pub const WIRE: &'static [(&'static str, $name)] = &[$(($wire, $name::$variant),)*];

            /// The kind of a wire name; `Unknown` for a name this library does not know.
            pub fn of(wire: &str) -> $name {
                Self::WIRE.iter().find(|(w, _)| *w == wire).map_or($name::Unknown, |(_, k)| *k)
            }
        }
    };
}

wire_kind! {
    /// `ThreadItem.type`.
    ItemKind {
        UserMessage = 1 => "userMessage",
        HookPrompt = 2 => "hookPrompt",
        AgentMessage = 3 => "agentMessage",
        FunctionCallOutput = 4 => "functionCallOutput",
        Plan = 5 => "plan",
        Reasoning = 6 => "reasoning",
        CommandExecution = 7 => "commandExecution",
        FileChange = 8 => "fileChange",
        McpToolCall = 9 => "mcpToolCall",
        DynamicToolCall = 10 => "dynamicToolCall",
        CollabAgentToolCall = 11 => "collabAgentToolCall",
        SubAgentActivity = 12 => "subAgentActivity",
        WebSearch = 13 => "webSearch",
        ImageView = 14 => "imageView",
        Sleep = 15 => "sleep",
        ImageGeneration = 16 => "imageGeneration",
        EnteredReviewMode = 17 => "enteredReviewMode",
        ExitedReviewMode = 18 => "exitedReviewMode",
        ContextCompaction = 19 => "contextCompaction",
    }
}

wire_kind! {
    /// An item's `status`: the union of the statuses items carry (command execution, file
    /// change, MCP, dynamic and collab tool calls).
    ItemStatus {
        InProgress = 1 => "inProgress",
        Completed = 2 => "completed",
        Failed = 3 => "failed",
        Declined = 4 => "declined",
        Interrupted = 5 => "interrupted",
    }
}

wire_kind! {
    /// An agent message's `phase`.
    MessagePhase {
        Commentary = 1 => "commentary",
        PartialAnswer = 2 => "partial_answer",
        FinalAnswer = 3 => "final_answer",
    }
}

wire_kind! {
    /// An agent message's `moderation.display.mode` (codex 0.171.0 and later).
    ModerationDisplay {
        Show = 1 => "show",
        Hide = 2 => "hide",
        Block = 3 => "block",
    }
}

wire_kind! {
    /// A file change's `kind.type`.
    ChangeKind {
        Add = 1 => "add",
        Delete = 2 => "delete",
        Update = 3 => "update",
    }
}

wire_kind! {
    /// `codexErrorInfo`: a name, or an object whose one member names the kind (and may carry
    /// an `httpStatusCode`).
    FailureKind {
        ContextWindowExceeded = 1 => "contextWindowExceeded",
        SessionBudgetExceeded = 2 => "sessionBudgetExceeded",
        UsageLimitExceeded = 3 => "usageLimitExceeded",
        RateLimitExceeded = 4 => "rateLimitExceeded",
        FlexUnavailable = 5 => "flexUnavailable",
        ServerOverloaded = 6 => "serverOverloaded",
        ModelNotFound = 7 => "modelNotFound",
        PolicyCapacityUnavailable = 8 => "policyCapacityUnavailable",
        CyberPolicy = 9 => "cyberPolicy",
        BioPolicy = 10 => "bioPolicy",
        MisalignmentPolicyViolation = 11 => "misalignmentPolicyViolation",
        TooManyDenials = 12 => "tooManyDenials",
        InternalServerError = 13 => "internalServerError",
        Unauthorized = 14 => "unauthorized",
        BadRequest = 15 => "badRequest",
        ThreadRollbackFailed = 16 => "threadRollbackFailed",
        SandboxError = 17 => "sandboxError",
        Other = 18 => "other",
        InferenceHookDenied = 19 => "inferenceHookDenied",
        HttpConnectionFailed = 20 => "httpConnectionFailed",
        ResponseStreamConnectionFailed = 21 => "responseStreamConnectionFailed",
        ResponseStreamDisconnected = 22 => "responseStreamDisconnected",
        ResponseTooManyFailedAttempts = 23 => "responseTooManyFailedAttempts",
        ActiveTurnNotSteerable = 24 => "activeTurnNotSteerable",
    }
}

wire_kind! {
    /// A server request's method (0.163.0's experimental `currentTime/read`, gone in 0.171.0,
    /// stays `Unknown`).
    RequestKind {
        CommandApproval = 1 => "item/commandExecution/requestApproval",
        FileChangeApproval = 2 => "item/fileChange/requestApproval",
        PermissionsApproval = 3 => "item/permissions/requestApproval",
        UserInput = 4 => "item/tool/requestUserInput",
        McpElicitation = 5 => "mcpServer/elicitation/request",
        DynamicToolCall = 6 => "item/tool/call",
        AuthTokensRefresh = 7 => "account/chatgptAuthTokens/refresh",
        Attestation = 8 => "attestation/generate",
        LegacyPatchApproval = 9 => "applyPatchApproval",
        LegacyExecApproval = 10 => "execCommandApproval",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_map_both_ways_and_unknown_stays_unknown() {
        assert_eq!(ItemKind::of("commandExecution"), ItemKind::CommandExecution);
        assert_eq!(ItemKind::of("somethingNew"), ItemKind::Unknown);
        assert_eq!(FailureKind::of("modelNotFound") as u32, 7);
        assert_eq!(RequestKind::of("item/tool/call"), RequestKind::DynamicToolCall);
        // Numbers follow list order from 1, so a C enum can be checked by position.
        for (i, (_, k)) in ItemKind::WIRE.iter().enumerate() {
            assert_eq!(*k as usize, i + 1);
        }
        for (i, (_, k)) in FailureKind::WIRE.iter().enumerate() {
            assert_eq!(*k as usize, i + 1);
        }
    }
}
