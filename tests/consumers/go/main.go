// A Go program outside the binding's module: three turns at once on one client, each read by
// its own goroutine. Uses the app-server in $CODEX_BIN (the suite points it at the scripted
// fake). Build with PKG_CONFIG_PATH naming the installed prefix's lib/pkgconfig.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	codex "github.com/libcodex-app-server/libcodex_app_server/bindings/go"
)

// run starts three turns on three threads of one client and returns one line per turn.
func run() ([]string, error) {
	c, err := codex.Start(codex.Options{ClientName: "go-consumer"})
	if err != nil {
		return nil, err
	}
	defer c.Close()
	lines := make([]string, 3)
	errs := make([]error, 3)
	var wg sync.WaitGroup
	for i := range lines {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			lines[i], errs[i] = oneTurn(c, fmt.Sprintf("Hello from goroutine %d", i))
		}(i)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return lines, nil
}

func oneTurn(c *codex.Client, prompt string) (string, error) {
	thread, err := c.ThreadStart(nil)
	if err != nil {
		return "", err
	}
	turn, err := c.StartTurn(thread, prompt, nil)
	if err != nil {
		return "", err
	}
	defer turn.Close()
	deltas, status := 0, ""
	for {
		ev, err := turn.NextEvent(60 * time.Second)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", err
		}
		if ev.Kind == codex.EventAgentMessageDelta {
			deltas++
		}
		if ev.Kind == codex.EventTurnCompleted {
			status = ev.TurnStatus
		}
	}
	if status != "completed" || deltas == 0 {
		return "", fmt.Errorf("turn %s: status %q after %d deltas", turn.ID, status, deltas)
	}
	return fmt.Sprintf("turn %s on thread %s: %s, %d deltas", turn.ID, thread, status, deltas), nil
}

func main() {
	lines, err := run()
	if err != nil {
		fmt.Fprintln(os.Stderr, "go consumer:", err)
		os.Exit(1)
	}
	for _, l := range lines {
		fmt.Println(l)
	}
	fmt.Println("go consumer: 3 concurrent turns completed")
}
