package store

import (
	"fmt"
	"time"

	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/inventory"
	"github.com/iamaudit/iamaudit/internal/outcome"
)

// world describes a synthetic Organization for the store's tests: n accounts of
// m users each; change alters it between runs the way remediation would.
type world struct {
	accounts, users int
	// fixed: users whose console password is removed (their console_without_mfa is
	// resolved); newKey: a user given a fresh unused key; partial: an account with an
	// MFA gap; only: audit only these accounts (--accounts).
	fixed   map[string]bool
	newKey  string
	partial string
	only    map[string]bool
}

// epoch anchors the synthetic CloudTrail events.
var epoch = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

func acctID(i int) string { return fmt.Sprintf("%012d", 100000000000+i) }

// inventory builds the world's inventory as a run at now would collect it.
func (w world) inventory(runID string, now time.Time) *inventory.Inventory {
	inv := &inventory.Inventory{Schema: inventory.Schema, Tool: "iamaudit", Version: "test", RunID: runID,
		StartedAt: now.Add(-time.Minute), FinishedAt: now, Partition: "aws", Region: "us-east-1",
		EventWindowStart: now.Add(-90 * 24 * time.Hour), EventWindowEnd: now, AuditRole: "IAMAuditRole",
		EventNames: []string{"CreateAccessKey", "DeleteAccessKey", "DeleteUser", "ConsoleLogin"},
		Organization: &inventory.Organization{ID: "o-test123456", ARN: "arn:aws:organizations::" + acctID(0) + ":organization/o-test123456",
			ManagementAccountID: acctID(0)},
		Caller:   &inventory.Caller{AccountID: acctID(0), ARN: "arn:aws:iam::" + acctID(0) + ":user/auditor"},
		Accounts: []inventory.Account{}, Gaps: []inventory.Gap{}}
	for ai := 0; ai < w.accounts; ai++ {
		if w.only != nil && !w.only[acctID(ai)] {
			continue
		}
		inv.Accounts = append(inv.Accounts, w.account(ai, now))
	}
	inv.Gaps = append(inv.Gaps, inventory.NewGap("999999999999", inventory.SectionOrganization, []inventory.Field{inventory.FieldAccount},
		"account 999999999999 is not in the Organization"))
	return inv
}

// account is the world's account ai as a run at now collects it.
func (w world) account(ai int, now time.Time) inventory.Account {
	created := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)
	id := acctID(ai)
	used := now.Add(-48 * time.Hour)
	a := inventory.Account{ID: id, Name: fmt.Sprintf("Account %d", ai), Email: fmt.Sprintf("aws+%d@example.com", ai),
		State: "ACTIVE", IsManagement: ai == 0, Status: inventory.StatusAudited, CollectedAt: now,
		AuditedAs:        "arn:aws:sts::" + id + ":assumed-role/IAMAuditRole/iamaudit",
		CredentialReport: credReport(ai, now),
		Root: &inventory.Root{ARN: "arn:aws:iam::" + id + ":root", Credentials: inventory.RootCredentialsPresent, MFAActive: ai%2 == 0, MFAType: inventory.MFAVirtual,
			PasswordLastUsed: &used, AccessKeys: []inventory.RootKey{{Slot: 1, Active: ai%3 == 0, LastUsedAt: &used, LastUsedService: "s3"}}},
		PasswordPolicyKnown: true, PasswordPolicy: &inventory.PasswordPolicy{MinimumPasswordLength: 8},
		Summary: map[string]int32{"Users": int32(w.users)}, APICalls: map[string]int{"iam:ListUsers": 1},
		Users: []inventory.User{}, Groups: []inventory.Group{}, Roles: []inventory.Role{}, Policies: []inventory.ManagedPolicy{},
		ServerCertificates: []inventory.ServerCertificate{}, Events: []inventory.Event{}, Gaps: []inventory.Gap{}}
	if !a.Root.MFAActive {
		a.Root.MFAType = inventory.MFANone
	}
	for ui := 0; ui < w.users; ui++ {
		name := fmt.Sprintf("user%03d", ui)
		u := inventory.User{Name: name, ARN: "arn:aws:iam::" + id + ":user/" + name, UserID: fmt.Sprintf("AIDA%012d%04d", ai, ui),
			Path: "/", CreatedAt: created.Add(time.Duration(ui) * time.Hour), MFADevices: []inventory.MFADevice{}, AccessKeys: []inventory.AccessKey{},
			Groups: []string{"developers"}, AttachedPolicies: []inventory.AttachedPolicy{{Name: "ReadOnlyAccess", ARN: "arn:aws:iam::aws:policy/ReadOnlyAccess"}},
			InlinePolicies: []inventory.InlinePolicy{}, Tags: map[string]string{"team": "t" + fmt.Sprint(ui%5)}}
		if ui%2 == 0 && !w.fixed[id+"/"+name] {
			u.PasswordEnabled, u.PasswordLastUsed = true, &used
		}
		if ui%3 == 1 {
			u.MFAActive = true
			u.MFADevices = append(u.MFADevices, inventory.MFADevice{Serial: "arn:aws:iam::" + id + ":mfa/" + name, Type: inventory.MFAVirtual, EnabledAt: &created})
		}
		for ki := 0; ki < ui%3; ki++ {
			k := inventory.AccessKey{ID: fmt.Sprintf("AKIA%08d%04d%02d", ai, ui, ki), Status: "Active", Slot: ki + 1,
				CreatedAt: now.Add(-time.Duration(30+200*ki+ui) * 24 * time.Hour), LastUsedSource: "credential_report"}
			if ki == 0 {
				k.LastUsedAt, k.LastUsedService, k.LastUsedRegion = &used, "s3", "us-east-1"
			}
			u.AccessKeys = append(u.AccessKeys, k)
		}
		if ui == 0 {
			u.InlinePolicies = []inventory.InlinePolicy{{Name: "s3-read", Document: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`}}
		}
		if w.newKey == id+"/"+name {
			u.AccessKeys = append(u.AccessKeys, inventory.AccessKey{ID: fmt.Sprintf("AKIANEW%05d%04d", ai, ui), Status: "Active", CreatedAt: now.Add(-24 * time.Hour)})
		}
		a.Users = append(a.Users, u)
	}
	a.Roles = append(a.Roles, inventory.Role{Name: "deploy", ARN: "arn:aws:iam::" + id + ":role/deploy", Path: "/", CreatedAt: created,
		LastUsedAt: &used, AttachedPolicies: []inventory.AttachedPolicy{}, InlinePolicies: []inventory.InlinePolicy{}, TrustPolicy: `{"Statement":[]}`})
	a.Groups = append(a.Groups, inventory.Group{Name: "developers", ARN: "arn:aws:iam::" + id + ":group/developers",
		AttachedPolicies: []inventory.AttachedPolicy{}, InlinePolicies: []inventory.InlinePolicy{}})
	// CloudTrail events on a 20-day grid: runs whose 90-day windows overlap see
	// the same events (same id, same time), as on AWS.
	grid := 20 * 24 * time.Hour
	last := epoch.Add(now.Sub(epoch) / grid * grid)
	for ei := 0; ei < 5; ei++ {
		at := last.Add(-time.Duration(ei) * grid)
		k := int(at.Sub(epoch) / grid)
		e := inventory.Event{ID: fmt.Sprintf("ev-%s-%d", id, k), Time: at,
			Name: []string{"CreateAccessKey", "DeleteAccessKey", "DeleteUser"}[k%3], Source: "iam.amazonaws.com",
			Username: "admin", Resources: []inventory.EventResource{{Type: "AWS::IAM::User", Name: "user001"}},
			RequestParameters: map[string]any{"userName": "user001"},
			EventType:         "AwsApiCall", UserType: "IAMUser", SourceIP: "198.51.100.10"}
		if k%4 == 3 {
			e.ErrorCode, e.ErrorMessage = "AccessDenied", "User: admin is not authorized to perform: iam:DeleteUser"
		}
		a.Events = append(a.Events, e)
		// A failed root sign-in an hour after each grid event (root_failed_signin).
		a.Events = append(a.Events, inventory.Event{ID: fmt.Sprintf("ev-%s-%d-signin", id, k), Time: at.Add(time.Hour),
			Name: "ConsoleLogin", Source: "signin.amazonaws.com", Username: "root", Resources: []inventory.EventResource{},
			ErrorMessage: "Failed authentication", EventType: "AwsConsoleSignIn", UserType: "Root", SourceIP: "203.0.113.7",
			LoginResult: inventory.LoginFailure, MFAUsed: "No"})
	}
	if id == w.partial {
		a.Status = inventory.StatusPartial
		g := inventory.NewGap(id, inventory.SectionMFA, []inventory.Field{inventory.FieldMFA}, "rate exceeded")
		g.Subject, g.Operation, g.ErrorCode = "user001", "iam:ListMFADevices", "Throttling"
		// A policy document that could not be read: what it leaves unknown is not
		// what a gap of that section meant before gaps stated it (LegacyUnknown).
		doc := inventory.NewGap(id, inventory.SectionPolicies, []inventory.Field{inventory.FieldPolicyDocuments}, "malformed document")
		doc.Subject, doc.Operation = "s3-read", "iam:GetAccountAuthorizationDetails"
		a.Gaps = append(a.Gaps, g, doc)
		a.CredentialReport.UnknownUsers = []string{"user001"}
	}
	return a
}

// credReport is account ai's credential report: reused, checked against CloudTrail
// (even accounts) or too recent for it and re-read (odd ones).
func credReport(ai int, now time.Time) *inventory.CredentialReport {
	generated := now.Add(-time.Hour)
	cr := &inventory.CredentialReport{GeneratedAt: generated, Reused: true, AgeSeconds: 3600}
	if ai%2 == 1 {
		cr.Check, cr.RereadSections = inventory.ReportReread, []string{"password", "access_keys", "mfa"}
		cr.RereadReason = "the report is less than 15 minutes older than CloudTrail's delivery"
		return cr
	}
	since, until := generated.Add(-15*time.Minute), now.Add(-15*time.Minute)
	cr.Check, cr.ChangesSince, cr.CloudTrailCompleteUntil = inventory.ReportCheckedCloudTrail, &since, &until
	cr.RereadUsers = []inventory.RereadUser{{User: "user001", Sections: []string{"access_keys"},
		Events: []string{"CreateAccessKey at " + generated.Add(10*time.Minute).UTC().Format(time.RFC3339)}}}
	return cr
}

// evaluate is a run's outcome against the baseline the history gives.
func evaluate(inv *inventory.Inventory, now time.Time, base *outcome.Baseline) *outcome.Outcome {
	o := outcome.Evaluate(outcome.CommandRun, inv, now, outcome.Settings{Checks: checks.DefaultConfig()}, base)
	o.Files = []string{"/reports/iamaudit_" + inv.RunID + ".json"}
	return o
}
