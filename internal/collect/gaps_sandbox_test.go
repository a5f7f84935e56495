package collect

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/iamaudit/iamaudit/internal/inventory"
	"github.com/iamaudit/iamaudit/internal/report"
	"github.com/iamaudit/iamaudit/internal/scenario"
)

// A pagination token that comes back is a gap, never a silently short list: against
// the sandbox with one item per page, each listing is answered once with the token
// it was sent (scenario.FaultRepeatToken). The SDK's StopOnDuplicateToken alone would
// end the listing there without an error.
func TestRepeatedTokenIsAGap(t *testing.T) {
	t.Parallel()
	const (
		cap     = 1 // one item per page: every listing has pages to repeat
		events  = 3
		maxTime = 2 * time.Minute // a listing that followed the token would never end
	)
	scen := func(faults ...scenario.Fault) *scenario.Scenario {
		sc := sandboxScenario(0)
		for i := range sc.Accounts {
			if sc.Accounts[i].ID == sbProd {
				for j := 0; j < events; j++ {
					sc.Accounts[i].Events = append(sc.Accounts[i].Events, scenario.Event{Time: scenario.DaysAgo(10 + j), Name: "CreateUser", Username: "admin"})
				}
			}
		}
		sc.Knobs.PageCap = cap
		sc.Knobs.RateLimits = map[string]float64{"cloudtrail": 0, "iam": 0, "organizations": 0}
		sc.Knobs.Faults = faults
		return sc
	}
	opts := Options{Role: "IAMAuditRole", ReportPoll: 50 * time.Millisecond, EventsRate: 1000, IAMRate: 1000, OrgRate: 1000,
		EventNames: []string{"CreateUser"}}
	collectIn := func(t *testing.T, sc *scenario.Scenario) *inventory.Inventory {
		t.Helper()
		_, cfg := startSandbox(t, sc)
		ctx, cancel := context.WithTimeout(context.Background(), maxTime)
		defer cancel()
		inv, err := Collect(ctx, cfg, opts)
		if err != nil {
			t.Fatal(err)
		}
		if ctx.Err() != nil {
			t.Fatal("collection did not end: the repeated token was followed")
		}
		return inv
	}
	baseline := collectIn(t, scen())
	if len(baseline.Gaps) != 0 || len(accountByID(t, baseline, sbProd).Gaps) != 0 {
		t.Fatalf("gaps without the fault: %+v %+v", baseline.Gaps, accountByID(t, baseline, sbProd).Gaps)
	}
	wantProd := accountByID(t, baseline, sbProd)
	if len(wantProd.Roles) < 2 || len(wantProd.Events) != events {
		t.Fatalf("baseline Production: %d roles, %d events: too few to page", len(wantProd.Roles), len(wantProd.Events))
	}

	for _, tc := range []struct {
		name    string
		fault   scenario.Fault
		org     bool // the gap is the Organization's, not Production's
		section inventory.Section
		op      string
		unknown []inventory.Field
		lost    func(t *testing.T, inv *inventory.Inventory)
	}{
		{
			name:    "GetAccountAuthorizationDetails",
			fault:   scenario.Fault{Account: sbProd, Service: "iam", Operation: "GetAccountAuthorizationDetails", Error: scenario.FaultRepeatToken, Count: 1},
			section: inventory.SectionUsers, op: "iam:GetAccountAuthorizationDetails",
			unknown: failAuthDetails.unknown,
			lost: func(t *testing.T, inv *inventory.Inventory) {
				p := accountByID(t, inv, sbProd)
				// A partial user list would look complete: it is dropped, and the users
				// come from the credential report.
				if len(p.Roles) != 0 || len(p.Users) != len(wantProd.Users) {
					t.Errorf("%d roles, %d users; want no roles (unknown) and the report's %d users", len(p.Roles), len(p.Users), len(wantProd.Users))
				}
			},
		},
		{
			name:    "LookupEvents",
			fault:   scenario.Fault{Account: sbProd, Service: "cloudtrail", Operation: "LookupEvents", Error: scenario.FaultRepeatToken, Count: 1},
			section: inventory.SectionEvents, op: "cloudtrail:LookupEvents",
			unknown: []inventory.Field{inventory.FieldEvents},
		},
		{
			name:    "ListAccounts",
			fault:   scenario.Fault{Service: "organizations", Operation: "ListAccounts", Error: scenario.FaultRepeatToken, Count: 1},
			org:     true,
			section: inventory.SectionOrganization, op: "organizations:ListAccounts",
			unknown: []inventory.Field{inventory.FieldAccounts},
			lost: func(t *testing.T, inv *inventory.Inventory) {
				if len(inv.Accounts) >= len(baseline.Accounts) {
					t.Errorf("%d accounts, want fewer than %d (the listing stopped)", len(inv.Accounts), len(baseline.Accounts))
				}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			inv := collectIn(t, scen(tc.fault))
			gaps := inv.Gaps
			if !tc.org {
				gaps = accountByID(t, inv, sbProd).Gaps
			}
			var found []inventory.Gap
			for _, g := range gaps {
				if g.Operation == tc.op {
					found = append(found, g)
				}
			}
			if len(found) != 1 {
				t.Fatalf("%d %s gaps, want 1: %+v (organization gaps %+v)", len(found), tc.op, gaps, inv.Gaps)
			}
			g := found[0]
			if g.Section != tc.section || g.ErrorCode != codeRepeatedToken || !slices.Equal(g.Unknown, tc.unknown) ||
				!strings.Contains(g.Message, "pagination token it had already returned") {
				t.Errorf("gap %+v, want section %s, code %s, unknown %v", g, tc.section, codeRepeatedToken, tc.unknown)
			}
			if tc.lost != nil {
				tc.lost(t, inv)
			}
		})
	}
}

// Defect 1 of issue 7, end to end: a user whose GetUser and GetAccessKeyLastUsed
// failed (no credential report, ListUsers denied) has the seed row
// "Configured, Unknown, …, Unknown, Unknown", never "Never" / "Never used" / "N/A".
func TestUnknownLastUseInSeedRows(t *testing.T) {
	t.Parallel()
	deny := func(op string) scenario.Fault {
		return scenario.Fault{Account: sbProd, Service: "iam", Operation: op, Error: "AccessDenied"}
	}
	sc := sandboxScenario(0)
	sc.Knobs.Faults = []scenario.Fault{deny("GenerateCredentialReport"), deny("ListUsers"), deny("GetUser"), deny("GetAccessKeyLastUsed")}
	s, cfg := startSandbox(t, sc)
	inv, err := Collect(context.Background(), cfg, Options{Role: "IAMAuditRole", ReportPoll: 50 * time.Millisecond, EventNames: []string{"CreateUser"}})
	if err != nil {
		t.Fatal(err)
	}
	if s.Stats().FaultTotal == 0 {
		t.Fatal("the faults never fired")
	}
	p := accountByID(t, inv, sbProd)
	for _, want := range []struct {
		section inventory.Section
		op      string
		field   inventory.Field
	}{
		{SectionPassword, "iam:GetUser", inventory.FieldPasswordLastUsed},
		{SectionAccessKeys, "iam:GetAccessKeyLastUsed", inventory.FieldKeyLastUse},
	} {
		if g, ok := gapOf(p, want.section, "alice"); !ok || g.Operation != want.op || !slices.Equal(g.Unknown, []inventory.Field{want.field}) {
			t.Errorf("alice's %s gap %+v (found %v), want %s leaving %s unknown", want.section, g, ok, want.op, want.field)
		}
	}
	for lang, want := range map[string][]string{
		"en": {
			"Production,alice,Configured,Unknown,AKIAALICE00000000001,Active,2018-06-15 10:20:30,Unknown,Unknown,Virtual",
			"Production,bob,Configured,Unknown,,,,,,None",
			"Production,erin,Not configured,Never,,,,,,Hardware",
		},
		"es": {
			"Production,alice,Configurada,Desconocido,AKIAALICE00000000001,Active,2018-06-15 10:20:30,Desconocido,Desconocido,Virtual",
			"Production,bob,Configurada,Desconocido,,,,,,None",
		},
	} {
		m, err := report.MessagesFor(lang)
		if err != nil {
			t.Fatal(err)
		}
		var rows []string
		for _, r := range report.IAMReportRows(inv, m) {
			if r[0] == sbProd {
				rows = append(rows, strings.Join(r[1:], ","))
			}
		}
		for _, w := range want {
			if !slices.Contains(rows, w) {
				t.Errorf("%s: no row %q in\n%s", lang, w, strings.Join(rows, "\n"))
			}
		}
	}
}

// Defect 7 of issue 7: a policy document that does not parse is a gap saying what is
// unknown (what it allows, and so whether its users are administrators), not a policy
// that allows nothing. Documents that parse leave no gap.
func TestUnreadablePolicyIsAGap(t *testing.T) {
	t.Parallel()
	const (
		bad  = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["*",5],"Resource":"*"}]}` // IAM's grammar has no numbers in Action
		good = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`
	)
	sc := sandboxScenario(0)
	for i := range sc.Accounts {
		a := &sc.Accounts[i]
		if a.ID != sbProd {
			continue
		}
		a.Policies = append(a.Policies, scenario.Policy{Name: "Broken", Document: bad}, scenario.Policy{Name: "Fine", Document: good})
		for j := range a.Users {
			switch a.Users[j].Name {
			case "bob":
				a.Users[j].InlinePolicies = map[string]string{"everything": bad, "reads": good}
			case "erin":
				a.Users[j].AttachedPolicies = []string{"arn:aws:iam::" + sbProd + ":policy/Broken", "arn:aws:iam::" + sbProd + ":policy/Fine"}
			}
		}
	}
	_, cfg := startSandbox(t, sc)
	inv, err := Collect(context.Background(), cfg, Options{Role: "IAMAuditRole", ReportPoll: 50 * time.Millisecond, EventNames: []string{"CreateUser"}})
	if err != nil {
		t.Fatal(err)
	}
	p := accountByID(t, inv, sbProd)
	subjects := map[string]inventory.Gap{}
	for _, g := range p.Gaps {
		subjects[g.Subject] = g
		if g.Section != inventory.SectionPolicies || !slices.Equal(g.Unknown, []inventory.Field{inventory.FieldPolicyDocuments}) ||
			g.Operation != "iam:GetAccountAuthorizationDetails" || !strings.Contains(g.Message, "does not parse") ||
			!strings.Contains(g.Message, "full administrative privileges") {
			t.Errorf("gap %+v: want a policies gap leaving policy_documents unknown, saying why and what follows", g)
		}
	}
	if _, ok := subjects["bob"]; !ok || len(subjects) != 2 || p.Status != inventory.StatusPartial {
		t.Errorf("gaps %+v (status %s), want one for bob's inline policy and one for the Broken managed policy", p.Gaps, p.Status)
	}
	if g, ok := subjects["arn:aws:iam::"+sbProd+":policy/Broken"]; !ok || !strings.Contains(g.Message, "customer managed policy Broken") {
		t.Errorf("no gap naming the Broken managed policy: %+v", p.Gaps)
	}
}
