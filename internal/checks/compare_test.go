package checks

import (
	"slices"
	"testing"
	"time"

	"github.com/iamaudit/iamaudit/internal/inventory"
)

func TestCompareRuns(t *testing.T) {
	f := func(id string, sup bool) Finding {
		st := StateOpen
		if sup {
			st = StateSuppressed
		}
		return Finding{ID: id, CheckID: "c" + id, Severity: Medium, Resource: id, State: st, Suppressed: sup}
	}
	cases := []struct {
		name      string
		prev, cur []Finding
		states    []string // of cur, in order
		resolved  []string // ids
	}{
		{"first run: all new", nil, []Finding{f("a", false), f("b", true)}, []string{StateNew, StateSuppressed}, nil},
		{"still open", []Finding{f("a", false)}, []Finding{f("a", false)}, []string{StateOpen}, nil},
		{"new beside open", []Finding{f("a", false)}, []Finding{f("b", false), f("a", false)}, []string{StateNew, StateOpen}, nil},
		{"resolved", []Finding{f("a", false), f("b", false)}, []Finding{f("b", false)}, []string{StateOpen}, []string{"a"}},
		{"suppressed stays suppressed", []Finding{f("a", false)}, []Finding{f("a", true)}, []string{StateSuppressed}, nil},
		{"unsuppressed is open again", []Finding{f("a", true)}, []Finding{f("a", false)}, []string{StateOpen}, nil},
		{"suppressed then gone is resolved", []Finding{f("a", true)}, nil, nil, []string{"a"}},
		{"previous resolved-state rows are not duplicated", []Finding{f("a", false), f("a", false)}, nil, nil, []string{"a"}},
		{"everything resolved", []Finding{f("b", false), f("a", false)}, []Finding{}, nil, []string{"a", "b"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cur := slices.Clone(c.cur)
			got, res := CompareRuns(c.prev, cur)
			var states, ids []string
			for _, g := range got {
				states = append(states, g.State)
			}
			for _, r := range res {
				ids = append(ids, r.ID)
				if r.State != StateResolved {
					t.Errorf("resolved %s has state %q", r.ID, r.State)
				}
			}
			if !slices.Equal(states, c.states) || !slices.Equal(ids, c.resolved) {
				t.Errorf("states %v resolved %v, want %v %v", states, ids, c.states, c.resolved)
			}
			if !slices.EqualFunc(cur, c.cur, func(a, b Finding) bool { return a.State == b.State }) {
				t.Error("CompareRuns modified its input")
			}
		})
	}
}

// A real run compared with itself: every finding is open, none resolved; with
// nothing before: every unsuppressed finding is new.
func TestCompareRunsOnRun(t *testing.T) {
	inv := account().with(func(a *inventory.Account) { a.Root.MFAActive = false }).
		user(inventory.User{Name: "a", PasswordEnabled: true, AccessKeys: []inventory.AccessKey{key("K", "Active", 100, ago(1))}}).inv()
	prev := Run(inv, now.Add(-24*time.Hour), DefaultConfig())
	cur, res := CompareRuns(prev, Run(inv, now, DefaultConfig()))
	if len(cur) == 0 || len(res) != 0 {
		t.Fatalf("cur %d resolved %d", len(cur), len(res))
	}
	for _, f := range cur {
		if f.State != StateOpen {
			t.Errorf("%s: %s", f.CheckID, f.State)
		}
	}
}
