package remediate

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// motoProxy is moto behind a proxy that answers the one call moto 5.2.1 does not
// implement and delete-user needs: ListServiceSpecificCredentials (moto answers HTTP
// 500). moto cannot create service-specific credentials either, so an empty list is
// the truth about its users. Every other request reaches moto unchanged.
func motoProxy(t *testing.T) string {
	t.Helper()
	target, _ := url.Parse(motoURL)
	rp := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		if form, err := url.ParseQuery(string(body)); err == nil && form.Get("Action") == "ListServiceSpecificCredentials" {
			w.Header().Set("Content-Type", "text/xml")
			io.WriteString(w, `<ListServiceSpecificCredentialsResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><ListServiceSpecificCredentialsResult><ServiceSpecificCredentials></ServiceSpecificCredentials><IsTruncated>false</IsTruncated></ListServiceSpecificCredentialsResult><ResponseMetadata><RequestId>proxy</RequestId></ResponseMetadata></ListServiceSpecificCredentialsResponse>`)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// selfSignedCert is a PEM certificate moto accepts as a signing certificate.
func selfSignedCert(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "zed"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// motoWorld builds an Organization in moto with one member account holding the users
// each workflow needs, on a clock 200 days ahead (moto cannot backdate: the keys and
// users look 200 days old).
func motoWorld(t *testing.T) (*world, string) {
	t.Helper()
	resp, err := http.Post(motoURL+"/moto-api/reset", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	endpoint := motoProxy(t)
	base := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(endpoint), Credentials: credentials.NewStaticCredentialsProvider("testing", "testing", "")}
	ctx := context.Background()
	org := organizations.NewFromConfig(base)
	if _, err := org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{FeatureSet: orgtypes.OrganizationFeatureSetAll}); err != nil {
		t.Fatal(err)
	}
	acct, err := org.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String("Production"), Email: aws.String("prod@example.com")})
	if err != nil {
		t.Fatal(err)
	}
	member := aws.ToString(acct.CreateAccountStatus.AccountId)
	w := &world{t: t, clock: newClock(time.Now().Add(200 * 24 * time.Hour)), base: base, auditRole: "IAMAuditRole", calls: map[string]int{}}
	w.admin = func(account string) *iam.Client {
		return iam.NewFromConfig(w.assumed(account, "OrganizationAccountAccessRole"))
	}
	w.openStore()
	c := w.admin(member)
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	owner := func(u string) *iam.CreateUserInput {
		in := &iam.CreateUserInput{UserName: aws.String(u)}
		in.Tags = append(in.Tags, iamTag("Owner", u+"@example.com"))
		return in
	}
	for _, u := range []string{"bob", "carol", "dave", "zed"} {
		must(c.CreateUser(ctx, owner(u)))
	}
	must(c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("Developers")}))
	must(c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("bob")}))  // never used
	must(c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("dave")})) // 200 days old
	must(c.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String("carol"), Password: aws.String("Sandbox-Passw0rd!")}))
	z := aws.String("zed")
	must(c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: z}))
	must(c.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: z, Password: aws.String("Sandbox-Passw0rd!")}))
	must(c.AddUserToGroup(ctx, &iam.AddUserToGroupInput{UserName: z, GroupName: aws.String("Developers")}))
	pol, err := c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("zed-read"), // moto holds no AWS managed policy unless told to load them
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:Get*","Resource":"*"}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	must(c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: z, PolicyArn: pol.Policy.Arn}))
	must(c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: z, PolicyName: aws.String("legacy-debug"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"}]}`)}))
	must(c.UploadSigningCertificate(ctx, &iam.UploadSigningCertificateInput{UserName: z, CertificateBody: aws.String(selfSignedCert(t))}))
	must(c.UploadSSHPublicKey(ctx, &iam.UploadSSHPublicKeyInput{UserName: z, SSHPublicKeyBody: aws.String("ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 zed")}))
	enableVirtualMFA(t, c, "zed")
	return w, member
}

// Every workflow against moto, the independent reference: applied, the IAM state
// asserted, verified by a fresh read (moto has no CloudTrail LookupEvents: verify says
// so), rolled back and asserted again.
func TestWorkflowsMoto(t *testing.T) {
	w, member := motoWorld(t)
	ctx := context.Background()
	admin := w.admin(member)
	one := func(p *Plan, wf Workflow, user string) Item {
		t.Helper()
		for _, it := range p.Items {
			if it.Workflow == wf && it.User == user {
				return it
			}
		}
		t.Fatalf("no %s item for %s: %+v skipped %+v", wf, user, p.Items, p.Skipped)
		return Item{}
	}
	verifyIAM := func(j string) {
		t.Helper()
		v, out := w.verify(j)
		for _, a := range v.Actions {
			if !a.Superseded && (a.IAM != IAMConfirmed || a.Trail != TrailUnavailable) {
				t.Errorf("verify %+v\n%s", a, out)
			}
		}
	}

	t.Run("deactivate-key then delete-key", func(t *testing.T) {
		p := w.plan(Selection{Workflows: []Workflow{DeactivateKey}, Users: []string{"bob"}}, DefaultConfig())
		key := one(p, DeactivateKey, "bob").AccessKeyID
		rep, out := w.apply(p, nil)
		if rep.Items[0].Status != ItemApplied || w.keyStatus(member, "bob", key) != "Inactive" {
			t.Fatalf("%+v\n%s", rep.Items, out)
		}
		verifyIAM(rep.JournalID)
		w.rollback(rep.JournalID, true)
		if st := w.keyStatus(member, "bob", key); st != "Active" {
			t.Fatalf("after rollback %s", st)
		}
		w.apply(w.plan(Selection{Workflows: []Workflow{DeactivateKey}, Users: []string{"bob"}}, DefaultConfig()), nil)
		w.clock.Advance(49 * time.Hour)
		p = w.plan(Selection{Workflows: []Workflow{DeleteKey}, Users: []string{"bob"}}, DefaultConfig())
		one(p, DeleteKey, "bob")
		rep, out = w.apply(p, nil)
		if rep.Items[0].Status != ItemApplied || w.keyStatus(member, "bob", key) != "" {
			t.Fatalf("%+v\n%s", rep.Items, out)
		}
		verifyIAM(rep.JournalID)
		rb, _ := w.rollback(rep.JournalID, true)
		if rb.Undos[0].Status != UndoManual {
			t.Fatalf("rollback of a deletion %+v", rb.Undos)
		}
	})

	t.Run("enforce-mfa then release-mfa", func(t *testing.T) {
		p := w.plan(Selection{Workflows: []Workflow{EnforceMFA}, Users: []string{"carol"}}, DefaultConfig())
		one(p, EnforceMFA, "carol")
		rep, out := w.apply(p, nil)
		if rep.Items[0].Status != ItemApplied || !samePolicy(policyDoc(t, admin, "carol"), shippedMFAPolicy()) {
			t.Fatalf("%+v\n%s", rep.Items, out)
		}
		enforced := rep.JournalID
		verifyIAM(enforced)
		enableVirtualMFA(t, admin, "carol")
		p = w.plan(Selection{Workflows: []Workflow{ReleaseMFA}, Users: []string{"carol"}}, DefaultConfig())
		one(p, ReleaseMFA, "carol")
		rep, out = w.apply(p, nil)
		if _, err := admin.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: aws.String("carol"), PolicyName: aws.String(RequireMFAPolicyName)}); rep.Items[0].Status != ItemApplied || !isNotFound(err) {
			t.Fatalf("release %+v %v\n%s", rep.Items, err, out)
		}
		verifyIAM(rep.JournalID)
		w.rollback(rep.JournalID, true)
		if !samePolicy(policyDoc(t, admin, "carol"), shippedMFAPolicy()) {
			t.Fatal("release not rolled back")
		}
		w.rollback(enforced, true)
		if _, err := admin.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: aws.String("carol"), PolicyName: aws.String(RequireMFAPolicyName)}); !isNotFound(err) {
			t.Fatalf("enforcement not rolled back: %v", err)
		}
	})

	t.Run("rotate-key", func(t *testing.T) {
		p := w.plan(Selection{Workflows: []Workflow{RotateKey}, Users: []string{"dave"}}, DefaultConfig())
		old := one(p, RotateKey, "dave").AccessKeyID
		dir := t.TempDir()
		secretFile := filepath.Join(dir, "keys")
		rep, out := w.apply(p, func(o *ApplyOptions) { o.Secrets, o.Confirm = &SecretFile{Path: secretFile}, &confirmNewKey{} })
		newKey, secret := readSecret(t, secretFile)
		if rep.Items[0].Status != ItemApplied || w.keyStatus(member, "dave", old) != "Inactive" || w.keyStatus(member, "dave", newKey) != "Active" {
			t.Fatalf("%+v\n%s", rep.Items, out)
		}
		cfg := w.base.Copy()
		cfg.Credentials = credentials.NewStaticCredentialsProvider(newKey, secret, "")
		if _, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
			t.Fatalf("the new key: %v", err)
		}
		verifyIAM(rep.JournalID)
		_, rout := w.rollback(rep.JournalID, true)
		if w.keyStatus(member, "dave", old) != "Active" || w.keyStatus(member, "dave", newKey) != "Inactive" {
			t.Fatalf("rollback\n%s", rout)
		}
		scanForSecret(t, secret, secretFile, []string{filepath.Dir(w.dbPath), dir}, map[string]string{"output": out, "rollback": rout})
	})

	t.Run("delete-user", func(t *testing.T) {
		p := w.plan(Selection{Workflows: []Workflow{DeleteUser}, Users: []string{"zed"}}, DefaultConfig())
		one(p, DeleteUser, "zed")
		rep, out := w.apply(p, nil)
		if rep.Items[0].Status != ItemApplied {
			t.Fatalf("%+v\n%s", rep.Items, out)
		}
		if _, err := admin.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("zed")}); !isNotFound(err) {
			t.Fatalf("zed exists: %v", err)
		}
		var steps []string
		for _, s := range rep.Items[0].Steps {
			steps = append(steps, strings.Fields(s)[2])
		}
		for _, want := range []string{"delete-signing-certificate", "delete-ssh-public-key", "deactivate-mfa-device", "delete-virtual-mfa-device", "delete-user"} {
			if !slices.Contains(steps, want) {
				t.Errorf("chain %v lacks %s", steps, want)
			}
		}
		verifyIAM(rep.JournalID)
		w.rollback(rep.JournalID, true)
		groups, err := admin.ListGroupsForUser(ctx, &iam.ListGroupsForUserInput{UserName: aws.String("zed")})
		if err != nil || len(groups.Groups) != 1 {
			t.Fatalf("recreated zed: %+v %v", groups, err)
		}
		inline, _ := admin.ListUserPolicies(ctx, &iam.ListUserPoliciesInput{UserName: aws.String("zed")})
		attached, _ := admin.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: aws.String("zed")})
		tags, _ := admin.ListUserTags(ctx, &iam.ListUserTagsInput{UserName: aws.String("zed")})
		if !slices.Equal(inline.PolicyNames, []string{"legacy-debug"}) || len(attached.AttachedPolicies) != 1 || len(tags.Tags) != 1 {
			t.Fatalf("recreated zed: inline %v attached %+v tags %+v", inline.PolicyNames, attached.AttachedPolicies, tags.Tags)
		}
	})
	w.checkCalls()
}

func iamTag(k, v string) iamtypes.Tag { return iamtypes.Tag{Key: aws.String(k), Value: aws.String(v)} }
