package sandbox

import (
	"encoding/base64"
	"encoding/csv"
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
	"github.com/aws/smithy-go"
	"github.com/iamaudit/iamaudit/internal/scenario"
)

// assume returns a config with session credentials for the (read-only) audit role in acct.
func assume(t *testing.T, s *Server, acct string, dur int32) aws.Config {
	t.Helper()
	return assumeRole(t, s, acct, "IAMAuditRole", dur)
}

// adminRole is the administrator role of member accounts, for tests that write.
const adminRole = "OrganizationAccountAccessRole"

// assumeRole returns a config with session credentials for role in acct.
func assumeRole(t *testing.T, s *Server, acct, role string, dur int32) aws.Config {
	t.Helper()
	out, err := sts.NewFromConfig(mgmtConfig(s)).AssumeRole(ctx(t), &sts.AssumeRoleInput{
		RoleArn: aws.String("arn:aws:iam::" + acct + ":role/" + role), RoleSessionName: aws.String("iamaudit"),
		DurationSeconds: aws.Int32(dur),
	})
	if err != nil {
		t.Fatalf("assume role in %s: %v", acct, err)
	}
	c := out.Credentials
	if !strings.HasPrefix(*c.AccessKeyId, "ASIA") || *c.SessionToken == "" {
		t.Fatalf("session credentials look wrong: %+v", c)
	}
	return sdkConfig(s, *c.AccessKeyId, *c.SecretAccessKey, *c.SessionToken)
}

func wantAPIError(t *testing.T, err error, code string) smithy.APIError {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want AWS error %s, got %v", code, err)
	}
	if ae.ErrorCode() != code {
		t.Fatalf("want error code %s, got %s: %s", code, ae.ErrorCode(), ae.ErrorMessage())
	}
	return ae
}

func TestListAccountsAcrossPages(t *testing.T) {
	s := startTest(t, testScenario(), nil, nil)
	client := organizations.NewFromConfig(mgmtConfig(s))
	p := organizations.NewListAccountsPaginator(client, &organizations.ListAccountsInput{})
	pages, ids := 0, map[string]string{}
	for p.HasMorePages() {
		out, err := p.NextPage(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if len(out.Accounts) > 20 {
			t.Fatalf("page of %d accounts, AWS caps at 20", len(out.Accounts))
		}
		for _, a := range out.Accounts {
			ids[*a.Id] = string(a.State)
			if a.JoinedTimestamp == nil || a.Arn == nil || a.Email == nil {
				t.Fatalf("incomplete account %+v", a)
			}
		}
	}
	if pages != 2 || len(ids) != 25 {
		t.Fatalf("got %d accounts in %d pages, want 25 in 2", len(ids), pages)
	}
	if ids[untrustedID] != "SUSPENDED" || ids[prodID] != "ACTIVE" {
		t.Fatalf("states: %v", ids)
	}
	org, err := client.DescribeOrganization(ctx(t), &organizations.DescribeOrganizationInput{})
	if err != nil || *org.Organization.MasterAccountId != mgmtID {
		t.Fatalf("describe organization: %v %+v", err, org)
	}
	parents, err := client.ListParents(ctx(t), &organizations.ListParentsInput{ChildId: aws.String(prodID)})
	if err != nil || len(parents.Parents) != 1 || parents.Parents[0].Type != "ORGANIZATIONAL_UNIT" {
		t.Fatalf("list parents: %v %+v", err, parents)
	}
	// A member account's session may not call Organizations.
	_, err = organizations.NewFromConfig(assume(t, s, prodID, 900)).ListAccounts(ctx(t), &organizations.ListAccountsInput{})
	wantAPIError(t, err, "AccessDeniedException")
}

func TestAssumeRoleAndListUsers(t *testing.T) {
	s := startTest(t, testScenario(), nil, nil)
	cfg := assume(t, s, prodID, 3600)
	id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx(t), &sts.GetCallerIdentityInput{})
	if err != nil || *id.Account != prodID || *id.Arn != "arn:aws:sts::"+prodID+":assumed-role/IAMAuditRole/iamaudit" {
		t.Fatalf("caller identity: %v %+v", err, id)
	}
	out, err := iam.NewFromConfig(cfg).ListUsers(ctx(t), &iam.ListUsersInput{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, u := range out.Users {
		names = append(names, *u.UserName)
	}
	if strings.Join(names, ",") != "alice,bob,carol" {
		t.Fatalf("users of Production: %v", names)
	}
	// The management credentials see the management account's (empty) IAM.
	mg, err := iam.NewFromConfig(mgmtConfig(s)).ListUsers(ctx(t), &iam.ListUsersInput{})
	if err != nil || len(mg.Users) != 0 {
		t.Fatalf("management users: %v %+v", err, mg)
	}
}

func TestAssumeRoleDenied(t *testing.T) {
	s := startTest(t, testScenario(), nil, nil)
	client := sts.NewFromConfig(mgmtConfig(s))
	for _, acct := range []string{missingID, untrustedID, "999999999999"} {
		t.Run(acct, func(t *testing.T) {
			_, err := client.AssumeRole(ctx(t), &sts.AssumeRoleInput{
				RoleArn: aws.String("arn:aws:iam::" + acct + ":role/IAMAuditRole"), RoleSessionName: aws.String("x1")})
			ae := wantAPIError(t, err, "AccessDenied")
			want := "User: arn:aws:iam::" + mgmtID + ":user/auditor is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::" + acct + ":role/IAMAuditRole"
			if ae.ErrorMessage() != want {
				t.Fatalf("message %q, want %q", ae.ErrorMessage(), want)
			}
		})
	}
}

func TestAuthFailures(t *testing.T) {
	clock := newFakeClock()
	s := startTest(t, testScenario(), clock, nil)
	ak, _ := s.Credentials()
	t.Run("wrong secret", func(t *testing.T) {
		_, err := sts.NewFromConfig(sdkConfig(s, ak, "wrong-secret", "")).GetCallerIdentity(ctx(t), &sts.GetCallerIdentityInput{})
		wantAPIError(t, err, "SignatureDoesNotMatch")
	})
	t.Run("unknown key", func(t *testing.T) {
		_, err := iam.NewFromConfig(sdkConfig(s, "AKIAUNKNOWN000000000", "x", "")).ListUsers(ctx(t), &iam.ListUsersInput{})
		wantAPIError(t, err, "InvalidClientTokenId")
	})
	t.Run("expired session", func(t *testing.T) {
		cfg := assume(t, s, prodID, 900)
		if _, err := iam.NewFromConfig(cfg).ListUsers(ctx(t), &iam.ListUsersInput{}); err != nil {
			t.Fatalf("fresh session: %v", err)
		}
		clock.Advance(16 * time.Minute)
		_, err := iam.NewFromConfig(cfg).ListUsers(ctx(t), &iam.ListUsersInput{})
		ae := wantAPIError(t, err, "ExpiredToken")
		if ae.ErrorMessage() != "The security token included in the request is expired" {
			t.Fatalf("message %q", ae.ErrorMessage())
		}
	})
	t.Run("wrong session token", func(t *testing.T) {
		cfg := assume(t, s, prodID, 900)
		creds, _ := cfg.Credentials.Retrieve(ctx(t))
		_, err := iam.NewFromConfig(sdkConfig(s, creds.AccessKeyID, creds.SecretAccessKey, "forged")).ListUsers(ctx(t), &iam.ListUsersInput{})
		wantAPIError(t, err, "InvalidClientTokenId")
	})
}

func TestCredentialReport(t *testing.T) {
	clock := newFakeClock()
	s := startTest(t, testScenario(), clock, &scenario.Knobs{ReportGeneration: scenario.Duration{Duration: 5 * time.Second}})
	client := iam.NewFromConfig(assume(t, s, prodID, 43200)) // outlives the 5 hours the clock advances
	_, err := client.GetCredentialReport(ctx(t), &iam.GetCredentialReportInput{})
	wantAPIError(t, err, "ReportNotPresent")
	gen, err := client.GenerateCredentialReport(ctx(t), &iam.GenerateCredentialReportInput{})
	if err != nil || gen.State != iamtypes.ReportStateTypeStarted {
		t.Fatalf("generate: %v %+v", err, gen)
	}
	_, err = client.GetCredentialReport(ctx(t), &iam.GetCredentialReportInput{})
	wantAPIError(t, err, "ReportInProgress")
	if gen, _ = client.GenerateCredentialReport(ctx(t), &iam.GenerateCredentialReportInput{}); gen.State != iamtypes.ReportStateTypeInprogress {
		t.Fatalf("state while generating: %s", gen.State)
	}
	clock.Advance(6 * time.Second)
	rep, err := client.GetCredentialReport(ctx(t), &iam.GetCredentialReportInput{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.ReportFormat != iamtypes.ReportFormatTypeTextCsv || rep.GeneratedTime == nil {
		t.Fatalf("report metadata: %+v", rep)
	}
	rows, err := csv.NewReader(strings.NewReader(string(rep.Content))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(rows[0], ","); got != strings.Join(credReportColumns, ",") ||
		!strings.HasPrefix(got, "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active") {
		t.Fatalf("header %s", got)
	}
	root := rows[1]
	if root[0] != "<root_account>" || root[3] != "not_supported" || root[5] != "not_supported" || root[7] != "false" || root[8] != "true" {
		t.Fatalf("root row %v", root)
	}
	alice := rows[2]
	if alice[0] != "alice" || alice[3] != "true" || alice[7] != "true" || alice[9] != "2018-06-15T10:20:30+00:00" ||
		alice[11] != "eu-west-1" || alice[12] != "s3" || alice[15] != "N/A" || alice[16] != "N/A" || alice[6] == "N/A" {
		t.Fatalf("alice row %v", alice)
	}
	bob := rows[3]
	if bob[3] != "true" || bob[4] != "no_information" || bob[8] != "false" || bob[9] != "N/A" {
		t.Fatalf("bob row %v", bob)
	}
	carol := rows[4]
	if carol[3] != "false" || carol[4] != "N/A" || carol[7] != "true" {
		t.Fatalf("carol row %v", carol)
	}
	// The report is a snapshot: a new user does not appear, and within 4 hours a new
	// GenerateCredentialReport reuses it.
	admin := iam.NewFromConfig(assumeRole(t, s, prodID, adminRole, 43200))
	if _, err := admin.CreateUser(ctx(t), &iam.CreateUserInput{UserName: aws.String("dave")}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Hour)
	if gen, _ = client.GenerateCredentialReport(ctx(t), &iam.GenerateCredentialReportInput{}); gen.State != iamtypes.ReportStateTypeComplete {
		t.Fatalf("state within 4h: %s", gen.State)
	}
	rep2, err := client.GetCredentialReport(ctx(t), &iam.GetCredentialReportInput{})
	if err != nil || strings.Contains(string(rep2.Content), "dave") || !rep2.GeneratedTime.Equal(*rep.GeneratedTime) {
		t.Fatalf("report changed within 4h: %v", err)
	}
	// Served until 4 hours after generation started; then ReportExpired (410) until a
	// new GenerateCredentialReport.
	clock.Advance(3*time.Hour - 7*time.Second)
	if _, err := client.GetCredentialReport(ctx(t), &iam.GetCredentialReportInput{}); err != nil {
		t.Fatalf("report 1s short of 4h old: %v", err)
	}
	clock.Advance(time.Second)
	_, err = client.GetCredentialReport(ctx(t), &iam.GetCredentialReportInput{})
	wantAPIError(t, err, "ReportExpired")
	var re *awshttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() != 410 {
		t.Fatalf("ReportExpired status: %v", err)
	}
	clock.Advance(time.Hour)
	_, err = client.GetCredentialReport(ctx(t), &iam.GetCredentialReportInput{})
	wantAPIError(t, err, "ReportExpired")
	if gen, _ = client.GenerateCredentialReport(ctx(t), &iam.GenerateCredentialReportInput{}); gen.State != iamtypes.ReportStateTypeStarted {
		t.Fatalf("state after 4h: %s", gen.State)
	}
	clock.Advance(6 * time.Second)
	rep3, err := client.GetCredentialReport(ctx(t), &iam.GetCredentialReportInput{})
	if err != nil || !strings.Contains(string(rep3.Content), "\ndave,") {
		t.Fatalf("regenerated report lacks the new user: %v", err)
	}
}

func TestIAMReads(t *testing.T) {
	s := startTest(t, testScenario(), nil, nil)
	client := iam.NewFromConfig(assume(t, s, prodID, 3600))
	c := ctx(t)
	sum, err := client.GetAccountSummary(c, &iam.GetAccountSummaryInput{})
	if err != nil || sum.SummaryMap["AccountMFAEnabled"] != 0 || sum.SummaryMap["AccountAccessKeysPresent"] != 1 || sum.SummaryMap["Users"] != 3 {
		t.Fatalf("summary: %v %v", err, sum.SummaryMap)
	}
	pp, err := client.GetAccountPasswordPolicy(c, &iam.GetAccountPasswordPolicyInput{})
	if err != nil || *pp.PasswordPolicy.MinimumPasswordLength != 14 || *pp.PasswordPolicy.MaxPasswordAge != 90 {
		t.Fatalf("password policy: %v", err)
	}
	last, err := client.GetAccessKeyLastUsed(c, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String("AKIAALICE00000000002")})
	if err != nil || last.AccessKeyLastUsed.LastUsedDate != nil || *last.AccessKeyLastUsed.ServiceName != "N/A" || *last.AccessKeyLastUsed.Region != "N/A" || *last.UserName != "alice" {
		t.Fatalf("never-used key: %v %+v", err, last)
	}
	last, err = client.GetAccessKeyLastUsed(c, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String("AKIAALICE00000000001")})
	if err != nil || last.AccessKeyLastUsed.LastUsedDate == nil || *last.AccessKeyLastUsed.ServiceName != "s3" {
		t.Fatalf("used key: %v %+v", err, last)
	}
	_, err = client.GetLoginProfile(c, &iam.GetLoginProfileInput{UserName: aws.String("carol")})
	wantAPIError(t, err, "NoSuchEntity")
	vm, err := client.ListVirtualMFADevices(c, &iam.ListVirtualMFADevicesInput{AssignmentStatus: iamtypes.AssignmentStatusTypeAssigned})
	if err != nil || len(vm.VirtualMFADevices) != 2 {
		t.Fatalf("virtual MFA of Production: %v %d", err, len(vm.VirtualMFADevices))
	}
	mg, err := iam.NewFromConfig(mgmtConfig(s)).ListVirtualMFADevices(c, &iam.ListVirtualMFADevicesInput{})
	if err != nil || len(mg.VirtualMFADevices) != 1 || *mg.VirtualMFADevices[0].SerialNumber != "arn:aws:iam::"+mgmtID+":mfa/root-account-mfa-device" ||
		*mg.VirtualMFADevices[0].User.Arn != "arn:aws:iam::"+mgmtID+":root" {
		t.Fatalf("root virtual MFA: %v %+v", err, mg)
	}
	det, err := client.GetAccountAuthorizationDetails(c, &iam.GetAccountAuthorizationDetailsInput{Filter: []iamtypes.EntityType{"User", "Role"}})
	if err != nil || len(det.UserDetailList) != 3 || len(det.GroupDetailList) != 0 {
		t.Fatalf("authorization details: %v", err)
	}
	a := det.UserDetailList[0]
	doc, _ := url.QueryUnescape(*a.UserPolicyList[0].PolicyDocument)
	if *a.UserName != "alice" || len(a.GroupList) != 2 || len(a.AttachedManagedPolicies) != 2 || len(a.Tags) != 3 || !strings.HasPrefix(doc, `{"Version"`) {
		t.Fatalf("alice details: %+v", a)
	}
	var app *iamtypes.RoleDetail
	for i := range det.RoleDetailList {
		if *det.RoleDetailList[i].RoleName == "app" {
			app = &det.RoleDetailList[i]
		}
	}
	if app == nil || app.RoleLastUsed == nil || app.RoleLastUsed.LastUsedDate == nil {
		t.Fatalf("role app with RoleLastUsed missing: %+v", det.RoleDetailList)
	}
}

func TestDeleteUserConflicts(t *testing.T) {
	s := startTest(t, testScenario(), nil, nil)
	client := iam.NewFromConfig(assumeRole(t, s, prodID, adminRole, 3600))
	c := ctx(t)
	_, err := client.DeleteUser(c, &iam.DeleteUserInput{UserName: aws.String("alice")})
	ae := wantAPIError(t, err, "DeleteConflict")
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) && re.HTTPStatusCode() != 409 {
		t.Fatalf("status %d, want 409 (%s)", re.HTTPStatusCode(), ae.ErrorMessage())
	}
	// bob has only a password: delete it, then the user.
	_, err = client.DeleteUser(c, &iam.DeleteUserInput{UserName: aws.String("bob")})
	wantAPIError(t, err, "DeleteConflict")
	if _, err := client.DeleteLoginProfile(c, &iam.DeleteLoginProfileInput{UserName: aws.String("bob")}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.DeleteUser(c, &iam.DeleteUserInput{UserName: aws.String("bob")}); err != nil {
		t.Fatal(err)
	}
	_, err = client.GetUser(c, &iam.GetUserInput{UserName: aws.String("bob")})
	wantAPIError(t, err, "NoSuchEntity")
	_, err = client.CreateAccessKey(c, &iam.CreateAccessKeyInput{UserName: aws.String("alice")})
	wantAPIError(t, err, "LimitExceeded")
}

func TestWriteAppearsInLookupEvents(t *testing.T) {
	s := startTest(t, testScenario(), nil, nil)
	cfg := assumeRole(t, s, prodID, adminRole, 3600)
	client := iam.NewFromConfig(cfg)
	c := ctx(t)
	if _, err := client.UpdateAccessKey(c, &iam.UpdateAccessKeyInput{UserName: aws.String("alice"),
		AccessKeyId: aws.String("AKIAALICE00000000001"), Status: iamtypes.StatusTypeInactive}); err != nil {
		t.Fatal(err)
	}
	keys, err := client.ListAccessKeys(c, &iam.ListAccessKeysInput{UserName: aws.String("alice")})
	if err != nil || keys.AccessKeyMetadata[0].Status != iamtypes.StatusTypeInactive {
		t.Fatalf("key not deactivated: %v", err)
	}
	ev, err := cloudtrail.NewFromConfig(cfg).LookupEvents(c, &cloudtrail.LookupEventsInput{
		LookupAttributes: []cttypes.LookupAttribute{{AttributeKey: cttypes.LookupAttributeKeyEventName, AttributeValue: aws.String("UpdateAccessKey")}}})
	if err != nil || len(ev.Events) != 1 {
		t.Fatalf("lookup: %v %+v", err, ev)
	}
	e := ev.Events[0]
	if *e.Username != "iamaudit" || len(e.Resources) != 2 || *e.Resources[1].ResourceName != "AKIAALICE00000000001" ||
		!strings.Contains(*e.CloudTrailEvent, `"accessKeyId":"AKIAALICE00000000001"`) || !strings.Contains(*e.CloudTrailEvent, `"recipientAccountId":"`+prodID+`"`) {
		t.Fatalf("event %+v %s", e, *e.CloudTrailEvent)
	}
	// Other regions hold no IAM events.
	west := cfg.Copy()
	west.Region = "us-west-2"
	ev, err = cloudtrail.NewFromConfig(west).LookupEvents(c, &cloudtrail.LookupEventsInput{})
	if err != nil || len(ev.Events) != 0 {
		t.Fatalf("us-west-2 events: %v %d", err, len(ev.Events))
	}
}

func TestLookupEventsAcrossPages(t *testing.T) {
	s := startTest(t, testScenario(), nil, nil)
	client := cloudtrail.NewFromConfig(assume(t, s, prodID, 3600))
	p := cloudtrail.NewLookupEventsPaginator(client, &cloudtrail.LookupEventsInput{MaxResults: aws.Int32(1)})
	var times []time.Time
	var names []string
	for p.HasMorePages() {
		out, err := p.NextPage(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range out.Events {
			times = append(times, *e.EventTime)
			names = append(names, *e.EventName)
		}
	}
	if len(times) != 4 { // the fifth is older than 90 days
		t.Fatalf("got %d events %v, want 4", len(times), names)
	}
	for i := 1; i < len(times); i++ {
		if times[i].After(times[i-1]) {
			t.Fatalf("not newest first: %v", times)
		}
	}
	_, err := client.LookupEvents(ctx(t), &cloudtrail.LookupEventsInput{LookupAttributes: []cttypes.LookupAttribute{
		{AttributeKey: "EventName", AttributeValue: aws.String("a")}, {AttributeKey: "Username", AttributeValue: aws.String("b")}}})
	wantAPIError(t, err, "InvalidLookupAttributesException")
	old := time.Now().Add(-25 * 24 * time.Hour)
	out, err := client.LookupEvents(ctx(t), &cloudtrail.LookupEventsInput{EndTime: &old})
	if err != nil || len(out.Events) != 1 { // 30 days ago; the 200-day-old one is past retention
		t.Fatalf("events before 25 days ago: %v %d", err, len(out.Events))
	}
}

// A test of pacing: the IAM limit is on (2/s), so about 2 s of real throttling.
func TestThrottledCallIsRetried(t *testing.T) {
	t.Parallel()
	s := startTest(t, testScenario(), nil, &scenario.Knobs{RateLimits: map[string]float64{"iam": 2}})
	client := iam.NewFromConfig(assume(t, s, prodID, 3600))
	for i := 0; i < 6; i++ {
		if _, err := client.ListUsers(ctx(t), &iam.ListUsersInput{}); err != nil {
			t.Fatalf("call %d failed despite retries: %v", i, err)
		}
	}
	st := s.Stats()
	if st.ThrottleTotal == 0 || st.Throttles[prodID]["iam:ListUsers"] == 0 || st.Errors["Throttling"] == 0 {
		t.Fatalf("no throttles recorded: %+v", st)
	}
	if st.Calls[prodID]["iam:ListUsers"] < 6+st.Throttles[prodID]["iam:ListUsers"] {
		t.Fatalf("calls %d do not include the retried ones", st.Calls[prodID]["iam:ListUsers"])
	}
}

func TestCredentialReportDecodes(t *testing.T) {
	// The Content element is base64 in the XML, as AWS sends it.
	s := startTest(t, testScenario(), nil, &scenario.Knobs{ReportGeneration: scenario.Duration{Duration: -1}})
	a := s.org.byID[prodID]
	content := buildCredentialReport(a, "aws", s.clock())
	if _, err := base64.StdEncoding.DecodeString(base64.StdEncoding.EncodeToString(content)); err != nil {
		t.Fatal(err)
	}
	client := iam.NewFromConfig(assume(t, s, prodID, 3600))
	if _, err := client.GenerateCredentialReport(ctx(t), &iam.GenerateCredentialReportInput{}); err != nil {
		t.Fatal(err)
	}
	rep, err := client.GetCredentialReport(ctx(t), &iam.GetCredentialReportInput{})
	if err != nil || string(rep.Content) != string(content) {
		t.Fatalf("instant report: %v", err)
	}
}
