package sandbox

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/iamaudit/iamaudit/internal/scenario"
)

// TestDemoScenarioServes audits every account of the built-in demo through the
// operations the collector uses.
func TestDemoScenarioServes(t *testing.T) {
	s := startTest(t, scenario.Demo(), nil, &scenario.Knobs{ReportGeneration: scenario.Duration{Duration: -1}})
	c := ctx(t)
	accounts, err := organizations.NewFromConfig(mgmtConfig(s)).ListAccounts(c, &organizations.ListAccountsInput{})
	if err != nil {
		t.Fatal(err)
	}
	denied := 0
	for _, a := range accounts.Accounts {
		cfg := mgmtConfig(s)
		if *a.Id != s.org.mgmtID {
			out, err := sts.NewFromConfig(cfg).AssumeRole(c, &sts.AssumeRoleInput{
				RoleArn: aws.String("arn:aws:iam::" + *a.Id + ":role/IAMAuditRole"), RoleSessionName: aws.String("demo")})
			if err != nil {
				wantAPIError(t, err, "AccessDenied")
				denied++
				continue
			}
			cr := out.Credentials
			cfg = sdkConfig(s, *cr.AccessKeyId, *cr.SecretAccessKey, *cr.SessionToken)
		}
		ic := iam.NewFromConfig(cfg)
		if _, err := ic.GenerateCredentialReport(c, &iam.GenerateCredentialReportInput{}); err != nil {
			t.Fatalf("%s: %v", *a.Id, err)
		}
		if _, err := ic.GetCredentialReport(c, &iam.GetCredentialReportInput{}); err != nil {
			t.Fatalf("%s: %v", *a.Id, err)
		}
		if _, err := ic.GetAccountAuthorizationDetails(c, &iam.GetAccountAuthorizationDetailsInput{}); err != nil {
			t.Fatalf("%s: %v", *a.Id, err)
		}
		if _, err := ic.ListVirtualMFADevices(c, &iam.ListVirtualMFADevicesInput{}); err != nil {
			t.Fatalf("%s: %v", *a.Id, err)
		}
		if _, err := ic.GetAccountSummary(c, &iam.GetAccountSummaryInput{}); err != nil {
			t.Fatalf("%s: %v", *a.Id, err)
		}
		if _, err := cloudtrail.NewFromConfig(cfg).LookupEvents(c, &cloudtrail.LookupEventsInput{}); err != nil {
			t.Fatalf("%s: %v", *a.Id, err)
		}
	}
	if denied == 0 {
		t.Fatal("the demo has an account whose audit role is missing, but every AssumeRole succeeded")
	}
}

func TestThrottlingCodesPerService(t *testing.T) {
	s := startTest(t, testScenario(), nil, &scenario.Knobs{RateLimits: map[string]float64{"organizations": 1, "cloudtrail": 1}})
	cfg := mgmtConfig(s)
	cfg.Retryer = func() aws.Retryer { return aws.NopRetryer{} }
	org, ct := organizations.NewFromConfig(cfg), cloudtrail.NewFromConfig(cfg)
	var oerr, cerr error
	for i := 0; i < 5; i++ {
		if _, err := org.ListRoots(ctx(t), &organizations.ListRootsInput{}); err != nil {
			oerr = err
		}
		if _, err := ct.LookupEvents(ctx(t), &cloudtrail.LookupEventsInput{}); err != nil {
			cerr = err
		}
	}
	wantAPIError(t, oerr, "TooManyRequestsException")
	wantAPIError(t, cerr, "ThrottlingException")
}
