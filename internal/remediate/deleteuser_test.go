package remediate

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
)

const testCert = "-----BEGIN CERTIFICATE-----\nMIIBremediate\n-----END CERTIFICATE-----\n"

// giveEverything gives a user every credential and setting DeleteUser needs gone,
// and returns the serial of its virtual MFA device.
func giveEverything(t *testing.T, c *iam.Client, user string, boundary, serviceCreds bool) string {
	t.Helper()
	ctx := context.Background()
	u := aws.String(user)
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: u, PolicyName: aws.String("legacy-debug"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"}]}`)}))
	must(c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: u, PolicyArn: aws.String("arn:aws:iam::aws:policy/ReadOnlyAccess")}))
	must(c.UploadSigningCertificate(ctx, &iam.UploadSigningCertificateInput{UserName: u, CertificateBody: aws.String(testCert)}))
	must(c.UploadSSHPublicKey(ctx, &iam.UploadSSHPublicKeyInput{UserName: u, SSHPublicKeyBody: aws.String("ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7remediate " + user)}))
	if serviceCreds {
		must(c.CreateServiceSpecificCredential(ctx, &iam.CreateServiceSpecificCredentialInput{UserName: u, ServiceName: aws.String("codecommit.amazonaws.com")}))
	}
	if boundary {
		must(c.PutUserPermissionsBoundary(ctx, &iam.PutUserPermissionsBoundaryInput{UserName: u, PermissionsBoundary: aws.String("arn:aws:iam::aws:policy/PowerUserAccess")}))
	}
	return enableVirtualMFA(t, c, user)
}

// delete-user (seed 004 workflow 4) on the demo's zombie user, given every kind of
// credential first: the whole configuration is saved in the journal before anything
// is removed, the chain runs in IAM's order and the user is gone; rollback recreates
// the user with its path, tags, groups, attached and inline policies and boundary,
// and says what cannot come back.
func TestDeleteUserSandbox(t *testing.T) {
	w := demoWorld(t, nil)
	admin := w.admin(prodID)
	serial := giveEverything(t, admin, "old.contractor", true, true)
	p := w.plan(Selection{Workflows: []Workflow{DeleteUser}, Users: []string{"old.contractor"}}, DefaultConfig())
	items := itemsOf(p, DeleteUser)
	if len(items) != 1 || items[0].User != "old.contractor" || items[0].CheckID != "inactive_user" {
		t.Fatalf("plan %d items, skipped %+v", len(p.Items), p.Skipped)
	}
	rep, out := w.apply(p, nil)
	if rep.Items[0].Status != ItemApplied {
		t.Fatalf("%+v\n%s", rep.Items, out)
	}
	if _, err := admin.GetUser(context.Background(), &iam.GetUserInput{UserName: aws.String("old.contractor")}); !isNotFound(err) {
		t.Fatalf("the user still exists: %v", err)
	}
	steps := rep.Items[0].Steps
	want := []string{"delete-access-key", "delete-login-profile", "deactivate-mfa-device", "delete-virtual-mfa-device",
		"delete-signing-certificate", "delete-ssh-public-key", "delete-service-specific-credential", "remove-user-from-group",
		"detach-user-policy", "delete-user-policy", "delete-user-permissions-boundary", "delete-user"}
	var got []string
	for _, s := range steps {
		got = append(got, strings.Fields(s)[2])
	}
	if !slices.Equal(got, want) {
		t.Fatalf("chain %v\nwant  %v", got, want)
	}
	// The snapshot was journaled before the first step.
	es, _ := w.store.Journal(context.Background(), rep.JournalID)
	var snap snapshotDetail
	snapSeq, firstBefore := int64(0), int64(0)
	for _, e := range es {
		if e.Kind == KindSnapshot {
			snapSeq = e.Seq
			json.Unmarshal(e.Detail, &snap)
		}
		if e.Kind == KindBefore && firstBefore == 0 {
			firstBefore = e.Seq
		}
	}
	if snapSeq == 0 || snapSeq > firstBefore || snap.User == nil || snap.User.Path != "/" || snap.User.Tags["Owner"] != "vendor-management@example.com" ||
		len(snap.User.SigningCertificates) != 1 || snap.User.SigningCertificates[0].Body != testCert || len(snap.User.SSHPublicKeys) != 1 ||
		len(snap.User.ServiceCredentials) != 1 || snap.User.PermissionsBoundary == "" || snap.User.InlinePolicies["legacy-debug"] == "" ||
		!slices.Contains(snap.User.MFADevices, serial) || !snap.User.Console || len(snap.User.Keys) != 1 {
		t.Fatalf("snapshot at %d (first call %d): %+v", snapSeq, firstBefore, snap.User)
	}
	v, vout := w.verify(rep.JournalID)
	for _, a := range v.Actions {
		if a.IAM != IAMConfirmed || a.Trail != TrailFound {
			t.Errorf("verify %+v", a)
		}
	}
	if t.Failed() {
		t.Log(vout)
	}

	rb, rout := w.rollback(rep.JournalID, true)
	u, err := admin.GetUser(context.Background(), &iam.GetUserInput{UserName: aws.String("old.contractor")})
	if err != nil {
		t.Fatalf("not recreated: %v\n%s", err, rout)
	}
	if aws.ToString(u.User.PermissionsBoundary.PermissionsBoundaryArn) != "arn:aws:iam::aws:policy/PowerUserAccess" {
		t.Errorf("boundary %+v", u.User.PermissionsBoundary)
	}
	tags, _ := admin.ListUserTags(context.Background(), &iam.ListUserTagsInput{UserName: aws.String("old.contractor")})
	if len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Value) != "vendor-management@example.com" {
		t.Errorf("tags %+v", tags.Tags)
	}
	groups, _ := admin.ListGroupsForUser(context.Background(), &iam.ListGroupsForUserInput{UserName: aws.String("old.contractor")})
	attached, _ := admin.ListAttachedUserPolicies(context.Background(), &iam.ListAttachedUserPoliciesInput{UserName: aws.String("old.contractor")})
	inline, _ := admin.ListUserPolicies(context.Background(), &iam.ListUserPoliciesInput{UserName: aws.String("old.contractor")})
	keys, _ := admin.ListAccessKeys(context.Background(), &iam.ListAccessKeysInput{UserName: aws.String("old.contractor")})
	if len(groups.Groups) != 1 || aws.ToString(groups.Groups[0].GroupName) != "Developers" || len(attached.AttachedPolicies) != 1 ||
		!slices.Equal(inline.PolicyNames, []string{"legacy-debug"}) || len(keys.AccessKeyMetadata) != 0 {
		t.Errorf("recreated user: groups %+v attached %+v inline %v keys %+v", groups.Groups, attached.AttachedPolicies, inline.PolicyNames, keys.AccessKeyMetadata)
	}
	manual := 0
	for _, u := range rb.Undos {
		if u.Status == UndoManual {
			manual++
		}
	}
	// key, password, MFA deactivation and deletion, certificate, SSH key, service credential
	if manual != 7 || !strings.Contains(rout, "deleted access keys cannot come back") || !strings.Contains(rout, "passwords cannot come back") {
		t.Errorf("%d manual steps\n%s", manual, rout)
	}
	w.checkCalls()
}

var _ = iamtypes.StatusTypeActive
