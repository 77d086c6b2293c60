package codexappserver

import (
	"errors"
	"testing"
	"time"
)

// Readers over documents shaped as codex sends them; kinds a newer codex adds read as 0.
func TestTypedReaders(t *testing.T) {
	doc, err := ParseJSON([]byte(`{"item":{"type":"fileChange","id":"f","status":"declined","changes":[
		{"path":"/a","kind":{"type":"add"},"diff":"+a"},{"path":"/b é","kind":{"type":"update"},"diff":"-b"}]},
		"next":{"type":"teleport"}}`))
	if err != nil {
		t.Fatal(err)
	}
	defer doc.Close()
	item, err := doc.Item("/item")
	if err != nil {
		t.Fatal(err)
	}
	if k, err := item.Kind(); err != nil || k != ItemFileChange {
		t.Fatalf("kind %v %v", k, err)
	}
	if s, err := item.Status(); err != nil || s != StatusDeclined {
		t.Fatalf("status %v %v", s, err)
	}
	changes, err := item.Changes()
	if err != nil || len(changes) != 2 || changes[1] != (FileChange{"/b é", ChangeUpdate, "-b"}) {
		t.Fatalf("changes %+v %v", changes, err)
	}
	if _, err := item.ExitCode(); !errors.Is(err, ErrNotFound) {
		t.Fatalf("exit code of a file change: %v", err)
	}
	next, _ := doc.Item("/next")
	if k, err := next.Kind(); err != nil || k != ItemUnknown {
		t.Fatalf("a newer kind: %v %v", k, err)
	}
	usage, _ := ParseJSON([]byte(`{"tokenUsage":{"total":{"inputTokens":3,"cachedInputTokens":1,"outputTokens":2,
		"reasoningOutputTokens":0,"totalTokens":5},"last":{"inputTokens":3,"cachedInputTokens":1,"outputTokens":2,
		"reasoningOutputTokens":0,"totalTokens":5}}}`))
	defer usage.Close()
	if c, err := usage.UsageTokens(UsageTotal); err != nil || c != (TokenCounts{3, 1, 2, 0, 5}) {
		t.Fatalf("usage %+v %v", c, err)
	}
	if _, err := usage.UsageTokens(UsageScope(9)); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("bad scope: %v", err)
	}
	if j, err := (Input{}).Text(`a"b`).JSON(); err != nil || j != `[{"text":"a\"b","type":"text"}]` {
		t.Fatalf("input JSON %s %v", j, err)
	}
	if j, err := (&TurnOptions{Model: "m2"}).JSON(map[string]any{"model": "m1", "effort": "low"}); err != nil || j != `{"effort":"low","model":"m2"}` {
		t.Fatalf("turn options JSON %s %v", j, err)
	}
	if j, err := (&ThreadOptions{Config: map[string]any{"a": 1}}).JSON(nil); err != nil || j != `{"config":{"a":1}}` {
		t.Fatalf("thread options JSON %s %v", j, err)
	}
	failure, _ := ParseJSON([]byte(`{"message":"no","codexErrorInfo":{"httpConnectionFailed":{"httpStatusCode":401}}}`))
	defer failure.Close()
	if f, err := failure.Failure(); err != nil || f != (Failure{FailureHTTPConnectionFailed, 401, "no"}) {
		t.Fatalf("failure %+v %v", f, err)
	}
}

// Builders start a thread and a turn on the fake; an approval's command and cwd are read
// with accessors; bad builder values are refused before anything is sent.
func TestTypedBuildersAndApproval(t *testing.T) {
	c := fake(t, "approval", nil)
	defer c.Close()
	if _, err := c.ThreadStartWith(&ThreadOptions{Sandbox: "everything"}, nil); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("bad sandbox: %v", err)
	}
	yes := true
	thread, err := c.ThreadStartWith(&ThreadOptions{Cwd: `/tmp/"q" \ é`, Ephemeral: &yes,
		Config: map[string]any{"features.plugins": false}}, map[string]any{"model": "x"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.StartTurnWith(thread, Input{}, nil, nil); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("empty input: %v", err)
	}
	if _, err := c.StartTurnWith(thread, Input{}.Text("x"), &TurnOptions{OutputSchema: []byte("[1]")}, nil); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("bad schema: %v", err)
	}
	turn, err := c.StartTurnWith(thread, Input{}.Text("hello").LocalImage("/tmp/a.png"),
		&TurnOptions{Model: "m", OutputSchema: []byte(`{"type":"object"}`)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer turn.Close()
	asked := false
	for {
		ev, err := turn.NextEvent(30 * time.Second)
		if err != nil {
			break
		}
		if ev.Request == nil {
			continue
		}
		if ev.Request.Kind() == RequestCommandApproval {
			cmd, err1 := ev.Request.Command()
			cwd, err2 := ev.Request.Cwd()
			if err1 != nil || err2 != nil || cmd != "echo hi" || cwd != "/tmp" {
				t.Fatalf("approval %q %q %v %v", cmd, cwd, err1, err2)
			}
			if _, err := ev.Request.Reason(); !errors.Is(err, ErrNotFound) {
				t.Fatalf("no reason: %v", err)
			}
			asked = true
			ev.Request.Approve(Accept)
		} else {
			ev.Request.RespondError(-32601, "unknown")
		}
	}
	if !asked {
		t.Fatal("no approval")
	}
}
