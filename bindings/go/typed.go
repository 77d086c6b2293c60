package codexappserver

// Typed access (issue 18): items, usage, failures and approvals read with the library's
// readers, and turns and threads started from builders, with no JSON written by hand.

/*
#include <stdlib.h>
#include "codex_app_server.h"
*/
import "C"

import (
	"encoding/json"
	"runtime"
	"unsafe"
)

// rootPointer is the JSON Pointer "" (the whole document), allocated once for the process.
var rootPointer = C.CString("")

// ItemKind is a CODEX_ITEM_KIND_*; ItemUnknown for a kind a newer codex added.
type ItemKind uint32

const (
	ItemUnknown           ItemKind = C.CODEX_ITEM_KIND_UNKNOWN
	ItemUserMessage       ItemKind = C.CODEX_ITEM_KIND_USER_MESSAGE
	ItemAgentMessage      ItemKind = C.CODEX_ITEM_KIND_AGENT_MESSAGE
	ItemReasoning         ItemKind = C.CODEX_ITEM_KIND_REASONING
	ItemCommandExecution  ItemKind = C.CODEX_ITEM_KIND_COMMAND_EXECUTION
	ItemFileChange        ItemKind = C.CODEX_ITEM_KIND_FILE_CHANGE
	ItemMcpToolCall       ItemKind = C.CODEX_ITEM_KIND_MCP_TOOL_CALL
	ItemDynamicToolCall   ItemKind = C.CODEX_ITEM_KIND_DYNAMIC_TOOL_CALL
	ItemWebSearch         ItemKind = C.CODEX_ITEM_KIND_WEB_SEARCH
	ItemPlan              ItemKind = C.CODEX_ITEM_KIND_PLAN
	ItemContextCompaction ItemKind = C.CODEX_ITEM_KIND_CONTEXT_COMPACTION
)

// ItemStatus, MessagePhase, Moderation, ChangeKind, FailureKind and RequestKind mirror the
// header's CODEX_ITEM_STATUS_*, CODEX_PHASE_*, CODEX_MODERATION_*, CODEX_CHANGE_*,
// CODEX_FAILURE_* and CODEX_REQUEST_KIND_* (0: a value a newer codex added).
type (
	ItemStatus   uint32
	MessagePhase uint32
	Moderation   uint32
	ChangeKind   uint32
	FailureKind  uint32
	RequestKind  uint32
)

const (
	StatusInProgress ItemStatus = C.CODEX_ITEM_STATUS_IN_PROGRESS
	StatusCompleted  ItemStatus = C.CODEX_ITEM_STATUS_COMPLETED
	StatusFailed     ItemStatus = C.CODEX_ITEM_STATUS_FAILED
	StatusDeclined   ItemStatus = C.CODEX_ITEM_STATUS_DECLINED

	PhaseCommentary  MessagePhase = C.CODEX_PHASE_COMMENTARY
	PhaseFinalAnswer MessagePhase = C.CODEX_PHASE_FINAL_ANSWER

	ModerationShow  Moderation = C.CODEX_MODERATION_SHOW
	ModerationHide  Moderation = C.CODEX_MODERATION_HIDE
	ModerationBlock Moderation = C.CODEX_MODERATION_BLOCK

	ChangeAdd    ChangeKind = C.CODEX_CHANGE_ADD
	ChangeDelete ChangeKind = C.CODEX_CHANGE_DELETE
	ChangeUpdate ChangeKind = C.CODEX_CHANGE_UPDATE

	FailureContextWindowExceeded FailureKind = C.CODEX_FAILURE_CONTEXT_WINDOW_EXCEEDED
	FailureUsageLimitExceeded    FailureKind = C.CODEX_FAILURE_USAGE_LIMIT_EXCEEDED
	FailureServerOverloaded      FailureKind = C.CODEX_FAILURE_SERVER_OVERLOADED
	FailureModelNotFound         FailureKind = C.CODEX_FAILURE_MODEL_NOT_FOUND
	FailureUnauthorized          FailureKind = C.CODEX_FAILURE_UNAUTHORIZED
	FailureInternalServerError   FailureKind = C.CODEX_FAILURE_INTERNAL_SERVER_ERROR
	FailureHTTPConnectionFailed  FailureKind = C.CODEX_FAILURE_HTTP_CONNECTION_FAILED

	RequestCommandApproval    RequestKind = C.CODEX_REQUEST_KIND_COMMAND_APPROVAL
	RequestFileChangeApproval RequestKind = C.CODEX_REQUEST_KIND_FILE_CHANGE_APPROVAL
	RequestPermissions        RequestKind = C.CODEX_REQUEST_KIND_PERMISSIONS_APPROVAL
	RequestUserInput          RequestKind = C.CODEX_REQUEST_KIND_USER_INPUT
	RequestElicitation        RequestKind = C.CODEX_REQUEST_KIND_MCP_ELICITATION
	RequestDynamicToolCall    RequestKind = C.CODEX_REQUEST_KIND_DYNAMIC_TOOL_CALL
)

// UsageScope picks the part of a usage: the thread's total or the last model call.
type UsageScope uint32

const (
	UsageTotal UsageScope = C.CODEX_USAGE_TOTAL
	UsageLast  UsageScope = C.CODEX_USAGE_LAST
)

// TokenCounts are a usage's token counts.
type TokenCounts struct {
	Input, CachedInput, Output, ReasoningOutput, Total int64
}

// Item is one thread item of a document (JSON.Item, Event.Item). Readers return ErrNotFound
// for a field that is absent or null. It keeps its document alive.
type Item struct {
	doc *JSON
	p   *C.codex_json
}

// Item lends the value at pointer ("/item", "/0") as an item.
func (j *JSON) Item(pointer string) (*Item, error) {
	var sub *C.codex_json
	err := j.read(pointer, func(p *C.codex_json, cp *C.char, cerr **C.codex_error) C.codex_result {
		return C.codex_json_get_json(p, cp, &sub, cerr)
	})
	if err != nil {
		return nil, err
	}
	return &Item{doc: j, p: sub}, nil
}

// Item is the item of an item/started or item/completed event.
func (e *Event) Item() (*Item, error) {
	doc, err := ParseJSON(e.Params)
	if err != nil {
		return nil, err
	}
	return doc.Item("/item")
}

// call runs a reader on the item's document while the document is open.
func (it *Item) call(f func(p *C.codex_json, cerr **C.codex_error) C.codex_result) error {
	it.doc.mu.RLock()
	defer it.doc.mu.RUnlock()
	if it.doc.p == nil {
		return &Error{Code: ErrInvalidArgument, Message: "item: its document is closed"}
	}
	var cerr *C.codex_error
	err := check(f(it.p, &cerr), cerr)
	runtime.KeepAlive(it.doc)
	return err
}

func (it *Item) text(f func(*C.codex_json, **C.char, *C.size_t, **C.codex_error) C.codex_result) (string, error) {
	var out string
	err := it.call(func(p *C.codex_json, cerr **C.codex_error) C.codex_result {
		var s *C.char
		var n C.size_t
		rc := f(p, &s, &n, cerr)
		if rc == C.CODEX_OK {
			out = C.GoStringN(s, C.int(n))
		}
		return rc
	})
	return out, err
}

func (it *Item) number(f func(*C.codex_json, *C.int64_t, **C.codex_error) C.codex_result) (int64, error) {
	var v C.int64_t
	err := it.call(func(p *C.codex_json, cerr **C.codex_error) C.codex_result { return f(p, &v, cerr) })
	return int64(v), err
}

func (it *Item) enum(f func(*C.codex_json, *C.uint32_t, **C.codex_error) C.codex_result) (uint32, error) {
	var v C.uint32_t
	err := it.call(func(p *C.codex_json, cerr **C.codex_error) C.codex_result { return f(p, &v, cerr) })
	return uint32(v), err
}

func (it *Item) Kind() (ItemKind, error) {
	k, err := it.enum(func(p *C.codex_json, v *C.uint32_t, e **C.codex_error) C.codex_result {
		return C.codex_item_kind(p, v, e)
	})
	return ItemKind(k), err
}
func (it *Item) Status() (ItemStatus, error) {
	k, err := it.enum(func(p *C.codex_json, v *C.uint32_t, e **C.codex_error) C.codex_result {
		return C.codex_item_status(p, v, e)
	})
	return ItemStatus(k), err
}
func (it *Item) Phase() (MessagePhase, error) {
	k, err := it.enum(func(p *C.codex_json, v *C.uint32_t, e **C.codex_error) C.codex_result {
		return C.codex_item_phase(p, v, e)
	})
	return MessagePhase(k), err
}
func (it *Item) Moderation() (Moderation, error) {
	k, err := it.enum(func(p *C.codex_json, v *C.uint32_t, e **C.codex_error) C.codex_result {
		return C.codex_item_moderation(p, v, e)
	})
	return Moderation(k), err
}
func (it *Item) ID() (string, error) {
	return it.text(func(p *C.codex_json, s **C.char, n *C.size_t, e **C.codex_error) C.codex_result {
		return C.codex_item_id(p, s, n, e)
	})
}
func (it *Item) Command() (string, error) {
	return it.text(func(p *C.codex_json, s **C.char, n *C.size_t, e **C.codex_error) C.codex_result {
		return C.codex_item_command(p, s, n, e)
	})
}
func (it *Item) Cwd() (string, error) {
	return it.text(func(p *C.codex_json, s **C.char, n *C.size_t, e **C.codex_error) C.codex_result {
		return C.codex_item_cwd(p, s, n, e)
	})
}
func (it *Item) Output() (string, error) {
	return it.text(func(p *C.codex_json, s **C.char, n *C.size_t, e **C.codex_error) C.codex_result {
		return C.codex_item_output(p, s, n, e)
	})
}
func (it *Item) Text() (string, error) {
	return it.text(func(p *C.codex_json, s **C.char, n *C.size_t, e **C.codex_error) C.codex_result {
		return C.codex_item_text(p, s, n, e)
	})
}
func (it *Item) ExitCode() (int64, error) {
	return it.number(func(p *C.codex_json, v *C.int64_t, e **C.codex_error) C.codex_result {
		return C.codex_item_exit_code(p, v, e)
	})
}
func (it *Item) DurationMs() (int64, error) {
	return it.number(func(p *C.codex_json, v *C.int64_t, e **C.codex_error) C.codex_result {
		return C.codex_item_duration_ms(p, v, e)
	})
}
func (it *Item) StartedAtMs() (int64, error) {
	return it.number(func(p *C.codex_json, v *C.int64_t, e **C.codex_error) C.codex_result {
		return C.codex_item_started_at_ms(p, v, e)
	})
}
func (it *Item) CompletedAtMs() (int64, error) {
	return it.number(func(p *C.codex_json, v *C.int64_t, e **C.codex_error) C.codex_result {
		return C.codex_item_completed_at_ms(p, v, e)
	})
}

// FileChange is one change of a file change item.
type FileChange struct {
	Path string
	Kind ChangeKind
	Diff string
}

// Changes are a file change item's changes, in order.
func (it *Item) Changes() ([]FileChange, error) {
	var n C.size_t
	if err := it.call(func(p *C.codex_json, e **C.codex_error) C.codex_result { return C.codex_item_change_count(p, &n, e) }); err != nil {
		return nil, err
	}
	out := make([]FileChange, int(n))
	for i := range out {
		ci := C.size_t(i)
		var err error
		if out[i].Path, err = it.text(func(p *C.codex_json, s **C.char, l *C.size_t, e **C.codex_error) C.codex_result {
			return C.codex_item_change_path(p, ci, s, l, e)
		}); err != nil {
			return nil, err
		}
		if out[i].Diff, err = it.text(func(p *C.codex_json, s **C.char, l *C.size_t, e **C.codex_error) C.codex_result {
			return C.codex_item_change_diff(p, ci, s, l, e)
		}); err != nil {
			return nil, err
		}
		k, err := it.enum(func(p *C.codex_json, v *C.uint32_t, e **C.codex_error) C.codex_result {
			return C.codex_item_change_kind(p, ci, v, e)
		})
		if err != nil {
			return nil, err
		}
		out[i].Kind = ChangeKind(k)
	}
	return out, nil
}

// UsageTokens reads token counts from a usage document (TurnResult.Usage, or the params of a
// thread/tokenUsage/updated event).
func (j *JSON) UsageTokens(scope UsageScope) (TokenCounts, error) {
	var c C.codex_token_counts
	err := j.whole(func(p *C.codex_json, e **C.codex_error) C.codex_result {
		return C.codex_usage_tokens(p, C.uint32_t(scope), &c, e)
	})
	return TokenCounts{int64(c.input), int64(c.cached_input), int64(c.output), int64(c.reasoning_output), int64(c.total)}, err
}

// Failure is why a turn failed, read from a TurnError (TurnResult.Failure) or an error event's
// params.
type Failure struct {
	Kind       FailureKind // 0 when codex gave none, or one a newer codex added
	HTTPStatus int64       // 0 when none
	Message    string
}

// Failure reads the document as a turn failure.
func (j *JSON) Failure() (Failure, error) {
	var f Failure
	var kind C.uint32_t
	var status C.int64_t
	var s *C.char
	var n C.size_t
	err := j.whole(func(p *C.codex_json, e **C.codex_error) C.codex_result {
		rc := C.codex_failure_message(p, &s, &n, e)
		if rc == C.CODEX_OK {
			f.Message = C.GoStringN(s, C.int(n))
			if C.codex_failure_kind(p, &kind, nil) == C.CODEX_OK {
				f.Kind = FailureKind(kind)
			}
			if C.codex_failure_http_status(p, &status, nil) == C.CODEX_OK {
				f.HTTPStatus = int64(status)
			}
		}
		return rc
	})
	return f, err
}

// whole runs a reader on the whole document.
func (j *JSON) whole(f func(p *C.codex_json, cerr **C.codex_error) C.codex_result) error {
	j.mu.RLock()
	defer j.mu.RUnlock()
	if j.p == nil {
		return &Error{Code: ErrInvalidArgument, Message: "json: closed"}
	}
	var cerr *C.codex_error
	return check(f(j.p, &cerr), cerr)
}

// Kind is the request's kind (RequestCommandApproval, ...; 0 for a method a newer codex added).
func (r *Request) Kind() RequestKind {
	r.mu.Lock()
	defer r.mu.Unlock()
	return RequestKind(C.codex_request_kind(r.p))
}

func (r *Request) field(f func(*C.codex_request, **C.char, *C.size_t, **C.codex_error) C.codex_result) (string, error) {
	var out string
	err := r.with(func(p *C.codex_request, e **C.codex_error) C.codex_result {
		var s *C.char
		var n C.size_t
		rc := f(p, &s, &n, e)
		if rc == C.CODEX_OK {
			out = C.GoStringN(s, C.int(n))
		}
		return rc
	})
	return out, err
}

// Command is the command an approval asks to run.
func (r *Request) Command() (string, error) {
	return r.field(func(p *C.codex_request, s **C.char, n *C.size_t, e **C.codex_error) C.codex_result {
		return C.codex_request_command(p, s, n, e)
	})
}

// Cwd is the directory the command would run in.
func (r *Request) Cwd() (string, error) {
	return r.field(func(p *C.codex_request, s **C.char, n *C.size_t, e **C.codex_error) C.codex_result {
		return C.codex_request_cwd(p, s, n, e)
	})
}

// Reason is why the agent asks (ErrNotFound when it gave none).
func (r *Request) Reason() (string, error) {
	return r.field(func(p *C.codex_request, s **C.char, n *C.size_t, e **C.codex_error) C.codex_result {
		return C.codex_request_reason(p, s, n, e)
	})
}

// ItemID is the id of the item the approval is about.
func (r *Request) ItemID() (string, error) {
	return r.field(func(p *C.codex_request, s **C.char, n *C.size_t, e **C.codex_error) C.codex_result {
		return C.codex_request_item_id(p, s, n, e)
	})
}

// Input is a turn's input items, in order: Input{}.Text("Describe").LocalImage("/a.png").
type Input struct{ items []inputItem }

type inputItem struct{ kind, a, b string }

func (in Input) with(kind, a, b string) Input {
	in.items = append(append([]inputItem(nil), in.items...), inputItem{kind, a, b})
	return in
}
func (in Input) Text(text string) Input          { return in.with("text", text, "") }
func (in Input) ImageURL(url string) Input       { return in.with("image", url, "") }
func (in Input) LocalImage(path string) Input    { return in.with("localImage", path, "") }
func (in Input) Skill(name, path string) Input   { return in.with("skill", name, path) }
func (in Input) Mention(name, path string) Input { return in.with("mention", name, path) }

// build makes the C input (codex_input_free it); the library checks every value.
func (in Input) build() (*C.codex_input, error) {
	ci := C.codex_input_new()
	for _, it := range in.items {
		a, freeA := cstr(&it.a)
		b, freeB := cstr(&it.b)
		var cerr *C.codex_error
		var rc C.codex_result
		switch it.kind {
		case "text":
			rc = C.codex_input_add_text(ci, a, &cerr)
		case "image":
			rc = C.codex_input_add_image_url(ci, a, &cerr)
		case "localImage":
			rc = C.codex_input_add_local_image(ci, a, &cerr)
		case "skill":
			rc = C.codex_input_add_skill(ci, a, b, &cerr)
		default:
			rc = C.codex_input_add_mention(ci, a, b, &cerr)
		}
		freeA()
		freeB()
		if e := check(rc, cerr); e != nil {
			C.codex_input_free(ci)
			return nil, e
		}
	}
	return ci, nil
}

// JSON is the items as JSON, for functions taking input text (a callback turn, Steer, a pool).
func (in Input) JSON() (string, error) {
	ci, err := in.build()
	if err != nil {
		return "", err
	}
	defer C.codex_input_free(ci)
	var out *C.char
	var cerr *C.codex_error
	if e := check(C.codex_input_to_json(ci, &out, &cerr), cerr); e != nil {
		return "", e
	}
	return takeString(out), nil
}

// TurnOptions are turn/start options; empty fields are not sent. Fields set here replace the
// same keys of the params given beside them.
type TurnOptions struct {
	Model, Effort, Summary, Cwd, Sandbox, ApprovalPolicy, Personality, ServiceTier string
	// OutputSchema is a JSON Schema (an object) the final answer must follow.
	OutputSchema json.RawMessage
}

type setter func(opts unsafe.Pointer, v *C.char, e **C.codex_error) C.codex_result

func setAll(opts unsafe.Pointer, fields []string, setters []setter) error {
	for i, v := range fields {
		if v == "" {
			continue
		}
		cv, free := cstr(&fields[i])
		var cerr *C.codex_error
		rc := setters[i](opts, cv, &cerr)
		free()
		if e := check(rc, cerr); e != nil {
			return e
		}
	}
	return nil
}

func (o *TurnOptions) build() (*C.codex_turn_options, error) {
	co := C.codex_turn_options_new()
	t := func(f func(*C.codex_turn_options, *C.char, **C.codex_error) C.codex_result) setter {
		return func(p unsafe.Pointer, v *C.char, e **C.codex_error) C.codex_result {
			return f((*C.codex_turn_options)(p), v, e)
		}
	}
	fields := []string{o.Model, o.Effort, o.Summary, o.Cwd, o.Sandbox, o.ApprovalPolicy, o.Personality, o.ServiceTier, string(o.OutputSchema)}
	setters := []setter{
		t(func(p *C.codex_turn_options, v *C.char, e **C.codex_error) C.codex_result {
			return C.codex_turn_options_set_model(p, v, e)
		}),
		t(func(p *C.codex_turn_options, v *C.char, e **C.codex_error) C.codex_result {
			return C.codex_turn_options_set_effort(p, v, e)
		}),
		t(func(p *C.codex_turn_options, v *C.char, e **C.codex_error) C.codex_result {
			return C.codex_turn_options_set_summary(p, v, e)
		}),
		t(func(p *C.codex_turn_options, v *C.char, e **C.codex_error) C.codex_result {
			return C.codex_turn_options_set_cwd(p, v, e)
		}),
		t(func(p *C.codex_turn_options, v *C.char, e **C.codex_error) C.codex_result {
			return C.codex_turn_options_set_sandbox(p, v, e)
		}),
		t(func(p *C.codex_turn_options, v *C.char, e **C.codex_error) C.codex_result {
			return C.codex_turn_options_set_approval_policy(p, v, e)
		}),
		t(func(p *C.codex_turn_options, v *C.char, e **C.codex_error) C.codex_result {
			return C.codex_turn_options_set_personality(p, v, e)
		}),
		t(func(p *C.codex_turn_options, v *C.char, e **C.codex_error) C.codex_result {
			return C.codex_turn_options_set_service_tier(p, v, e)
		}),
		t(func(p *C.codex_turn_options, v *C.char, e **C.codex_error) C.codex_result {
			return C.codex_turn_options_set_output_schema(p, v, e)
		}),
	}
	if err := setAll(unsafe.Pointer(co), fields, setters); err != nil {
		C.codex_turn_options_free(co)
		return nil, err
	}
	return co, nil
}

// StartTurnWith starts a turn from built input and options (nil: none), with params (nil for
// none) for what the options do not cover.
func (c *Client) StartTurnWith(threadID string, input Input, opts *TurnOptions, params any) (*Turn, error) {
	p, done, err := c.handle()
	if err != nil {
		return nil, err
	}
	defer done()
	ci, err := input.build()
	if err != nil {
		return nil, err
	}
	defer C.codex_input_free(ci)
	var co *C.codex_turn_options
	if opts != nil {
		if co, err = opts.build(); err != nil {
			return nil, err
		}
		defer C.codex_turn_options_free(co)
	}
	return startTurn(threadID, "", params, func(t, _, cp *C.char, turn **C.codex_turn, cerr **C.codex_error) C.codex_result {
		return C.codex_turn_start_with(p, t, ci, co, cp, turn, cerr)
	})
}

// JSON is the turn/start params these make over params (nil for none).
func (o *TurnOptions) JSON(params any) (string, error) {
	co, err := o.build()
	if err != nil {
		return "", err
	}
	defer C.codex_turn_options_free(co)
	return optionsJSON(params, func(cp *C.char, out **C.char, cerr **C.codex_error) C.codex_result {
		return C.codex_turn_options_to_json(co, cp, out, cerr)
	})
}

func optionsJSON(params any, f func(cp *C.char, out **C.char, cerr **C.codex_error) C.codex_result) (string, error) {
	pj, err := paramsJSON(params)
	if err != nil {
		return "", err
	}
	cp, free := cstr(pj)
	defer free()
	var out *C.char
	var cerr *C.codex_error
	if e := check(f(cp, &out, &cerr), cerr); e != nil {
		return "", e
	}
	return takeString(out), nil
}

// ThreadOptions are thread/start options; empty fields are not sent. Config holds config
// overrides ("features.plugins": false), each marshalled to JSON. Fields replace the same keys
// of the params given beside them; config overrides merge key by key.
type ThreadOptions struct {
	Model, Cwd, Sandbox, ApprovalPolicy, BaseInstructions, DeveloperInstructions string
	Ephemeral                                                                    *bool
	Config                                                                       map[string]any
}

func (o *ThreadOptions) build() (*C.codex_thread_options, error) {
	co := C.codex_thread_options_new()
	t := func(f func(*C.codex_thread_options, *C.char, **C.codex_error) C.codex_result) setter {
		return func(p unsafe.Pointer, v *C.char, e **C.codex_error) C.codex_result {
			return f((*C.codex_thread_options)(p), v, e)
		}
	}
	fields := []string{o.Model, o.Cwd, o.Sandbox, o.ApprovalPolicy, o.BaseInstructions, o.DeveloperInstructions}
	setters := []setter{
		t(func(p *C.codex_thread_options, v *C.char, e **C.codex_error) C.codex_result {
			return C.codex_thread_options_set_model(p, v, e)
		}),
		t(func(p *C.codex_thread_options, v *C.char, e **C.codex_error) C.codex_result {
			return C.codex_thread_options_set_cwd(p, v, e)
		}),
		t(func(p *C.codex_thread_options, v *C.char, e **C.codex_error) C.codex_result {
			return C.codex_thread_options_set_sandbox(p, v, e)
		}),
		t(func(p *C.codex_thread_options, v *C.char, e **C.codex_error) C.codex_result {
			return C.codex_thread_options_set_approval_policy(p, v, e)
		}),
		t(func(p *C.codex_thread_options, v *C.char, e **C.codex_error) C.codex_result {
			return C.codex_thread_options_set_base_instructions(p, v, e)
		}),
		t(func(p *C.codex_thread_options, v *C.char, e **C.codex_error) C.codex_result {
			return C.codex_thread_options_set_developer_instructions(p, v, e)
		}),
	}
	fail := func(err error) (*C.codex_thread_options, error) {
		C.codex_thread_options_free(co)
		return nil, err
	}
	if err := setAll(unsafe.Pointer(co), fields, setters); err != nil {
		return fail(err)
	}
	if o.Ephemeral != nil {
		var cerr *C.codex_error
		if e := check(C.codex_thread_options_set_ephemeral(co, C.bool(*o.Ephemeral), &cerr), cerr); e != nil {
			return fail(e)
		}
	}
	for k, v := range o.Config {
		b, err := json.Marshal(v)
		if err != nil {
			return fail(&Error{Code: ErrInvalidArgument, Message: "config " + k + ": " + err.Error()})
		}
		key, freeK := cstr(&k)
		val, freeV := cstr(str(string(b)))
		var cerr *C.codex_error
		rc := C.codex_thread_options_set_config(co, key, val, &cerr)
		freeK()
		freeV()
		if e := check(rc, cerr); e != nil {
			return fail(e)
		}
	}
	return co, nil
}

// JSON is the thread/start params these make over params (nil for none).
func (o *ThreadOptions) JSON(params any) (string, error) {
	co, err := o.build()
	if err != nil {
		return "", err
	}
	defer C.codex_thread_options_free(co)
	return optionsJSON(params, func(cp *C.char, out **C.char, cerr **C.codex_error) C.codex_result {
		return C.codex_thread_options_to_json(co, cp, out, cerr)
	})
}

// ThreadStartWith starts a thread from options (nil: none), with params (nil for none) for what
// the options do not cover; returns its id.
func (c *Client) ThreadStartWith(opts *ThreadOptions, params any) (string, error) {
	p, done, err := c.handle()
	if err != nil {
		return "", err
	}
	defer done()
	var co *C.codex_thread_options
	if opts != nil {
		if co, err = opts.build(); err != nil {
			return "", err
		}
		defer C.codex_thread_options_free(co)
	}
	return threadStart(params, func(cp *C.char, id **C.char, cerr **C.codex_error) C.codex_result {
		return C.codex_client_thread_start_with(p, co, cp, id, nil, cerr)
	})
}
