package codexappserver

import (
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"
)

// The fake keeps threads, models and an account in memory (tools/fake_app_server/threads.rs).

func listAll(t *testing.T, c *Client, params any) [][]string {
	t.Helper()
	list, err := c.ThreadList(params)
	if err != nil {
		t.Fatal(err)
	}
	defer list.Close()
	var pages [][]string
	for {
		page, err := list.Next()
		if errors.Is(err, io.EOF) {
			return pages
		}
		if err != nil {
			t.Fatal(err)
		}
		var raw struct {
			Data []struct{ ID string } `json:"data"`
		}
		if err := json.Unmarshal(page.JSON, &raw); err != nil || len(raw.Data) != len(page.IDs) {
			t.Fatalf("page JSON %s: %v", page.JSON, err)
		}
		pages = append(pages, page.IDs)
	}
}

func TestThreadsForkListNameArchive(t *testing.T) {
	c := fake(t, "normal", nil)
	var started []string
	for i := 0; i < 3; i++ {
		id, err := c.ThreadStart(nil)
		if err != nil {
			t.Fatal(err)
		}
		started = append(started, id)
	}
	fork, result, err := c.ThreadFork(started[0], true, nil)
	if err != nil || fork == started[0] || !strings.Contains(string(result), `"forkedFromId":"`+started[0]+`"`) {
		t.Fatalf("fork: %q %s %v", fork, result, err)
	}
	pages := listAll(t, c, map[string]any{"limit": 2})
	want := [][]string{{fork, started[2]}, {started[1], started[0]}}
	if !reflect.DeepEqual(pages, want) {
		t.Fatalf("pages %v, want %v", pages, want)
	}
	if _, err := c.ThreadSetName(started[1], "Nightly build"); err != nil {
		t.Fatal(err)
	}
	read, err := c.ThreadRead(started[1], true)
	if err != nil || !strings.Contains(string(read), `"name":"Nightly build"`) {
		t.Fatalf("read: %s %v", read, err)
	}
	if got := listAll(t, c, map[string]any{"searchTerm": "Nightly"}); !reflect.DeepEqual(got, [][]string{{started[1]}}) {
		t.Fatalf("search: %v", got)
	}
	if _, err := c.ThreadArchive(started[2]); err != nil {
		t.Fatal(err)
	}
	if got := listAll(t, c, map[string]any{"archived": true}); !reflect.DeepEqual(got, [][]string{{started[2]}}) {
		t.Fatalf("archived: %v", got)
	}
	if _, err := c.ThreadUnarchive(started[2]); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ThreadTurnsList(started[2], map[string]any{"limit": 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ThreadCompact(started[0]); err != nil {
		t.Fatal(err)
	}
	first, err := c.ThreadUnsubscribe(started[0])
	if err != nil || !strings.Contains(string(first), `"unsubscribed"`) {
		t.Fatalf("unsubscribe: %s %v", first, err)
	}
	// The server's errors, and the library's.
	if _, err := c.ThreadRead("no-such-thread", false); !errors.Is(err, ErrRPC) {
		t.Fatalf("unknown thread: %v", err)
	}
	bad, err := c.ThreadList(map[string]any{"cursor": "nonsense"})
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	if _, err := bad.Next(); !errors.Is(err, ErrRPC) || !strings.Contains(err.Error(), "invalid cursor") {
		t.Fatalf("bad cursor: %v", err)
	}
	if _, err := c.ThreadList([]int{1}); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("params that are no object: %v", err)
	}
	if _, err := c.ThreadRead("", false); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("empty thread id: %v", err)
	}
}

func TestModelsAccountAndRateLimits(t *testing.T) {
	c := fake(t, "normal", nil)
	visible, err := c.ModelList(false)
	if err != nil || strings.Contains(string(visible), "fake-hidden") {
		t.Fatalf("models: %s %v", visible, err)
	}
	all, err := c.ModelList(true)
	if err != nil || !strings.Contains(string(all), "fake-hidden") || !strings.Contains(string(all), "fake-model") {
		t.Fatalf("models with hidden ones (two pages): %s %v", all, err)
	}
	if err := c.AccountLoginAPIKey("sk-fake"); err != nil {
		t.Fatal(err)
	}
	account, err := c.AccountRead(false)
	if err != nil || !strings.Contains(string(account), `"apiKey"`) {
		t.Fatalf("account: %s %v", account, err)
	}
	limits, err := c.AccountRateLimits()
	if err != nil {
		t.Fatal(err)
	}
	if *limits.Primary != (RateLimitWindow{UsedPercent: 42, WindowMinutes: 300, ResetsAt: 1800000000}) || limits.Secondary != nil {
		t.Fatalf("limits: %+v", limits)
	}
	for {
		ev, err := c.NextEvent(60 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if ev.Method == "account/rateLimits/updated" {
			if ev.RateLimits == nil || ev.RateLimits.Primary.UsedPercent != 42 {
				t.Fatalf("notified limits: %+v", ev.RateLimits)
			}
			break
		}
		if ev.RateLimits != nil {
			t.Fatalf("%s has no rate limits", ev.Method)
		}
	}
	if err := c.AccountLogout(); err != nil {
		t.Fatal(err)
	}
	if err := c.AccountLoginAPIKey(""); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("empty key: %v", err)
	}
}

func TestPoolReleasesItsThread(t *testing.T) {
	pool, err := StartPool([]Options{fakeMember(t, "r_")})
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	thread, err := pool.ThreadStart(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := pool.ThreadRelease(thread); err != nil {
		t.Fatal(err)
	}
	if err := pool.ThreadRelease(thread); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("released twice: %v", err)
	}
	if _, err := pool.StartTurn(thread, "hi", nil); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("a turn on a released thread: %v", err)
	}
}
