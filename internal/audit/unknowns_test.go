package audit_test

import (
	"strings"
	"testing"
	"time"

	"github.com/iamaudit/iamaudit/internal/collect"
	"github.com/iamaudit/iamaudit/internal/credreport"
	"github.com/iamaudit/iamaudit/internal/scenario"
)

// One denied call does not throw away what the credential report already says:
// with ListAccessKeys denied in Production, legacy-etl keeps its 2018 key (from the
// report, without an id, used yesterday), the gap names the user, and no check
// calls legacy-etl a user without activity.
func TestDeniedListAccessKeysKeepsReportKeys(t *testing.T) {
	t.Parallel()
	const production = "345678901234"
	base := time.Now().UTC().Truncate(time.Second)
	knobs := &scenario.Knobs{Faults: []scenario.Fault{{Account: production, Service: "iam", Operation: "ListAccessKeys", Error: "AccessDenied", Rate: 1}}}
	r := runDemo(t, scenario.Demo(), base, knobs, "en")
	if r.stats.FaultTotal == 0 {
		t.Fatalf("the fault never fired: %+v", r.stats)
	}
	p := accountByID(t, r.res.Inventory, production)
	var found bool
	for _, u := range p.Users {
		if u.Name != "legacy-etl" {
			continue
		}
		found = true
		if len(u.AccessKeys) != 1 {
			t.Fatalf("legacy-etl keys = %+v, want the report's one key", u.AccessKeys)
		}
		k := u.AccessKeys[0]
		created := time.Date(2018, 6, 15, 10, 20, 30, 0, time.UTC)
		if k.ID != "" || k.Status != "Active" || !k.CreatedAt.Equal(created) || k.LastUsedSource != credreport.LastUsedSourceReport ||
			k.LastUsedAt == nil || base.Sub(*k.LastUsedAt) > 49*time.Hour || k.LastUsedService != "s3" {
			t.Errorf("legacy-etl key = %+v, want the report's slot: no id, Active, created %v, used about a day ago with s3", k, created)
		}
	}
	if !found {
		t.Fatal("legacy-etl is not among Production's users")
	}
	gapFound := false
	for _, g := range p.Gaps {
		if g.Section == collect.SectionAccessKeys && g.Subject == "legacy-etl" && g.Operation == "iam:ListAccessKeys" && g.ErrorCode == "AccessDenied" {
			gapFound = true
		}
	}
	if !gapFound {
		t.Errorf("no access_keys gap for legacy-etl: %+v", p.Gaps)
	}
	for _, f := range r.res.Findings {
		if f.AccountID == production && f.User == "legacy-etl" && (f.CheckID == "inactive_user" || strings.Contains(strings.ToLower(f.Message), "never")) {
			t.Errorf("a finding on legacy-etl from unknown key data: %s %s", f.CheckID, f.Message)
		}
	}
}
