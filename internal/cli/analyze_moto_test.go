package cli

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// startMoto starts moto_server on a free port and returns its URL. The test FAILS
// (never skips) when moto_server is missing.
func startMoto(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		t.Fatalf("moto_server is required for this test (pip install 'moto[server]'): %v", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", fmt.Sprint(port))
	if err := cmd.Start(); err != nil {
		t.Fatalf("start moto_server: %v", err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err == nil {
			c.Close()
			return url
		}
		if time.Now().After(deadline) {
			t.Fatalf("moto_server did not listen on %d within 30 s", port)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func TestAnalyzeMotoCredentialReport(t *testing.T) {
	t.Parallel()
	url := startMoto(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	client := iam.New(iam.Options{Region: "us-east-1", BaseEndpoint: aws.String(url),
		Credentials: credentials.NewStaticCredentialsProvider("testing", "testing", "")})

	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	// console user without MFA; service user with an old (by --now) key that is never used.
	_, err := client.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("console.nomfa")})
	must(err)
	_, err = client.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String("console.nomfa"), Password: aws.String("Sup3r-secret-pass!")})
	must(err)
	_, err = client.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("svc-app")})
	must(err)
	_, err = client.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("svc-app")})
	must(err)
	_, err = client.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("svc-app")})
	must(err)

	var content []byte
	for i := 0; ; i++ {
		gen, err := client.GenerateCredentialReport(ctx, &iam.GenerateCredentialReportInput{})
		must(err)
		if gen.State == "COMPLETE" {
			rep, err := client.GetCredentialReport(ctx, &iam.GetCredentialReportInput{})
			must(err)
			content = rep.Content
			break
		}
		if i > 50 {
			t.Fatal("credential report never completed")
		}
		time.Sleep(200 * time.Millisecond)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "moto-report.csv")
	must(os.WriteFile(path, content, 0o644))

	// moto cannot backdate: judge the keys 400 days from now.
	future := time.Now().UTC().Add(400 * 24 * time.Hour).Format(time.RFC3339)
	code, out, errOut := runCLI(t, "analyze", "--now", future, "--fail-on", "critical", "--output-dir", filepath.Join(dir, "out"), path)
	if code != ExitFindings {
		t.Fatalf("exit %d, want %d\n%s\n%s", code, ExitFindings, out, errOut)
	}
	for _, s := range []string{
		"[HIGH] 123456789012/console.nomfa: Console access enabled but MFA not configured",
		"[CRITICAL] 123456789012/svc-app: Access key 1 is 400 days old (not rotated)",
		"[CRITICAL] 123456789012/svc-app: Access key 2 is 400 days old (not rotated)",
		"[MEDIUM] 123456789012/svc-app: User has 2 active access keys",
		"[MEDIUM] 123456789012/svc-app: Access key 1 has never been used",
		"[MEDIUM] 123456789012/console.nomfa: Console password never used (set 400 days ago)",
	} {
		if !strings.Contains(out, s) {
			t.Errorf("stdout lacks %q:\n%s", s, out)
		}
	}
	if strings.Contains(out, "<root_account>") {
		t.Error("moto's report has no root row, yet a root finding appeared")
	}
	if !strings.Contains(errOut, "credential report cannot answer") {
		t.Errorf("report limits not printed:\n%s", errOut)
	}
}
