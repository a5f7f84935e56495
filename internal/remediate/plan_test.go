package remediate

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/inventory"
	"github.com/iamaudit/iamaudit/internal/outcome"
)

var planNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func daysAgo(n int) *time.Time {
	t := planNow.AddDate(0, 0, -n)
	return &t
}

func planRun(mutate func(*outcome.Outcome)) *outcome.Outcome {
	acct := inventory.Account{ID: "111122223333", Name: "Prod", State: "ACTIVE", Status: inventory.StatusAudited, Users: []inventory.User{
		// a zombie console user without MFA: delete-user claims it over enforce-mfa
		{Name: "zombie", ARN: "arn:aws:iam::111122223333:user/zombie", CreatedAt: *daysAgo(900), PasswordEnabled: true, PasswordLastUsed: daysAgo(300),
			Groups: []string{"devs"}, InlinePolicies: []inventory.InlinePolicy{{Name: "p"}},
			AccessKeys: []inventory.AccessKey{{ID: "AKIAZOMBIE0000000001", Status: inventory.KeyActive, CreatedAt: *daysAgo(800), LastUsedAt: daysAgo(400)}}},
		// an old key in use: rotate-key and deactivate-key both want it
		{Name: "etl", ARN: "arn:aws:iam::111122223333:user/etl", CreatedAt: *daysAgo(900), Tags: map[string]string{"owner": "data@example.com"},
			AccessKeys: []inventory.AccessKey{{ID: "AKIAETL0000000000001", Status: inventory.KeyActive, CreatedAt: *daysAgo(500), LastUsedAt: daysAgo(1), LastUsedService: "s3"}}},
		// a key named only by its credential report slot
		{Name: "slot", ARN: "arn:aws:iam::111122223333:user/slot", CreatedAt: *daysAgo(900),
			AccessKeys: []inventory.AccessKey{{Slot: 1, Status: inventory.KeyActive, CreatedAt: *daysAgo(500), LastUsedAt: daysAgo(2)}}},
		// RequireMFAPolicy and MFA now: release-mfa
		{Name: "ready", ARN: "arn:aws:iam::111122223333:user/ready", CreatedAt: *daysAgo(100), PasswordEnabled: true, PasswordLastUsed: daysAgo(1),
			MFAActive: true, MFADevices: []inventory.MFADevice{{Serial: "arn:aws:iam::111122223333:mfa/ready", Type: inventory.MFAVirtual}},
			InlinePolicies: []inventory.InlinePolicy{{Name: RequireMFAPolicyName}}, AccessKeys: []inventory.AccessKey{}},
	}}
	inv := &inventory.Inventory{Partition: "aws", Region: "us-east-1", RunID: "20260301_120000", Accounts: []inventory.Account{acct},
		Caller: &inventory.Caller{AccountID: "999999999999", ARN: "arn:aws:iam::999999999999:user/auditor"}}
	o := outcome.Evaluate(outcome.CommandRun, inv, planNow, outcome.Settings{Checks: checks.DefaultConfig()}, nil)
	if mutate != nil {
		mutate(o)
	}
	return o
}

func build(t *testing.T, o *outcome.Outcome, sel Selection, d ...Deactivation) *Plan {
	t.Helper()
	p, err := BuildPlan(PlanInput{Outcome: o, RunID: "20260301_120000", Selection: sel, Config: DefaultConfig(), Now: planNow, ID: "plan-test", Deactivations: d})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func skipReason(p *Plan, user string) string {
	for _, s := range p.Skipped {
		if s.User == user {
			return s.Reason
		}
	}
	return ""
}

// One resource, one workflow; what is not planned says why; planning is pure.
func TestBuildPlan(t *testing.T) {
	t.Parallel()
	p := build(t, planRun(nil), Selection{Workflows: Workflows()})
	var got []string
	for _, it := range p.Items {
		got = append(got, string(it.Workflow)+":"+it.User)
	}
	want := []string{"release-mfa:ready", "rotate-key:etl", "delete-user:zombie"}
	if !slices.Equal(got, want) {
		t.Fatalf("items %v, want %v; skipped %+v", got, want, p.Skipped)
	}
	if r := skipReason(p, "slot"); !strings.Contains(r, "key's id is unknown") {
		t.Errorf("slot: %q", r)
	}
	if !strings.Contains(skipReason(p, "zombie"), "the plan deletes this user") {
		t.Errorf("zombie: %+v", p.Skipped)
	}
	etl := p.Items[1]
	if len(etl.Owner) != 1 || etl.Owner[0].Value != "data@example.com" || etl.Evidence.Key.Service != "s3" ||
		!slices.Equal(apis(etl.Actions), []string{"CreateAccessKey", "UpdateAccessKey"}) || etl.Actions[1].Resource.AccessKeyID != "AKIAETL0000000000001" {
		t.Errorf("etl %+v", etl)
	}
	z := p.Items[2]
	if !slices.Equal(apis(z.Actions), []string{"DeleteAccessKey", "DeleteLoginProfile", "RemoveUserFromGroup", "DeleteUserPolicy", "DeleteUser"}) {
		t.Errorf("zombie chain %v", apis(z.Actions))
	}
	for i := range p.Items {
		if p.Items[i].N != i+1 || len(p.Items[i].Commands) != len(p.Items[i].Actions) {
			t.Errorf("item %d: n %d, %d commands", i, p.Items[i].N, len(p.Items[i].Commands))
		}
	}
	if again := build(t, planRun(nil), Selection{Workflows: Workflows()}); again.Digest() != p.Digest() {
		t.Error("the same input planned twice differs")
	}

	// Without rotate-key (the default), the old key is deactivated instead.
	p = build(t, planRun(nil), Selection{})
	if it := itemsOf(p, DeactivateKey); len(it) != 1 || it[0].User != "etl" || it[0].CheckID != "access_key_not_rotated" {
		t.Errorf("default plan %+v", p.Items)
	}

	// A suppressed finding is never planned.
	p = build(t, planRun(func(o *outcome.Outcome) {
		for i := range o.Findings {
			if o.Findings[i].User == "etl" {
				o.Findings[i].Suppressed, o.Findings[i].State, o.Findings[i].SuppressionReason = true, checks.StateSuppressed, "batch job, ticket SEC-12"
			}
		}
	}), Selection{Workflows: []Workflow{DeactivateKey}, Users: []string{"etl"}})
	if len(p.Items) != 0 || !strings.Contains(skipReason(p, "etl"), "suppressed: batch job") {
		t.Errorf("suppressed %+v %+v", p.Items, p.Skipped)
	}

	// delete-key from the journal: not before 48 hours, then planned.
	d := Deactivation{JournalID: "j1", At: planNow.Add(-20 * time.Hour), AccountID: "111122223333", User: "etl", KeyID: "AKIAETL0000000000001"}
	p = build(t, planRun(nil), Selection{Workflows: []Workflow{DeleteKey}}, d)
	if len(p.Items) != 0 || !strings.Contains(skipReason(p, "etl"), "less than 48 hours") {
		t.Errorf("20 hours: %+v %+v", p.Items, p.Skipped)
	}
	d.At = planNow.Add(-50 * time.Hour)
	p = build(t, planRun(nil), Selection{Workflows: []Workflow{DeleteKey}}, d)
	// the run saw the key used a day ago, after the deactivation: refused
	if len(p.Items) != 0 || !strings.Contains(skipReason(p, "etl"), "after it was deactivated") {
		t.Errorf("used after deactivation: %+v %+v", p.Items, p.Skipped)
	}
	// Selection by finding, account name and user.
	var fid string
	for _, f := range planRun(nil).Findings {
		if f.CheckID == "inactive_user" {
			fid = f.ID
		}
	}
	p = build(t, planRun(nil), Selection{Workflows: Workflows(), Findings: []string{fid}, Accounts: []string{"prod"}})
	if len(p.Items) != 1 || p.Items[0].Workflow != DeleteUser {
		t.Errorf("by finding: %+v", p.Items)
	}
}
