package codexappserver

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"
)

// receive takes the one Reply of an asynchronous call (bounded by safety).
func receive(t *testing.T, replies <-chan Reply) Reply {
	t.Helper()
	select {
	case r := <-replies:
		return r
	case <-time.After(safety):
		t.Fatal("no reply")
		return Reply{}
	}
}

// A channel per call: many calls in flight from one goroutine, each answered on its own channel.
func TestRequestAsyncRepliesOnItsChannel(t *testing.T) {
	c := fake(t, "normal", nil)
	var calls []<-chan Reply
	for i := 0; i < 20; i++ {
		ch, err := c.ThreadStartAsync(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		calls = append(calls, ch)
	}
	seen := map[string]bool{}
	for _, ch := range calls {
		r := receive(t, ch)
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		id, err := ThreadID(r.Result)
		if err != nil || seen[id] {
			t.Fatalf("thread id %q: %v", id, err)
		}
		seen[id] = true
	}
	echo, err := c.RequestAsync(context.Background(), "test/echo", map[string]int{"a": 1}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if r := receive(t, echo); r.Err != nil || string(r.Result) != `{"a":1}` {
		t.Fatalf("echo: %s %v", r.Result, r.Err)
	}
	bad, _ := c.RequestAsync(context.Background(), "no/such", nil, 0)
	var e *Error
	if r := receive(t, bad); !errors.As(r.Err, &e) || e.Code != ErrRPC {
		t.Fatalf("want ErrRPC, got %v", r.Err)
	}
}

// Cancelling the context cancels the request: its reply is the context's error, and the late
// answer (released only afterwards) goes to nobody.
func TestRequestAsyncContextCancels(t *testing.T) {
	c := fake(t, "normal", nil)
	ctx, cancel := context.WithCancel(context.Background())
	held, err := c.ThreadStartAsync(ctx, map[string]bool{"fakeHold": true})
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	if r := receive(t, held); !errors.Is(r.Err, context.Canceled) {
		t.Fatalf("want context.Canceled, got %v", r.Err)
	}
	if out, err := c.Request("test/release_held", nil, 0); err != nil || string(out) != `{"released":1}` {
		t.Fatalf("release: %s %v", out, err)
	}
}

func TestStartTurnAsyncAndTheBound(t *testing.T) {
	c, err := Start(Options{CodexBin: fakeServer(t), Env: map[string]*string{"FAKE_SCENARIO": str("normal")}, MaxPendingRequests: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	thread, err := c.ThreadStart(nil)
	if err != nil {
		t.Fatal(err)
	}
	turn, err := c.StartTurnAsync(thread, "hi", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer turn.Close()
	for {
		_, err := turn.NextEvent(safety)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if turn.CurrentID() == "" {
		t.Fatal("the turn never learnt its id")
	}
	h1, _ := c.RequestAsync(context.Background(), "test/hang", nil, -1)
	h2, _ := c.RequestAsync(context.Background(), "test/hang", nil, -1)
	_, err = c.RequestAsync(context.Background(), "test/hang", nil, -1)
	var e *Error
	if !errors.As(err, &e) || e.Code != ErrTooManyPending {
		t.Fatalf("want ErrTooManyPending, got %v", err)
	}
	c.Close()
	for _, ch := range []<-chan Reply{h1, h2} {
		if r := receive(t, ch); !errors.As(r.Err, &e) || e.Code != ErrClosed {
			t.Fatalf("want ErrClosed, got %v", r.Err)
		}
	}
}

// A client started without waiting; a failed start; a cancelled one.
func TestStartAsync(t *testing.T) {
	ch, err := StartAsync(context.Background(), Options{CodexBin: fakeServer(t), Env: map[string]*string{"FAKE_SCENARIO": str("normal")}})
	if err != nil {
		t.Fatal(err)
	}
	var r StartReply
	select {
	case r = <-ch:
	case <-time.After(safety):
		t.Fatal("no start")
	}
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	defer r.Client.Close()
	if out, err := r.Client.Request("test/echo", []int{7}, 0); err != nil || string(out) != "[7]" {
		t.Fatalf("echo: %s %v", out, err)
	}
	bad, err := StartAsync(context.Background(), Options{CodexBin: "/nonexistent/codex-async"})
	if err != nil {
		t.Fatal(err)
	}
	var e *Error
	select {
	case r := <-bad:
		if !errors.As(r.Err, &e) || e.Code != ErrSpawn {
			t.Fatalf("want ErrSpawn, got %v", r.Err)
		}
	case <-time.After(safety):
		t.Fatal("no reply")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	gone, err := StartAsync(ctx, Options{CodexBin: fakeServer(t)})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-gone:
		// Cancelled, or (had the start won the race) started: either way one reply.
		if r.Err == nil {
			r.Client.Close()
		} else if !errors.Is(r.Err, context.Canceled) {
			t.Fatalf("want context.Canceled, got %v", r.Err)
		}
	case <-time.After(safety):
		t.Fatal("no reply")
	}
}

// A held turn interrupted without waiting.
func TestInterruptAsync(t *testing.T) {
	c := fake(t, "normal", nil)
	thread, err := c.ThreadStart(nil)
	if err != nil {
		t.Fatal(err)
	}
	turn, err := c.StartTurnAsync(thread, "stop hold-after:1", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer turn.Close()
	for {
		ev, err := turn.NextEvent(safety)
		if err != nil {
			t.Fatal(err)
		}
		if ev.Delta != "" {
			break
		}
	}
	ch, err := turn.InterruptAsync(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if r := receive(t, ch); r.Err != nil {
		t.Fatal(r.Err)
	}
	res, err := turn.Run(safety)
	if err != nil || res.Status != "interrupted" {
		t.Fatalf("run: %+v %v", res, err)
	}
}
