package codexappserver

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func fakeMember(t *testing.T, prefix string) Options {
	t.Helper()
	path := fakeServer(t)
	scenario := "normal"
	zero := 0
	return Options{
		CodexBin:         path,
		Env:              map[string]*string{"FAKE_SCENARIO": &scenario, "FAKE_THREAD_PREFIX": &prefix},
		ControlTimeout:   5 * time.Second,
		TurnBufferEvents: &zero,
	}
}

// Two members: threads land on both, turns run on the member that owns their thread.
func TestPoolSpreadsThreadsAndRunsTurns(t *testing.T) {
	pool, err := StartPool([]Options{fakeMember(t, "a_"), fakeMember(t, "b_")})
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	// StartPool returns once one member is up; wait (bounded) for the other.
	for deadline := time.Now().Add(30 * time.Second); !pool.MemberHealthy(0) || !pool.MemberHealthy(1); {
		if time.Now().After(deadline) {
			t.Fatal("both members not up within 30 s")
		}
		time.Sleep(time.Millisecond)
	}
	if pool.MemberCount() != 2 {
		t.Fatalf("members: %d", pool.MemberCount())
	}
	seen := map[byte]bool{}
	for i := 0; i < 2; i++ {
		thread, err := pool.ThreadStart(nil)
		if err != nil {
			t.Fatal(err)
		}
		seen[thread[0]] = true
		turn, err := pool.StartTurn(thread, "hi", nil)
		if err != nil {
			t.Fatal(err)
		}
		res, err := turn.Run(30 * time.Second)
		turn.Close()
		if err != nil || res.Status != "completed" {
			t.Fatalf("turn: %v %+v", err, res)
		}
	}
	if len(seen) != 2 {
		t.Fatalf("both threads on one member: %v", seen)
	}
	if _, err := pool.StartTurn("unknown", "x", nil); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("unknown thread: %v", err)
	}
	pool.Close()
	if _, err := pool.ThreadStart(nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("after close: %v", err)
	}
	if _, err := Start(Options{URL: "ftp://example"}); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("bad URL: %v", err)
	}
	if _, err := Start(Options{URL: "ws://127.0.0.1:1", AuthToken: "secret-token", ConnectTimeout: time.Second}); !errors.Is(err, ErrTransport) || strings.Contains(err.Error(), "secret-token") {
		t.Fatalf("refused connection: %v", err)
	}
	if _, err := StartPool(nil); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("no members: %v", err)
	}
}
