package remediate

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/iamaudit/iamaudit/internal/fix"
	"github.com/iamaudit/iamaudit/internal/scenario"
)

// applyErr executes a plan and returns its error (the test expects one).
func (w *world) applyErr(p *Plan, mod func(*ApplyOptions)) (*Report, string, error) {
	w.t.Helper()
	var out strings.Builder
	opts := w.applyOpts(p, &out)
	if mod != nil {
		mod(&opts)
	}
	rep, err := Apply(ctxT(w.t), p, opts)
	w.record(opts.Connector)
	return rep, out.String(), err
}

func wantRefusal(t *testing.T, err error, guard string) {
	t.Helper()
	var r *Refusal
	if !errors.As(err, &r) || r.Guard != guard {
		t.Fatalf("want the %s guard to refuse, got %v", guard, err)
	}
}

func backupPlan(w *world) *Plan {
	return w.plan(Selection{Workflows: []Workflow{DeactivateKey}, Users: []string{"backup-agent"}}, DefaultConfig())
}

const backupKey = "AKIAWB5WKH7DNSIPZZ7F"

// A plan older than max_plan_age is refused, and so is one dated in the future.
func TestGuardPlanAge(t *testing.T) {
	w := demoWorld(t, nil)
	p := backupPlan(w)
	w.clock.Advance(25 * time.Hour)
	_, _, err := w.applyErr(p, nil)
	wantRefusal(t, err, GuardPlanAge)
	cfg := DefaultConfig()
	cfg.MaxPlanAge = "2d"
	if _, out, err := w.applyErr(p, func(o *ApplyOptions) { o.Config = cfg }); err != nil {
		t.Fatalf("max_plan_age 2d: %v\n%s", err, out)
	}
	p = backupPlan(w)
	p.CreatedAt = w.clock.Now().Add(time.Hour)
	_, _, err = w.applyErr(p, nil)
	wantRefusal(t, err, GuardPlanAge)
}

// A plan file whose actions are not what its run plans (edited to act on another key,
// to add a call, on a role) is refused before any AWS call.
func TestGuardPlanEdited(t *testing.T) {
	w := demoWorld(t, nil)
	for name, edit := range map[string]func(p *Plan){
		"other key": func(p *Plan) { p.Items[0].Actions[0].Resource.AccessKeyID = "AKIAPFT7V4SEH2KVJ72C" },
		"delete instead": func(p *Plan) {
			p.Items[0].Actions[0].API = fix.IAMDeleteAccessKey
		},
		"extra action": func(p *Plan) {
			a := p.Items[0].Actions[0]
			a.API, a.Params = fix.IAMAttachUserPolicy, fix.Params{PolicyARN: "arn:aws:iam::aws:policy/AdministratorAccess"}
			p.Items[0].Actions = append(p.Items[0].Actions, a)
		},
		"a role":     func(p *Plan) { p.Items[0].Actions[0].Resource.RoleName = DefaultRole },
		"renumbered": func(p *Plan) { p.Items[0].N = 7 },
	} {
		t.Run(name, func(t *testing.T) {
			p := backupPlan(w)
			edit(p)
			_, _, err := w.applyErr(p, nil)
			wantRefusal(t, err, GuardPlanEdited)
			if st := w.keyStatus(prodID, "backup-agent", backupKey); st != "Active" {
				t.Fatalf("key %s", st)
			}
		})
	}
}

// Protected accounts, users and tag values are never touched: left out of the plan,
// and refused at apply when the protection (or the tag) came after the plan.
func TestGuardProtected(t *testing.T) {
	w := demoWorld(t, nil)
	for name, prot := range map[string]Protected{
		"account by name": {Accounts: []string{"production"}},
		"account by id":   {Accounts: []string{prodID}},
		"user pattern":    {Users: []string{"backup-*"}},
		"tag value":       {Tags: []Tag{{Key: "team", Value: "sre"}}},
		"tag any value":   {Tags: []Tag{{Key: "Owner", Value: "*"}}},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Protected = prot
			p := w.plan(Selection{Workflows: []Workflow{DeactivateKey}, Users: []string{"backup-agent"}}, cfg)
			if len(p.Items) != 0 || len(p.Skipped) != 1 || !strings.Contains(p.Skipped[0].Reason, "protected") {
				t.Fatalf("plan %+v skipped %+v", p.Items, p.Skipped)
			}
			p = backupPlan(w)
			rep, out, err := w.applyErr(p, func(o *ApplyOptions) { o.Config = cfg })
			if err != nil || rep.Items[0].Status != ItemRefused || rep.Items[0].Guard != GuardProtected {
				t.Fatalf("apply %+v %v\n%s", rep.Items, err, out)
			}
			if st := w.keyStatus(prodID, "backup-agent", backupKey); st != "Active" {
				t.Fatalf("key %s", st)
			}
		})
	}
	// A protected tag put on the user after the plan is read live.
	p := backupPlan(w)
	if _, err := w.admin(prodID).TagUser(context.Background(), &iam.TagUserInput{UserName: aws.String("backup-agent"),
		Tags: []iamtypes.Tag{{Key: aws.String("Protected"), Value: aws.String("true")}}}); err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.Protected.Tags = []Tag{{Key: "Protected", Value: "true"}}
	rep, _, err := w.applyErr(p, func(o *ApplyOptions) { o.Config = cfg })
	if err != nil || rep.Items[0].Guard != GuardProtected || w.keyStatus(prodID, "backup-agent", backupKey) != "Active" {
		t.Fatalf("tag after the plan: %+v %v", rep.Items, err)
	}
}

// The read-only audit role is never used to remediate: as --role, or as the
// credentials iamaudit is signed in with.
func TestGuardAuditRole(t *testing.T) {
	w := demoWorld(t, nil)
	p := backupPlan(w)
	for _, role := range []string{"IAMAuditRole", "/security/IAMAuditRole"} {
		c := w.connector()
		c.Role = role
		_, _, err := w.applyErr(p, func(o *ApplyOptions) { o.Connector = c })
		wantRefusal(t, err, GuardAuditRole)
	}
	cfg := DefaultConfig()
	cfg.AuditRoles = []string{"CustomAudit"}
	c := w.connector()
	c.Role = "CustomAudit"
	_, _, err := w.applyErr(p, func(o *ApplyOptions) { o.Connector, o.Config = c, cfg })
	wantRefusal(t, err, GuardAuditRole)
	// Signed in as an audit role session.
	c = w.connector()
	c.Base = w.assumed(prodID, "IAMAuditRole")
	_, _, err = w.applyErr(p, func(o *ApplyOptions) { o.Connector = c })
	wantRefusal(t, err, GuardAuditRole)
	if st := w.keyStatus(prodID, "backup-agent", backupKey); st != "Active" {
		t.Fatalf("key %s", st)
	}
}

// The principal and the key iamaudit is signed in with are never acted on: the plan
// leaves out the audit's own caller, and apply refuses a key that is the one it signs with.
func TestGuardOwnPrincipal(t *testing.T) {
	sc := scenario.Demo()
	for i := range sc.Accounts[0].Users {
		if u := &sc.Accounts[0].Users[i]; u.Name == "audit-runner" {
			u.AccessKeys[0].CreatedAt = scenario.DaysAgo(400) // not rotated: a deactivate-key candidate
		}
	}
	w := sandboxWorld(t, sc, nil)
	mgmt := sc.Accounts[0].ID
	p := w.plan(Selection{Workflows: []Workflow{DeactivateKey}, Users: []string{"audit-runner"}}, DefaultConfig())
	if len(p.Items) != 0 || len(p.Skipped) != 1 || !strings.Contains(p.Skipped[0].Reason, "the principal the audit ran as") {
		t.Fatalf("plan %+v %+v", p.Items, p.Skipped)
	}
	// Audit as another user of the management account, so that the plan has the key;
	// apply signed in with that very key.
	ctx := context.Background()
	iamMgmt := iam.NewFromConfig(w.base)
	if _, err := iamMgmt.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("second-auditor")}); err != nil {
		t.Fatal(err)
	}
	k, err := iamMgmt.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("second-auditor")})
	if err != nil {
		t.Fatal(err)
	}
	signedIn := w.base
	w.base = w.base.Copy()
	w.base.Credentials = credentials.NewStaticCredentialsProvider(*k.AccessKey.AccessKeyId, *k.AccessKey.SecretAccessKey, "")
	p = w.plan(Selection{Workflows: []Workflow{DeactivateKey}, Users: []string{"audit-runner"}}, DefaultConfig())
	w.base = signedIn
	if len(p.Items) != 1 {
		t.Fatalf("plan %+v %+v", p.Items, p.Skipped)
	}
	c := w.connector()
	c.OwnCredentials = true // the management account has no remediation role
	rep, out, err := w.applyErr(p, func(o *ApplyOptions) { o.Connector, o.Force = c, true })
	if err != nil || rep.Items[0].Guard != GuardOwnPrincipal || w.keyStatus(mgmt, "audit-runner", "AKIAIOSFODNN7SANDBOX") != "Active" {
		t.Fatalf("%+v %v\n%s", rep.Items, err, out)
	}
	// Without --own-credentials the management account is not entered at all.
	_, _, err = w.applyErr(p, func(o *ApplyOptions) { o.Force = true })
	if err == nil || !strings.Contains(err.Error(), "--own-credentials") {
		t.Fatalf("no role in the management account: %v", err)
	}
}

// A key used since the plan is refused (the evidence changed); a key used in the
// last 7 days is refused unless --force, and the use is shown.
func TestGuardEvidenceAndRecentUse(t *testing.T) {
	w := demoWorld(t, nil)
	// legacy-etl's 2018 key was used yesterday.
	p := w.plan(Selection{Workflows: []Workflow{DeactivateKey}, Users: []string{"legacy-etl"}}, DefaultConfig())
	rep, out, err := w.applyErr(p, nil)
	if err != nil || rep.Items[0].Guard != GuardRecentUse || !strings.Contains(rep.Items[0].Reason, "(s3, us-east-1)") ||
		w.keyStatus(prodID, "legacy-etl", "AKIAUJZDEGXDNCF32EPF") != "Active" {
		t.Fatalf("%+v %v\n%s", rep.Items, err, out)
	}
	rep, out, err = w.applyErr(p, func(o *ApplyOptions) { o.Force = true })
	if err != nil || rep.Items[0].Status != ItemApplied || w.keyStatus(prodID, "legacy-etl", "AKIAUJZDEGXDNCF32EPF") != "Inactive" {
		t.Fatalf("--force: %+v %v\n%s", rep.Items, err, out)
	}

	ctx := context.Background()
	admin := w.admin(prodID)
	if _, err := admin.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("tmp-bot"), Tags: []iamtypes.Tag{{Key: aws.String("Owner"), Value: aws.String("x@example.com")}}}); err != nil {
		t.Fatal(err)
	}
	k, err := admin.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("tmp-bot")})
	if err != nil {
		t.Fatal(err)
	}
	w.clock.Advance(8 * 24 * time.Hour) // past the never-used grace period
	p = w.plan(Selection{Workflows: []Workflow{DeactivateKey}, Users: []string{"tmp-bot"}}, DefaultConfig())
	if len(p.Items) != 1 || p.Items[0].CheckID != "access_key_never_used" {
		t.Fatalf("plan %+v %+v", p.Items, p.Skipped)
	}
	cfg := w.base.Copy()
	cfg.Credentials = credentials.NewStaticCredentialsProvider(*k.AccessKey.AccessKeyId, *k.AccessKey.SecretAccessKey, "")
	if _, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatal(err)
	}
	rep, out, err = w.applyErr(p, func(o *ApplyOptions) { o.Force = true })
	if err != nil || rep.Items[0].Guard != GuardEvidenceChanged || !strings.Contains(rep.Items[0].Reason, "the plan saw it never used") {
		t.Fatalf("%+v %v\n%s", rep.Items, err, out)
	}

}

// delete-key re-reads when the key was deactivated: a key reactivated and deactivated
// again since the plan is refused until it has been Inactive 48 hours again.
func TestGuardInactiveTooNew(t *testing.T) {
	w := demoWorld(t, nil)
	w.apply(backupPlan(w), nil)
	w.clock.Advance(49 * time.Hour)
	p := w.plan(Selection{Workflows: []Workflow{DeleteKey}, Users: []string{"backup-agent"}}, DefaultConfig())
	if len(p.Items) != 1 {
		t.Fatalf("plan %+v %+v", p.Items, p.Skipped)
	}
	admin := w.admin(prodID)
	for _, st := range []iamtypes.StatusType{iamtypes.StatusTypeActive, iamtypes.StatusTypeInactive} {
		if _, err := admin.UpdateAccessKey(context.Background(), &iam.UpdateAccessKeyInput{UserName: aws.String("backup-agent"),
			AccessKeyId: aws.String(backupKey), Status: st}); err != nil {
			t.Fatal(err)
		}
	}
	rep, out, err := w.applyErr(p, nil)
	if err != nil || rep.Items[0].Guard != GuardInactiveTooNew || w.keyStatus(prodID, "backup-agent", backupKey) != "Inactive" {
		t.Fatalf("%+v %v\n%s", rep.Items, err, out)
	}
}

// When the plan's other action on a user failed (its rotation was refused), the
// user's last usable key is not deactivated.
func TestGuardLastUsableKey(t *testing.T) {
	w := demoWorld(t, nil)
	id, o := w.audit()
	rot := w.planFrom(id, o, Selection{Workflows: []Workflow{RotateKey}, Users: []string{"qa-runner"}}, DefaultConfig())
	deact := w.planFrom(id, o, Selection{Workflows: []Workflow{DeactivateKey}, Users: []string{"qa-runner"}}, DefaultConfig())
	if len(rot.Items) != 1 || len(deact.Items) != 1 {
		t.Fatalf("plans %+v %+v", rot.Items, deact.Items)
	}
	p := rot
	second := deact.Items[0]
	second.N = 2
	p.Items = append(p.Items, second)
	// Another key appears (Inactive): the rotation has no free slot and is refused.
	admin := w.admin(stagingID)
	k, err := admin.CreateAccessKey(context.Background(), &iam.CreateAccessKeyInput{UserName: aws.String("qa-runner")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.UpdateAccessKey(context.Background(), &iam.UpdateAccessKeyInput{UserName: aws.String("qa-runner"),
		AccessKeyId: k.AccessKey.AccessKeyId, Status: iamtypes.StatusTypeInactive}); err != nil {
		t.Fatal(err)
	}
	rep, out, err := w.applyErr(p, func(o *ApplyOptions) { o.Force, o.Secrets = true, &SecretFile{Path: t.TempDir() + "/s"} })
	if err != nil || rep.Items[0].Status != ItemRefused || rep.Items[1].Status != ItemRefused || rep.Items[1].Guard != GuardLastUsableKey {
		t.Fatalf("%+v %v\n%s", rep.Items, err, out)
	}
	if st := w.keyStatus(stagingID, "qa-runner", second.AccessKeyID); st != "Active" {
		t.Fatalf("the last usable key is %s", st)
	}
}

// An unexpected AWS error stops the apply at once: the journal says exactly what was
// done (nothing after the failed call), and the next item is not touched.
func TestStopAtFirstUnexpectedError(t *testing.T) {
	w := demoWorld(t, &scenario.Knobs{Faults: []scenario.Fault{{Service: "iam", Operation: "UpdateAccessKey", Error: "AccessDenied", Count: 1}}})
	p := w.plan(Selection{Workflows: []Workflow{DeactivateKey}, Users: []string{"backup-agent", "reporting-bot"}}, DefaultConfig())
	if len(p.Items) != 2 {
		t.Fatalf("plan %+v", p.Items)
	}
	rep, out, err := w.applyErr(p, nil)
	if err == nil || !strings.Contains(err.Error(), "AccessDenied") || rep.Items[0].Status != ItemFailed || rep.Items[1].Status != ItemNotDone {
		t.Fatalf("%+v %v\n%s", rep.Items, err, out)
	}
	got := w.entries(rep.JournalID)
	want := []string{"apply/begin/0/0/", "apply/session/0/0/", "apply/before/1/1/", "apply/after/1/1/failed", "apply/stopped/0/0/failed"}
	if !slices.Equal(got, want) {
		t.Fatalf("journal %v, want %v", got, want)
	}
	if w.keyStatus(prodID, "reporting-bot", p.Items[1].AccessKeyID) != "Active" || w.keyStatus(prodID, "backup-agent", backupKey) != "Active" {
		t.Fatal("a key was changed")
	}
	rb, _ := w.rollback(rep.JournalID, false)
	if len(rb.Undos) != 0 {
		t.Fatalf("rollback of a failed call: %+v", rb.Undos)
	}
}

// An inline policy named RequireMFAPolicy that is not seed 004's is not overwritten.
func TestGuardNotOurs(t *testing.T) {
	w := demoWorld(t, nil)
	p := w.plan(Selection{Workflows: []Workflow{EnforceMFA}, Users: []string{"carlos.lopez"}}, DefaultConfig())
	theirs := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`
	if _, err := w.admin(prodID).PutUserPolicy(context.Background(), &iam.PutUserPolicyInput{UserName: aws.String("carlos.lopez"),
		PolicyName: aws.String(RequireMFAPolicyName), PolicyDocument: aws.String(theirs)}); err != nil {
		t.Fatal(err)
	}
	rep, _, err := w.applyErr(p, nil)
	if err != nil || rep.Items[0].Guard != GuardNotOurs || !samePolicy(policyDoc(t, w.admin(prodID), "carlos.lopez"), theirs) {
		t.Fatalf("%+v %v", rep.Items, err)
	}
}

// The typed confirmation: the account's name (or alias) typed in full; anything else
// changes nothing.
func TestTypedConfirmation(t *testing.T) {
	w := demoWorld(t, nil)
	p := backupPlan(w)
	for _, typed := range []string{"", "prod", "345678901234", "production", "Production "} {
		var shown strings.Builder
		_, _, err := w.applyErr(p, func(o *ApplyOptions) { o.Confirm = &Prompt{In: strings.NewReader(typed + "\n"), Out: &shown} })
		if !errors.Is(err, ErrNotConfirmed) && strings.TrimSpace(typed) != "Production" {
			t.Fatalf("typed %q: %v", typed, err)
		}
		if strings.TrimSpace(typed) == "Production" {
			if err != nil {
				t.Fatalf("typed %q: %v", typed, err)
			}
			continue
		}
		if !strings.Contains(shown.String(), "Type the name of account 345678901234 (Production)") || w.keyStatus(prodID, "backup-agent", backupKey) != "Active" {
			t.Fatalf("typed %q: prompt %q", typed, shown.String())
		}
	}
	if st := w.keyStatus(prodID, "backup-agent", backupKey); st != "Inactive" {
		t.Fatalf("confirmed with the name: %s", st)
	}
}
