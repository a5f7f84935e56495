package awscli

import (
	"testing"

	"github.com/iamaudit/iamaudit/internal/fix"
)

// The operations of seed 004 workflow 4's whole chain and its rollback render with
// their own options.
func TestWorkflow4Commands(t *testing.T) {
	t.Parallel()
	user := fix.Resource{AccountID: "111122223333", UserName: "old"}
	with := func(f func(*fix.Resource)) fix.Resource {
		r := user
		f(&r)
		return r
	}
	act := func(api fix.API, r fix.Resource, p fix.Params) fix.Action {
		return fix.Action{Kind: fix.Change, API: api, Partition: "aws", Region: "us-east-1", Credentials: fix.InAccount, Resource: r, Params: p}
	}
	for _, tc := range []struct {
		a    fix.Action
		want string
	}{
		{act(fix.IAMDeactivateMFADevice, with(func(r *fix.Resource) { r.MFASerial = "arn:aws:iam::111122223333:mfa/old" }), fix.Params{}),
			"aws iam deactivate-mfa-device --user-name old --serial-number arn:aws:iam::111122223333:mfa/old --profile ACCOUNT_PROFILE"},
		{act(fix.IAMDeleteSigningCertificate, with(func(r *fix.Resource) { r.SigningCertificateID = "ABC" }), fix.Params{}),
			"aws iam delete-signing-certificate --user-name old --certificate-id ABC --profile ACCOUNT_PROFILE"},
		{act(fix.IAMDeleteSSHPublicKey, with(func(r *fix.Resource) { r.SSHPublicKeyID = "APKA1" }), fix.Params{}),
			"aws iam delete-ssh-public-key --user-name old --ssh-public-key-id APKA1 --profile ACCOUNT_PROFILE"},
		{act(fix.IAMDeleteServiceSpecificCredential, with(func(r *fix.Resource) { r.ServiceSpecificCredentialID = "ACCA1" }), fix.Params{}),
			"aws iam delete-service-specific-credential --user-name old --service-specific-credential-id ACCA1 --profile ACCOUNT_PROFILE"},
		{act(fix.IAMDeleteUserPermissionsBoundary, user, fix.Params{}),
			"aws iam delete-user-permissions-boundary --user-name old --profile ACCOUNT_PROFILE"},
		{act(fix.IAMPutUserPermissionsBoundary, user, fix.Params{PermissionsBoundary: "arn:aws:iam::aws:policy/PowerUserAccess"}),
			"aws iam put-user-permissions-boundary --user-name old --permissions-boundary arn:aws:iam::aws:policy/PowerUserAccess --profile ACCOUNT_PROFILE"},
		{act(fix.IAMCreateUser, user, fix.Params{Path: "/ops/", Tags: []fix.Tag{{Key: "Owner", Value: "a b"}}}),
			`aws iam create-user --user-name old --path /ops/ --tags '[{"Key":"Owner","Value":"a b"}]' --profile ACCOUNT_PROFILE`},
	} {
		if got := Command(tc.a); got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.a.API.Name, got, tc.want)
		}
	}
}
