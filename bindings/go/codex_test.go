package codexappserver

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// safety bounds every wait: it is reached only when something is broken.
const safety = 60 * time.Second

// fakeServer is the scripted fake app-server: $CODEX_FAKE_SERVER (make go-test sets it), else
// the one `cargo build --release` leaves in the repository's target folder.
func fakeServer(t *testing.T) string {
	t.Helper()
	if path := os.Getenv("CODEX_FAKE_SERVER"); path != "" {
		return path
	}
	name := "fake_app_server"
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	path, err := filepath.Abs(filepath.Join("..", "..", "target", "release", name))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("no fake app-server (build it with `cargo build --release`, or set CODEX_FAKE_SERVER): %v", err)
	}
	return path
}

func fake(t *testing.T, scenario string, env map[string]string) *Client {
	t.Helper()
	path := fakeServer(t)
	e := map[string]*string{"FAKE_SCENARIO": &scenario}
	for k, v := range env {
		v := v
		e[k] = &v
	}
	c, err := Start(Options{CodexBin: path, Env: e, ClientName: "go-test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// Eight goroutines, eight threads, eight concurrent turns on one client: each sees exactly its
// own deltas, in order.
func TestConcurrentTurnsFromGoroutines(t *testing.T) {
	c := fake(t, "interleaved", map[string]string{"FAKE_DELTAS": "100"})
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			thread, err := c.ThreadStart(nil)
			if err != nil {
				errs <- err
				return
			}
			turn, err := c.StartTurn(thread, "hi", nil)
			if err != nil {
				errs <- err
				return
			}
			defer turn.Close()
			n := 0
			for {
				ev, err := turn.NextEvent(safety)
				if err == io.EOF {
					break
				}
				if err != nil {
					errs <- err
					return
				}
				if ev.TurnID != turn.ID {
					errs <- fmt.Errorf("turn %s got an event of %s", turn.ID, ev.TurnID)
					return
				}
				if ev.Kind == EventAgentMessageDelta {
					if want := fmt.Sprintf("%s:%d;", turn.ID, n); ev.Delta != want {
						errs <- fmt.Errorf("delta %q, want %q", ev.Delta, want)
						return
					}
					n++
				}
			}
			if n != 100 {
				errs <- fmt.Errorf("turn %s: %d deltas", turn.ID, n)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestErrorsCarryCodes(t *testing.T) {
	c := fake(t, "normal", nil)
	_, err := c.Request("test/error_with_data", map[string]any{}, 0)
	var e *Error
	if !errors.As(err, &e) || e.Code != ErrRPC || e.RPCCode == nil || *e.RPCCode != -32602 || !strings.Contains(string(e.Data), "field") {
		t.Fatalf("rpc error: %#v", err)
	}
	if _, err := c.Request("test/overloaded", nil, 0); !errors.Is(err, ErrOverloaded) {
		t.Fatalf("overloaded: %v", err)
	}
	if _, err := c.Request("test/hang", nil, 100*time.Millisecond); !errors.Is(err, ErrTimeout) {
		t.Fatalf("timeout: %v", err)
	}
	out, err := c.Request("test/echo", map[string]int{"a": 1}, 0)
	if err != nil || string(out) != `{"a":1}` {
		t.Fatalf("echo: %s %v", out, err)
	}
	thread, _ := c.ThreadStart(map[string]any{"cwd": os.TempDir()})
	// The fake holds this turn after one delta until it is steered: surely still running when
	// the second turn is tried.
	turn, err := c.StartTurn(thread, "one hold-after:1", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer turn.Close()
	if _, err := c.StartTurn(thread, "two", nil); !errors.Is(err, ErrTurnActive) {
		t.Fatalf("busy thread: %v", err)
	}
	if err := turn.Steer("go on"); err != nil {
		t.Fatalf("steer: %v", err)
	}
	res, err := turn.Run(safety)
	if err != nil || res.Status != "completed" || res.FinalAnswer == nil {
		t.Fatalf("run: %+v %v", res, err)
	}
}

func TestCloseWakesBlockedCalls(t *testing.T) {
	c := fake(t, "normal", nil)
	done := make(chan error)
	go func() {
		_, err := c.Request("test/hang_notify", nil, -1)
		done <- err
	}()
	// The fake announces the request it will never answer: it is surely pending at Close.
	for {
		ev, err := c.NextEvent(safety)
		if err != nil {
			t.Fatalf("waiting for test/hanging: %v", err)
		}
		if ev.Method == "test/hanging" {
			break
		}
	}
	c.Close()
	select {
	case err := <-done:
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("blocked request: %v", err)
		}
	case <-time.After(safety):
		t.Fatal("Close did not wake the blocked request")
	}
	if _, err := c.ThreadStart(nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("after close: %v", err)
	}
}

func TestApprovalsAnsweredFromGo(t *testing.T) {
	c := fake(t, "approval", nil)
	thread, _ := c.ThreadStart(nil)
	turn, err := c.StartTurn(thread, "run", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer turn.Close()
	for {
		ev, err := turn.NextEvent(safety)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if ev.Request != nil {
			if ev.Method == "item/commandExecution/requestApproval" {
				err = ev.Request.Approve(Accept)
			} else {
				err = ev.Request.RespondError(-32000, "not here")
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := ev.Request.Approve(Decline); !errors.Is(err, ErrStaleRequest) && !errors.Is(err, ErrInvalidArgument) {
				t.Fatalf("second answer: %v", err)
			}
			ev.Request.Free()
		}
		if ev.Kind == EventItemCompleted && strings.Contains(string(ev.Params), "commandExecution") {
			var p struct {
				Item struct{ Status string } `json:"item"`
			}
			json.Unmarshal(ev.Params, &p)
			if p.Item.Status != "completed" {
				t.Fatalf("command: %s", ev.Params)
			}
		}
	}
}
