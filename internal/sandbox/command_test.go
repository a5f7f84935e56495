package sandbox

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os"
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
		for len(lines) < 5 && sc.Scan() {
			lines = append(lines, sc.Text())
		}
		if len(lines) < 5 || !strings.HasPrefix(lines[0], "export AWS_ENDPOINT_URL=http://127.0.0.1:") ||
			!strings.HasPrefix(lines[1], "export AWS_ACCESS_KEY_ID=") || !strings.HasPrefix(lines[2], "export AWS_SECRET_ACCESS_KEY=") ||
			lines[3] != "export AWS_REGION=us-east-1" || !strings.HasPrefix(lines[4], "# ") {
			t.Fatalf("first lines:\n%s\nstderr: %s", strings.Join(lines, "\n"), stderr.String())
		}
		env := map[string]string{}
		for _, l := range lines[:4] {
			k, v, _ := strings.Cut(strings.TrimPrefix(l, "export "), "=")
			env[k] = v
		}
		dir := t.TempDir()
		var cliEnv []string
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, "AWS_") {
				cliEnv = append(cliEnv, kv)
			}
		}
		for k, v := range env {
			cliEnv = append(cliEnv, k+"="+v)
		}
		cliEnv = append(cliEnv, "AWS_CONFIG_FILE="+filepath.Join(dir, "c"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "cr"),
			"AWS_EC2_METADATA_DISABLED=true", "AWS_DEFAULT_REGION=us-east-1")
		var accounts struct{ Accounts []struct{ Id string } }
		if se, err := awsCLI(t, cliEnv, &accounts, "--endpoint-url", env["AWS_ENDPOINT_URL"], "organizations", "list-accounts"); err != nil || len(accounts.Accounts) < 2 {
			t.Fatalf("list-accounts against the demo: %v %s", err, se)
		}
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
		if st.Requests < int64(len(accounts.Accounts)) {
			t.Fatalf("stats: %+v (page cap 1 means one request per account)", st)
		}
	})
	for _, args := range [][]string{
		{"sandbox", "--rate", "ec2=1"},
		{"sandbox", "--latency", "soon"},
		{"sandbox", "--fault", "rate=1"},
		{"sandbox", "--page-cap", "-2"},
		{"sandbox", "--scenario", "/nonexistent/scenario.yaml"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			cmd := exec.Command(bin, args...)
			out, err := cmd.CombinedOutput()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 2 {
				t.Fatalf("want exit code 2, got %v: %s", err, out)
			}
		})
	}
}
