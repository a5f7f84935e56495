package remediate

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
)

const (
	prodID    = "345678901234"
	stagingID = "567890123456"
)

// deactivate-key on the demo Organization: the plan names the key, its reason, owner
// and last use; a dry run changes nothing; apply deactivates, journals before and
// after, verify finds it in IAM and in CloudTrail; rollback reactivates, and verify
// then confirms the rollback.
func TestDeactivateKeySandbox(t *testing.T) {
	w := demoWorld(t, nil)
	p := w.plan(Selection{Workflows: []Workflow{DeactivateKey}, Users: []string{"backup-agent"}}, DefaultConfig())
	if len(p.Items) != 1 {
		t.Fatalf("items %+v skipped %+v", p.Items, p.Skipped)
	}
	it := p.Items[0]
	if it.AccessKeyID != "AKIAWB5WKH7DNSIPZZ7F" || it.CheckID != "access_key_never_used" || it.AccountName != "Production" ||
		!slices.Equal(apis(it.Actions), []string{"UpdateAccessKey"}) || it.Actions[0].Params.Status != "Inactive" ||
		it.Evidence.Key == nil || it.Evidence.Key.LastUsed != nil || !it.Evidence.Key.LastUseKnown ||
		len(it.Owner) != 2 || it.Owner[0] != (Tag{"Owner", "sre-team@example.com"}) ||
		!strings.Contains(it.Commands[0], "aws iam update-access-key --user-name backup-agent --access-key-id AKIAWB5WKH7DNSIPZZ7F --status Inactive") {
		t.Fatalf("item %+v", it)
	}

	rep, out := w.apply(p, func(o *ApplyOptions) { o.Execute = false })
	if rep.Items[0].Status != ItemReady || !strings.Contains(out, "Dry run: nothing was changed") || rep.JournalID != "" {
		t.Fatalf("dry run %+v\n%s", rep, out)
	}
	if st := w.keyStatus(prodID, "backup-agent", it.AccessKeyID); st != "Active" {
		t.Fatalf("a dry run changed the key: %s", st)
	}

	rep, out = w.apply(p, nil)
	if rep.Items[0].Status != ItemApplied {
		t.Fatalf("apply %+v\n%s", rep.Items, out)
	}
	if st := w.keyStatus(prodID, "backup-agent", it.AccessKeyID); st != "Inactive" {
		t.Fatalf("after apply: %s", st)
	}
	j := rep.JournalID
	got := w.entries(j)
	want := []string{"apply/begin/0/0/", "apply/session/0/0/", "apply/before/1/1/", "apply/after/1/1/ok", "apply/end/0/0/ok"}
	if !slices.Equal(got, want) {
		t.Fatalf("journal %v, want %v", got, want)
	}

	v, vout := w.verify(j)
	if len(v.Actions) != 1 || v.Actions[0].IAM != IAMConfirmed || v.Actions[0].Trail != TrailFound {
		t.Fatalf("verify %+v\n%s", v.Actions, vout)
	}

	rb, rout := w.rollback(j, false)
	if len(rb.Undos) != 1 || rb.Undos[0].Status != UndoReady || w.keyStatus(prodID, "backup-agent", it.AccessKeyID) != "Inactive" {
		t.Fatalf("rollback dry run %+v\n%s", rb.Undos, rout)
	}
	rb, rout = w.rollback(j, true)
	if rb.Undos[0].Status != UndoDone || w.keyStatus(prodID, "backup-agent", it.AccessKeyID) != "Active" {
		t.Fatalf("rollback %+v\n%s", rb.Undos, rout)
	}
	rb, _ = w.rollback(j, true)
	if rb.Undos[0].Status != UndoDoneBefore {
		t.Fatalf("second rollback %+v", rb.Undos)
	}
	v, vout = w.verify(j)
	if len(v.Actions) != 2 || !v.Actions[0].Superseded || v.Actions[1].Phase != PhaseRollback || v.Actions[1].IAM != IAMConfirmed || v.Actions[1].Trail != TrailFound {
		t.Fatalf("verify after rollback %+v\n%s", v.Actions, vout)
	}
	w.checkCalls()
}

// enforce-mfa puts seed 004's RequireMFAPolicy on a console user without MFA; once
// the user has MFA, release-mfa (planned from a new run) removes it; both roll back.
func TestEnforceAndReleaseMFASandbox(t *testing.T) {
	w := demoWorld(t, nil)
	p := w.plan(Selection{Workflows: []Workflow{EnforceMFA}, Users: []string{"emma.smith"}}, DefaultConfig())
	if len(p.Items) != 1 || p.Items[0].CheckID != "console_without_mfa" || !slices.Equal(apis(p.Items[0].Actions), []string{"PutUserPolicy"}) ||
		p.Items[0].Actions[0].Params.Document.Name != "require-mfa" {
		t.Fatalf("plan %+v %+v", p.Items, p.Skipped)
	}
	rep, out := w.apply(p, nil)
	if rep.Items[0].Status != ItemApplied {
		t.Fatalf("%+v\n%s", rep.Items, out)
	}
	enforced := rep.JournalID
	admin := w.admin(prodID)
	doc := policyDoc(t, admin, "emma.smith")
	if !samePolicy(doc, shippedMFAPolicy()) || !strings.Contains(doc, "DenyAllExceptMFASetup") {
		t.Fatalf("policy %s", doc)
	}
	// Applying the same plan again: nothing to do.
	rep, _ = w.apply(p, nil)
	if rep.Items[0].Status != ItemNothing {
		t.Fatalf("second apply %+v", rep.Items)
	}

	// No MFA yet: release plans nothing.
	p = w.plan(Selection{Workflows: []Workflow{ReleaseMFA}}, DefaultConfig())
	if len(p.Items) != 0 || len(p.Skipped) != 1 || !strings.Contains(p.Skipped[0].Reason, "no MFA yet") {
		t.Fatalf("release before MFA: %+v %+v", p.Items, p.Skipped)
	}
	enableVirtualMFA(t, admin, "emma.smith")
	p = w.plan(Selection{Workflows: []Workflow{ReleaseMFA}}, DefaultConfig())
	if len(p.Items) != 1 || p.Items[0].User != "emma.smith" || !slices.Equal(apis(p.Items[0].Actions), []string{"DeleteUserPolicy"}) {
		t.Fatalf("release plan %+v %+v", p.Items, p.Skipped)
	}
	rep, out = w.apply(p, nil)
	if rep.Items[0].Status != ItemApplied {
		t.Fatalf("%+v\n%s", rep.Items, out)
	}
	released := rep.JournalID
	if _, err := admin.GetUserPolicy(context.Background(), &iam.GetUserPolicyInput{UserName: aws.String("emma.smith"), PolicyName: aws.String(RequireMFAPolicyName)}); !isNotFound(err) {
		t.Fatalf("after release: %v", err)
	}
	v, vout := w.verify(released)
	if v.Actions[0].IAM != IAMConfirmed || v.Actions[0].Trail != TrailFound {
		t.Fatalf("verify release %+v\n%s", v.Actions, vout)
	}
	// Roll back the release: the policy is back; then the enforcement: it is gone.
	w.rollback(released, true)
	if doc := policyDoc(t, admin, "emma.smith"); !samePolicy(doc, shippedMFAPolicy()) {
		t.Fatalf("after rolling back the release: %q", doc)
	}
	rb, rout := w.rollback(enforced, true)
	if rb.Undos[len(rb.Undos)-1].Status != UndoDone {
		t.Fatalf("%+v\n%s", rb.Undos, rout)
	}
	if _, err := admin.GetUserPolicy(context.Background(), &iam.GetUserPolicyInput{UserName: aws.String("emma.smith"), PolicyName: aws.String(RequireMFAPolicyName)}); !isNotFound(err) {
		t.Fatalf("after rolling back the enforcement: %v", err)
	}
	w.checkCalls()
}

func policyDoc(t *testing.T, c *iam.Client, user string) string {
	t.Helper()
	out, err := c.GetUserPolicy(context.Background(), &iam.GetUserPolicyInput{UserName: aws.String(user), PolicyName: aws.String(RequireMFAPolicyName)})
	if err != nil {
		t.Fatalf("GetUserPolicy %s: %v", user, err)
	}
	doc := aws.ToString(out.PolicyDocument)
	if !strings.HasPrefix(doc, "{") {
		doc, _ = url.QueryUnescape(doc)
	}
	return doc
}

func enableVirtualMFA(t *testing.T, c *iam.Client, user string) string {
	t.Helper()
	ctx := context.Background()
	d, err := c.CreateVirtualMFADevice(ctx, &iam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String(user + "-phone")})
	if err != nil {
		t.Fatal(err)
	}
	serial := d.VirtualMFADevice.SerialNumber
	if _, err := c.EnableMFADevice(ctx, &iam.EnableMFADeviceInput{UserName: aws.String(user), SerialNumber: serial,
		AuthenticationCode1: aws.String("123456"), AuthenticationCode2: aws.String("654321")}); err != nil {
		t.Fatal(err)
	}
	return aws.ToString(serial)
}

var _ = iamtypes.StatusTypeActive

// delete-key: a key the demo's CloudTrail shows deactivated 60 days ago is deleted;
// a key this tool deactivated is planned only once it has been Inactive 48 hours by
// the journal, and deleted then. A rollback says deleted keys cannot come back.
func TestDeleteKeySandbox(t *testing.T) {
	w := demoWorld(t, nil)
	p := w.plan(Selection{Workflows: []Workflow{DeleteKey}}, DefaultConfig())
	if len(p.Items) != 1 || p.Items[0].AccessKeyID != "AKIA3DHODZDOCIS2JHTL" || p.Items[0].Evidence.Deactivated == nil ||
		!strings.Contains(p.Items[0].Evidence.DeactivatedBy, "CloudTrail") {
		t.Fatalf("plan %+v %+v", p.Items, p.Skipped)
	}
	rep, out := w.apply(p, nil)
	if rep.Items[0].Status != ItemApplied || w.keyStatus(prodID, "data-sync", "AKIA3DHODZDOCIS2JHTL") != "" {
		t.Fatalf("%+v\n%s", rep.Items, out)
	}
	v, _ := w.verify(rep.JournalID)
	if v.Actions[0].IAM != IAMConfirmed || v.Actions[0].Trail != TrailFound {
		t.Fatalf("verify %+v", v.Actions)
	}
	rb, _ := w.rollback(rep.JournalID, true)
	if rb.Undos[0].Status != UndoManual || !strings.Contains(rb.Undos[0].Note, "cannot come back") {
		t.Fatalf("rollback %+v", rb.Undos)
	}

	// Our own deactivation: not before 48 hours.
	p = w.plan(Selection{Workflows: []Workflow{DeactivateKey}, Users: []string{"backup-agent"}}, DefaultConfig())
	rep, _ = w.apply(p, nil)
	deactivated := rep.JournalID
	p = w.plan(Selection{Workflows: []Workflow{DeleteKey}}, DefaultConfig())
	if len(p.Items) != 0 || len(p.Skipped) != 1 || !strings.Contains(p.Skipped[0].Reason, "less than 48 hours") {
		t.Fatalf("delete-key at once: %+v %+v", p.Items, p.Skipped)
	}
	w.clock.Advance(49 * time.Hour)
	p = w.plan(Selection{Workflows: []Workflow{DeleteKey}}, DefaultConfig())
	if len(p.Items) != 1 || p.Items[0].AccessKeyID != "AKIAWB5WKH7DNSIPZZ7F" || !strings.Contains(p.Items[0].Evidence.DeactivatedBy, deactivated) {
		t.Fatalf("delete-key after 49 hours: %+v %+v", p.Items, p.Skipped)
	}
	rep, out = w.apply(p, nil)
	if rep.Items[0].Status != ItemApplied || w.keyStatus(prodID, "backup-agent", "AKIAWB5WKH7DNSIPZZ7F") != "" {
		t.Fatalf("%+v\n%s", rep.Items, out)
	}
	// Rolling back the deactivation now: the key is gone, and that is said.
	rb, _ = w.rollback(deactivated, true)
	if rb.Undos[0].Status != UndoManual || !strings.Contains(rb.Undos[0].Note, "deleted since") {
		t.Fatalf("rollback of a deleted key's deactivation %+v", rb.Undos)
	}
	w.checkCalls()
}
