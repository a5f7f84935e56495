package console

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/iamaudit/iamaudit/internal/collect"
	"github.com/iamaudit/iamaudit/internal/inventory"
	"github.com/iamaudit/iamaudit/internal/report"
)

const hostile = "ops\x1b]0;pwned\x07\rA\x00B\u202Egnp.exe\nError in account forged: all clear"

// rawControl is the first control or bidirectional character of s other than the
// newlines that end lines ("" when none).
func rawControl(s string) string {
	for _, r := range s {
		if r != '\n' && (unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r)) {
			return string(r)
		}
	}
	return ""
}

// Issue 13, defect 6: what a person watching sees (the per-account lines, the
// waiting lines, the accounts not audited, the gaps) holds no raw control character
// from AWS, and a newline in a name cannot forge a line.
func TestConsoleNeutralisesControlCharacters(t *testing.T) {
	t.Parallel()
	m, _ := report.MessagesFor("en")
	acct := inventory.Account{ID: "123456789012", Name: hostile, Status: inventory.StatusNotAudited, Reason: hostile, State: "ACTIVE"}
	var out, errw bytes.Buffer
	d := NewProgress(&out, &errw, false, m)
	d.Event(collect.ProgressEvent{Kind: collect.AccountStarted, Account: acct, Total: 1})
	d.Event(collect.ProgressEvent{Kind: collect.CallWaiting, Account: inventory.Account{ID: acct.ID},
		Waiting: &collect.Waiting{ID: 1, AccountID: acct.ID, What: "iam:" + hostile, Limit: "--call-timeout 3m0s", For: 12 * time.Second}})
	d.Event(collect.ProgressEvent{Kind: collect.AccountDone, Account: acct, Err: errors.New(hostile), Done: 1, Total: 1})
	d.Finish()

	partial := inventory.Account{ID: "223456789012", Name: hostile, Status: inventory.StatusPartial}
	g := inventory.NewGap(partial.ID, inventory.SectionAccessKeys, []inventory.Field{inventory.FieldAccessKeys}, hostile)
	g.Subject, g.Operation, g.ErrorCode = hostile, "iam:ListAccessKeys", hostile
	partial.Gaps = []inventory.Gap{g}
	Incomplete(&out, &inventory.Inventory{Accounts: []inventory.Account{acct, partial}}, m)

	text := out.String()
	if c := rawControl(text); c != "" {
		t.Errorf("the console holds a raw %q:\n%q", c, text)
	}
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "Error in account forged") {
			t.Errorf("a newline in a value forged a console line:\n%s", text)
		}
	}
	for _, want := range []string{"Still waiting in account", `\x1b]0;pwned\x07`, `\u202e`} {
		if !strings.Contains(text, want) {
			t.Errorf("the console does not show %q:\n%s", want, text)
		}
	}
}
