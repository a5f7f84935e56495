package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/inventory"
)

const crHeader = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated\n"

// credReport is a credential report of account 111122223333: a root without MFA,
// a console user without MFA who signed in yesterday, an 8-year-old key still in use
// and a never-used key.
const credReport = crHeader +
	"<root_account>,arn:aws:iam::111122223333:root,2015-01-01T00:00:00+00:00,not_supported,2026-03-01T10:00:00+00:00,not_supported,not_supported,false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n" +
	"alice,arn:aws:iam::111122223333:user/alice,2020-01-01T00:00:00+00:00,true,2026-03-04T08:00:00+00:00,2020-01-01T00:00:00+00:00,N/A,false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n" +
	"svc-legacy,arn:aws:iam::111122223333:user/svc-legacy,2018-06-15T10:20:30+00:00,false,N/A,N/A,N/A,false,true,2018-06-15T10:20:30+00:00,2026-03-04T08:45:00+00:00,us-east-1,s3,true,2026-01-01T00:00:00+00:00,N/A,N/A,N/A,false,N/A,false,N/A\n"

const fixedNow = "2026-03-05T00:00:00Z"

func runCLI(t *testing.T, args ...string) (code int, out, errOut string) {
	t.Helper()
	var o, e bytes.Buffer
	code = RunWith(context.Background(), args, testFactory(IO{In: strings.NewReader(""), Out: &o, Err: &e}))
	return code, o.String(), e.String()
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestAnalyzeCredentialReport(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cr := writeFile(t, dir, "report.csv", credReport)
	noARN := writeFile(t, dir, "444455556666.csv", crHeader+
		"bob,,2020-01-01T00:00:00+00:00,true,N/A,N/A,N/A,false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n")
	cases := []struct {
		name   string
		args   []string
		code   int
		out    []string // substrings of stdout
		notOut []string
		errOut []string
	}{
		{name: "summary", args: []string{cr}, code: ExitOK, out: []string{
			"[CRITICAL] 111122223333/<root_account>: Root account does not have MFA enabled",
			"[CRITICAL] 111122223333/alice: Console access enabled but MFA not configured (password used 0 days ago)",
			"[CRITICAL] 111122223333/svc-legacy: Access key 1 is 2819 days old (not rotated)",
			"[MEDIUM] 111122223333/svc-legacy: User has 2 active access keys",
			"[MEDIUM] 111122223333/svc-legacy: Access key 2 has never been used (created 63 days ago)",
			"[MEDIUM] 111122223333/<root_account>: Root account used 3 days ago",
		}, notOut: []string{"password_policy_weak", "user_without_owner", "No role has"},
			errOut: []string{"- password_policy_weak: the report has no password policy", "- unused_role: the report has no roles", "- user_without_owner: the report has no tags"}},
		{name: "fail-on high", args: []string{cr, "--fail-on", "high"}, code: ExitFindings},
		{name: "fail-on critical with everything critical suppressed", args: []string{cr, "--fail-on", "critical", "--suppressions",
			writeFile(t, dir, "s.yaml", "suppressions:\n  - account: \"111122223333\"\n    reason: accepted for the test\n")}, code: ExitOK,
			out: []string{"(suppressed: accepted for the test)"}},
		{name: "spanish", args: []string{cr, "--lang", "es"}, code: ExitOK, out: []string{"Por severidad:", "Fase 1 \"MFA\": incompleta"}},
		{name: "cis preset", args: []string{cr, "--preset", "cis"}, code: ExitOK},
		{name: "account from file name", args: []string{noARN}, code: ExitOK, out: []string{"[HIGH] 444455556666/bob: Console access enabled but MFA not configured"}},
		{name: "bad preset", args: []string{cr, "--preset", "nist"}, code: ExitUsage},
		{name: "bad fail-on", args: []string{cr, "--fail-on", "severe"}, code: ExitUsage},
		{name: "bad lang", args: []string{cr, "--lang", "fr"}, code: ExitUsage},
		{name: "bad now", args: []string{cr, "--now", "yesterday"}, code: ExitUsage},
		{name: "no files", args: []string{}, code: ExitUsage},
		{name: "missing file", args: []string{filepath.Join(dir, "nope.csv")}, code: ExitUsage, errOut: []string{"nope.csv"}},
		{name: "malformed csv", args: []string{writeFile(t, dir, "bad.csv", crHeader+"alice,arn:aws:iam::111122223333:user/alice,notadate,true\n")}, code: ExitUsage, errOut: []string{"bad.csv", "line 2"}},
		{name: "no account id", args: []string{writeFile(t, dir, "anon.csv", crHeader+
			"bob,,2020-01-01T00:00:00+00:00,true,N/A,N/A,N/A,false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n")}, code: ExitUsage, errOut: []string{"anon.csv", "12-digit"}},
		{name: "bad config", args: []string{cr, "--config", writeFile(t, dir, "c.yaml", "thresholds:\n  nope: 1\n")}, code: ExitUsage, errOut: []string{"c.yaml:2:"}},
		{name: "bad suppressions", args: []string{cr, "--suppressions", writeFile(t, dir, "bad-s.yaml", "suppressions:\n  - user: x\n")}, code: ExitUsage, errOut: []string{"bad-s.yaml:2"}},
		{name: "same account twice", args: []string{cr, cr}, code: ExitUsage, errOut: []string{"give each account once"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string{"analyze", "--now", fixedNow}, c.args...)
			if c.name == "bad now" {
				args = append([]string{"analyze"}, c.args...)
			}
			code, out, errOut := runCLI(t, args...)
			if code != c.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, c.code, out, errOut)
			}
			for _, s := range c.out {
				if !strings.Contains(out, s) {
					t.Errorf("stdout lacks %q:\n%s", s, out)
				}
			}
			for _, s := range c.notOut {
				if strings.Contains(out, s) {
					t.Errorf("stdout has %q:\n%s", s, out)
				}
			}
			for _, s := range c.errOut {
				if !strings.Contains(errOut, s) {
					t.Errorf("stderr lacks %q:\n%s", s, errOut)
				}
			}
		})
	}
}

func TestAnalyzeJSONRoundTrip(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	now, _ := time.Parse(time.RFC3339, fixedNow)
	old := now.AddDate(-1, 0, -5)
	inv := inventory.Inventory{Schema: inventory.Schema, Tool: "iamaudit", RunID: "20260304_000000",
		EventWindowStart: now.AddDate(0, 0, -90), EventWindowEnd: now, EventNames: []string{"UpdateAccessKey"},
		Accounts: []inventory.Account{{ID: "999988887777", Name: "Prod", State: "ACTIVE", Status: inventory.StatusAudited, PasswordPolicyKnown: true,
			Users: []inventory.User{{Name: "ops", ARN: "arn:aws:iam::999988887777:user/ops", CreatedAt: old,
				AccessKeys:       []inventory.AccessKey{{ID: "AKIAOPS", Status: "Inactive", CreatedAt: old}},
				AttachedPolicies: []inventory.AttachedPolicy{{Name: "AdministratorAccess", ARN: "arn:aws:iam::aws:policy/AdministratorAccess"}}}}},
			{ID: "555566667777", Name: "Lost", State: "ACTIVE", Status: inventory.StatusNotAudited, Reason: "role IAMAuditRole missing"}}}
	raw, _ := json.Marshal(inv)
	// An earlier run's file carries findings and scores too: they are ignored on input.
	doc := strings.TrimSuffix(string(raw), "}") + `,"findings":[{"check_id":"x"}],"scores":{}}`
	in := writeFile(t, dir, "iamaudit_20260304_000000.json", doc)
	outDir := filepath.Join(dir, "out")
	code, out, errOut := runCLI(t, "analyze", "--now", fixedNow, "--output-dir", outDir, in)
	if code != ExitOK {
		t.Fatalf("exit %d: %s %s", code, out, errOut)
	}
	for _, s := range []string{
		"[HIGH] Lost: Account could not be audited: role IAMAuditRole missing",
		"[HIGH] Prod/ops: User has full administrative privileges",
		"[LOW] Prod/ops: Access key AKIAOPS was deactivated before 2025-12-05 and still exists",
		"[MEDIUM] Prod: Weak password policy: no password policy",
		"[LOW] Prod: No role has the AWSSupportAccess policy",
	} {
		if !strings.Contains(out, s) {
			t.Errorf("stdout lacks %q:\n%s", s, out)
		}
	}
	if strings.Contains(errOut, "credential report cannot answer") {
		t.Error("report limits printed for a JSON inventory")
	}
	csvOut := filepath.Join(outDir, "iamaudit_findings_20260305_000000.csv")
	jsonOut := filepath.Join(outDir, "iamaudit_20260305_000000.json")
	b, err := os.ReadFile(csvOut)
	if err != nil || !strings.HasPrefix(string(b), "finding_id,severity,check_id,") {
		t.Fatalf("findings csv: %v %q", err, b)
	}
	var back struct {
		Schema   string           `json:"schema"`
		Findings []checks.Finding `json:"findings"`
		Scores   struct {
			Organization struct {
				Risk        *int   `json:"risk_score"`
				RiskAtLeast int    `json:"risk_at_least"`
				RiskFormula string `json:"risk_formula"`
				SeedRisk    struct {
					Score   *int `json:"score"`
					AtLeast int  `json:"at_least"`
				} `json:"seed_risk"`
			} `json:"organization"`
		} `json:"scores"`
	}
	jb, err := os.ReadFile(jsonOut)
	if err != nil || json.Unmarshal(jb, &back) != nil || back.Schema != inventory.Schema || len(back.Findings) == 0 {
		t.Fatalf("json output: %v %s", err, jb)
	}
	// The account "Lost" was not audited, so the Organization's risk is unknown
	// (null): at least 54 from Prod's open findings (one high, one medium, five low:
	// 40 + round(60·12/52)), and at least 1 by the original dashboard's formula (one
	// inactive key).
	o := back.Scores.Organization
	if o.Risk != nil || o.RiskAtLeast != 54 || o.RiskFormula != "iamaudit-risk/2" || o.SeedRisk.Score != nil || o.SeedRisk.AtLeast != 1 {
		t.Errorf("risk %v at least %d (%s), seed risk %v at least %d", o.Risk, o.RiskAtLeast, o.RiskFormula, o.SeedRisk.Score, o.SeedRisk.AtLeast)
	}
	if !strings.Contains(string(jb), `"mfa_coverage_percent": null`) {
		t.Error("unknown MFA coverage is not null in the JSON")
	}
	for p, want := range map[string]os.FileMode{outDir: 0o700, csvOut: 0o600, jsonOut: 0o600} {
		if st, err := os.Stat(p); err != nil || st.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v (%v)", p, st.Mode().Perm(), want, err)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(outDir, ".iamaudit-*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
	// The output feeds analyze again, with the same findings.
	code2, out2, _ := runCLI(t, "analyze", "--now", fixedNow, jsonOut)
	if code2 != ExitOK || out2 != out {
		t.Errorf("second analyze differs (exit %d):\n%s\nvs\n%s", code2, out2, out)
	}
}

func TestAnalyzeBadJSON(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cases := []struct{ name, content, want string }{
		{"syntax", "{\n  \"schema\": \"iamaudit.inventory/v1\",\n  \"accounts\": [,]\n}\n", "bad.json:3:"},
		{"type", "{\n  \"schema\": \"iamaudit.inventory/v1\",\n  \"accounts\": 5\n}\n", "bad.json:3:"},
		{"no schema", "{\"accounts\": []}\n", "bad.json:1: JSON without \"schema\""},
		{"future schema", "{\"schema\": \"iamaudit.inventory/v9\"}\n", "not supported"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := writeFile(t, dir, "bad.json", c.content)
			code, _, errOut := runCLI(t, "analyze", "--now", fixedNow, p)
			if code != ExitUsage || !strings.Contains(errOut, c.want) {
				t.Fatalf("exit %d, stderr %q, want %q", code, errOut, c.want)
			}
		})
	}
}

// TestAnalyzeNowFromRun: on a run's JSON, ages are measured from the run's
// started_at (finished_at when unknown) unless --now is given, and stderr says so.
func TestAnalyzeNowFromRun(t *testing.T) {
	t.Parallel()
	started := time.Date(2025, 1, 10, 12, 0, 0, 0, time.UTC)
	mk := func(startedAt, finishedAt time.Time) string {
		inv := inventory.Inventory{Schema: inventory.Schema, Tool: "iamaudit", RunID: "20250110_120000", StartedAt: startedAt, FinishedAt: finishedAt,
			Accounts: []inventory.Account{{ID: "999988887777", Name: "Prod", State: "ACTIVE", Status: inventory.StatusAudited, PasswordPolicyKnown: true,
				PasswordPolicy: &inventory.PasswordPolicy{MinimumPasswordLength: 14, PasswordReusePrevention: 24},
				Users: []inventory.User{{Name: "svc", ARN: "arn:aws:iam::999988887777:user/svc", CreatedAt: started.AddDate(-1, 0, 0), Tags: map[string]string{"Owner": "x"},
					AccessKeys: []inventory.AccessKey{{ID: "AKIASVC", Status: "Active", CreatedAt: started.AddDate(0, 0, -100), LastUsedAt: &started}}}}}}}
		raw, _ := json.Marshal(inv)
		return string(raw)
	}
	dir := t.TempDir()
	cases := []struct {
		name, doc string
		args      []string
		out, err  string
	}{
		{"started_at", mk(started, started.Add(time.Hour)), nil, "Access key AKIASVC is 100 days old", "Reference time: 2025-01-10T12:00:00Z, the started_at of the run"},
		{"finished_at", mk(time.Time{}, started.Add(24*time.Hour)), nil, "Access key AKIASVC is 101 days old", "the finished_at of the run"},
		{"--now wins", mk(started, started), []string{"--now", "2025-02-19T12:00:00Z"}, "Access key AKIASVC is 140 days old", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := writeFile(t, dir, c.name+".json", c.doc)
			code, out, errOut := runCLI(t, append(append([]string{"analyze"}, c.args...), in)...)
			if code != ExitOK || !strings.Contains(out, c.out) {
				t.Fatalf("exit %d, stdout lacks %q:\n%s\n%s", code, c.out, out, errOut)
			}
			if c.err != "" && !strings.Contains(errOut, c.err) {
				t.Errorf("stderr lacks %q:\n%s", c.err, errOut)
			}
			if c.err == "" && strings.Contains(errOut, "Reference time") {
				t.Errorf("reference time note with --now:\n%s", errOut)
			}
		})
	}
	// analyze's output never replaces its input.
	in := writeFile(t, dir, "iamaudit_20250110_120000.json", mk(started, started))
	code, _, errOut := runCLI(t, "analyze", "--now", "2025-01-10T12:00:00Z", "--output-dir", dir, in)
	if code != ExitUsage || !strings.Contains(errOut, "would overwrite the input") {
		t.Errorf("exit %d, stderr %s", code, errOut)
	}
}
