package sandboxtest_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/iamaudit/iamaudit/internal/sandbox"
	"github.com/iamaudit/iamaudit/internal/sandbox/sandboxtest"
	"github.com/iamaudit/iamaudit/internal/scenario"
)

func TestKnobs(t *testing.T) {
	t.Parallel()
	k := sandboxtest.Knobs(nil)
	for _, f := range []string{"iam", "cloudtrail", "organizations", "sts"} {
		if r, ok := k.RateLimits[f]; !ok || r != 0 {
			t.Errorf("rate limit %s = %v (set %v), want 0 (off)", f, r, ok)
		}
	}
	if k.ReportGeneration.Duration >= 0 {
		t.Errorf("report generation %v, want negative (ready at once)", k.ReportGeneration)
	}
	over := &scenario.Knobs{RateLimits: map[string]float64{"cloudtrail": 2}, PageCap: 1,
		ReportGeneration: scenario.Duration{Duration: time.Second}, Faults: []scenario.Fault{{Error: "Throttling"}}}
	k = sandboxtest.Knobs(over)
	if k.RateLimits["cloudtrail"] != 2 || k.RateLimits["iam"] != 0 || k.PageCap != 1 || k.ReportGeneration.Duration != time.Second || len(k.Faults) != 1 {
		t.Errorf("the test's knobs are not on top: %+v", k)
	}
	over.RateLimits["iam"] = 7
	if k.RateLimits["iam"] != 0 {
		t.Error("Knobs shares the test's map")
	}
}

// A Start sandbox throttles nothing (not even past AWS's rates), has
// its report ready at the first read, and serves at the test clock.
func TestStartIsFast(t *testing.T) {
	t.Parallel()
	clk := sandboxtest.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	srv := sandboxtest.Start(t, scenario.Demo(), sandbox.Options{Clock: clk.Now})
	cfg := sandboxtest.Config(t, srv)
	ctx := context.Background()
	out, err := sts.NewFromConfig(cfg).AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn: aws.String("arn:aws:iam::345678901234:role/IAMAuditRole"), RoleSessionName: aws.String("fast-test")})
	if err != nil {
		t.Fatal(err)
	}
	// The session lasts an hour of the sandbox's (test) clock; its Expiration is told
	// in the client's clock when the two are far apart (docs/aws-facts.md), so the
	// SDK does not take a session that is valid for expired.
	if left := time.Until(*out.Credentials.Expiration); left < 59*time.Minute || left > 61*time.Minute {
		t.Errorf("session expires %v, want an hour from now (client clock), the test clock standing at %v", out.Credentials.Expiration, clk.Now())
	}
	c := out.Credentials
	member := sandboxtest.ConfigFor(t, srv.URL(), srv.Region(), *c.AccessKeyId, *c.SecretAccessKey, *c.SessionToken)
	ic, trail := iam.NewFromConfig(member), cloudtrail.NewFromConfig(member)
	for i := 0; i < 30; i++ { // above IAM's 20/s and LookupEvents' 2/s: the stats must show no throttle
		if _, err := ic.ListUsers(ctx, &iam.ListUsersInput{}); err != nil {
			t.Fatalf("ListUsers %d: %v", i, err)
		}
		if _, err := trail.LookupEvents(ctx, &cloudtrail.LookupEventsInput{}); err != nil {
			t.Fatalf("LookupEvents %d: %v", i, err)
		}
	}
	if _, err := ic.GenerateCredentialReport(ctx, &iam.GenerateCredentialReportInput{}); err != nil {
		t.Fatal(err)
	}
	rep, err := ic.GetCredentialReport(ctx, &iam.GetCredentialReportInput{})
	if err != nil {
		t.Fatalf("the report is not ready at once: %v", err)
	}
	if !rep.GeneratedTime.Equal(clk.Now()) {
		t.Errorf("report generated at %v, want the test clock's %v", rep.GeneratedTime, clk.Now())
	}
	clk.Advance(time.Minute)
	if got := clk.Now(); !got.Equal(time.Date(2026, 3, 1, 12, 1, 0, 0, time.UTC)) {
		t.Errorf("clock after Advance: %v", got)
	}
	if st := srv.Stats(); st.ThrottleTotal != 0 {
		t.Errorf("throttled %d times", st.ThrottleTotal)
	}
}
