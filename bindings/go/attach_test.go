package codexappserver

import (
	"encoding/json"
	"errors"
	"testing"
	"time"
)

// script has the scripted fake write lines once it received afterStarts turn starts; it
// returns when every line has been routed.
func script(t *testing.T, c *Client, afterStarts int, lines ...any) {
	t.Helper()
	if err := scriptErr(c, afterStarts, lines...); err != nil {
		t.Fatal(err)
	}
}

// rawLine is a line written as it is (one that is no JSON yet, such as "$START" as an id).
type rawLine string

func scriptErr(c *Client, afterStarts int, lines ...any) error {
	var text []string
	for _, l := range lines {
		if raw, ok := l.(rawLine); ok {
			text = append(text, string(raw))
			continue
		}
		b, err := json.Marshal(l)
		if err != nil {
			return err
		}
		text = append(text, string(b))
	}
	_, err := c.Request("test/script", map[string]any{"afterStarts": afterStarts, "lines": text}, time.Minute)
	return err
}

func turnStarted(thread, turn string) any {
	return map[string]any{"method": "turn/started", "params": map[string]any{"threadId": thread, "turn": map[string]any{"id": turn}}}
}

func turnCompleted(thread, turn string) any {
	return map[string]any{"method": "turn/completed", "params": map[string]any{"threadId": thread, "turn": map[string]any{"id": turn, "status": "completed"}}}
}

// A handle for a turn the program did not start, and a review turn with its review text.
func TestAttachAndReviewFromGo(t *testing.T) {
	c := fake(t, "scripted", nil)
	thread, err := c.ThreadStart(nil)
	if err != nil {
		t.Fatal(err)
	}
	turn, err := c.AttachTurn(thread, "")
	if err != nil {
		t.Fatal(err)
	}
	var e *Error
	waiting, err := c.AttachTurn(thread, "") // waits behind turn; freed unused
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.AttachTurn(thread, ""); !errors.As(err, &e) || e.Code != ErrTurnActive {
		t.Fatalf("a third handle: %v", err)
	}
	waiting.Close()
	script(t, c, 0, turnStarted(thread, "goal-1"), turnCompleted(thread, "goal-1"))
	res, err := turn.Run(time.Minute)
	if err != nil || res.Status != "completed" || turn.CurrentID() != "goal-1" {
		t.Fatalf("%v %+v %q", err, res, turn.CurrentID())
	}
	turn.Close()
	if _, err := c.AttachTurn(thread, "goal-1"); !errors.As(err, &e) || e.Code != ErrNotFound {
		t.Fatalf("a completed turn: %v", err)
	}

	done := make(chan error, 1)
	go func() {
		done <- scriptErr(c, 1,
			rawLine(`{"id":$START,"result":{"turn":{"id":"rev"},"reviewThreadId":"`+thread+`"}}`),
			map[string]any{"method": "item/completed", "params": map[string]any{"threadId": thread, "turnId": "rev",
				"item": map[string]any{"type": "exitedReviewMode", "id": "x", "review": "Fine."}}},
			turnCompleted(thread, "rev"))
	}()
	review, err := c.StartReview(thread, map[string]any{"target": map[string]any{"type": "uncommittedChanges"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	res, err = review.Run(time.Minute)
	if err != nil || res.Review == nil || *res.Review != "Fine." {
		t.Fatalf("%v %+v", err, res)
	}
	review.Close()
}
