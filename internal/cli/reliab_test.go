package cli

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/spf13/pflag"

	"github.com/iamaudit/iamaudit/internal/audit"
	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/inventory"
	"github.com/iamaudit/iamaudit/internal/outcome"
)

// runWithConfig runs the command line with a factory whose AWS configuration is cfg (nil:
// the real chain).
func runWithConfig(t *testing.T, cfg func(ctx context.Context, profile, region string) (aws.Config, error), args ...string) (int, string, string) {
	t.Helper()
	var out, errw bytes.Buffer
	f := NewFactory("test", IO{Out: &out, Err: &errw})
	if cfg != nil {
		f.AWSConfig = cfg
	}
	code := RunWith(context.Background(), args, f)
	return code, out.String(), errw.String()
}

// Issue 13, defect 7: a region that is not a region is a usage error that says so,
// not "no usable AWS credentials"; the output directory is not created.
func TestRegionIsAUsageError(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "out")
	noCall := func(context.Context, string, string) (aws.Config, error) {
		t.Error("the AWS configuration was loaded for a bad --region")
		return aws.Config{}, errors.New("not reached")
	}
	code, _, errOut := runWithConfig(t, noCall, "run", "--role", "R", "--region", "bad region!", "--output-dir", dir)
	if code != ExitUsage || !strings.Contains(errOut, `--region "bad region!": not a region name`) {
		t.Errorf("--region 'bad region!': exit %d, %q; want %d and the flag named", code, errOut, ExitUsage)
	}
	fromEnv := func(context.Context, string, string) (aws.Config, error) { return aws.Config{Region: "eu west 1"}, nil }
	code, _, errOut = runWithConfig(t, fromEnv, "run", "--role", "R", "--output-dir", dir)
	if code != ExitUsage || !strings.Contains(errOut, `"eu west 1"`) || !strings.Contains(errOut, "AWS_REGION") {
		t.Errorf("AWS_REGION 'eu west 1': exit %d, %q; want %d, naming where the region comes from", code, errOut, ExitUsage)
	}
	if _, err := os.Lstat(dir); err == nil {
		t.Errorf("a usage error created the output directory")
	}
}

// Issue 13, defect 7: an SSO profile that is not logged in gets the `aws sso login`
// hint with its profile, not "no usable AWS credentials"; a failed pre-flight leaves
// no empty output directory behind.
func TestSSONotLoggedIn(t *testing.T) {
	home := t.TempDir()
	config := filepath.Join(home, "config")
	if err := os.WriteFile(config, []byte(`[profile corp]
sso_session = corp
sso_account_id = 111122223333
sso_role_name = ReadOnly
region = us-east-1
[sso-session corp]
sso_start_url = https://example.awsapps.com/start
sso_region = us-east-1
[profile legacy]
sso_start_url = https://example.awsapps.com/start
sso_region = us-east-1
sso_account_id = 111122223333
sso_role_name = ReadOnly
region = us-east-1
`), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HOME", home)
	t.Setenv("AWS_CONFIG_FILE", config)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(home, "credentials"))
	for _, v := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL"} {
		t.Setenv(v, "")
		os.Unsetenv(v)
	}
	for _, profile := range []string{"corp", "legacy"} {
		dir := filepath.Join(home, "out-"+profile)
		code, _, errOut := runWithConfig(t, nil, "run", "--role", "R", "--profile", profile, "--output-dir", dir, "--no-progress")
		if code != ExitError || !strings.Contains(errOut, "aws sso login --profile "+profile) || strings.Contains(errOut, "no usable AWS credentials") {
			t.Errorf("profile %s: exit %d, %q; want %d and `aws sso login --profile %s`", profile, code, errOut, ExitError, profile)
		}
		if _, err := os.Lstat(dir); err == nil {
			t.Errorf("profile %s: the failed run left an empty output directory", profile)
		}
	}
}

// The deadlines are flags, checked, and reach the collection.
func TestDeadlineFlags(t *testing.T) {
	t.Parallel()
	parse := func(args ...string) (audit.Options, error) {
		var f auditFlags
		fs := pflag.NewFlagSet("run", pflag.ContinueOnError)
		f.addFlags(fs)
		if err := fs.Parse(append(args, "--output-dir", t.TempDir())); err != nil {
			t.Fatal(err)
		}
		return f.auditOptions(NewFactory("test", IO{Out: &bytes.Buffer{}, Err: &bytes.Buffer{}}))
	}
	for _, tt := range []struct {
		args    []string
		wantErr string
	}{
		{[]string{"--attempt-timeout", "0s"}, "--attempt-timeout 0s: must be a positive duration"},
		{[]string{"--report-timeout", "-1s"}, "--report-timeout -1s: must be a positive duration"},
		{[]string{"--attempt-timeout", "5m", "--call-timeout", "1m"}, "one attempt cannot outlast its call"},
	} {
		_, err := parse(tt.args...)
		var ue *UsageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%v: %v, want a usage error saying %q", tt.args, err, tt.wantErr)
		}
	}
	a, err := parse("--attempt-timeout", "5s", "--call-timeout", "1m", "--account-timeout", "20m", "--report-timeout", "90s")
	if err != nil {
		t.Fatal(err)
	}
	if c := a.Collect; c.AttemptTimeout != 5*time.Second || c.CallTimeout != time.Minute || c.AccountTimeout != 20*time.Minute || c.ReportTimeout != 90*time.Second {
		t.Errorf("deadlines not passed to the collection: %+v", c)
	}
	d, err := parse()
	if err != nil {
		t.Fatal(err)
	}
	if c := d.Collect; c.AttemptTimeout != 30*time.Second || c.CallTimeout != 3*time.Minute || c.AccountTimeout != time.Hour || c.ReportTimeout != 5*time.Minute {
		t.Errorf("default deadlines: %+v, want 30s, 3m, 1h, 5m (docs/aws-facts.md)", c)
	}
}

// Issue 13, defect 4: outputs that could not be written have their own exit code,
// which wins over --fail-on and an incomplete audit.
func TestExitCodeOutputsNotWritten(t *testing.T) {
	t.Parallel()
	high := checks.High
	o := &outcome.Outcome{Inventory: &inventory.Inventory{Accounts: []inventory.Account{{ID: "1", Status: inventory.StatusNotAudited, State: "ACTIVE"}}},
		Findings: []checks.Finding{{Severity: checks.Critical}}}
	err := judge(context.Background(), o, &audit.OutputsError{Failed: []string{"out/iamaudit_x.json"}, Err: errors.New("no space left on device")},
		audit.Options{FailOn: &high})
	if code := exitCode(err); code != ExitOutputs {
		t.Errorf("exit %d, want %d", code, ExitOutputs)
	}
	if !strings.Contains(err.Error(), "out/iamaudit_x.json") || !strings.Contains(err.Error(), "no space left") {
		t.Errorf("the error does not name the file and the cause: %v", err)
	}
}
