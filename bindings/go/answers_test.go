package codexappserver

import (
	"strings"
	"testing"
	"time"
)

// Typed answers from Go: a dynamic tool call, a user-input request, an elicitation and an
// auth-token refresh, as the scripted fake receives them.
func TestTypedAnswersFromGo(t *testing.T) {
	c := fake(t, "scripted", nil)
	script(t, c, 0,
		rawLine(`{"id":1,"method":"item/tool/call","params":{"threadId":"t","turnId":"u","tool":"x","arguments":{}}}`),
		rawLine(`{"id":2,"method":"item/tool/requestUserInput","params":{"threadId":"t","turnId":"u","questions":[]}}`),
		rawLine(`{"id":3,"method":"mcpServer/elicitation/request","params":{"threadId":"t"}}`),
		rawLine(`{"id":4,"method":"account/chatgptAuthTokens/refresh","params":{"reason":"unauthorized"}}`))
	for answered := 0; answered < 4; {
		ev, err := c.NextEvent(time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if ev.Request == nil {
			continue
		}
		switch ev.Request.Method {
		case "item/tool/call":
			err = ev.Request.RespondToolCall([]ToolContent{{Text: "42"}}, true)
		case "item/tool/requestUserInput":
			if e := ev.Request.RespondToolCall(nil, true); e == nil {
				t.Fatal("a tool answer to a user-input request was taken")
			}
			err = ev.Request.RespondUserInput(map[string][]string{"q": {"yes"}})
		case "mcpServer/elicitation/request":
			err = ev.Request.RespondElicitation(ElicitationAccept, map[string]any{"n": 1})
		case "account/chatgptAuthTokens/refresh":
			err = ev.Request.RespondAuthTokens("tok", "acct", "")
		}
		if err != nil {
			t.Fatalf("%s: %v", ev.Request.Method, err)
		}
		answered++
	}
	got, err := c.Request("test/answers", nil, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`{"id":1,"result":{"contentItems":[{"text":"42","type":"inputText"}],"success":true}}`,
		`{"id":2,"result":{"answers":{"q":{"answers":["yes"]}}}}`,
		`{"id":3,"result":{"action":"accept","content":{"n":1}}}`,
		`{"id":4,"result":{"accessToken":"tok","chatgptAccountId":"acct"}}`,
	} {
		if !strings.Contains(string(got), want) {
			t.Fatalf("missing %s in %s", want, got)
		}
	}
}
