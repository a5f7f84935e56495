package sandbox

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iamaudit/iamaudit/internal/scenario"
)

// isolatedEnv is the environment of an external AWS client: no config or credential
// files, no instance metadata, the sandbox endpoint and the given credentials.
func isolatedEnv(t *testing.T, s *Server, akid, secret, token string) []string {
	t.Helper()
	dir := t.TempDir()
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	env = append(env,
		"AWS_CONFIG_FILE="+filepath.Join(dir, "config"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED=true", "AWS_ENDPOINT_URL="+s.URL(), "AWS_DEFAULT_REGION="+s.Region(), "AWS_REGION="+s.Region(),
		"AWS_ACCESS_KEY_ID="+akid, "AWS_SECRET_ACCESS_KEY="+secret, "AWS_PAGER=",
	)
	if token != "" {
		env = append(env, "AWS_SESSION_TOKEN="+token)
	}
	return env
}

// awsCLI runs the AWS CLI against the sandbox and decodes its JSON output.
func awsCLI(t *testing.T, env []string, out any, args ...string) (stderr string, err error) {
	t.Helper()
	path, lerr := exec.LookPath("aws")
	if lerr != nil {
		t.Fatalf("the AWS CLI is required for this test (pip install awscli): %v", lerr)
	}
	var so, se bytes.Buffer
	cmd := exec.Command(path, append([]string{"--output", "json"}, args...)...)
	cmd.Env, cmd.Stdout, cmd.Stderr = env, &so, &se
	err = cmd.Run()
	if err == nil && out != nil && so.Len() > 0 {
		if jerr := json.Unmarshal(so.Bytes(), out); jerr != nil {
			t.Fatalf("aws %v: bad JSON %q: %v", args, so.String(), jerr)
		}
	}
	return se.String(), err
}

func TestAWSCLI(t *testing.T) {
	t.Parallel()
	s := startTest(t, testScenario(), nil, &scenario.Knobs{PageCap: 2, ReportGeneration: scenario.Duration{Duration: -1}})
	ak, sk := s.Credentials()
	mgmt := isolatedEnv(t, s, ak, sk, "")
	ep := []string{"--endpoint-url", s.URL()}

	var accounts struct{ Accounts []map[string]any }
	if se, err := awsCLI(t, mgmt, &accounts, append(ep, "organizations", "list-accounts")...); err != nil || len(accounts.Accounts) != 25 {
		t.Fatalf("list-accounts: %v %s (%d accounts)", err, se, len(accounts.Accounts))
	}
	for _, a := range accounts.Accounts {
		// AWS retired the account Status field (2026-09-09): only State remains.
		if _, ok := a["Status"]; ok || a["State"] == nil {
			t.Fatalf("account %v: want State and no Status", a)
		}
	}
	var assumed struct {
		Credentials struct{ AccessKeyId, SecretAccessKey, SessionToken string }
	}
	if se, err := awsCLI(t, mgmt, &assumed, append(ep, "sts", "assume-role", "--role-arn", "arn:aws:iam::"+prodID+":role/IAMAuditRole", "--role-session-name", "cli")...); err != nil {
		t.Fatalf("assume-role: %v %s", err, se)
	}
	c := assumed.Credentials
	member := isolatedEnv(t, s, c.AccessKeyId, c.SecretAccessKey, c.SessionToken)
	var users struct{ Users []struct{ UserName string } }
	if se, err := awsCLI(t, member, &users, append(ep, "iam", "list-users")...); err != nil || len(users.Users) != 3 {
		t.Fatalf("list-users: %v %s %+v", err, se, users)
	}
	var gen struct{ State string }
	if se, err := awsCLI(t, member, &gen, append(ep, "iam", "generate-credential-report")...); err != nil || gen.State != "STARTED" {
		t.Fatalf("generate-credential-report: %v %s %+v", err, se, gen)
	}
	var rep struct{ Content, ReportFormat string }
	if se, err := awsCLI(t, member, &rep, append(ep, "iam", "get-credential-report")...); err != nil || rep.ReportFormat != "text/csv" {
		t.Fatalf("get-credential-report: %v %s", err, se)
	}
	// The CLI prints the blob base64-encoded.
	if !strings.Contains(decodeB64(t, rep.Content), "\n<root_account>,arn:aws:iam::"+prodID+":root,") {
		t.Fatalf("report lacks the root row: %q", rep.Content)
	}
	var events struct{ Events []struct{ EventName string } }
	if se, err := awsCLI(t, member, &events, append(ep, "cloudtrail", "lookup-events", "--region", "us-east-1")...); err != nil || len(events.Events) != 4 {
		t.Fatalf("lookup-events: %v %s %+v", err, se, events)
	}
	se, err := awsCLI(t, isolatedEnv(t, s, ak, "wrong", ""), nil, append(ep, "iam", "list-users")...)
	if err == nil || !strings.Contains(se, "SignatureDoesNotMatch") {
		t.Fatalf("wrong secret: want SignatureDoesNotMatch, got %v %s", err, se)
	}
	se, err = awsCLI(t, mgmt, nil, append(ep, "sts", "assume-role", "--role-arn", "arn:aws:iam::"+missingID+":role/IAMAuditRole", "--role-session-name", "cli")...)
	if err == nil || !strings.Contains(se, "AccessDenied") || !strings.Contains(se, "is not authorized to perform: sts:AssumeRole") {
		t.Fatalf("missing role: %v %s", err, se)
	}
}

func TestBoto3(t *testing.T) {
	t.Parallel()
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Fatalf("python3 with boto3 is required for this test: %v", err)
	}
	if out, err := exec.Command(python, "-c", "import boto3").CombinedOutput(); err != nil {
		t.Fatalf("boto3 is required for this test (pip install boto3): %v %s", err, out)
	}
	s := startTest(t, testScenario(), nil, &scenario.Knobs{PageCap: 1, ReportGeneration: scenario.Duration{Duration: -1}})
	ak, sk := s.Credentials()
	var so, se bytes.Buffer
	cmd := exec.Command(python, filepath.Join("testdata", "boto3_client.py"), prodID)
	cmd.Env, cmd.Stdout, cmd.Stderr = isolatedEnv(t, s, ak, sk, ""), &so, &se
	if err := cmd.Run(); err != nil {
		t.Fatalf("boto3 client: %v\n%s", err, se.String())
	}
	var got struct {
		Accounts        int      `json:"accounts"`
		Caller          string   `json:"caller"`
		Users           []string `json:"users"`
		ReportState     string   `json:"report_state"`
		ReportHeader    string   `json:"report_header"`
		ReportFirstUser string   `json:"report_first_user"`
		Events          []string `json:"events"`
		WrongSecret     string   `json:"wrong_secret"`
	}
	if err := json.Unmarshal(so.Bytes(), &got); err != nil {
		t.Fatalf("boto3 output %q: %v", so.String(), err)
	}
	if got.Accounts != 25 || got.Caller != "arn:aws:sts::"+prodID+":assumed-role/IAMAuditRole/boto3" ||
		strings.Join(got.Users, ",") != "alice,bob,carol" || got.ReportState != "STARTED" ||
		got.ReportHeader != strings.Join(credReportColumns, ",") || got.ReportFirstUser != "<root_account>" ||
		len(got.Events) != 4 || got.WrongSecret != "SignatureDoesNotMatch" {
		t.Fatalf("boto3 saw %+v", got)
	}
}

func decodeB64(t *testing.T, s string) string {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatalf("base64 %q: %v", s, err)
	}
	return string(b)
}
