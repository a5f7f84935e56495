package outcome

import (
	"testing"
	"time"

	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/inventory"
)

var now = time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC)

func account(id string, status string, gaps ...inventory.Gap) inventory.Account {
	return inventory.Account{ID: id, Name: id, State: "ACTIVE", Status: status, PasswordPolicyKnown: true,
		Users: []inventory.User{}, Gaps: gaps,
		Root: &inventory.Root{ARN: "arn:aws:iam::" + id + ":root", MFAActive: false}}
}

// One evaluation path: checks, suppressions, states against the baseline and
// resolved findings only where both runs saw the account whole.
func TestEvaluate(t *testing.T) {
	inv := &inventory.Inventory{Accounts: []inventory.Account{
		account("111111111111", inventory.StatusAudited),
		account("222222222222", inventory.StatusPartial, inventory.Gap{Section: inventory.SectionMFA, Subject: "x", Message: "m", Unknown: []inventory.Field{inventory.FieldMFA}}),
	}}
	cfg := checks.DefaultConfig()
	first := Evaluate(CommandRun, inv, now, Settings{Checks: cfg}, nil)
	if first.Baseline != nil || len(first.Resolved) != 0 || len(first.Findings) == 0 {
		t.Fatalf("no baseline: %+v", first)
	}
	for _, f := range first.Findings {
		if f.State != checks.StateNew {
			t.Errorf("first run: %s is %s, want new", f.CheckID, f.State)
		}
	}
	for _, f := range Evaluate(CommandAnalyze, inv, now, Settings{Checks: cfg}, nil).Findings {
		if f.State != checks.StateOpen {
			t.Errorf("analysis: %s is %s, want open", f.CheckID, f.State)
		}
	}
	gone := checks.Finding{ID: "gone-1", CheckID: "x", AccountID: "111111111111", Severity: checks.High}
	gonePartial := checks.Finding{ID: "gone-2", CheckID: "x", AccountID: "222222222222", Severity: checks.High}
	base := &Baseline{Ref: "iamaudit_20260301_000000.json", RunID: "20260301_000000",
		Findings:     append([]checks.Finding{gone, gonePartial}, first.Findings[0]),
		FullyAudited: map[string]bool{"111111111111": true, "222222222222": true}}
	second := Evaluate(CommandRun, inv, now, Settings{Checks: cfg}, base)
	if second.Baseline != base {
		t.Error("baseline not kept")
	}
	if len(second.Resolved) != 1 || second.Resolved[0].ID != "gone-1" || second.Resolved[0].State != checks.StateResolved {
		t.Errorf("resolved %+v: only the fully audited account's finding", second.Resolved)
	}
	states := map[string]int{}
	for _, f := range second.Findings {
		states[f.State]++
	}
	if states[checks.StateOpen] != 1 || states[checks.StateNew] != len(second.Findings)-1 {
		t.Errorf("states %v", states)
	}
	crit := checks.Critical
	if !second.FailOnHit(&crit) || second.FailOnHit(nil) {
		t.Error("FailOnHit")
	}
	if !second.Incomplete() {
		t.Error("a partial account is incomplete")
	}
}
