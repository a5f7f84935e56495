package diff

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/inventory"
	"github.com/iamaudit/iamaudit/internal/outcome"
)

var (
	t0 = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	t1 = t0.AddDate(0, 1, 0)
)

func user(name string, keys ...inventory.AccessKey) inventory.User {
	return inventory.User{Name: name, ARN: "arn:aws:iam::111111111111:user/" + name, CreatedAt: t0.AddDate(-1, 0, 0),
		MFADevices: []inventory.MFADevice{}, AccessKeys: keys, Groups: []string{}}
}

func key(id, status string, created time.Time) inventory.AccessKey {
	used := t0.AddDate(0, 0, -1)
	return inventory.AccessKey{ID: id, Status: status, CreatedAt: created, LastUsedAt: &used}
}

func acct(status string, users []inventory.User, gaps ...inventory.Gap) inventory.Account {
	return inventory.Account{ID: "111111111111", Name: "Production", State: "ACTIVE", Status: status, Users: users, Gaps: gaps}
}

func run(at time.Time, accounts ...inventory.Account) *outcome.Outcome {
	inv := &inventory.Inventory{Schema: inventory.Schema, RunID: inventory.RunID(at), StartedAt: at, FinishedAt: at,
		Accounts: accounts, Gaps: []inventory.Gap{}}
	return outcome.Evaluate(outcome.CommandAnalyze, inv, at, outcome.Settings{Checks: checks.DefaultConfig()}, nil)
}

func gap(section inventory.Section, subject string, fields ...inventory.Field) inventory.Gap {
	g := inventory.NewGap("111111111111", section, fields, "it failed")
	g.Subject = subject
	return g
}

// kinds lists a result's changes as "kind user key" (unknowns as "unknown side user").
func kinds(r Result) []string {
	var out []string
	for _, c := range r.Changes {
		if c.Kind == FindingNew || c.Kind == FindingResolved || c.Kind == FindingSeverity || c.CheckID != "" {
			continue // findings: TestFindingsNeedTheirData
		}
		s := string(c.Kind) + " " + c.User
		switch {
		case c.Kind == Unknown:
			s = "unknown " + c.Side + " " + c.User + " " + strings.Join(c.Items, ",")
		case c.Key != "":
			s += " " + c.Key
			if c.NewKey != "" {
				s += "→" + c.NewKey
			}
		}
		out = append(out, strings.TrimSpace(s))
	}
	return out
}

func TestRules(t *testing.T) {
	old := t0.AddDate(-2, 0, 0)
	created := t0.AddDate(0, 0, 10)
	cases := []struct {
		name string
		a, b *outcome.Outcome
		want []string
	}{
		{"a user list that failed: its users are unknown, not removed",
			run(t0, acct(inventory.StatusAudited, []inventory.User{user("amy", key("AKIA1", inventory.KeyActive, old)), user("ben")})),
			run(t1, acct(inventory.StatusPartial, []inventory.User{}, gap(inventory.SectionUsers, "", inventory.FieldUsers))),
			[]string{"unknown b  amy,ben"}},
		{"a user's own gap: that user unknown, the others compared",
			run(t0, acct(inventory.StatusAudited, []inventory.User{user("amy"), user("ben")})),
			run(t1, acct(inventory.StatusPartial, []inventory.User{}, gap(inventory.SectionUsers, "amy", inventory.FieldUsers))),
			[]string{"user_removed ben", "unknown b amy"}},
		{"keys that could not be listed: not deleted, and no rotation",
			run(t0, acct(inventory.StatusAudited, []inventory.User{user("amy", key("AKIA1", inventory.KeyActive, old))})),
			run(t1, acct(inventory.StatusPartial, []inventory.User{user("amy", key("AKIA2", inventory.KeyActive, created))}, gap(inventory.SectionAccessKeys, "amy", inventory.FieldAccessKeys))),
			[]string{"unknown b amy"}},
		{"a list of users with keys only (the original script): keys deleted, the user unknown",
			run(t0, acct(inventory.StatusPartial, []inventory.User{user("amy", key("AKIA1", inventory.KeyActive, old))}, gap(inventory.SectionUsers, "", inventory.FieldKeylessUsers))),
			run(t1, acct(inventory.StatusPartial, []inventory.User{}, gap(inventory.SectionUsers, "", inventory.FieldKeylessUsers))),
			[]string{"key_deleted amy AKIA1", "unknown both  amy"}},
		{"a keyless user appearing with a key in a list of users with keys: its key created, the user unknown",
			run(t0, acct(inventory.StatusPartial, []inventory.User{}, gap(inventory.SectionUsers, "", inventory.FieldKeylessUsers))),
			run(t1, acct(inventory.StatusAudited, []inventory.User{user("amy", key("AKIA1", inventory.KeyActive, created))})),
			[]string{"key_created amy AKIA1", "unknown a  amy"}},
		{"keys without ids (credential reports) matched by creation: a rotation",
			run(t0, acct(inventory.StatusPartial, []inventory.User{user("amy", key("", inventory.KeyActive, old))}, gap(inventory.SectionAccessKeys, "", inventory.FieldKeyIDs))),
			run(t1, acct(inventory.StatusPartial, []inventory.User{user("amy", key("", inventory.KeyActive, old), key("", inventory.KeyActive, created))}, gap(inventory.SectionAccessKeys, "", inventory.FieldKeyIDs))),
			[]string{"key_created amy created " + created.Format("2006-01-02")}},
		{"keys without ids: a deactivation and a new key make a rotation",
			run(t0, acct(inventory.StatusAudited, []inventory.User{user("amy", key("", inventory.KeyActive, old))})),
			run(t1, acct(inventory.StatusAudited, []inventory.User{user("amy", key("", inventory.KeyInactive, old), key("", inventory.KeyActive, created))})),
			[]string{"key_rotated amy created " + old.Format("2006-01-02") + "→created " + created.Format("2006-01-02")}},
		{"a user deleted and created again with the same name is another user",
			run(t0, acct(inventory.StatusAudited, []inventory.User{withID(user("amy"), "AIDA1")})),
			run(t1, acct(inventory.StatusAudited, []inventory.User{withID(user("amy"), "AIDA2")})),
			[]string{"user_added amy", "user_removed amy"}},
		{"a console password unknown for a user: no console change",
			run(t0, acct(inventory.StatusAudited, []inventory.User{console(user("amy"))})),
			run(t1, acct(inventory.StatusPartial, []inventory.User{user("amy")}, gap(inventory.SectionPassword, "amy", inventory.FieldPassword))),
			[]string{"unknown b amy"}},
		{"an account the run was interrupted before: unknown, not 'stopped being auditable'",
			run(t0, acct(inventory.StatusAudited, []inventory.User{user("amy")})),
			run(t1, acct(inventory.StatusNotReached, []inventory.User{})),
			[]string{"unknown b"}},
		{"an account only one run looked at",
			run(t0),
			run(t1, acct(inventory.StatusAudited, []inventory.User{user("amy")})),
			[]string{"unknown a"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := kinds(Runs(c.a, c.b))
			if !slices.Equal(got, c.want) {
				t.Errorf("got  %q\nwant %q", got, c.want)
			}
		})
	}
}

func withID(u inventory.User, id string) inventory.User { u.UserID = id; return u }
func console(u inventory.User) inventory.User           { u.PasswordEnabled = true; return u }

// A finding is resolved only where the later run could have found it: a user a gap
// left unknown keeps its findings unknown; a key of a list of users with keys that is
// gone is resolved, the user's own findings are unknown.
func TestFindingsNeedTheirData(t *testing.T) {
	old := t0.AddDate(-2, 0, 0)
	amy := console(user("amy", key("AKIA1", inventory.KeyActive, old))) // console without MFA, key not rotated
	a := run(t0, acct(inventory.StatusPartial, []inventory.User{amy}, gap(inventory.SectionUsers, "", inventory.FieldKeylessUsers)))
	b := run(t1, acct(inventory.StatusPartial, []inventory.User{}, gap(inventory.SectionUsers, "", inventory.FieldKeylessUsers)))
	r := Runs(a, b)
	var resolved, unknown []string
	for _, c := range r.Changes {
		switch c.Kind {
		case FindingResolved:
			resolved = append(resolved, c.CheckID)
		case Unknown:
			if c.CheckID != "" {
				unknown = append(unknown, c.CheckID)
			}
		}
	}
	if !slices.Equal(resolved, []string{"access_key_not_rotated"}) || !slices.Equal(unknown, []string{"console_password_unused", "console_without_mfa", "user_without_owner"}) {
		t.Errorf("resolved %v, unknown %v", resolved, unknown)
	}
	if r.Counts[FindingResolved] != 1 || r.Counts[UserRemoved] != 0 {
		t.Errorf("counts %v", r.Counts)
	}
}

// An account not audited in either run: one line, and its account_not_audited
// finding is neither new nor resolved.
func TestNotAuditedTwice(t *testing.T) {
	a := run(t0, acct(inventory.StatusNotAudited, []inventory.User{}))
	b := run(t1, acct(inventory.StatusNotAudited, []inventory.User{}))
	r := Runs(a, b)
	if len(r.Changes) != 1 || r.Changes[0].Kind != Unknown || r.Changes[0].Side != Both {
		t.Errorf("%+v", r.Changes)
	}
}
