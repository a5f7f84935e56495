package publish_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/iamaudit/iamaudit/internal/audit"
	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/collect"
	"github.com/iamaudit/iamaudit/internal/inventory"
	"github.com/iamaudit/iamaudit/internal/outcome"
	"github.com/iamaudit/iamaudit/internal/permissions"
	"github.com/iamaudit/iamaudit/internal/publish"
	"github.com/iamaudit/iamaudit/internal/sandbox"
	"github.com/iamaudit/iamaudit/internal/scenario"
)

const (
	mgmt     = "210987654321"
	sandboxd = "678901234567" // Development-Sandbox: no audit role
	topic    = "arn:aws:sns:us-east-1:210987654321:security-alerts"
	kmsKey   = "arn:aws:kms:us-east-1:210987654321:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	bucket   = "audit-reports"
)

// The required top-level ASFF attributes (Security Hub User Guide, "Required
// top-level ASFF attributes").
var asffRequired = []string{"AwsAccountId", "CreatedAt", "Description", "GeneratorId", "Id", "ProductArn",
	"Resources", "SchemaVersion", "Severity", "Title", "Types", "UpdatedAt"}

func sdkConfig(t testing.TB, url, akid, secret string) aws.Config {
	t.Helper()
	cfg, err := config.LoadDefaultConfig(context.Background(), config.WithRegion("us-east-1"),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(akid, secret, "")),
		config.WithBaseEndpoint(url), config.WithSharedConfigFiles([]string{}), config.WithSharedCredentialsFiles([]string{}))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

type world struct {
	srv   *sandbox.Server
	cfg   aws.Config
	clock *clock
	dir   string
}

type clock struct{ base, start time.Time }

func (c *clock) now() time.Time { return c.base.Add(time.Since(c.start)) }

func newWorld(t *testing.T, dest sandbox.Destinations) *world {
	t.Helper()
	c := &clock{base: time.Now().UTC().Truncate(time.Second), start: time.Now()}
	srv, err := sandbox.Start(scenario.Demo(), sandbox.Options{Clock: c.now, Destinations: dest,
		RoleActions: permissions.AuditRolePolicy(permissions.AuditRoleOptions{SecurityHub: true}).Actions()}, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	akid, secret := srv.Credentials()
	return &world{srv: srv, cfg: sdkConfig(t, srv.URL(), akid, secret), clock: c, dir: t.TempDir()}
}

func (w *world) run(t *testing.T, dests ...publish.Destination) (*outcome.Outcome, string, error) {
	t.Helper()
	var out, errw bytes.Buffer
	o, err := audit.Run(context.Background(), w.cfg, audit.Options{
		Collect:   collect.Options{Role: "IAMAuditRole", Concurrency: 8, ReportPoll: 50 * time.Millisecond},
		OutputDir: w.dir, Lang: "en", Checks: checks.DefaultConfig(), Clock: w.clock.now, Version: "test",
		Destinations: dests, Out: &out, Err: &errw,
	})
	var pe *publish.Error
	if err != nil && !errors.As(err, &pe) {
		t.Fatalf("audit.Run: %v\n%s", err, errw.String())
	}
	return o, out.String(), err
}

func destinations(w *world) []publish.Destination {
	fast := publish.Retry{MaxAttempts: 3, MaxBackoff: 50 * time.Millisecond}
	return []publish.Destination{
		&publish.SecurityHub{Config: w.cfg, Role: publish.AuditRole{Role: "IAMAuditRole"}, Retry: fast, Backoff: time.Millisecond},
		&publish.S3{Config: w.cfg, URL: "s3://" + bucket + "/iam", KMSKey: kmsKey, Retry: fast},
		&publish.SNS{Config: w.cfg, TopicARN: topic, Retry: fast},
	}
}

func findingByCheck(t *testing.T, fs []checks.Finding, check, account string) checks.Finding {
	t.Helper()
	for _, f := range fs {
		if f.CheckID == check && (account == "" || f.AccountID == account) {
			return f
		}
	}
	t.Fatalf("no %s finding in %s", check, account)
	return checks.Finding{}
}

func imported(t *testing.T, rec sandbox.Received, account, id string) map[string]any {
	t.Helper()
	for _, f := range rec.Findings[account+"/us-east-1"] {
		if f["Id"] == id {
			return f
		}
	}
	t.Fatalf("finding %s not imported into %s", id, account)
	return nil
}

// A whole audit sends its findings to Security Hub from each account (through the
// audit role, whose generated policy with --securityhub the sandbox enforces), every
// file to S3 with SSE-KMS and the bucket owner checked, and seed 003's summary to SNS;
// a second run updates the same findings (same ids), keeps their first observation,
// and archives the resolved one as PASSED.
func TestDestinationsAgainstSandbox(t *testing.T) {
	w := newWorld(t, sandbox.Destinations{Buckets: []sandbox.Bucket{{Name: bucket, Account: mgmt, KMSKeys: []string{kmsKey}}}, Topics: []string{topic}, FlakyFindings: 1})
	o1, out, err := w.run(t, destinations(w)...)
	if err != nil {
		t.Fatalf("destinations failed: %v\n%s", err, out)
	}
	rec := w.srv.Received()
	inv := o1.Inventory
	// A run observes its findings at its reference time (the history's lifecycle:
	// checks.Finding.FirstSeen / LastSeen), which Security Hub's dates follow.
	start1 := o1.Now.UTC().Truncate(time.Second).Format("2006-01-02T15:04:05.000Z")

	// Security Hub: every finding, in the account it names (or the caller's for an
	// account the run could not enter), each with every required attribute.
	total := 0
	for acct, fs := range rec.Findings {
		total += len(fs)
		for _, f := range fs {
			for _, k := range asffRequired {
				if v, ok := f[k]; !ok || v == "" || v == nil {
					t.Errorf("%s: finding %v lacks %s", acct, f["Id"], k)
				}
			}
			if !strings.HasPrefix(acct, f["AwsAccountId"].(string)+"/") {
				t.Errorf("finding %v of account %v imported into %s", f["Id"], f["AwsAccountId"], acct)
			}
		}
	}
	if total != len(o1.Findings) {
		t.Fatalf("%d findings imported, the run has %d", total, len(o1.Findings))
	}
	root := findingByCheck(t, o1.Findings, "root_mfa_disabled", "567890123456")
	got := imported(t, rec, "567890123456", "iamaudit/"+root.ID)
	want := map[string]any{
		"SchemaVersion": "2018-10-08", "AwsAccountId": "567890123456", "AwsAccountName": "Staging",
		"ProductArn":  "arn:aws:securityhub:us-east-1:567890123456:product/567890123456/default",
		"GeneratorId": "iamaudit/root_mfa_disabled", "Title": root.Title, "Description": root.Message,
		"CreatedAt": start1, "FirstObservedAt": start1, "LastObservedAt": start1, "UpdatedAt": start1, "RecordState": "ACTIVE",
		"ProductName": "iamaudit", "CompanyName": "iamaudit",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	sev := got["Severity"].(map[string]any)
	comp := got["Compliance"].(map[string]any)
	res := got["Resources"].([]any)[0].(map[string]any)
	types := got["Types"].([]any)
	pf := got["ProductFields"].(map[string]any)
	for _, c := range []struct {
		what string
		got  any
		want any
	}{
		{"Severity.Label", sev["Label"], "CRITICAL"}, {"Severity.Original", sev["Original"], "critical"},
		{"Compliance.Status", comp["Status"], "FAILED"}, {"Compliance.SecurityControlId", comp["SecurityControlId"], "IAM.9"},
		{"Compliance.RelatedRequirements[0]", comp["RelatedRequirements"].([]any)[0], "CIS AWS Foundations Benchmark " + root.CIS[0]},
		{"Resources[0].Type", res["Type"], "AwsAccount"}, {"Resources[0].Id", res["Id"], root.Resource},
		{"Resources[0].Partition", res["Partition"], "aws"}, {"Resources[0].Region", res["Region"], "us-east-1"},
		{"Types[0]", types[0], "Software and Configuration Checks/Industry and Regulatory Standards/CIS AWS Foundations Benchmark"},
		{"ProductFields.iamaudit/CheckId", pf["iamaudit/CheckId"], "root_mfa_disabled"},
		{"ProductFields.iamaudit/State", pf["iamaudit/State"], "new"},
		{"ProductFields.iamaudit/RunId", pf["iamaudit/RunId"], inv.RunID},
	} {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
		}
	}
	if _, ok := got["Workflow"]; ok {
		t.Error("Workflow is set: it belongs to the people triaging in Security Hub")
	}
	// The account the run could not enter: its finding goes to the caller's account.
	na := findingByCheck(t, o1.Findings, "account_not_audited", sandboxd)
	naGot := imported(t, rec, mgmt, "iamaudit/"+na.ID)
	if naGot["AwsAccountId"] != mgmt || !strings.HasPrefix(naGot["Description"].(string), "Account "+sandboxd+": ") {
		t.Errorf("account_not_audited imported as %v / %v", naGot["AwsAccountId"], naGot["Description"])
	}
	// The transient per-finding failure (FlakyFindings) was retried: every import call
	// failed each finding once and the next round imported it.
	retried := 0
	for _, imp := range rec.Imports {
		for _, c := range imp.ErrorCodes {
			if c != "InternalException" {
				t.Errorf("import into %s failed with %s", imp.Account, c)
			}
			retried++
		}
		if imp.Findings > 100 {
			t.Errorf("a call carried %d findings", imp.Findings)
		}
	}
	if retried != len(o1.Findings) {
		t.Errorf("%d findings retried, want every one (%d)", retried, len(o1.Findings))
	}

	// S3: every file, under the dated prefix, SSE-KMS with the key, the owner checked.
	if len(rec.Objects) != len(o1.Files) {
		t.Fatalf("%d objects for %d files", len(rec.Objects), len(o1.Files))
	}
	day := inv.StartedAt.UTC().Format("2006/01/02")
	for _, file := range o1.Files {
		key := "iam/" + day + "/" + inv.RunID + "/" + filepath.Base(file)
		obj, ok := rec.Objects[bucket+"/"+key]
		if !ok {
			t.Errorf("no object %s", key)
			continue
		}
		body, _ := os.ReadFile(file)
		if !bytes.Equal(obj.Body, body) || obj.SSE != "aws:kms" || obj.KMSKey != kmsKey || obj.ExpectedOwner != mgmt || obj.ContentType == "" {
			t.Errorf("%s: sse %s key %s owner %s type %q, body equal %v", key, obj.SSE, obj.KMSKey, obj.ExpectedOwner, obj.ContentType, bytes.Equal(obj.Body, body))
		}
	}

	// SNS: seed 003's subject and summary.
	if len(rec.Messages) != 1 {
		t.Fatalf("%d messages", len(rec.Messages))
	}
	msg := rec.Messages[0]
	n := map[checks.Severity]int{}
	for _, f := range o1.Findings {
		if !f.Suppressed {
			n[f.Severity]++
		}
	}
	wantSubject := fmt.Sprintf("IAM Audit: %d critical, %d high, %d medium (incomplete)", n[checks.Critical], n[checks.High], n[checks.Medium])
	if msg.Subject != wantSubject || !strings.HasPrefix(msg.Message, wantSubject+"\n\n") || !strings.Contains(msg.Message, "[CRITICAL] ") {
		t.Errorf("SNS subject %q, message:\n%s", msg.Subject, msg.Message)
	}
	for _, line := range []string{"Security Hub (us-east-1): " + fmt.Sprint(len(o1.Findings)) + " findings imported into", "s3://audit-reports/iam: ", "SNS " + topic + ": summary published"} {
		if !strings.Contains(out, line) {
			t.Errorf("console lacks %q:\n%s", line, out)
		}
	}

	// Resolve one finding of a fully audited account: delete the key.
	var key checks.Finding
	for _, f := range o1.Findings {
		if f.CheckID == "access_key_not_rotated" && fullyAudited(inv, f.AccountID) {
			key = f
			break
		}
	}
	if key.ID == "" {
		t.Fatal("no access_key_not_rotated finding in a fully audited account")
	}
	deleteKey(t, w.cfg, key)
	w.clock.base = w.clock.base.Add(time.Hour)
	o2, out2, err := w.run(t, destinations(w)[0])
	if err != nil {
		t.Fatalf("second run: %v\n%s", err, out2)
	}
	rec2 := w.srv.Received()
	total2 := 0
	for _, fs := range rec2.Findings {
		total2 += len(fs)
	}
	if total2 != total {
		t.Errorf("the re-run left %d findings in Security Hub, the first %d: the same ids must update, not add", total2, total)
	}
	start2 := o2.Now.UTC().Truncate(time.Second).Format("2006-01-02T15:04:05.000Z")
	again := imported(t, rec2, "567890123456", "iamaudit/"+root.ID)
	if again["FirstObservedAt"] != start1 || again["CreatedAt"] != start1 || again["LastObservedAt"] != start2 || again["UpdatedAt"] != start2 {
		t.Errorf("open finding: first %v created %v last %v updated %v; want first/created %s, last/updated %s",
			again["FirstObservedAt"], again["CreatedAt"], again["LastObservedAt"], again["UpdatedAt"], start1, start2)
	}
	if len(o2.Resolved) == 0 {
		t.Fatal("the deleted key's finding is not resolved")
	}
	gone := imported(t, rec2, key.AccountID, "iamaudit/"+key.ID)
	if gone["RecordState"] != "ARCHIVED" || gone["Compliance"].(map[string]any)["Status"] != "PASSED" || gone["LastObservedAt"] != start1 {
		t.Errorf("resolved finding: %v %v last %v", gone["RecordState"], gone["Compliance"], gone["LastObservedAt"])
	}
}

func fullyAudited(inv *inventory.Inventory, id string) bool {
	for _, a := range inv.Accounts {
		if a.ID == id {
			return a.FullyAudited()
		}
	}
	return false
}

func deleteKey(t *testing.T, base aws.Config, f checks.Finding) {
	t.Helper()
	ctx := context.Background()
	out, err := sts.NewFromConfig(base).AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn: aws.String("arn:aws:iam::" + f.AccountID + ":role/OrganizationAccountAccessRole"), RoleSessionName: aws.String("fix")})
	if err != nil {
		t.Fatal(err)
	}
	cfg := base.Copy()
	c := out.Credentials
	cfg.Credentials = credentials.NewStaticCredentialsProvider(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))
	if _, err := iam.NewFromConfig(cfg).DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String(f.User), AccessKeyId: aws.String(f.Resource)}); err != nil {
		t.Fatalf("delete %s of %s: %v", f.Resource, f.User, err)
	}
}

// Each failure is reported per item and makes Run return *publish.Error: Security
// Hub not enabled in an account, a bucket of another owner, a topic that does not
// exist. Nothing is dropped silently.
func TestDestinationFailuresAreReported(t *testing.T) {
	w := newWorld(t, sandbox.Destinations{Buckets: []sandbox.Bucket{{Name: bucket, Account: "345678901234"}},
		SecurityHubDisabled: []string{"456789012345"}})
	fast := publish.Retry{MaxAttempts: 2, MaxBackoff: 10 * time.Millisecond}
	o, out, err := w.run(t,
		&publish.SecurityHub{Config: w.cfg, Role: publish.AuditRole{Role: "IAMAuditRole"}, Retry: fast, Backoff: time.Millisecond},
		&publish.S3{Config: w.cfg, URL: "s3://" + bucket + "/iam", Retry: fast},
		&publish.SNS{Config: w.cfg, TopicARN: topic, Retry: fast})
	var pe *publish.Error
	if !errors.As(err, &pe) {
		t.Fatalf("err %v, want *publish.Error\n%s", err, out)
	}
	byDest := map[string]publish.Result{}
	for _, r := range pe.Results {
		byDest[r.Destination] = r
	}
	dev := 0
	for _, f := range o.Findings {
		if f.AccountID == "456789012345" {
			dev++
		}
	}
	sh := byDest["Security Hub (us-east-1)"]
	if len(sh.Failures) != dev || sh.Sent != len(o.Findings)-dev {
		t.Errorf("Security Hub: %d sent, %d failed; want %d failed (Development's)", sh.Sent, len(sh.Failures), dev)
	}
	for _, f := range sh.Failures {
		if f.Account != "456789012345" || f.Code != "InvalidAccessException" || !strings.Contains(out, "not delivered: "+f.Item) {
			t.Errorf("failure %+v not reported as Development's InvalidAccessException", f)
		}
	}
	s3r := byDest["s3://"+bucket+"/iam"]
	if s3r.Sent != 0 || len(s3r.Failures) != len(o.Files) || s3r.Failures[0].Code != "AccessDenied" || !strings.Contains(s3r.Failures[0].Message, "must belong to account "+mgmt) {
		t.Errorf("S3: %+v", s3r)
	}
	sns := byDest["SNS "+topic]
	if len(sns.Failures) != 1 || sns.Failures[0].Code != "NotFound" {
		t.Errorf("SNS: %+v", sns)
	}
	if len(w.srv.Received().Objects) != 0 {
		t.Error("an object was written to a bucket of another owner")
	}
}
