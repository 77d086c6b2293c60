package codexappserver

/*
#include <stdlib.h>
#include "codex_app_server.h"
*/
import "C"

import "encoding/json"

// ToolContent is one item of a dynamic tool's output: Text, or an ImageURL.
type ToolContent struct {
	Text     string
	ImageURL string
}

// RespondToolCall answers a dynamic tool call (item/tool/call) with its output and whether it
// succeeded.
func (r *Request) RespondToolCall(content []ToolContent, success bool) error {
	items := make([]map[string]string, 0, len(content))
	for _, c := range content {
		if c.ImageURL != "" {
			items = append(items, map[string]string{"type": "inputImage", "imageUrl": c.ImageURL})
		} else {
			items = append(items, map[string]string{"type": "inputText", "text": c.Text})
		}
	}
	b, err := json.Marshal(items)
	if err != nil {
		return &Error{Code: ErrInvalidArgument, Message: "content: " + err.Error()}
	}
	s, free := cstr(str(string(b)))
	defer free()
	return r.with(func(p *C.codex_request, e **C.codex_error) C.codex_result {
		return C.codex_request_respond_tool_call(p, s, C.bool(success), e)
	})
}

// RespondUserInput answers item/tool/requestUserInput: each question id with its answers.
func (r *Request) RespondUserInput(answers map[string][]string) error {
	b, err := json.Marshal(answers)
	if err != nil {
		return &Error{Code: ErrInvalidArgument, Message: "answers: " + err.Error()}
	}
	s, free := cstr(str(string(b)))
	defer free()
	return r.with(func(p *C.codex_request, e **C.codex_error) C.codex_result {
		return C.codex_request_respond_user_input(p, s, e)
	})
}

// ElicitationAction answers an MCP elicitation.
type ElicitationAction uint32

const (
	ElicitationAccept  ElicitationAction = C.CODEX_ELICITATION_ACCEPT
	ElicitationDecline ElicitationAction = C.CODEX_ELICITATION_DECLINE
	ElicitationCancel  ElicitationAction = C.CODEX_ELICITATION_CANCEL
)

// RespondElicitation answers mcpServer/elicitation/request; content (marshalled to a JSON
// object) only with ElicitationAccept, nil otherwise.
func (r *Request) RespondElicitation(action ElicitationAction, content any) error {
	var js *string
	if content != nil {
		b, err := json.Marshal(content)
		if err != nil {
			return &Error{Code: ErrInvalidArgument, Message: "content: " + err.Error()}
		}
		js = str(string(b))
	}
	s, free := cstr(js)
	defer free()
	return r.with(func(p *C.codex_request, e **C.codex_error) C.codex_result {
		return C.codex_request_respond_elicitation(p, C.uint32_t(action), s, e)
	})
}

// RespondAuthTokens answers account/chatgptAuthTokens/refresh; planType may be "".
func (r *Request) RespondAuthTokens(accessToken, accountID, planType string) error {
	t, freeT := cstr(&accessToken)
	defer freeT()
	a, freeA := cstr(&accountID)
	defer freeA()
	var plan *string
	if planType != "" {
		plan = &planType
	}
	pl, freeP := cstr(plan)
	defer freeP()
	return r.with(func(p *C.codex_request, e **C.codex_error) C.codex_result {
		return C.codex_request_respond_auth_tokens(p, t, a, pl, e)
	})
}
