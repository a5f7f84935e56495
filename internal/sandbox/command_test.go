package sandbox

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// buildIamaudit builds the iamaudit binary for end-to-end tests of `iamaudit sandbox`.
func buildIamaudit(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "iamaudit")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/iamaudit/iamaudit/cmd/iamaudit").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func TestSandboxCommand(t *testing.T) {
	t.Parallel()
	bin := buildIamaudit(t)
	t.Run("serves the demo and prints stats at shutdown", func(t *testing.T) {
		cmd := exec.Command(bin, "sandbox", "--listen", "127.0.0.1:0", "--page-cap", "1", "--rate", "iam=0,organizations=0", "--latency", "1ms,1ms")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { _ = cmd.Process.Kill() }()
		sc := bufio.NewScanner(stdout)
		var lines []string
		for len(lines) < 6 && sc.Scan() {
			lines = append(lines, sc.Text())
		}
		if len(lines) < 6 || !strings.HasPrefix(lines[0], "export AWS_ENDPOINT_URL=http://127.0.0.1:") ||
			!strings.HasPrefix(lines[1], "export AWS_ACCESS_KEY_ID=") || !strings.HasPrefix(lines[2], "export AWS_SECRET_ACCESS_KEY=") ||
			lines[3] != "export AWS_REGION=us-east-1" || lines[4] != "export AWS_DEFAULT_REGION=us-east-1" || !strings.HasPrefix(lines[5], "# ") {
			t.Fatalf("first lines:\n%s\nstderr: %s", strings.Join(lines, "\n"), stderr.String())
		}
		accounts := evalExportsAndListAccounts(t, strings.Join(lines[:5], "\n"))
		if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("exit: %v\n%s", err, stderr.String())
			}
		case <-time.After(20 * time.Second):
			t.Fatal("sandbox did not stop on SIGINT")
		}
		var st Stats
		if err := json.Unmarshal(stderr.Bytes(), &st); err != nil {
			t.Fatalf("stats on stderr %q: %v", stderr.String(), err)
		}
		if st.Requests < int64(len(accounts)) {
			t.Fatalf("stats: %+v (page cap 1 means one request per account)", st)
		}
	})
	for _, tc := range []struct {
		args []string
		want string // in the output; empty: any
	}{
		{args: []string{"sandbox", "--rate", "ec2=1"}},
		{args: []string{"sandbox", "--latency", "soon"}},
		{args: []string{"sandbox", "--fault", "rate=1"}},
		{args: []string{"sandbox", "--page-cap", "-2"}},
		{args: []string{"sandbox", "--scenario", "/nonexistent/scenario.yaml"}},
		{args: []string{"sandbox", "--listen", "nohost"}, want: "--listen nohost: want HOST:PORT, e.g. 127.0.0.1:4599"},
		{args: []string{"sandbox", "--listen", "127.0.0.1:http"}, want: "--listen 127.0.0.1:http: want HOST:PORT"},
		{args: []string{"sandbox", "--listen", "127.0.0.1:99999"}, want: "--listen 127.0.0.1:99999: want HOST:PORT"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			cmd := exec.Command(bin, tc.args...)
			out, err := cmd.CombinedOutput()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 2 {
				t.Fatalf("want exit code 2, got %v: %s", err, out)
			}
			if !strings.Contains(string(out), tc.want) {
				t.Fatalf("output %q lacks %q", out, tc.want)
			}
		})
	}
}

// evalExportsAndListAccounts evals the sandbox's export lines in a shell whose
// environment holds nothing but PATH and an empty HOME (no AWS_* variable, no
// ~/.aws files), as a user pasting them would, then runs `aws organizations
// list-accounts` there and returns the account ids.
func evalExportsAndListAccounts(t *testing.T, exports string) []string {
	t.Helper()
	awsPath, err := exec.LookPath("aws")
	if err != nil {
		t.Fatalf("the AWS CLI is required for this test (pip install awscli): %v", err)
	}
	script := exports + "\nexec aws --output json organizations list-accounts\n"
	cmd := exec.Command("/bin/sh", "-c", `eval "$EXPORTS_UNDER_TEST"`)
	cmd.Env = []string{"PATH=" + filepath.Dir(awsPath) + ":/usr/bin:/bin", "HOME=" + t.TempDir(), "EXPORTS_UNDER_TEST=" + script}
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	if err := cmd.Run(); err != nil {
		t.Fatalf("eval the export lines, then aws organizations list-accounts: %v\n%s", err, se.String())
	}
	var out struct{ Accounts []struct{ Id string } }
	if err := json.Unmarshal(so.Bytes(), &out); err != nil || len(out.Accounts) < 2 {
		t.Fatalf("list-accounts output %q: %v", so.String(), err)
	}
	ids := make([]string, len(out.Accounts))
	for i, a := range out.Accounts {
		ids[i] = a.Id
	}
	return ids
}
