package outcome_test

import (
	"encoding/json"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/inventory"
	"github.com/iamaudit/iamaudit/internal/outcome"
	"github.com/iamaudit/iamaudit/internal/report"
)

// The streamed evaluation gives each account what the whole evaluation gives it, and
// a summary whose totals, scores and --fail-on verdicts are the whole run's, whatever
// the order the accounts finish in and however few findings it keeps.
func TestEvaluatorIsEvaluate(t *testing.T) {
	inv := fixtureInventory(t)
	now := time.Date(2026, 3, 5, 12, 0, 0, 0, time.UTC)
	settings := outcome.Settings{Checks: checks.DefaultConfig()}
	whole := outcome.Evaluate(outcome.CommandRun, inv, now, settings, nil)
	if len(whole.Findings) < 4 || len(inv.Accounts) < 2 {
		t.Fatalf("fixture too small: %d findings, %d accounts", len(whole.Findings), len(inv.Accounts))
	}
	for _, kept := range []int{1, 3, -1} {
		head := *inv
		head.Accounts = nil
		ev := outcome.NewEvaluator(&head, now, settings, nil)
		ev.Kept = kept
		var parts []checks.Finding
		for i := len(inv.Accounts) - 1; i >= 0; i-- { // in reverse: the order accounts finish in does not matter
			p := ev.Account(&inv.Accounts[i])
			parts = append(parts, p.Findings...)
		}
		summary := *inv
		summary.Accounts = nil
		for _, a := range inv.Accounts {
			summary.Accounts = append(summary.Accounts, a.Summarised())
		}
		o := ev.Finish(&summary)
		checks.Sort(parts)
		if !reflect.DeepEqual(parts, whole.Findings) {
			t.Errorf("kept %d: the parts' findings differ from the whole run's", kept)
		}
		if !reflect.DeepEqual(o.Scores, whole.Scores) {
			t.Errorf("kept %d: scores differ", kept)
		}
		want := whole.Findings
		if kept > 0 {
			want = want[:kept]
			if o.Bounded == nil || o.Bounded.Findings != len(whole.Findings) {
				t.Errorf("kept %d: Bounded = %+v, want %d findings", kept, o.Bounded, len(whole.Findings))
			}
		} else if o.Bounded != nil {
			t.Errorf("kept all: Bounded = %+v, want nil", o.Bounded)
		}
		if !reflect.DeepEqual(o.Findings, want) {
			t.Errorf("kept %d: summary keeps %d findings, want the %d most severe", kept, len(o.Findings), len(want))
		}
		for _, sev := range []checks.Severity{checks.Low, checks.Medium, checks.High, checks.Critical} {
			if got, want := o.FailOnHit(&sev), whole.FailOnHit(&sev); got != want {
				t.Errorf("kept %d: --fail-on %v: %v, whole run %v", kept, sev, got, want)
			}
		}
	}
}

// A part's commands are rendered once per finding, whichever of its copies (each
// writer sorts its own) asks, and are what the renderer gives; a finding without
// actions, or a part the Evaluator did not make, is rendered every time.
func TestPartCommandsRenderedOnce(t *testing.T) {
	inv := fixtureInventory(t)
	now := time.Date(2026, 3, 5, 12, 0, 0, 0, time.UTC)
	head := *inv
	head.Accounts = nil
	ev := outcome.NewEvaluator(&head, now, outcome.Settings{Checks: checks.DefaultConfig()}, nil)
	renders := 0
	render := func(f checks.Finding) []string { renders++; return report.Commands(f) }
	withActions, without := 0, 0
	for i := range inv.Accounts {
		p := ev.Account(&inv.Accounts[i])
		for _, f := range p.Findings {
			if len(f.Remediation.Actions) > 0 {
				withActions++
			} else {
				without++
			}
		}
		for pass := range 3 { // three writers, each with its own copies of the findings
			copies := append([]checks.Finding(nil), p.Findings...)
			for _, f := range copies {
				if got, want := p.Commands(f, render), report.Commands(f); !reflect.DeepEqual(got, want) {
					t.Fatalf("pass %d, %s: commands %q, want %q", pass, f.ID, got, want)
				}
			}
		}
	}
	if withActions == 0 {
		t.Fatal("fixture has no finding with actions")
	}
	if want := withActions + 3*without; renders != want {
		t.Errorf("%d renders for %d findings with actions and %d without over three writers; want %d (each with actions once)", renders, withActions, without, want)
	}
	var bare outcome.Part // not the Evaluator's: no memo
	before := renders
	for range 2 {
		bare.Commands(checks.Finding{ID: "x"}, render)
	}
	if renders != before+2 {
		t.Errorf("a part without a memo rendered %d times for 2 asks", renders-before)
	}
}

// fixtureInventory is the inventory of the report package's run fixture.
func fixtureInventory(t *testing.T) *inventory.Inventory {
	t.Helper()
	b, err := os.ReadFile("../report/testdata/run.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc report.Document
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Inventory
}
