package outcome

import (
	"testing"
	"time"

	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/inventory"
)

// Each finding of a run gets first_seen, last_seen, resolved_at and reopened from
// what the history knows (docs/store-schema.md, "Finding lifecycle").
func TestLifecycle(t *testing.T) {
	t0 := now.Add(-30 * 24 * time.Hour)
	t1 := now.Add(-7 * 24 * time.Hour)
	at := func(t time.Time) *time.Time { return &t }
	acct := "111111111111"
	inv := &inventory.Inventory{Accounts: []inventory.Account{account(acct, inventory.StatusAudited)}}
	cfg := checks.DefaultConfig()
	current := Evaluate(CommandRun, inv, now, Settings{Checks: cfg}, nil).Findings
	if len(current) < 2 {
		t.Fatalf("want at least two findings, got %d", len(current))
	}
	a, b := withLife(current[0], nil, nil, false), withLife(current[1], nil, nil, false) // as a file without lifecycles
	gone := checks.Finding{ID: "gone", CheckID: "x", AccountID: acct, Severity: checks.Low, FirstSeen: at(t0), LastSeen: at(t1), Reopened: true}
	tests := []struct {
		name string
		base *Baseline
		// want per finding id: state, first_seen, reopened
		want map[string]struct {
			state    string
			first    time.Time
			reopened bool
		}
		resolved bool
	}{
		{name: "no history: first seen now", base: nil, want: map[string]struct {
			state    string
			first    time.Time
			reopened bool
		}{a.ID: {checks.StateNew, now, false}, b.ID: {checks.StateNew, now, false}}},
		{name: "still open keeps first_seen and reopened; gone is resolved", base: &Baseline{At: t1,
			Findings:     []checks.Finding{withLife(a, at(t0), at(t1), true), gone},
			FullyAudited: map[string]bool{acct: true}},
			want: map[string]struct {
				state    string
				first    time.Time
				reopened bool
			}{a.ID: {checks.StateOpen, t0, true}, b.ID: {checks.StateNew, now, false}}, resolved: true},
		{name: "baseline finding without lifecycle: first seen at the baseline run", base: &Baseline{At: t1,
			Findings: []checks.Finding{a}, FullyAudited: map[string]bool{acct: true}},
			want: map[string]struct {
				state    string
				first    time.Time
				reopened bool
			}{a.ID: {checks.StateOpen, t1, false}}},
		{name: "resolved before and found again: reopened, new, first first_seen", base: &Baseline{At: t1,
			FullyAudited: map[string]bool{acct: true},
			Earlier:      map[string]Lifecycle{a.ID: {FirstSeen: t0, LastSeen: t0, ResolvedAt: t1}}},
			want: map[string]struct {
				state    string
				first    time.Time
				reopened bool
			}{a.ID: {checks.StateNew, t0, true}}},
		{name: "seen before, never resolved: open with its first_seen", base: &Baseline{At: t1,
			FullyAudited: map[string]bool{acct: true},
			Earlier:      map[string]Lifecycle{b.ID: {FirstSeen: t0, LastSeen: t0}}},
			want: map[string]struct {
				state    string
				first    time.Time
				reopened bool
			}{b.ID: {checks.StateOpen, t0, false}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := Evaluate(CommandRun, inv, now, Settings{Checks: cfg}, tt.base)
			got := map[string]checks.Finding{}
			for _, f := range o.Findings {
				got[f.ID] = f
				if f.LastSeen == nil || !f.LastSeen.Equal(now) || f.ResolvedAt != nil || f.FirstSeen == nil {
					t.Errorf("%s: last_seen %v resolved_at %v first_seen %v", f.ID, f.LastSeen, f.ResolvedAt, f.FirstSeen)
				}
			}
			for id, w := range tt.want {
				f, ok := got[id]
				if !ok {
					t.Fatalf("%s not found", id)
				}
				if f.State != w.state || !f.FirstSeen.Equal(w.first) || f.Reopened != w.reopened {
					t.Errorf("%s: state %s first %v reopened %v, want %s %v %v", id, f.State, f.FirstSeen, f.Reopened, w.state, w.first, w.reopened)
				}
			}
			if tt.resolved {
				if len(o.Resolved) != 1 {
					t.Fatalf("resolved %+v", o.Resolved)
				}
				r := o.Resolved[0]
				if !r.FirstSeen.Equal(t0) || !r.LastSeen.Equal(t1) || r.ResolvedAt == nil || !r.ResolvedAt.Equal(now) || r.Reopened {
					t.Errorf("resolved lifecycle: first %v last %v resolved %v reopened %v", r.FirstSeen, r.LastSeen, r.ResolvedAt, r.Reopened)
				}
			}
		})
	}
	// An analysis has no lifecycle.
	for _, f := range Evaluate(CommandAnalyze, inv, now, Settings{Checks: cfg}, nil).Findings {
		if f.FirstSeen != nil || f.LastSeen != nil {
			t.Errorf("analysis finding %s has a lifecycle", f.ID)
		}
	}
}

func withLife(f checks.Finding, first, last *time.Time, reopened bool) checks.Finding {
	f.FirstSeen, f.LastSeen, f.Reopened = first, last, reopened
	return f
}

// A directory's baseline is one earlier run whatever the accounts: narrowing keeps
// it whole. A store's keeps the accounts asked and names the newest of their runs.
func TestBaselineNarrow(t *testing.T) {
	dir := &Baseline{Ref: "iamaudit_20260101_000000.json", RunID: "20260101_000000", FullyAudited: map[string]bool{"a": true, "b": true}}
	if got := dir.Narrow([]string{"a"}); got != dir {
		t.Errorf("a directory's baseline narrowed to %+v", got)
	}
	if got := (*Baseline)(nil).Narrow([]string{"a"}); got != nil {
		t.Errorf("nil narrowed to %+v", got)
	}
	t1, t2 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	st := &Baseline{Ref: "r2", RunID: "r2", At: t2,
		AccountRuns:  map[string]string{"a": "r1", "b": "r2"},
		Runs:         map[string]BaselineRun{"r1": {Order: 1, At: t1}, "r2": {Order: 2, At: t2}},
		FullyAudited: map[string]bool{"a": true, "b": false},
		Findings:     []checks.Finding{{ID: "fa", AccountID: "a"}, {ID: "fb", AccountID: "b"}}}
	got := st.Narrow([]string{"a", "c"})
	if got.RunID != "r1" || got.Ref != "r1" || !got.At.Equal(t1) || len(got.Findings) != 1 || got.Findings[0].ID != "fa" ||
		len(got.AccountRuns) != 1 || !got.FullyAudited["a"] || len(got.Runs) != 1 {
		t.Errorf("narrowed to a: %+v", got)
	}
	if got := st.Narrow([]string{"c"}); got != nil {
		t.Errorf("narrowed to an account never seen: %+v", got)
	}
}
