package cli

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/iamaudit/iamaudit/internal/scenario"
)

// Flag parsing and validation of `remediate`, apart from the work (runF hook).
func TestRemediateFlags(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
		what     string
		check    func(t *testing.T, o *RemediateOptions)
	}{
		{name: "plan", args: []string{"remediate", "plan", "--workflow", "deactivate-key,release", "--user", "bob", "--account", "Production", "--db", "x.db"},
			what: "plan", check: func(t *testing.T, o *RemediateOptions) {
				if len(o.Workflows) != 2 || o.Users[0] != "bob" || o.Accounts[0] != "Production" || o.DB != "x.db" || o.RunID != "latest" {
					t.Errorf("%+v", o)
				}
			}},
		{name: "unknown workflow", args: []string{"remediate", "plan", "--workflow", "nuke"}, wantCode: ExitUsage, wantErr: `unknown workflow "nuke"`},
		{name: "migrate is guidance", args: []string{"remediate", "plan", "--workflow", "migrate-to-roles"}, wantCode: ExitUsage, wantErr: "iamaudit remediate guide"},
		{name: "apply dry run by default", args: []string{"remediate", "apply", "plan.json"}, what: "apply", check: func(t *testing.T, o *RemediateOptions) {
			if o.Execute || o.Yes || o.Role != "IAMAuditRemediationRole" || o.Plan != "plan.json" {
				t.Errorf("%+v", o)
			}
		}},
		{name: "apply without a plan", args: []string{"remediate", "apply"}, wantCode: ExitUsage, wantErr: "takes the plan file"},
		{name: "execute needs a terminal or --yes", args: []string{"remediate", "apply", "plan.json", "--execute"}, wantCode: ExitUsage,
			wantErr: "stdin is not a terminal"},
		{name: "execute --yes", args: []string{"remediate", "apply", "plan.json", "--execute", "--yes", "--secret-file", "k", "--force"}, what: "apply",
			check: func(t *testing.T, o *RemediateOptions) {
				if !o.Execute || !o.Yes || !o.Force || o.SecretFile != "k" {
					t.Errorf("%+v", o)
				}
			}},
		{name: "rollback needs a terminal or --yes", args: []string{"remediate", "rollback", "J", "--execute"}, wantCode: ExitUsage, wantErr: "stdin is not a terminal"},
		{name: "rollback", args: []string{"remediate", "rollback", "J"}, what: "rollback"},
		{name: "verify latest", args: []string{"remediate", "verify"}, what: "verify"},
		{name: "guide", args: []string{"remediate", "guide", "--case", "ci"}, what: "guide"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got *RemediateOptions
			var gotWhat string
			var out, errw bytes.Buffer
			f := NewFactory("test", IO{In: strings.NewReader(""), Out: &out, Err: &errw})
			root := NewRootCmd(f)
			for _, c := range root.Commands() {
				if c.Name() == "remediate" {
					root.RemoveCommand(c)
				}
			}
			root.AddCommand(newRemediateCmd(f, func(_ context.Context, what string, o *RemediateOptions) error {
				got, gotWhat = o, what
				return nil
			}))
			root.SetArgs(tt.args)
			_, err := root.ExecuteC()
			code := exitCode(err)
			if isFlagError(err) {
				code = ExitUsage
			}
			if code != tt.wantCode || (tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr))) {
				t.Fatalf("exit %d (%v), want %d %q", code, err, tt.wantCode, tt.wantErr)
			}
			if tt.what != "" && gotWhat != tt.what {
				t.Fatalf("ran %q, want %q", gotWhat, tt.what)
			}
			if tt.check != nil {
				tt.check(t, got)
			}
		})
	}
}

// The whole path on the command line against the sandbox: audit, plan, a dry run,
// a rotation that waits for the new key to be confirmed, the resume that finishes it,
// verify and rollback; the new key's secret is in the named file and in no output,
// log, file or the store.
func TestRemediateCommandLine(t *testing.T) {
	sandboxEnv(t, scenario.Demo())
	dir := t.TempDir()
	db := filepath.Join(dir, "state", "iamaudit.db")
	outDir := filepath.Join(dir, "reports")
	var logs strings.Builder
	run := func(want int, args ...string) string {
		t.Helper()
		code, stdout, stderr := runCLI(t, args...)
		logs.WriteString(stdout + stderr)
		if code != want {
			t.Fatalf("%v: exit %d, want %d\n%s\n%s", args, code, want, stdout, stderr)
		}
		return stdout + stderr
	}
	run(ExitIncomplete, "run", "--role", "IAMAuditRole", "--db", db, "--output-dir", outDir, "--no-progress")
	planFile := filepath.Join(dir, "plan.json")
	out := run(ExitOK, "remediate", "plan", "--db", db, "--workflow", "rotate-key", "--user", "qa-runner", "--out", planFile)
	if !strings.Contains(out, "rotate-key") || !strings.Contains(out, "qa-runner") || !strings.Contains(out, "owner: Owner=qa-team@example.com") ||
		!strings.Contains(out, "aws iam create-access-key --user-name qa-runner") {
		t.Fatalf("plan output:\n%s", out)
	}
	if fi, err := os.Stat(planFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("plan file %v %v", fi, err)
	}
	out = run(ExitOK, "remediate", "apply", planFile, "--db", db)
	if !strings.Contains(out, "Dry run: nothing was changed") {
		t.Fatalf("dry run:\n%s", out)
	}
	out = run(ExitError, "remediate", "apply", planFile, "--db", db, "--execute", "--yes")
	if !strings.Contains(out, "--secret-file") {
		t.Fatalf("no secret file:\n%s", out)
	}
	secretFile := filepath.Join(dir, "keys", "new-keys.ini")
	os.MkdirAll(filepath.Dir(secretFile), 0o700)
	out = run(ExitIncomplete, "remediate", "apply", planFile, "--db", db, "--execute", "--yes", "--secret-file", secretFile)
	m := regexp.MustCompile(`Journal (\d{8}T\d{6}Z-[0-9a-f]{6})`).FindStringSubmatch(out)
	if m == nil || !strings.Contains(out, "pending") {
		t.Fatalf("apply:\n%s", out)
	}
	journal := m[1]
	run(ExitOK, "remediate", "apply", planFile, "--db", db, "--execute", "--yes", "--resume", journal)
	out = run(ExitOK, "remediate", "verify", "--db", db)
	if !strings.Contains(out, "in CloudTrail") || strings.Contains(out, "NOT IN EFFECT") {
		t.Fatalf("verify:\n%s", out)
	}
	out = run(ExitOK, "remediate", "journal", "--db", db, journal)
	if !strings.Contains(out, "iam:CreateAccessKey") || !strings.Contains(out, "gate") {
		t.Fatalf("journal:\n%s", out)
	}
	out = run(ExitOK, "remediate", "rollback", journal, "--db", db, "--execute", "--yes")
	if !strings.Contains(out, "undone item 1 action 2") || !strings.Contains(out, "undone item 1 action 1") {
		t.Fatalf("rollback:\n%s", out)
	}
	b, err := os.ReadFile(secretFile)
	if err != nil {
		t.Fatal(err)
	}
	sm := regexp.MustCompile(`aws_secret_access_key = (\S+)`).FindSubmatch(b)
	if sm == nil {
		t.Fatalf("secret file:\n%s", b)
	}
	secret := string(sm[1])
	if strings.Contains(logs.String(), secret) {
		t.Error("the secret is in the command's output")
	}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || p == secretFile {
			return nil
		}
		if b, _ := os.ReadFile(p); bytes.Contains(b, []byte(secret)) {
			t.Errorf("the secret is in %s", p)
		}
		return nil
	})
	out = run(ExitOK, "remediate", "guide", "--case", "lambda")
	if !strings.Contains(out, "update-function-configuration") {
		t.Fatalf("guide:\n%s", out)
	}
}

// `iamaudit whois` on a key of the demo Organization (from the store and live) and on
// an unknown key (exit 3, said so); --deactivate is a dry run unless --execute.
func TestWhoisCommand(t *testing.T) {
	sandboxEnv(t, scenario.Demo())
	dir := t.TempDir()
	db := filepath.Join(dir, "iamaudit.db")
	code, _, stderr := runCLI(t, "run", "--role", "IAMAuditRole", "--db", db, "--output-dir", dir, "--no-progress")
	if code != ExitIncomplete {
		t.Fatalf("run: %d %s", code, stderr)
	}
	code, out, stderr := runCLI(t, "whois", "AKIAWB5WKH7DNSIPZZ7F", "--db", db)
	if code != ExitOK || !strings.Contains(out, "345678901234 (Production)") || !strings.Contains(out, "user:      backup-agent") ||
		!strings.Contains(out, "owner:     Owner=sre-team@example.com Team=sre") || !strings.Contains(out, "last used: never") ||
		!strings.Contains(out, "known:     from stored run") {
		t.Fatalf("whois: %d\n%s\n%s", code, out, stderr)
	}
	code, out, _ = runCLI(t, "whois", "AKIAZZZZZZZZZZZZZZZZ", "--db", db)
	if code != ExitIncomplete || !strings.Contains(out, "unknown key") {
		t.Fatalf("unknown key: %d\n%s", code, out)
	}
	code, out, _ = runCLI(t, "whois", "AKIAWB5WKH7DNSIPZZ7F", "--db", db, "--deactivate")
	if code != ExitOK || !strings.Contains(out, "Dry run: nothing was changed") {
		t.Fatalf("--deactivate dry run: %d\n%s", code, out)
	}
	code, out, _ = runCLI(t, "whois", "AKIAWB5WKH7DNSIPZZ7F", "--db", db, "--deactivate", "--execute", "--yes")
	if code != ExitOK || !strings.Contains(out, "item 1 action 1 done") {
		t.Fatalf("--deactivate --execute: %d\n%s", code, out)
	}
	code, out, _ = runCLI(t, "whois", "AKIAWB5WKH7DNSIPZZ7F", "--db", db)
	if code != ExitOK || !strings.Contains(out, "status:    Inactive") || !strings.Contains(out, "iam:UpdateAccessKey ok") {
		t.Fatalf("after --deactivate: %d\n%s", code, out)
	}
	if code, _, stderr := runCLI(t, "whois", "not-a-key"); code != ExitUsage || !strings.Contains(stderr, "not an access key id") {
		t.Fatalf("bad key: %d %s", code, stderr)
	}

	// notify: seed 004's notices from the same run, per owner.
	notices := filepath.Join(dir, "notices")
	code, out, stderr = runCLI(t, "notify", "--db", db, "--output-dir", notices, "--from", "Security <security@example.com>")
	if code != ExitOK || !strings.Contains(out, "carlos.lopez@example.com.md") || !strings.Contains(out, "-user.eml") {
		t.Fatalf("notify: %d\n%s\n%s", code, out, stderr)
	}
	b, err := os.ReadFile(filepath.Join(notices, "carlos.lopez@example.com.md"))
	if err != nil || !strings.Contains(string(b), "ACTION REQUIRED: Enable MFA for AWS Console Access") || !strings.Contains(string(b), "Hi carlos.lopez") {
		t.Fatalf("carlos's notice: %v\n%s", err, b)
	}
	b, _ = os.ReadFile(filepath.Join(notices, "sre-team@example.com-1-key.eml"))
	if !strings.Contains(string(b), "To: <sre-team@example.com>") || !strings.Contains(string(b), "AKIA************ZZ7F") || strings.Contains(string(b), "AKIAWB5WKH7DNSIPZZ7F") {
		t.Fatalf("backup-agent's key notice:\n%s", b)
	}
}
