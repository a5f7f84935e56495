package cli

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/inventory"
	"github.com/iamaudit/iamaudit/internal/outcome"
	"github.com/iamaudit/iamaudit/internal/store"
)

// update rewrites the golden files of the diff, trend and import tests:
// go test ./internal/cli -run 'Diff|Trend|Import' -update
var update = flag.Bool("update", false, "rewrite golden files under testdata/")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden %s (run with -update to create it): %v", path, err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs from golden file (rerun with -update if the change is intended)\n--- got ---\n%s\n--- want ---\n%s", name, got, want)
	}
}

// The timeline of the diff and trend tests: four monthly runs of a three-account
// Organization, each change scripted once.
//
//	month 0 → 1: Sandbox becomes auditable; bob gets MFA; carol's key is rotated
//	             (C1 deleted, C2 created); svc-ci's S1 is deactivated; grace is added
//	             with a key; Development cannot list erin's keys (a gap: unknown).
//	month 1 → 2: dave is removed with his key D1; svc-ci's S1 is reactivated; alice's
//	             console password is deleted; Development's user list fails (a gap:
//	             erin is unknown, not removed, and when the list works again in
//	             month 3, not added).
//	month 2 → 3: Sandbox stops being auditable; alice loses her MFA and gets a second
//	             key A2; carol gets a console password; svc-ci's S1 is deleted;
//	             alice's A1 crosses 365 days (its finding becomes critical).
//
// CloudTrail events record the key and user changes; each run's 90-day window sees
// the earlier ones again (same ids).
const (
	tlProd = "111111111111"
	tlDev  = "222222222222"
	tlSand = "333333333333"
)

func tlMonth(i int) time.Time { return time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC).AddDate(0, i, 0) }

func day(s string) time.Time {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return t
}

func tlTime(s string) *time.Time { t := day(s); return &t }

type tlUser struct {
	name     string
	console  bool
	mfa      bool
	keys     []inventory.AccessKey
	lastSign string
}

func tlKey(id, status, created, used string) inventory.AccessKey {
	k := inventory.AccessKey{ID: id, Status: status, CreatedAt: day(created), LastUsedSource: "credential_report"}
	if used != "" {
		k.LastUsedAt, k.LastUsedService, k.LastUsedRegion = tlTime(used), "s3", "us-east-1"
	}
	return k
}

func tlAccount(id, name string, at time.Time, users []tlUser) inventory.Account {
	a := inventory.Account{ID: id, Name: name, State: "ACTIVE", IsManagement: id == tlProd, Status: inventory.StatusAudited,
		CollectedAt: at, AuditedAs: "arn:aws:sts::" + id + ":assumed-role/IAMAuditRole/iamaudit",
		CredentialReport:    &inventory.CredentialReport{GeneratedAt: at, Check: inventory.ReportGenerated},
		Root:                &inventory.Root{ARN: "arn:aws:iam::" + id + ":root", Credentials: inventory.RootCredentialsNone, MFAType: inventory.MFANone, AccessKeys: []inventory.RootKey{}},
		PasswordPolicyKnown: true, PasswordPolicy: &inventory.PasswordPolicy{MinimumPasswordLength: 14, RequireSymbols: true, RequireNumbers: true, RequireUppercaseCharacters: true, RequireLowercaseCharacters: true, PasswordReusePrevention: 24},
		Users: []inventory.User{}, Groups: []inventory.Group{}, Roles: []inventory.Role{}, Policies: []inventory.ManagedPolicy{},
		ServerCertificates: []inventory.ServerCertificate{}, Events: []inventory.Event{}, Gaps: []inventory.Gap{}}
	for _, u := range users {
		iu := inventory.User{Name: u.name, ARN: "arn:aws:iam::" + id + ":user/" + u.name, UserID: "AIDA" + u.name,
			Path: "/", CreatedAt: day("2024-06-01"), PasswordEnabled: u.console, MFADevices: []inventory.MFADevice{},
			AccessKeys: append([]inventory.AccessKey{}, u.keys...), Tags: map[string]string{"owner": "team"}, Groups: []string{},
			AttachedPolicies: []inventory.AttachedPolicy{}, InlinePolicies: []inventory.InlinePolicy{}}
		if u.console && u.lastSign != "" {
			iu.PasswordLastUsed = tlTime(u.lastSign)
		}
		if u.mfa {
			iu.MFAActive = true
			iu.MFADevices = []inventory.MFADevice{{Serial: "arn:aws:iam::" + id + ":mfa/" + u.name, Type: inventory.MFAVirtual, EnabledAt: tlTime("2024-06-02")}}
		}
		a.Users = append(a.Users, iu)
	}
	return a
}

func tlEvent(acct, id, at, name, user string) inventory.Event {
	t := day(at).Add(10 * time.Hour)
	return inventory.Event{ID: id, Time: t, Name: name, Source: "iam.amazonaws.com", Username: "admin",
		Resources: []inventory.EventResource{{Type: "AWS::IAM::User", Name: user}}}
}

// tlEvents are every event of the timeline; a run sees those of its 90-day window.
var tlEvents = []struct {
	acct string
	ev   inventory.Event
}{
	{tlProd, tlEvent(tlProd, "ev-c2", "2026-01-20", "CreateAccessKey", "carol")},
	{tlProd, tlEvent(tlProd, "ev-g1", "2026-01-22", "CreateAccessKey", "grace")},
	{tlProd, tlEvent(tlProd, "ev-c1", "2026-01-21", "DeleteAccessKey", "carol")},
	{tlProd, tlEvent(tlProd, "ev-d1", "2026-02-10", "DeleteAccessKey", "dave")},
	{tlProd, tlEvent(tlProd, "ev-dave", "2026-02-10", "DeleteUser", "dave")},
	{tlProd, tlEvent(tlProd, "ev-a2", "2026-03-20", "CreateAccessKey", "alice")},
	{tlProd, tlEvent(tlProd, "ev-s1", "2026-03-25", "DeleteAccessKey", "svc-ci")},
	{tlProd, tlEvent(tlProd, "ev-old", "2025-12-01", "CreateAccessKey", "svc-ci")},
}

// tlInventory is month i's inventory.
func tlInventory(i int) *inventory.Inventory {
	at := tlMonth(i)
	inv := &inventory.Inventory{Schema: inventory.Schema, Tool: "iamaudit", Version: "test", RunID: inventory.RunID(at),
		StartedAt: at, FinishedAt: at.Add(time.Minute), Partition: "aws", Region: "us-east-1",
		EventWindowStart: at.Add(-90 * 24 * time.Hour), EventWindowEnd: at, AuditRole: "IAMAuditRole",
		EventNames:   []string{"CreateAccessKey", "DeleteAccessKey", "DeleteUser", "CreateUser", "ConsoleLogin"},
		Organization: &inventory.Organization{ID: "o-timeline01", ManagementAccountID: tlProd},
		Caller:       &inventory.Caller{AccountID: tlProd, ARN: "arn:aws:iam::" + tlProd + ":user/auditor"},
		Accounts:     []inventory.Account{}, Gaps: []inventory.Gap{}}
	recent := at.AddDate(0, 0, -2).Format("2006-01-02")
	a1 := tlKey("AKIAALICE0000000001", inventory.KeyActive, "2025-03-15", recent)
	alice := tlUser{name: "alice", console: i < 2, mfa: i < 3, keys: []inventory.AccessKey{a1}, lastSign: recent}
	if i == 3 {
		alice.keys = append(alice.keys, tlKey("AKIAALICE0000000002", inventory.KeyActive, "2026-03-20", recent))
	}
	bob := tlUser{name: "bob", console: true, mfa: i >= 1, lastSign: recent}
	carol := tlUser{name: "carol", console: i == 3, lastSign: recent, keys: []inventory.AccessKey{tlKey("AKIACAROL0000000001", inventory.KeyActive, "2024-01-10", recent)}}
	if i >= 1 {
		carol.keys = []inventory.AccessKey{tlKey("AKIACAROL0000000002", inventory.KeyActive, "2026-01-20", recent)}
	}
	s1 := map[int]string{0: inventory.KeyActive, 1: inventory.KeyInactive, 2: inventory.KeyActive}
	svc := tlUser{name: "svc-ci"}
	if st, ok := s1[i]; ok {
		svc.keys = []inventory.AccessKey{tlKey("AKIASVCCI0000000001", st, "2025-12-01", recent)}
	}
	prod := []tlUser{alice, bob, carol, svc}
	if i < 2 {
		prod = append(prod, tlUser{name: "dave", console: true, lastSign: recent, keys: []inventory.AccessKey{tlKey("AKIADAVE00000000001", inventory.KeyInactive, "2025-09-01", "2025-10-01")}})
	}
	if i >= 1 {
		prod = append(prod, tlUser{name: "grace", keys: []inventory.AccessKey{tlKey("AKIAGRACE0000000001", inventory.KeyActive, "2026-01-22", "")}})
	}
	inv.Accounts = append(inv.Accounts, tlAccount(tlProd, "Production", at, prod))

	dev := []tlUser{{name: "erin", keys: []inventory.AccessKey{tlKey("AKIAERIN00000000001", inventory.KeyActive, "2025-11-01", recent)}}}
	d := tlAccount(tlDev, "Development", at, dev)
	switch i {
	case 1: // ListAccessKeys failed for erin: her keys are unknown
		d.Status = inventory.StatusPartial
		for j := range d.Users {
			if d.Users[j].Name == "erin" {
				d.Users[j].AccessKeys = []inventory.AccessKey{}
			}
		}
		g := inventory.NewGap(tlDev, inventory.SectionAccessKeys, []inventory.Field{inventory.FieldAccessKeys}, "iam:ListAccessKeys failed: Throttling")
		g.Subject, g.Operation, g.ErrorCode = "erin", "iam:ListAccessKeys", "Throttling"
		d.Gaps = append(d.Gaps, g)
	case 2: // ListUsers failed: the user list is unknown
		d.Status = inventory.StatusPartial
		d.Users = []inventory.User{}
		g := inventory.NewGap(tlDev, inventory.SectionUsers, []inventory.Field{inventory.FieldUsers}, "iam:ListUsers failed: AccessDenied")
		g.Operation, g.ErrorCode = "iam:ListUsers", "AccessDenied"
		d.Gaps = append(d.Gaps, g)
	}
	inv.Accounts = append(inv.Accounts, d)

	sand := tlAccount(tlSand, "Sandbox", at, []tlUser{{name: "frank", console: true, lastSign: recent}})
	if i == 0 || i == 3 {
		sand = inventory.Account{ID: tlSand, Name: "Sandbox", State: "ACTIVE", Status: inventory.StatusNotAudited, CollectedAt: at,
			Reason: "cannot assume IAMAuditRole in 333333333333 (AccessDenied): deploy the audit role there",
			Users:  []inventory.User{}, Groups: []inventory.Group{}, Roles: []inventory.Role{}, Policies: []inventory.ManagedPolicy{},
			ServerCertificates: []inventory.ServerCertificate{}, Events: []inventory.Event{},
			Gaps: []inventory.Gap{inventory.NewGap(tlSand, inventory.SectionAccount, []inventory.Field{inventory.FieldAccount}, "cannot assume IAMAuditRole: AccessDenied")}}
	}
	inv.Accounts = append(inv.Accounts, sand)

	for _, e := range tlEvents {
		if e.ev.Time.Before(inv.EventWindowStart) || e.ev.Time.After(at) {
			continue
		}
		for j := range inv.Accounts {
			if inv.Accounts[j].ID == e.acct && (inv.Accounts[j].Status == inventory.StatusAudited || inv.Accounts[j].Status == inventory.StatusPartial) {
				inv.Accounts[j].Events = append(inv.Accounts[j].Events, e.ev)
			}
		}
	}
	return inv
}

// tlStore records the timeline's four runs in a new SQLite store, as `run` would:
// each against the baseline the store gives.
func tlStore(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "timeline.db")
	s, err := store.Open(ctx, db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := 0; i < 4; i++ {
		inv := tlInventory(i)
		base, err := s.Baseline(ctx, inv, nil)
		if err != nil {
			t.Fatal(err)
		}
		o := outcome.Evaluate(outcome.CommandRun, inv, inv.FinishedAt, outcome.Settings{Checks: checks.DefaultConfig()}, base)
		if _, err := s.Write(ctx, o, store.WriteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	return db
}
