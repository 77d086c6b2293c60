package codexappserver

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"
)

// Events delivers every event and closes at turn/completed; a cancelled context ends both
// NextEventContext and Events promptly; no goroutine is left behind.
func TestEventsChannelAndContext(t *testing.T) {
	before := runtime.NumGoroutine()
	c := fake(t, "normal", map[string]string{"FAKE_DELTAS": "30"})
	thread, err := c.ThreadStart(nil)
	if err != nil {
		t.Fatal(err)
	}
	turn, err := c.StartTurn(thread, "hi", nil)
	if err != nil {
		t.Fatal(err)
	}
	deltas := 0
	for ev := range turn.Events(context.Background()) {
		if ev.Kind == EventAgentMessageDelta {
			deltas++
		}
	}
	if deltas != 30 || turn.Err() != nil {
		t.Fatalf("deltas %d, err %v", deltas, turn.Err())
	}
	turn.Close()

	// A turn held by the fake after one delta: only the context can end the wait.
	held, err := c.StartTurn(mustThread(t, c), "wait hold-after:1", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	ctx, cancel := context.WithCancel(context.Background())
	events := held.Events(ctx)
	for ev := range events {
		if ev.Kind == EventAgentMessageDelta {
			break // the one delta before the hold
		}
	}
	cancel()
	for range events {
	}
	if !errors.Is(held.Err(), context.Canceled) {
		t.Fatalf("Events ended with %v", held.Err())
	}
	ctx2, cancel2 := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel2()
	if _, err := held.NextEventContext(ctx2); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("NextEventContext: %v", err)
	}
	c.Close()
	// Every goroutine of ours has ended (bounded wait: the runtime reaps them lazily).
	deadline := time.Now().Add(30 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Fatalf("%d goroutines, %d before", n, before)
	}
}

func mustThread(t *testing.T, c *Client) string {
	t.Helper()
	id, err := c.ThreadStart(nil)
	if err != nil {
		t.Fatal(err)
	}
	return id
}
