package store

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/fix"
)

// A finding's remediation comes back as it was written: its typed actions, also
// where they hold text that looks like the store's placeholders, differ from their
// check's or are none; its AWS CLI text only where it is not its actions' rendering
// (a finding from an older run's file). The findings of a check share one stored
// list, and the rendered text is not stored.
func TestRemediationStored(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		t.Parallel()
		s := open(t, b.target(t))
		ctx := context.Background()
		o := evaluate(world{accounts: 2, users: 9}.inventory("20260105_090000", t0), t0, nil)
		var mfa []int
		for i, f := range o.Findings {
			if f.CheckID == "console_without_mfa" {
				mfa = append(mfa, i)
			}
		}
		if len(mfa) < 4 || len(o.Findings[mfa[1]].Remediation.Actions) < 2 {
			t.Fatalf("the world has %d console_without_mfa findings", len(mfa))
		}
		// Placeholder-like text, in a copy (the plan's actions are shared by nothing,
		// but the test must not rely on it).
		odd := &o.Findings[mfa[1]]
		odd.Remediation.Actions = append(odd.Remediation.Actions[:0:0], odd.Remediation.Actions...)
		odd.Remediation.Actions[0].Note = "$user"
		odd.Remediation.Actions[1].Resource.UserName = "$$account"
		odd.Remediation.Actions[1].Unknown = map[fix.Field]string{fix.FieldTagValue: odd.AccountID}
		// No actions where the check's first finding has some, and text from an older file.
		legacy := &o.Findings[mfa[2]]
		legacy.Remediation.Actions, legacy.Remediation.Commands = nil, []string{"aws iam list-mfa-devices --user-name x"}
		// Text that is not the rendering of the actions.
		edited := &o.Findings[mfa[3]]
		edited.Remediation.Commands = []string{"# reviewed by hand"}
		if _, err := s.Write(ctx, o, WriteOptions{}); err != nil {
			t.Fatal(err)
		}
		got, err := s.Load(ctx, "20260105_090000")
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Findings) != len(o.Findings) {
			t.Fatalf("%d findings loaded, %d written", len(got.Findings), len(o.Findings))
		}
		byID := map[string]checks.Finding{}
		for _, f := range got.Findings {
			byID[f.ID] = f
		}
		withActions := 0
		for _, f := range o.Findings {
			if len(f.Remediation.Actions) > 0 {
				withActions++
			}
			if g := byID[f.ID]; !reflect.DeepEqual(g.Remediation, f.Remediation) {
				t.Errorf("%s %s: remediation\nwritten %+v\nloaded  %+v", f.CheckID, f.ID, f.Remediation, g.Remediation)
			}
		}
		if withActions < len(o.Findings)/2 {
			t.Fatalf("only %d of %d findings have actions", withActions, len(o.Findings))
		}

		// Storage: the check's list once, a finding's own only where it differs.
		var own, text int
		if err := s.DB().QueryRow(`SELECT COUNT(remediation_actions), COUNT(remediation_commands) FROM findings`).Scan(&own, &text); err != nil {
			t.Fatal(err)
		}
		if own > len(o.Findings)/5 || text != 2 {
			t.Errorf("%d of %d findings store their own actions, %d their commands (want 2: the legacy and the edited one)", own, len(o.Findings), text)
		}
		var shared string
		if err := s.DB().QueryRow(s.d.q(`SELECT remediation_actions FROM finding_checks WHERE check_id = ?`), "console_without_mfa").Scan(&shared); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(shared, `"`+placeholderUser+`"`) || strings.Contains(shared, "user000") {
			t.Errorf("the check's actions are not the shared form: %s", shared)
		}

		// A placeholder this version does not know is an error, not a wrong action.
		if _, err := s.DB().Exec(s.d.q(`UPDATE finding_checks SET remediation_actions = ? WHERE check_id = ?`),
			`[{"kind":"change","resource":{"account_id":"$organization"}}]`, "console_without_mfa"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Load(ctx, "20260105_090000"); err == nil || !strings.Contains(err.Error(), `"$organization"`) {
			t.Errorf("unknown placeholder: %v", err)
		}
	})
}

// Every recipe's actions come back from their stored form as they were, for plain
// findings and for ones whose names look like placeholders or need JSON escaping;
// two findings of a recipe that differ only in their own account, user and resource
// are stored alike.
func TestActionsEncoding(t *testing.T) {
	t.Parallel()
	subjects := []struct {
		name     string
		f        checks.Finding
		keyID    string
		role     string
		policies []fix.Policy
	}{
		{name: "plain", f: checks.Finding{AccountID: "111122223333", User: "alice", Resource: "AKIAEXAMPLE000000001"}, keyID: "AKIAEXAMPLE000000001", role: "deploy"},
		{name: "no user", f: checks.Finding{AccountID: "111122223333", Resource: "111122223333"}},
		{name: "placeholder-like", f: checks.Finding{AccountID: "$account", User: "$$user", Resource: "$resource"}, keyID: "$resource", role: "$user",
			policies: []fix.Policy{{Name: "$", ARN: "$$"}}},
		{name: "escaping", f: checks.Finding{AccountID: "111122223333", User: `a<b>&"c\d`, Resource: "arn:aws:iam::111122223333:user/a<b>&\"c\\d"},
			policies: []fix.Policy{{Name: `a<b>&"c\d`, ARN: "arn:aws:iam::111122223333:policy/x"}}},
		{name: "user is the account", f: checks.Finding{AccountID: "111122223333", User: "111122223333", Resource: "111122223333"}, keyID: "111122223333"},
	}
	target := fix.Target{Partition: "aws-us-gov", Region: "us-gov-west-1", AuditRole: "IAMAuditRole"}
	for _, sub := range subjects {
		for _, r := range fix.Recipes() {
			f := sub.f
			f.ID = string(r)
			f.Remediation.Actions = fix.Plan(r, fix.Subject{AccountID: f.AccountID, User: f.User, AccessKeyID: sub.keyID, Role: sub.role,
				Group: sub.role, ServerCertificate: sub.role, AttachedPolicies: sub.policies, InlinePolicies: []string{f.User, "$x"}, OwnerTag: "$owner"}, target)
			if len(f.Remediation.Actions) == 0 {
				t.Fatalf("%s: no actions", r)
			}
			f.Remediation.Actions[0].Note = "$resource"
			text := encodeActions(f)
			got := checks.Finding{ID: f.ID, AccountID: f.AccountID, User: f.User, Resource: f.Resource}
			if err := (actionsCache{}).decodeActions(&got, text); err != nil {
				t.Fatalf("%s %s: %v\n%s", sub.name, r, err, text)
			}
			if !reflect.DeepEqual(got.Remediation.Actions, f.Remediation.Actions) {
				t.Errorf("%s %s:\nwritten %+v\nloaded  %+v\nstored %s", sub.name, r, f.Remediation.Actions, got.Remediation.Actions, text)
			}
		}
	}
	one := func(account, user string) string {
		a := fix.Plan(fix.RequireMFA, fix.Subject{AccountID: account, User: user}, target)
		return encodeActions(checks.Finding{AccountID: account, User: user, Resource: "arn:aws:iam::" + account + ":user/" + user,
			Remediation: checks.Remediation{Actions: a}})
	}
	if a, b := one("111122223333", "alice"), one("444455556666", "bob"); a != b || strings.Contains(a, "alice") {
		t.Errorf("two findings of a recipe stored apart:\n%s\n%s", a, b)
	}
}
