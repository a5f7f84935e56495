package store

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/history"
	"github.com/iamaudit/iamaudit/internal/inventory"
	"github.com/iamaudit/iamaudit/internal/outcome"
	"github.com/iamaudit/iamaudit/internal/report"
)

// recorder runs one audit against a history: baseline, evaluation, record. For
// the directory history the record is the run's JSON file, as audit.Run writes it.
type recorder struct {
	h   history.History
	dir string // for history.Dir
}

func (r recorder) run(t *testing.T, w world, runID string, now time.Time, mutate ...func(*inventory.Inventory)) *outcome.Outcome {
	t.Helper()
	ctx := context.Background()
	inv := w.inventory(runID, now)
	for _, m := range mutate {
		m(inv)
	}
	base, err := r.h.Baseline(ctx, inv, func(w string) { t.Errorf("warning: %s", w) })
	if err != nil {
		t.Fatal(err)
	}
	o := evaluate(inv, now, base)
	if r.dir != "" {
		f, err := os.Create(filepath.Join(r.dir, report.JSONReportName(runID)))
		if err != nil {
			t.Fatal(err)
		}
		if err := report.WriteJSON(f, report.DocumentOf(o)); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	if err := r.h.Record(ctx, o); err != nil {
		t.Fatal(err)
	}
	return o
}

// life is what a test compares of a finding across histories.
type life struct {
	state       string
	first, last time.Time
	resolved    time.Time
	reopened    bool
}

func lives(o *outcome.Outcome) map[string]life {
	out := map[string]life{}
	val := func(p *time.Time) time.Time {
		if p == nil {
			return time.Time{}
		}
		return p.UTC()
	}
	for _, list := range [][]checks.Finding{o.Findings, o.Resolved} {
		for _, f := range list {
			out[f.ID] = life{f.State, val(f.FirstSeen), val(f.LastSeen), val(f.ResolvedAt), f.Reopened}
		}
	}
	return out
}

func day(n int) time.Time { return t0.Add(time.Duration(n) * 24 * time.Hour) }

// The store gives a run the same finding states and lifecycle as the directory of
// run JSON files, where both know the same: new, open with its first_seen,
// resolved, reopened after a resolution and reopened while it stays open.
func TestStatesAndLifecycleMatchDirectoryHistory(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		t.Parallel()
		dir := t.TempDir()
		st := open(t, b.target(t))
		hs := []recorder{{h: history.NewDir(dir), dir: dir}, {h: st}}
		acct := acctID(0)
		fixed := world{accounts: 2, users: 6, fixed: map[string]bool{acct + "/user000": true}}
		plain := world{accounts: 2, users: 6}
		steps := []struct {
			w     world
			runID string
			at    time.Time
		}{
			{plain, "20260105_090000", day(0)},
			{fixed, "20260204_090000", day(30)},
			{plain, "20260306_090000", day(60)},
			{plain, "20260405_090000", day(90)},
		}
		var got [2][]map[string]life
		var outs [2][]*outcome.Outcome
		for i, h := range hs {
			for _, s := range steps {
				o := h.run(t, s.w, s.runID, s.at)
				got[i] = append(got[i], lives(o))
				outs[i] = append(outs[i], o)
			}
		}
		for step := range steps {
			if len(got[0][step]) != len(got[1][step]) {
				t.Errorf("step %d: %d findings in the directory, %d in the store", step, len(got[0][step]), len(got[1][step]))
			}
			for id, d := range got[0][step] {
				if s := got[1][step][id]; s != d {
					t.Errorf("step %d, finding %s: directory %+v, store %+v", step, id, d, s)
				}
			}
		}
		// What the sequence must show, in the store's outcomes.
		o := outs[1]
		find := func(o *outcome.Outcome, user, check string, resolved bool) checks.Finding {
			t.Helper()
			list := o.Findings
			if resolved {
				list = o.Resolved
			}
			for _, f := range list {
				if f.AccountID == acct && f.User == user && f.CheckID == check {
					return f
				}
			}
			t.Fatalf("%s: no %s finding for %s (resolved %v)", o.Inventory.RunID, check, user, resolved)
			return checks.Finding{}
		}
		if f := find(o[0], "user000", "console_without_mfa", false); f.State != checks.StateNew || !f.FirstSeen.Equal(day(0)) {
			t.Errorf("run 1: %s first %v", f.State, f.FirstSeen)
		}
		if f := find(o[1], "user002", "console_without_mfa", false); f.State != checks.StateOpen || !f.FirstSeen.Equal(day(0)) || !f.LastSeen.Equal(day(30)) {
			t.Errorf("run 2, still open: %s first %v last %v", f.State, f.FirstSeen, f.LastSeen)
		}
		if f := find(o[1], "user000", "console_without_mfa", true); !f.ResolvedAt.Equal(day(30)) || !f.LastSeen.Equal(day(0)) || !f.FirstSeen.Equal(day(0)) {
			t.Errorf("run 2, resolved: first %v last %v resolved %v", f.FirstSeen, f.LastSeen, f.ResolvedAt)
		}
		if f := find(o[2], "user000", "console_without_mfa", false); f.State != checks.StateNew || !f.Reopened || !f.FirstSeen.Equal(day(0)) {
			t.Errorf("run 3, back: %s reopened %v first %v", f.State, f.Reopened, f.FirstSeen)
		}
		if f := find(o[3], "user000", "console_without_mfa", false); f.State != checks.StateOpen || !f.Reopened {
			t.Errorf("run 4, still back: %s reopened %v", f.State, f.Reopened)
		}
		// The lifecycle table says the same.
		var status string
		var reopened bool
		f := find(o[3], "user000", "console_without_mfa", false)
		if err := st.DB().QueryRow(st.d.q(`SELECT status, reopened FROM finding_lifecycle WHERE finding_id = ?`), f.ID).Scan(&status, &reopened); err != nil || status != "open" || !reopened {
			t.Errorf("finding_lifecycle: %s %v %v", status, reopened, err)
		}
	})
}

// A store shared by runs of different scopes compares each account with the newest
// earlier complete run that looked at it: a --accounts subset run does not make the
// accounts it left out look new afterwards; an interrupted run or an analysis is
// never a baseline; an account seen again after a run that could not see a finding
// keeps the finding open with its first_seen.
func TestBaselinePerAccount(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		t.Parallel()
		st := open(t, b.target(t))
		r := recorder{h: st}
		a0, a1 := acctID(0), acctID(1)
		w := world{accounts: 2, users: 4}
		r.run(t, w, "20260105_090000", day(0))
		subset := w
		subset.only = map[string]bool{a1: true}
		r.run(t, subset, "20260106_090000", day(1))
		// An interrupted run and an analysis, both later: never baselines.
		r.run(t, w, "20260107_090000", day(2), func(inv *inventory.Inventory) {
			inv.Gaps = append(inv.Gaps, inventory.NewGap("", inventory.SectionRun, []inventory.Field{inventory.FieldRun}, "run interrupted"))
		})
		ctx := context.Background()
		an := outcome.Evaluate(outcome.CommandAnalyze, w.inventory("20260107_100000", day(2)), day(2), outcome.Settings{Checks: checks.DefaultConfig()}, nil)
		if _, err := st.Write(ctx, an, WriteOptions{}); err != nil {
			t.Fatal(err)
		}
		inv := w.inventory("20260108_090000", day(3))
		base, err := st.Baseline(ctx, inv, nil)
		if err != nil {
			t.Fatal(err)
		}
		if base.AccountRuns[a0] != "20260105_090000" || base.AccountRuns[a1] != "20260106_090000" || base.RunID != "20260106_090000" {
			t.Fatalf("baseline runs %v (newest %s)", base.AccountRuns, base.RunID)
		}
		o := evaluate(inv, day(3), base)
		for _, f := range o.Findings {
			if f.State == checks.StateNew {
				t.Errorf("%s %s %s is new: the account was audited before", f.AccountID, f.User, f.CheckID)
			}
		}
		if len(o.Resolved) != 0 {
			t.Errorf("resolved %d", len(o.Resolved))
		}
		if _, err := st.Write(ctx, o, WriteOptions{}); err != nil {
			t.Fatal(err)
		}

		// A partial run that cannot see one user's MFA: the findings resting on it are
		// not made, and not resolved; the next full run finds them open, first seen
		// at the first run.
		partial := w
		partial.partial = a0
		p := r.run(t, partial, "20260109_090000", day(4), func(inv *inventory.Inventory) {
			inv.Accounts[0].Gaps[0].Subject = "user000"
		})
		var hidden checks.Finding
		for _, f := range o.Findings {
			if f.AccountID == a0 && f.User == "user000" && f.CheckID == "console_without_mfa" {
				hidden = f
			}
		}
		if hidden.ID == "" {
			t.Fatal("no console_without_mfa for user000")
		}
		if slices.ContainsFunc(p.Findings, func(f checks.Finding) bool { return f.ID == hidden.ID }) {
			t.Fatal("the partial run made a finding on unknown data")
		}
		next := r.run(t, w, "20260110_090000", day(5))
		for _, f := range next.Findings {
			if f.ID == hidden.ID && (f.State != checks.StateOpen || !f.FirstSeen.Equal(day(0)) || f.Reopened) {
				t.Errorf("seen again after a gap: %s first %v reopened %v", f.State, f.FirstSeen, f.Reopened)
			}
		}
	})
}

// A streamed run reads the baseline of every account before its selection is known
// and narrows it to the selection at the end (audit's streamer): narrowed, it is
// the baseline of those accounts, whatever runs saw them.
func TestBaselineOfAllNarrowed(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		t.Parallel()
		st := open(t, b.target(t))
		r := recorder{h: st}
		a0, a1, a2 := acctID(0), acctID(1), acctID(2)
		w := world{accounts: 3, users: 3}
		only := func(ids ...string) world {
			s := w
			s.only = map[string]bool{}
			for _, id := range ids {
				s.only[id] = true
			}
			return s
		}
		r.run(t, only(a0, a1), "20260105_090000", day(0))
		r.run(t, only(a1), "20260106_090000", day(1))
		fixed := only(a0)
		fixed.fixed = map[string]bool{"user000": true} // a resolved finding: Earlier
		r.run(t, fixed, "20260107_090000", day(2))
		ctx := context.Background()
		runID := "20260108_090000"
		all, err := st.BaselineOfAll(ctx, &inventory.Inventory{RunID: runID}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(all.AccountRuns) != 2 || all.RunID != "20260107_090000" {
			t.Fatalf("baseline of all: runs %v newest %s", all.AccountRuns, all.RunID)
		}
		for _, sel := range [][]string{{a0}, {a1}, {a0, a1}, {a1, a2}, {a2}} {
			want, err := st.Baseline(ctx, only(sel...).inventory(runID, day(3)), nil)
			if err != nil {
				t.Fatal(err)
			}
			got := all.Narrow(sel)
			if (got == nil) != (want == nil) {
				t.Fatalf("%v: narrowed %v, baseline %v", sel, got, want)
			}
			if want == nil {
				continue
			}
			// Earlier is kept whole (looked up by finding id, which names the account).
			for id, l := range want.Earlier {
				if got.Earlier[id] != l {
					t.Errorf("%v: earlier %s %+v, baseline's %+v", sel, id, got.Earlier[id], l)
				}
			}
			g, w := *got, *want
			g.Earlier, w.Earlier = nil, nil
			if !reflect.DeepEqual(g, w) {
				t.Errorf("%v: narrowed\n%+v\nbaseline\n%+v", sel, g, w)
			}
		}
	})
}
