package sandbox

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

const testCert = "-----BEGIN CERTIFICATE-----\nMIIBsandbox\n-----END CERTIFICATE-----\n"

// A user's signing certificates, SSH keys, service-specific credentials and
// permissions boundary: listed, each a DeleteConflict for DeleteUser until removed,
// removed with NoSuchEntity for what is not there; the service password is returned
// once and is not in CloudTrail.
func TestUserCredentialsBlockDeleteUser(t *testing.T) {
	t.Parallel()
	s := startTest(t, testScenario(), nil, nil)
	cfg := assumeRole(t, s, prodID, adminRole, 3600)
	client := iam.NewFromConfig(cfg)
	c := ctx(t)
	bob := aws.String("bob")
	if _, err := client.DeleteLoginProfile(c, &iam.DeleteLoginProfileInput{UserName: bob}); err != nil {
		t.Fatal(err)
	}
	cert, err := client.UploadSigningCertificate(c, &iam.UploadSigningCertificateInput{UserName: bob, CertificateBody: aws.String(testCert)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = client.UploadSigningCertificate(c, &iam.UploadSigningCertificateInput{UserName: bob, CertificateBody: aws.String("junk")})
	wantAPIError(t, err, "MalformedCertificate")
	ssh, err := client.UploadSSHPublicKey(c, &iam.UploadSSHPublicKeyInput{UserName: bob, SSHPublicKeyBody: aws.String("ssh-ed25519 AAAAC3Nza bob@example")})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := client.CreateServiceSpecificCredential(c, &iam.CreateServiceSpecificCredentialInput{UserName: bob, ServiceName: aws.String("codecommit.amazonaws.com")})
	if err != nil {
		t.Fatal(err)
	}
	password := aws.ToString(svc.ServiceSpecificCredential.ServicePassword)
	if len(password) < 20 {
		t.Fatalf("service password %q", password)
	}
	_, err = client.CreateServiceSpecificCredential(c, &iam.CreateServiceSpecificCredentialInput{UserName: bob, ServiceName: aws.String("s3.amazonaws.com")})
	wantAPIError(t, err, "NotSupportedService")
	if _, err := client.PutUserPermissionsBoundary(c, &iam.PutUserPermissionsBoundaryInput{UserName: bob,
		PermissionsBoundary: aws.String("arn:aws:iam::aws:policy/ReadOnlyAccess")}); err != nil {
		t.Fatal(err)
	}
	u, err := client.GetUser(c, &iam.GetUserInput{UserName: bob})
	if err != nil || u.User.PermissionsBoundary == nil || aws.ToString(u.User.PermissionsBoundary.PermissionsBoundaryArn) != "arn:aws:iam::aws:policy/ReadOnlyAccess" {
		t.Fatalf("boundary: %+v %v", u, err)
	}
	gaad, err := client.GetAccountAuthorizationDetails(c, &iam.GetAccountAuthorizationDetailsInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range gaad.UserDetailList {
		if aws.ToString(d.UserName) == "bob" && (d.PermissionsBoundary == nil || aws.ToString(d.PermissionsBoundary.PermissionsBoundaryArn) != "arn:aws:iam::aws:policy/ReadOnlyAccess") {
			t.Fatalf("GetAccountAuthorizationDetails: boundary %+v", d.PermissionsBoundary)
		}
	}
	certs, err := client.ListSigningCertificates(c, &iam.ListSigningCertificatesInput{UserName: bob})
	if err != nil || len(certs.Certificates) != 1 || aws.ToString(certs.Certificates[0].CertificateId) != aws.ToString(cert.Certificate.CertificateId) {
		t.Fatalf("certificates %+v %v", certs, err)
	}
	keys, err := client.ListSSHPublicKeys(c, &iam.ListSSHPublicKeysInput{UserName: bob})
	if err != nil || len(keys.SSHPublicKeys) != 1 {
		t.Fatalf("ssh keys %+v %v", keys, err)
	}
	creds, err := client.ListServiceSpecificCredentials(c, &iam.ListServiceSpecificCredentialsInput{UserName: bob})
	if err != nil || len(creds.ServiceSpecificCredentials) != 1 {
		t.Fatalf("service credentials %+v %v", creds, err)
	}
	for _, remove := range []func() error{
		func() error {
			_, err := client.DeleteSigningCertificate(c, &iam.DeleteSigningCertificateInput{UserName: bob, CertificateId: cert.Certificate.CertificateId})
			return err
		},
		func() error {
			_, err := client.DeleteSSHPublicKey(c, &iam.DeleteSSHPublicKeyInput{UserName: bob, SSHPublicKeyId: ssh.SSHPublicKey.SSHPublicKeyId})
			return err
		},
		func() error {
			_, err := client.DeleteServiceSpecificCredential(c, &iam.DeleteServiceSpecificCredentialInput{UserName: bob,
				ServiceSpecificCredentialId: svc.ServiceSpecificCredential.ServiceSpecificCredentialId})
			return err
		},
	} {
		_, err := client.DeleteUser(c, &iam.DeleteUserInput{UserName: bob})
		wantAPIError(t, err, "DeleteConflict")
		if err := remove(); err != nil {
			t.Fatal(err)
		}
	}
	_, err = client.DeleteSSHPublicKey(c, &iam.DeleteSSHPublicKeyInput{UserName: bob, SSHPublicKeyId: ssh.SSHPublicKey.SSHPublicKeyId})
	wantAPIError(t, err, "NoSuchEntity")
	if _, err := client.DeleteUserPermissionsBoundary(c, &iam.DeleteUserPermissionsBoundaryInput{UserName: bob}); err != nil {
		t.Fatal(err)
	}
	_, err = client.DeleteUserPermissionsBoundary(c, &iam.DeleteUserPermissionsBoundaryInput{UserName: bob})
	wantAPIError(t, err, "NoSuchEntity")
	if _, err := client.DeleteUser(c, &iam.DeleteUserInput{UserName: bob}); err != nil {
		t.Fatal(err)
	}
	ev, err := cloudtrail.NewFromConfig(cfg).LookupEvents(c, &cloudtrail.LookupEventsInput{LookupAttributes: []cttypes.LookupAttribute{
		{AttributeKey: cttypes.LookupAttributeKeyEventName, AttributeValue: aws.String("CreateServiceSpecificCredential")}}})
	if err != nil || len(ev.Events) != 1 || strings.Contains(aws.ToString(ev.Events[0].CloudTrailEvent), password) {
		t.Fatalf("CloudTrail: %v %+v", err, ev)
	}

	pol, err := client.GetUserPolicy(c, &iam.GetUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("p1")})
	if err != nil || !strings.Contains(aws.ToString(pol.PolicyDocument), "2012-10-17") {
		t.Fatalf("GetUserPolicy: %+v %v", pol, err)
	}
	_, err = client.GetUserPolicy(c, &iam.GetUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("nope")})
	wantAPIError(t, err, "NoSuchEntity")
	if al, err := client.ListAccountAliases(c, &iam.ListAccountAliasesInput{}); err != nil || len(al.AccountAliases) != 0 {
		t.Fatalf("aliases %+v %v", al, err)
	}
}

// GetAccessKeyInfo names the account of a key the Organization holds, whoever asks.
func TestGetAccessKeyInfo(t *testing.T) {
	t.Parallel()
	s := startTest(t, testScenario(), nil, nil)
	client := sts.NewFromConfig(mgmtConfig(s))
	c := ctx(t)
	for key, want := range map[string]string{"AKIAALICE00000000001": prodID, "AKIAROOTKEY000000001": prodID, testAKID: mgmtID} {
		out, err := client.GetAccessKeyInfo(c, &sts.GetAccessKeyInfoInput{AccessKeyId: aws.String(key)})
		if err != nil || aws.ToString(out.Account) != want {
			t.Errorf("%s: %v %v", key, out, err)
		}
	}
	_, err := client.GetAccessKeyInfo(c, &sts.GetAccessKeyInfoInput{AccessKeyId: aws.String("AKIANOTAKEYANYWHERE1")})
	wantAPIError(t, err, "InvalidParameterValue")
}
