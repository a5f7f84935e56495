package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iamaudit/iamaudit/internal/collect"
	"github.com/iamaudit/iamaudit/internal/report"
	"github.com/iamaudit/iamaudit/internal/sandbox"
	"github.com/iamaudit/iamaudit/internal/sandbox/sandboxtest"
	"github.com/iamaudit/iamaudit/internal/scenario"
)

// testFactory is the real command line's factory with the client-side rate limits
// lifted and a short report poll: the sandboxes of these tests pace nothing
// (sandboxtest), and pacing is tested in internal/collect and internal/audit.
func testFactory(streams IO) *Factory {
	f := NewFactory("test", streams)
	f.TuneCollect = func(o *collect.Options) {
		o.IAMRate, o.EventsRate, o.OrgRate = sandboxtest.ClientRate, sandboxtest.ClientRate, sandboxtest.ClientRate
		o.ReportPoll = sandboxtest.ReportPoll
	}
	return f
}

// Flag parsing and validation, apart from the audit itself (runF hook).
func TestRunFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
		check    func(t *testing.T, o *RunOptions)
	}{
		{name: "role required", args: []string{"run"}, wantCode: ExitUsage, wantErr: "--role is required"},
		{name: "unknown flag", args: []string{"run", "--role", "R", "--colour"}, wantCode: ExitUsage, wantErr: "unknown flag: --colour"},
		{name: "stray argument", args: []string{"run", "--role", "R", "extra"}, wantCode: ExitUsage, wantErr: "unexpected argument \"extra\""},
		{name: "all flags", args: []string{"run", "--role", "IAMAuditRole", "--profile", "mgmt", "--region", "eu-west-1",
			"--output-dir", "out", "--lang", "es", "--days", "30", "--accounts", "111111111111,222222222222",
			"--exclude-accounts", "333333333333", "--ou", "ou-ab12-cdef3456", "--concurrency", "16",
			"--external-id", "xyz", "--session-name", "me", "--fail-on", "high", "--fresh-key-usage"},
			check: func(t *testing.T, o *RunOptions) {
				if o.Role != "IAMAuditRole" || o.Profile != "mgmt" || o.Region != "eu-west-1" || o.OutputDir != "out" ||
					o.Lang != "es" || o.Days != 30 || len(o.Accounts) != 2 || o.ExcludeAccounts[0] != "333333333333" ||
					o.OUs[0] != "ou-ab12-cdef3456" || o.Concurrency != 16 || o.ExternalID != "xyz" || o.SessionName != "me" ||
					o.FailOn != "high" || !o.FreshKeyUsage {
					t.Errorf("options not parsed: %+v", o)
				}
				if _, err := o.auditOptions(NewFactory("test", IO{Out: &bytes.Buffer{}, Err: &bytes.Buffer{}})); err != nil {
					t.Errorf("valid options rejected: %v", err)
				}
				// The factory's TuneCollect has the last word on the collection options.
				ao, err := o.auditOptions(testFactory(IO{Out: &bytes.Buffer{}, Err: &bytes.Buffer{}}))
				if err != nil || ao.Collect.EventsRate != sandboxtest.ClientRate || ao.Collect.ReportPoll != sandboxtest.ReportPoll || ao.Collect.Days != 30 {
					t.Errorf("TuneCollect not applied: %+v, %v", ao.Collect, err)
				}
			}},
		{name: "role with a path", args: []string{"run", "--role", "/security/IAMAuditRole"}, check: func(t *testing.T, o *RunOptions) {
			if err := o.validateRole(); err != nil || o.Role != "/security/IAMAuditRole" {
				t.Errorf("role with a path rejected: %v (%q)", err, o.Role)
			}
		}},
		{name: "role with a path, no leading slash", args: []string{"run", "--role", "security/team-a/IAMAuditRole"}, check: func(t *testing.T, o *RunOptions) {
			if err := o.validateRole(); err != nil {
				t.Errorf("role with a path rejected: %v", err)
			}
		}},
		{name: "concurrency past the old 64", args: []string{"run", "--role", "R", "--concurrency", "1000"}, check: func(t *testing.T, o *RunOptions) {
			ao, err := o.auditOptions(NewFactory("test", IO{Out: &bytes.Buffer{}, Err: &bytes.Buffer{}}))
			if err != nil || ao.Collect.Concurrency != 1000 {
				t.Errorf("--concurrency 1000: %v, collect gets %d", err, ao.Collect.Concurrency)
			}
		}},
		{name: "defaults", args: []string{"run", "--role", "R"}, check: func(t *testing.T, o *RunOptions) {
			if o.Days != 90 || o.Lang != "en" || o.OutputDir != "." || o.Concurrency != 0 || o.SessionName != "iamaudit" {
				t.Errorf("defaults: %+v", o)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got *RunOptions
			var out, errw bytes.Buffer
			streams := IO{Out: &out, Err: &errw}
			f := NewFactory("test", streams)
			root := NewRootCmd(f)
			for _, c := range root.Commands() {
				if c.Name() == "run" {
					root.RemoveCommand(c)
				}
			}
			root.AddCommand(newRunCmd(f, func(_ context.Context, o *RunOptions) error {
				got = o
				return nil
			}))
			root.SetArgs(tt.args)
			_, err := root.ExecuteC()
			code := exitCode(err)
			if isFlagError(err) {
				code = ExitUsage
			}
			if code != tt.wantCode {
				t.Fatalf("exit code %d, want %d (err %v)", code, tt.wantCode, err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("error %v, want it to contain %q", err, tt.wantErr)
			}
			if tt.check != nil {
				tt.check(t, got)
			}
		})
	}
}

// Bad values are usage errors that say what to do, before any AWS call.
func TestRunBadValues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--days", "120"}, "--days 120: must be between 1 and 90"},
		{[]string{"--days", "0"}, "must be between 1 and 90"},
		{[]string{"--lang", "fr"}, `unknown language "fr": use en or es`},
		{[]string{"--accounts", "12345"}, `account id "12345": must be 12 digits`},
		{[]string{"--ou", "ou-bad"}, `--ou "ou-bad": not an OU id`},
		{[]string{"--concurrency", "-1"}, "--concurrency -1: must be between 1 and 10000, or 0 for the derived default"},
		{[]string{"--concurrency", "10001"}, "--concurrency 10001: must be between 1 and 10000"},
		{[]string{"--role", "arn:aws:iam::123456789012:role/IAMAuditRole"}, "give the role's name, not its ARN (e.g. --role IAMAuditRole)"},
		{[]string{"--role", "bad role!"}, "not a valid IAM role name"},
		{[]string{"--role", "arn:aws:iam::123456789012:role/security/IAMAuditRole"}, "(e.g. --role security/IAMAuditRole)"},
		{[]string{"--role", "/security/"}, `role name "" is not a valid IAM role name`},
		{[]string{"--role", "/sec urity/IAMAuditRole"}, `role path "/sec urity/" is not a valid IAM path`},
		{[]string{"--role", "/" + strings.Repeat("p", 512) + "/IAMAuditRole"}, "is not a valid IAM path"},
		{[]string{"--session-name", "bad name with spaces"}, "not a valid role session name"},
		{[]string{"--fail-on", "urgent"}, "--fail-on"},
		{[]string{"--preset", "nist"}, "--preset"},
		{[]string{"--config", "/nonexistent/iamaudit.yaml"}, "/nonexistent/iamaudit.yaml"},
		{[]string{"--suppressions", "/nonexistent/s.yaml"}, "/nonexistent/s.yaml"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, _, stderr := runCLI(t, append([]string{"run", "--role", "R"}, tt.args...)...)
			if code != ExitUsage {
				t.Errorf("exit code %d, want %d; stderr %s", code, ExitUsage, stderr)
			}
			if !strings.Contains(stderr, tt.want) {
				t.Errorf("stderr %q lacks %q", stderr, tt.want)
			}
			if strings.Contains(stderr, "goroutine ") || strings.Contains(stderr, "panic") {
				t.Errorf("stack trace on stderr: %s", stderr)
			}
		})
	}
}

// sandboxEnv points the standard AWS chain at a sandbox serving the demo
// Organization, as a user would with the export lines of `iamaudit sandbox`. The
// sandbox paces nothing (sandboxtest.Start); the tests using it set environment
// variables, so they cannot run in parallel.
func sandboxEnv(t *testing.T, sc *scenario.Scenario) *sandbox.Server {
	t.Helper()
	return sandboxEnvWith(t, sc, nil)
}

// sandboxEnvWith is sandboxEnv with knobs (faults, …) over the fast ones.
func sandboxEnvWith(t *testing.T, sc *scenario.Scenario, knobs *scenario.Knobs) *sandbox.Server {
	t.Helper()
	srv := sandboxtest.Start(t, sc, sandbox.Options{Knobs: knobs})
	akid, secret := srv.Credentials()
	dir := t.TempDir()
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_ENDPOINT_URL", srv.URL())
	t.Setenv("AWS_ACCESS_KEY_ID", akid)
	t.Setenv("AWS_SECRET_ACCESS_KEY", secret)
	t.Setenv("AWS_REGION", srv.Region())
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	return srv
}

// `iamaudit run` takes credentials and endpoint from the standard chain; the exit
// codes say whether the audit is complete and whether --fail-on was hit.
func TestRunAgainstSandboxExitCodes(t *testing.T) {
	sandboxEnv(t, scenario.Demo())

	dir := t.TempDir()
	code, stdout, stderr := runCLI(t, "run", "--role", "IAMAuditRole", "--output-dir", dir, "--no-progress")
	if code != ExitIncomplete {
		t.Fatalf("exit code %d, want %d (Development-Sandbox lacks the role)\n%s\n%s", code, ExitIncomplete, stdout, stderr)
	}
	if !strings.Contains(stdout, "Accounts not audited: 1") || !strings.Contains(stdout, "Development-Sandbox (678901234567): cannot assume") {
		t.Errorf("summary does not list the account not audited:\n%s", stdout)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(files) != len(report.Formats()) {
		t.Errorf("output files: %v", files)
	}

	code, _, _ = runCLI(t, "run", "--role", "IAMAuditRole", "--output-dir", t.TempDir(), "--fail-on", "critical")
	if code != ExitFindings {
		t.Errorf("--fail-on critical: exit code %d, want %d", code, ExitFindings)
	}

	// Only the accounts asked for: a complete audit exits 0.
	code, stdout, stderr = runCLI(t, "run", "--role", "IAMAuditRole", "--output-dir", t.TempDir(), "--accounts", "567890123456", "--lang", "es")
	if code != ExitOK {
		t.Errorf("one good account: exit code %d, want 0\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "Auditando cuenta: Staging (567890123456)") || strings.Contains(stdout, "Auditando cuenta: Production") {
		t.Errorf("--accounts / --lang es not honoured:\n%s", stdout)
	}
}

// A profile from the AWS config file works as with the AWS CLI.
func TestRunWithProfile(t *testing.T) {
	srv := sandboxEnv(t, scenario.Demo())
	akid, secret := srv.Credentials()
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	cfgFile := os.Getenv("AWS_CONFIG_FILE")
	if err := os.WriteFile(cfgFile, []byte("[profile mgmt]\nregion = us-east-1\naws_access_key_id = "+akid+"\naws_secret_access_key = "+secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLI(t, "run", "--profile", "mgmt", "--role", "IAMAuditRole", "--accounts", "567890123456", "--output-dir", t.TempDir())
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	code, _, stderr = runCLI(t, "run", "--profile", "nosuch", "--role", "IAMAuditRole", "--output-dir", t.TempDir())
	if code != ExitError || !strings.Contains(stderr, "nosuch") {
		t.Errorf("unknown profile: exit %d, stderr %s", code, stderr)
	}
}

// Wrong credentials: the run cannot start; the error says what to do, no stack trace.
func TestRunWrongCredentials(t *testing.T) {
	sandboxEnv(t, scenario.Demo())
	t.Setenv("AWS_SECRET_ACCESS_KEY", "wrong")
	dir := t.TempDir()
	code, _, stderr := runCLI(t, "run", "--role", "IAMAuditRole", "--output-dir", dir)
	if code != ExitError {
		t.Fatalf("exit code %d, want %d; %s", code, ExitError, stderr)
	}
	if !strings.Contains(stderr, "SignatureDoesNotMatch") {
		t.Errorf("stderr: %s", stderr)
	}
	t.Logf("wrong secret: %s", stderr)
}

// An interrupted run (Ctrl-C) still writes what it collected, lists the sections cut
// short, and exits 3. Every LookupEvents call hangs (a slow fault of an hour), and
// the run is interrupted once the console says an account's CloudTrail is being
// queried: the run is cut short in the middle whatever the machine's speed.
func TestRunInterruptedKeepsWhatWasCollected(t *testing.T) {
	sandboxEnvWith(t, scenario.Demo(), &scenario.Knobs{Faults: []scenario.Fault{
		{Service: "cloudtrail", Operation: "LookupEvents", Error: "slow", Delay: scenario.Duration{Duration: time.Hour}}}})
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &cancelOnWrite{marker: "Querying CloudTrail in account", cancel: cancel}
	var errw bytes.Buffer
	code := RunWith(ctx, []string{"run", "--role", "IAMAuditRole", "--output-dir", dir}, testFactory(IO{In: strings.NewReader(""), Out: out, Err: &errw}))
	if ctx.Err() == nil {
		t.Fatalf("the run was not interrupted (the console never said %q):\n%s", out.marker, out.String())
	}
	if code != ExitIncomplete {
		t.Fatalf("exit code %d, want %d\n%s\n%s", code, ExitIncomplete, out.String(), errw.String())
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(files) != len(report.Formats()) {
		t.Errorf("outputs after interruption: %v", files)
	}
	if !strings.Contains(out.String(), "run interrupted") || !strings.Contains(errw.String(), "interrupted") {
		t.Errorf("interruption not reported:\n%s\n%s", out.String(), errw.String())
	}
}

// cancelOnWrite is a console stream that calls cancel (Ctrl-C) once a line with
// marker is written.
type cancelOnWrite struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	marker string
	cancel func()
}

func (w *cancelOnWrite) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, err := w.buf.Write(p)
	if strings.Contains(w.buf.String(), w.marker) {
		w.cancel()
	}
	return n, err
}

func (w *cancelOnWrite) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

func TestUnknownCommandIsUsageError(t *testing.T) {
	t.Parallel()
	code, _, stderr := runCLI(t, "bogus")
	if code != ExitUsage || !strings.Contains(stderr, `unknown command "bogus"`) || !strings.Contains(stderr, "--help") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

// An output directory that cannot be written fails before any AWS call.
func TestRunUnwritableOutputDirFailsFirst(t *testing.T) {
	srv := sandboxEnv(t, scenario.Demo())
	file := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLI(t, "run", "--role", "IAMAuditRole", "--output-dir", filepath.Join(file, "reports"))
	if code != ExitError || !strings.Contains(stderr, "--output-dir") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	if n := srv.Stats().Requests; n != 0 {
		t.Errorf("%d AWS requests made before finding the output directory unusable", n)
	}
	if strings.Contains(stdout, "Auditing account") {
		t.Errorf("audit started: %s", stdout)
	}
}

// --preset and --config together are refused by run, demo and analyze alike: one
// behaviour, instead of the preset being dropped silently (issue 7, defect 4).
func TestPresetWithConfigRefused(t *testing.T) {
	t.Parallel()
	cfg := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(cfg, []byte("preset: default\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"run", "--role", "R", "--config", cfg, "--preset", "cis", "--output-dir", t.TempDir()},
		{"demo", "--config", cfg, "--preset", "cis", "--output-dir", t.TempDir()},
		{"analyze", "--config", cfg, "--preset", "cis", cfg},
	} {
		code, _, stderr := runCLI(t, args...)
		if code != ExitUsage || !strings.Contains(stderr, "give --preset or --config, not both") {
			t.Errorf("%v: exit %d, stderr %q", args, code, stderr)
		}
	}
}
