package console

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/iamaudit/iamaudit/internal/collect"
	"github.com/iamaudit/iamaudit/internal/inventory"
	"github.com/iamaudit/iamaudit/internal/report"
)

func TestDisplay(t *testing.T) {
	prod := inventory.Account{ID: "123456789012", Name: "Production"}
	sbx := inventory.Account{ID: "234567890123", Name: "Development-Sandbox", Status: inventory.StatusNotAudited}
	old := inventory.Account{ID: "345678901234", Name: "Old", Status: inventory.StatusSkipped}
	events := []collect.ProgressEvent{
		{Kind: collect.AccountStarted, Account: prod, Total: 3},
		{Kind: collect.PhaseStarted, Account: prod, Phase: "iam", Total: 3},
		{Kind: collect.PhaseStarted, Account: prod, Phase: "cloudtrail", Total: 3},
		{Kind: collect.AccountDone, Account: old, Err: errors.New("account state is SUSPENDED"), Done: 1, Total: 3},
		{Kind: collect.AccountStarted, Account: sbx, Total: 3},
		{Kind: collect.AccountDone, Account: sbx, Err: errors.New("AccessDenied"), Done: 2, Total: 3},
		{Kind: collect.AccountDone, Account: prod, Done: 3, Total: 3},
	}
	for _, tt := range []struct {
		lang, want string
	}{
		{"en", "Auditing account: Production (123456789012)\n  Querying CloudTrail in account: Production (123456789012)\nAuditing account: Development-Sandbox (234567890123)\nError in account Development-Sandbox: AccessDenied\n"},
		{"es", "Auditando cuenta: Production (123456789012)\n  Consultando CloudTrail en cuenta: Production (123456789012)\nAuditando cuenta: Development-Sandbox (234567890123)\nError en cuenta Development-Sandbox: AccessDenied\n"},
	} {
		for _, live := range []bool{false, true} {
			m, _ := report.MessagesFor(tt.lang)
			var out, errw bytes.Buffer
			d := NewProgress(&out, &errw, live, m)
			for _, e := range events {
				d.Event(e)
			}
			d.Finish()
			if out.String() != tt.want {
				t.Errorf("%s live=%v: console\n%q\nwant\n%q", tt.lang, live, out.String(), tt.want)
			}
			if live && !strings.Contains(errw.String(), "(2/3)") { // at 3/3 the bar finishes and clears itself
				t.Errorf("live progress never counted accounts: %q", errw.String())
			}
			if !live && errw.Len() != 0 {
				t.Errorf("progress written when not live: %q", errw.String())
			}
		}
	}
}
