package dashboard

import (
	"slices"
	"sort"
	"strings"

	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/inventory"
	"github.com/iamaudit/iamaudit/internal/outcome"
	"github.com/iamaudit/iamaudit/internal/score"
)

// Differ compares two runs for the diff pages. CompareRuns is the dashboard's
// own; `iamaudit diff`'s package can stand in for it through Options.Differ with an
// adapter to Diff, so that the command and the page always agree.
type Differ func(from, to *outcome.Outcome) Diff

// Diff is what changed from one run to another.
type Diff struct {
	From RunSide `json:"from"`
	To   RunSide `json:"to"`
	// Findings that appeared, went or changed (resolved findings of either run
	// left out: what matters is whether a finding is there).
	Findings []FindingChange `json:"findings"`
	Accounts []AccountChange `json:"accounts"`
	Users    []UserChange    `json:"users"`
	Keys     []KeyChange     `json:"access_keys"`
	// Counts are the number of findings changes by kind.
	Counts map[string]int `json:"counts"`
}

// RunSide is one end of a diff.
type RunSide struct {
	RunID string      `json:"run_id"`
	Org   score.Score `json:"organization"`
}

// Kinds of change.
const (
	// ChangeAdded: in the later run, not the earlier.
	ChangeAdded = "added"
	// ChangeRemoved: in the earlier run, not the later; for a finding, resolved.
	ChangeRemoved = "removed"
	// ChangeNotSeen: in the earlier run, and the later one could not look at its
	// account whole (a gap, not audited): whether it is still there is unknown.
	ChangeNotSeen = "not_seen"
	// ChangeChanged: in both, with a different severity, suppression or status.
	ChangeChanged = "changed"
)

// FindingChange is one finding that differs between the runs.
type FindingChange struct {
	Kind      string          `json:"kind"`
	ID        string          `json:"finding_id"`
	CheckID   string          `json:"check_id"`
	Severity  checks.Severity `json:"severity"`
	AccountID string          `json:"account_id"`
	Account   string          `json:"account_name"`
	User      string          `json:"user,omitempty"`
	Resource  string          `json:"resource"`
	Message   string          `json:"message"`
	// Before and After say what changed (kind changed): severity or suppression.
	Before string `json:"before,omitempty"`
	After  string `json:"after,omitempty"`
	// Uncertain: an added finding whose account the earlier run could not see
	// whole (it may have been there, unseen).
	Uncertain bool `json:"uncertain,omitempty"`
}

// AccountChange is an account added, removed, or whose status or risk changed.
type AccountChange struct {
	Kind        string     `json:"kind"`
	AccountID   string     `json:"account_id"`
	Name        string     `json:"name"`
	StatusFrom  string     `json:"status_from,omitempty"`
	StatusTo    string     `json:"status_to,omitempty"`
	RiskFrom    *RiskValue `json:"risk_from,omitempty"`
	RiskTo      *RiskValue `json:"risk_to,omitempty"`
	SameFormula bool       `json:"same_formula"`
}

// RiskValue is a risk score with its formula; Score nil is unknown (≥ AtLeast).
type RiskValue struct {
	Formula string `json:"formula"`
	Score   *int   `json:"score"`
	AtLeast int    `json:"at_least"`
}

// UserChange is an IAM user created or deleted between the runs (only accounts
// both runs saw whole: elsewhere a missing user may only be unseen).
type UserChange struct {
	Kind      string `json:"kind"`
	AccountID string `json:"account_id"`
	User      string `json:"user"`
}

// KeyChange is an access key created, deleted, or whose status changed.
type KeyChange struct {
	Kind      string `json:"kind"`
	AccountID string `json:"account_id"`
	User      string `json:"user"`
	KeyID     string `json:"access_key_id"`
	Before    string `json:"before,omitempty"`
	After     string `json:"after,omitempty"`
}

// CompareRuns is what changed from one run to another: findings that appeared
// (uncertain when the earlier run could not see their account whole), were
// resolved (only where both runs saw the account whole; elsewhere "not seen"),
// or changed severity or suppression; accounts added, removed, or whose status or
// risk changed (risks of different formulas are shown, never subtracted); users
// and access keys created and deleted where both runs saw the account whole.
func CompareRuns(from, to *outcome.Outcome) Diff {
	d := Diff{From: RunSide{from.Inventory.RunID, from.Scores.Organization}, To: RunSide{to.Inventory.RunID, to.Scores.Organization},
		Findings: []FindingChange{}, Accounts: []AccountChange{}, Users: []UserChange{}, Keys: []KeyChange{}, Counts: map[string]int{}}
	fa, ta := accountsByID(from.Inventory), accountsByID(to.Inventory)
	whole := func(m map[string]*inventory.Account, id string) bool {
		a, ok := m[id]
		return ok && a.FullyAudited()
	}
	present := func(fs []checks.Finding) map[string]checks.Finding {
		out := map[string]checks.Finding{}
		for _, f := range fs {
			if f.State != checks.StateResolved {
				out[f.ID] = f
			}
		}
		return out
	}
	before, after := present(from.Findings), present(to.Findings)
	change := func(kind string, f checks.Finding) FindingChange {
		return FindingChange{Kind: kind, ID: f.ID, CheckID: f.CheckID, Severity: f.Severity, AccountID: f.AccountID,
			Account: f.AccountName, User: f.User, Resource: f.Resource, Message: f.Message}
	}
	for id, f := range after {
		b, ok := before[id]
		if !ok {
			c := change(ChangeAdded, f)
			c.Uncertain = !whole(fa, f.AccountID)
			d.Findings = append(d.Findings, c)
			continue
		}
		if b.Severity != f.Severity {
			c := change(ChangeChanged, f)
			c.Before, c.After = "severity "+b.Severity.String(), "severity "+f.Severity.String()
			d.Findings = append(d.Findings, c)
		} else if b.Suppressed != f.Suppressed {
			c := change(ChangeChanged, f)
			c.Before, c.After = suppression(b), suppression(f)
			d.Findings = append(d.Findings, c)
		}
	}
	for id, f := range before {
		if _, ok := after[id]; ok {
			continue
		}
		kind := ChangeRemoved
		if !whole(ta, f.AccountID) || !whole(fa, f.AccountID) {
			kind = ChangeNotSeen
		}
		d.Findings = append(d.Findings, change(kind, f))
	}
	sort.SliceStable(d.Findings, func(i, j int) bool {
		a, b := d.Findings[i], d.Findings[j]
		if a.Kind != b.Kind {
			return kindRank(a.Kind) < kindRank(b.Kind)
		}
		if a.Severity != b.Severity {
			return a.Severity > b.Severity
		}
		if a.AccountID != b.AccountID {
			return a.AccountID < b.AccountID
		}
		return a.ID < b.ID
	})
	for _, f := range d.Findings {
		d.Counts[f.Kind]++
	}

	ids := map[string]bool{}
	for id := range fa {
		ids[id] = true
	}
	for id := range ta {
		ids[id] = true
	}
	sortedIDs := make([]string, 0, len(ids))
	for id := range ids {
		sortedIDs = append(sortedIDs, id)
	}
	sort.Strings(sortedIDs)
	for _, id := range sortedIDs {
		a, inFrom := fa[id]
		b, inTo := ta[id]
		switch {
		case !inFrom:
			d.Accounts = append(d.Accounts, AccountChange{Kind: ChangeAdded, AccountID: id, Name: b.Name, StatusTo: b.Status, RiskTo: riskOf(to, id)})
			continue
		case !inTo:
			d.Accounts = append(d.Accounts, AccountChange{Kind: ChangeRemoved, AccountID: id, Name: a.Name, StatusFrom: a.Status, RiskFrom: riskOf(from, id)})
			continue
		}
		rf, rt := riskOf(from, id), riskOf(to, id)
		if a.Status != b.Status || !sameRisk(rf, rt) {
			c := AccountChange{Kind: ChangeChanged, AccountID: id, Name: b.Name, StatusFrom: a.Status, StatusTo: b.Status, RiskFrom: rf, RiskTo: rt}
			c.SameFormula = rf != nil && rt != nil && rf.Formula == rt.Formula
			d.Accounts = append(d.Accounts, c)
		}
		if !a.FullyAudited() || !b.FullyAudited() {
			continue
		}
		d.Users = append(d.Users, userChanges(a, b)...)
		d.Keys = append(d.Keys, keyChanges(a, b)...)
	}
	return d
}

func kindRank(k string) int {
	return slices.Index([]string{ChangeAdded, ChangeRemoved, ChangeNotSeen, ChangeChanged}, k)
}

func suppression(f checks.Finding) string {
	if f.Suppressed {
		return "suppressed: " + f.SuppressionReason
	}
	return "not suppressed"
}

func accountsByID(inv *inventory.Inventory) map[string]*inventory.Account {
	out := map[string]*inventory.Account{}
	for i := range inv.Accounts {
		if inv.Accounts[i].Status != inventory.StatusSkipped {
			out[inv.Accounts[i].ID] = &inv.Accounts[i]
		}
	}
	return out
}

func riskOf(o *outcome.Outcome, id string) *RiskValue {
	sc, ok := o.Scores.Account(id)
	if !ok || !sc.Audited {
		return nil
	}
	return &RiskValue{Formula: sc.RiskFormula, Score: sc.Risk, AtLeast: sc.RiskAtLeast}
}

func sameRisk(a, b *RiskValue) bool {
	switch {
	case a == nil || b == nil:
		return a == b
	case a.Formula != b.Formula || a.AtLeast != b.AtLeast:
		return false
	case a.Score == nil || b.Score == nil:
		return a.Score == b.Score
	}
	return *a.Score == *b.Score
}

func userChanges(a, b *inventory.Account) []UserChange {
	var out []UserChange
	was := map[string]bool{}
	for _, u := range a.Users {
		was[u.Name] = true
	}
	is := map[string]bool{}
	for _, u := range b.Users {
		is[u.Name] = true
		if !was[u.Name] {
			out = append(out, UserChange{ChangeAdded, b.ID, u.Name})
		}
	}
	for _, u := range a.Users {
		if !is[u.Name] {
			out = append(out, UserChange{ChangeRemoved, a.ID, u.Name})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Kind != out[j].Kind {
			return out[i].Kind < out[j].Kind
		}
		return out[i].User < out[j].User
	})
	return out
}

func keyChanges(a, b *inventory.Account) []KeyChange {
	type key struct {
		user string
		k    inventory.AccessKey
	}
	keys := func(acct *inventory.Account) map[string]key {
		out := map[string]key{}
		for _, u := range acct.Users {
			for _, k := range u.AccessKeys {
				if k.ID != "" {
					out[k.ID] = key{u.Name, k}
				}
			}
		}
		return out
	}
	was, is := keys(a), keys(b)
	var out []KeyChange
	for id, k := range is {
		w, ok := was[id]
		switch {
		case !ok:
			out = append(out, KeyChange{Kind: ChangeAdded, AccountID: b.ID, User: k.user, KeyID: id, After: k.k.Status})
		case w.k.Status != k.k.Status:
			out = append(out, KeyChange{Kind: ChangeChanged, AccountID: b.ID, User: k.user, KeyID: id, Before: w.k.Status, After: k.k.Status})
		}
	}
	for id, k := range was {
		if _, ok := is[id]; !ok {
			out = append(out, KeyChange{Kind: ChangeRemoved, AccountID: a.ID, User: k.user, KeyID: id, Before: k.k.Status})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Kind != out[j].Kind {
			return kindRank(out[i].Kind) < kindRank(out[j].Kind)
		}
		if out[i].User != out[j].User {
			return strings.Compare(out[i].User, out[j].User) < 0
		}
		return out[i].KeyID < out[j].KeyID
	})
	return out
}
