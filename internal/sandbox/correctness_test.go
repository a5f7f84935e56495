package sandbox

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/iamaudit/iamaudit/internal/scenario"
)

// credentialReportRows generates and reads the account's credential report.
func credentialReportRows(t *testing.T, cfg aws.Config, clock *fakeClock) map[string][]string {
	t.Helper()
	client := iam.NewFromConfig(cfg)
	if _, err := client.GenerateCredentialReport(ctx(t), &iam.GenerateCredentialReportInput{}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(3 * time.Second) // the default report generation takes 2 s
	rep, err := client.GetCredentialReport(ctx(t), &iam.GetCredentialReportInput{})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(strings.NewReader(string(rep.Content))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, r := range rows[1:] {
		out[r[0]] = r
	}
	return out
}

// TestCredentialReportSlotsAndRoot: keys keep their report slot (a user whose key 1
// was deleted has slot 2 only, from the scenario or after DeleteAccessKey); an
// inactive key can show last_rotated N/A; a root without a password has
// password_last_used N/A; an Expired key is listed as such and signs nothing.
func TestCredentialReportSlotsAndRoot(t *testing.T) {
	sc := testScenario()
	prod := &sc.Accounts[1]
	prod.Root = scenario.Root{Password: aws.Bool(false)}
	prod.Users = append(prod.Users,
		scenario.User{Name: "slot2", AccessKeys: []scenario.Key{{ID: "AKIASLOT200000000002", Slot: 2, CreatedAt: scenario.DaysAgo(100)}}},
		scenario.User{Name: "undated", AccessKeys: []scenario.Key{{ID: "AKIAUNDATED000000001", Status: "Inactive", ReportLastRotatedNA: true, LastUsed: scenario.DaysAgo(40)}}},
		scenario.User{Name: "expired", AccessKeys: []scenario.Key{{ID: "AKIAEXPIRED000000001", Secret: "expired-secret", Status: "Expired"}}},
		scenario.User{Name: "rotates", AccessKeys: []scenario.Key{{ID: "AKIAROTATES000000001", CreatedAt: scenario.DaysAgo(300)}}},
	)
	clock := newFakeClock()
	s := startTest(t, sc, clock, nil)
	// rotates: a second key (slot 2), then key 1 deleted: the new key stays in slot 2.
	admin := iam.NewFromConfig(assumeRole(t, s, prodID, adminRole, 3600))
	if _, err := admin.CreateAccessKey(ctx(t), &iam.CreateAccessKeyInput{UserName: aws.String("rotates")}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.DeleteAccessKey(ctx(t), &iam.DeleteAccessKeyInput{UserName: aws.String("rotates"), AccessKeyId: aws.String("AKIAROTATES000000001")}); err != nil {
		t.Fatal(err)
	}
	rows := credentialReportRows(t, assume(t, s, prodID, 3600), clock)
	if r := rows["<root_account>"]; r[3] != "not_supported" || r[4] != "N/A" || r[7] != "false" || r[8] != "false" || r[13] != "false" {
		t.Errorf("root row %v, want password_last_used N/A and no keys", r)
	}
	for _, user := range []string{"slot2", "rotates"} {
		r := rows[user]
		if r[8] != "false" || r[9] != "N/A" || r[13] != "true" || r[14] == "N/A" {
			t.Errorf("%s row %v, want slot 1 empty and the key in slot 2", user, r)
		}
	}
	if r := rows["undated"]; r[8] != "false" || r[9] != "N/A" || r[10] == "N/A" {
		t.Errorf("undated row %v, want an inactive slot 1 with last_rotated N/A and a last use", r)
	}
	if r := rows["expired"]; r[8] != "false" || r[9] == "N/A" {
		t.Errorf("expired row %v, want a key that is not active", r)
	}
	keys, err := admin.ListAccessKeys(ctx(t), &iam.ListAccessKeysInput{UserName: aws.String("expired")})
	if err != nil || len(keys.AccessKeyMetadata) != 1 || keys.AccessKeyMetadata[0].Status != iamtypes.StatusTypeExpired {
		t.Fatalf("expired key listed as %+v (%v)", keys, err)
	}
	_, err = sts.NewFromConfig(sdkConfig(s, "AKIAEXPIRED000000001", "expired-secret", "")).GetCallerIdentity(ctx(t), &sts.GetCallerIdentityInput{})
	wantAPIError(t, err, "InvalidClientTokenId")
}

// TestSignInEventShapes: ConsoleLogin records as CloudTrail writes them: a failure has
// no errorCode, errorMessage "Failed authentication" and ConsoleLogin "Failure".
func TestSignInEventShapes(t *testing.T) {
	sc := testScenario()
	sc.Accounts[1].Events = []scenario.Event{
		{Time: scenario.DaysAgo(3), Name: "ConsoleLogin", Username: "root", Result: scenario.LoginFailure, SourceIP: "192.0.2.10"},
		{Time: scenario.DaysAgo(2), Name: "ConsoleLogin", Username: "root", MFAUsed: true, SourceIP: "198.51.100.7"},
		{Time: scenario.DaysAgo(1), Name: "ConsoleLogin", Username: "alice", Result: scenario.LoginFailure},
	}
	s := startTest(t, sc, nil, nil)
	out, err := cloudtrail.NewFromConfig(assume(t, s, prodID, 3600)).LookupEvents(ctx(t), &cloudtrail.LookupEventsInput{
		LookupAttributes: []cttypes.LookupAttribute{{AttributeKey: cttypes.LookupAttributeKeyEventName, AttributeValue: aws.String("ConsoleLogin")}}})
	if err != nil || len(out.Events) != 3 {
		t.Fatalf("lookup: %v %d", err, len(out.Events))
	}
	type record struct {
		EventType, SourceIPAddress, ErrorMessage string
		ErrorCode                                *string
		ResponseElements                         map[string]string
		AdditionalEventData                      map[string]string
		UserIdentity                             map[string]any
		ReadOnly                                 bool
	}
	var recs []record // newest first
	for _, e := range out.Events {
		var r record
		if err := json.Unmarshal([]byte(*e.CloudTrailEvent), &r); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	userFail, rootOK, rootFail := recs[0], recs[1], recs[2]
	if rootFail.EventType != "AwsConsoleSignIn" || rootFail.ErrorCode != nil || rootFail.ErrorMessage != "Failed authentication" ||
		rootFail.ResponseElements["ConsoleLogin"] != "Failure" || rootFail.AdditionalEventData["MFAUsed"] != "No" ||
		rootFail.SourceIPAddress != "192.0.2.10" || rootFail.UserIdentity["type"] != "Root" || rootFail.ReadOnly {
		t.Errorf("failed root sign-in %+v", rootFail)
	}
	if rootOK.ErrorMessage != "" || rootOK.ResponseElements["ConsoleLogin"] != "Success" || rootOK.AdditionalEventData["MFAUsed"] != "Yes" || rootOK.SourceIPAddress != "198.51.100.7" {
		t.Errorf("successful root sign-in %+v", rootOK)
	}
	if _, hasARN := userFail.UserIdentity["arn"]; hasARN || userFail.UserIdentity["type"] != "IAMUser" || userFail.UserIdentity["userName"] != "alice" ||
		userFail.ResponseElements["ConsoleLogin"] != "Failure" || userFail.SourceIPAddress != "127.0.0.1" {
		t.Errorf("failed IAM user sign-in %+v", userFail)
	}
}

// delegatedScenario runs the caller from a delegated administrator (Security); the
// management account has the audit role, under a path, as the members do.
func delegatedScenario() *scenario.Scenario {
	sc := testScenario()
	const secID = "666666666666"
	sc.Organization.CallerAccountID = secID
	sc.Organization.DelegatedAdministrators = []string{secID}
	sc.Accounts[0].AuditRoles = map[string]string{"/security/IAMAuditRole": scenario.RolePresent}
	sc.Accounts = append(sc.Accounts, scenario.Account{ID: secID, Name: "Security"})
	return sc
}

// TestDelegatedAdministrator: Organizations answers the delegated administrator's
// read calls, refuses other members' (DescribeOrganization answers any account), and
// the audit roles trust the caller's account.
func TestDelegatedAdministrator(t *testing.T) {
	s := startTest(t, delegatedScenario(), nil, nil)
	caller := mgmtConfig(s)
	id, err := sts.NewFromConfig(caller).GetCallerIdentity(ctx(t), &sts.GetCallerIdentityInput{})
	if err != nil || *id.Account != "666666666666" || *id.Arn != "arn:aws:iam::666666666666:user/auditor" {
		t.Fatalf("caller %+v %v", id, err)
	}
	orgs := organizations.NewFromConfig(caller)
	org, err := orgs.DescribeOrganization(ctx(t), &organizations.DescribeOrganizationInput{})
	if err != nil || *org.Organization.MasterAccountId != mgmtID {
		t.Fatalf("describe organization: %v", err)
	}
	n := 0
	for p := organizations.NewListAccountsPaginator(orgs, &organizations.ListAccountsInput{}); p.HasMorePages(); {
		page, err := p.NextPage(ctx(t))
		if err != nil {
			t.Fatalf("delegated administrator's ListAccounts: %v", err)
		}
		n += len(page.Accounts)
	}
	if n != 26 {
		t.Errorf("%d accounts, want 26", n)
	}
	if _, err := orgs.ListParents(ctx(t), &organizations.ListParentsInput{ChildId: aws.String(prodID)}); err != nil {
		t.Errorf("ListParents: %v", err)
	}
	// The management account's role has a path: only its full ARN is assumable.
	assumeARN := func(arn string) error {
		_, err := sts.NewFromConfig(caller).AssumeRole(ctx(t), &sts.AssumeRoleInput{RoleArn: aws.String(arn), RoleSessionName: aws.String("iamaudit")})
		return err
	}
	if err := assumeARN("arn:aws:iam::" + mgmtID + ":role/security/IAMAuditRole"); err != nil {
		t.Errorf("role with its path: %v", err)
	}
	wantAPIError(t, assumeARN("arn:aws:iam::"+mgmtID+":role/IAMAuditRole"), "AccessDenied")
	wantAPIError(t, assumeARN("arn:aws:iam::"+mgmtID+":role/other/IAMAuditRole"), "AccessDenied")
	member, err := sts.NewFromConfig(caller).AssumeRole(ctx(t), &sts.AssumeRoleInput{
		RoleArn: aws.String("arn:aws:iam::" + prodID + ":role/" + adminRole), RoleSessionName: aws.String("iamaudit")})
	if err != nil {
		t.Fatalf("member role from the delegated administrator: %v", err)
	}
	// A member that is not a delegated administrator: DescribeOrganization only.
	mc := member.Credentials
	memberOrgs := organizations.NewFromConfig(sdkConfig(s, *mc.AccessKeyId, *mc.SecretAccessKey, *mc.SessionToken))
	if _, err := memberOrgs.DescribeOrganization(ctx(t), &organizations.DescribeOrganizationInput{}); err != nil {
		t.Errorf("member's DescribeOrganization: %v", err)
	}
	_, err = memberOrgs.ListAccounts(ctx(t), &organizations.ListAccountsInput{})
	wantAPIError(t, err, "AccessDeniedException")
	// The management account's caller is not trusted any more: roles trust the caller's account.
	roles, err := iam.NewFromConfig(sdkConfig(s, *mc.AccessKeyId, *mc.SecretAccessKey, *mc.SessionToken)).GetAccountAuthorizationDetails(ctx(t),
		&iam.GetAccountAuthorizationDetailsInput{Filter: []iamtypes.EntityType{iamtypes.EntityTypeRole}})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range roles.RoleDetailList {
		doc, _ := url.QueryUnescape(*r.AssumeRolePolicyDocument)
		if *r.RoleName == "IAMAuditRole" && !strings.Contains(doc, `"arn:aws:iam::666666666666:root"`) {
			t.Errorf("audit role trust %s does not name the caller's account", doc)
		}
	}
}

// TestWrongRegionSignature: IAM and Organizations answer only requests signed for
// the partition's home region; STS and CloudTrail any region of the partition.
func TestWrongRegionSignature(t *testing.T) {
	s := startTest(t, testScenario(), nil, nil)
	in := func(region string) aws.Config {
		c := mgmtConfig(s)
		c.Region = region
		return c
	}
	want := func(t *testing.T, err error, code, region string, status int) {
		t.Helper()
		ae := wantAPIError(t, err, code)
		if msg := "Credential should be scoped to a valid region, not '" + region + "'. "; ae.ErrorMessage() != msg {
			t.Errorf("message %q, want %q", ae.ErrorMessage(), msg)
		}
		var re *awshttp.ResponseError
		if !errors.As(err, &re) || re.HTTPStatusCode() != status {
			t.Errorf("status: %v", err)
		}
	}
	_, err := iam.NewFromConfig(in("eu-west-1")).ListUsers(ctx(t), &iam.ListUsersInput{})
	want(t, err, "SignatureDoesNotMatch", "eu-west-1", 403)
	_, err = organizations.NewFromConfig(in("us-west-2")).ListAccounts(ctx(t), &organizations.ListAccountsInput{})
	want(t, err, "InvalidSignatureException", "us-west-2", 403)
	_, err = sts.NewFromConfig(in("cn-north-1")).GetCallerIdentity(ctx(t), &sts.GetCallerIdentityInput{})
	want(t, err, "SignatureDoesNotMatch", "cn-north-1", 403)
	_, err = sts.NewFromConfig(in("us-gov-west-1")).GetCallerIdentity(ctx(t), &sts.GetCallerIdentityInput{})
	want(t, err, "SignatureDoesNotMatch", "us-gov-west-1", 403)
	// Regional services, other regions of the partition: served.
	if _, err := sts.NewFromConfig(in("eu-west-1")).GetCallerIdentity(ctx(t), &sts.GetCallerIdentityInput{}); err != nil {
		t.Errorf("regional STS: %v", err)
	}
	if _, err := iam.NewFromConfig(in("us-east-1")).ListUsers(ctx(t), &iam.ListUsersInput{}); err != nil {
		t.Errorf("IAM in its region: %v", err)
	}
	if _, err := cloudtrail.NewFromConfig(in("ap-southeast-2")).LookupEvents(ctx(t), &cloudtrail.LookupEventsInput{}); err != nil {
		t.Errorf("regional CloudTrail: %v", err)
	}
}
