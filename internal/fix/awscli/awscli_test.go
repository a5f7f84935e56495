package awscli

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iamaudit/iamaudit/internal/fix"
)

// update rewrites golden files: go test ./internal/fix/awscli -update
var update = flag.Bool("update", false, "rewrite golden files under testdata/")

func TestQuoting(t *testing.T) {
	t.Parallel()
	quoting := []struct{ in, want string }{
		{"alice", "alice"},
		{"svc.ci@example.com", "svc.ci@example.com"},
		{"=1+2", "'=1+2'"},
		{"-x", "'-x'"},
		{"a b", "'a b'"},
		{"it's", `'it'\''s'`},
		{"o'brien x", `'o'\''brien x'`},
		{"", "''"},
		{"$(id)", "'$(id)'"},
	}
	for _, c := range quoting {
		if got := q(c.in); got != c.want {
			t.Errorf("q(%q) = %s, want %s", c.in, got, c.want)
		}
	}
	if got := opt("--user-name", "-2+3"); got != "--user-name='-2+3'" {
		t.Errorf("opt: %s", got)
	}
}

func TestName(t *testing.T) {
	t.Parallel()
	for api, want := range map[fix.API]string{
		fix.IAMUpdateAccessKey: "update-access-key", fix.IAMListMFADevices: "list-mfa-devices",
		fix.IAMUpdateAccountPasswordPolicy: "update-account-password-policy", fix.STSAssumeRole: "assume-role",
		fix.CloudFormationDescribeStackInstances: "describe-stack-instances", fix.IAMDeleteServerCertificate: "delete-server-certificate",
	} {
		if got := Name(api); got != want {
			t.Errorf("Name(%s) = %s, want %s", api.Name, got, want)
		}
	}
}

// TestCommandsShellSafe runs every command of every recipe through /bin/sh (with "aws"
// replaced by printf) and checks that a hostile name reaches the CLI as one argument,
// that a leading "-" is glued to its option ("--user-name=-x") so the CLI does not read
// it as an option, and that policy documents and tags arrive as one well-formed value.
func TestCommandsShellSafe(t *testing.T) {
	t.Parallel()
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Fatalf("this test needs /bin/sh: %v", err)
	}
	hostile := []string{"=1+2", "-x", "a b", "it's", "$(touch pwned)", "x;rm -rf ~", "`id`", "-", "k,v=x"}
	target := fix.Target{Partition: "aws", Region: "us-east-1", AuditRole: "IAMAuditRole"}
	for _, name := range hostile {
		subjects := []fix.Subject{
			{AccountID: "111122223333", User: name, Role: name, ServerCertificate: name, OwnerTag: name,
				AttachedPolicies: []fix.Policy{{Name: name}, {Name: "x", ARN: "arn:aws:iam::111122223333:policy/x"}}, InlinePolicies: []string{name}},
			{AccountID: "111122223333", User: name, Group: name, OwnerTag: name},
		}
		for _, s := range subjects {
			for _, r := range fix.Recipes() {
				for _, a := range fix.Plan(r, s, target) {
					cmd := Command(a)
					if a.Kind == fix.Manual {
						if !strings.HasPrefix(cmd, "# ") {
							t.Errorf("%s: manual step is not a comment: %s", r, cmd)
						}
						continue
					}
					out, err := exec.Command(sh, "-c", `printf '%s\n' `+strings.TrimPrefix(cmd, "aws ")).Output()
					if err != nil {
						t.Fatalf("%s %q: sh: %v: %s", r, name, err, cmd)
					}
					checkArgs(t, string(r), name, cmd, strings.Split(strings.TrimSuffix(string(out), "\n"), "\n"))
				}
			}
		}
	}
}

func checkArgs(t *testing.T, r, name, cmd string, args []string) {
	t.Helper()
	for i, a := range args {
		if !strings.HasPrefix(a, "--") {
			continue
		}
		flag, val, glued := strings.Cut(a, "=")
		if !glued && i+1 < len(args) && !strings.HasPrefix(args[i+1], "--") {
			val = args[i+1]
		} else if !glued && i+1 < len(args) && strings.HasPrefix(args[i+1], "--") {
			continue // a boolean flag, or a value "--…" a hostile name never produces
		}
		switch {
		case flag == "--policy-document" || flag == "--assume-role-policy-document":
			if !json.Valid([]byte(val)) {
				t.Errorf("%s: %s is not one JSON argument: %s", r, flag, cmd)
			}
		case flag == "--tags" && strings.HasPrefix(val, "["):
			var tags []struct{ Key, Value string }
			if err := json.Unmarshal([]byte(val), &tags); err != nil || len(tags) != 1 || tags[0].Key != name {
				t.Errorf("%s: --tags %q does not carry the key %q: %s", r, val, name, cmd)
			}
		case flag == "--tags":
			if val != "Key="+name+",Value=OWNER" {
				t.Errorf("%s: --tags %q: %s", r, val, cmd)
			}
		case strings.HasSuffix(flag, "-name"):
			if !glued && strings.HasPrefix(val, "-") {
				t.Errorf("%s: %s value %q starts with '-' as a separate argument: %s", r, flag, val, cmd)
			}
			if strings.ToUpper(val) == val && !strings.ContainsAny(val, "=-' ;$`,") {
				continue // a placeholder such as GROUP_NAME
			}
			if val != name && !strings.HasPrefix(val, "Require") && val != "AWSSupportRole" && val != "iamaudit-check" && val != "IAMAuditRole" {
				t.Errorf("%s: %s got %q, want %q: %s", r, flag, val, name, cmd)
			}
		}
	}
}

// TestRender is every recipe's commands for one ordinary subject in each partition,
// against testdata/commands.txt (-update rewrites it), so a change to any command shows
// in review.
func TestRender(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	for _, tg := range []fix.Target{
		{Partition: "aws", Region: "us-east-1", AuditRole: "IAMAuditRole"},
		{Partition: "aws-us-gov", Region: "us-gov-west-1"},
		{Partition: "aws-cn", Region: "cn-north-1", AuditRole: "OrganizationAccountAccessRole"},
	} {
		user := fix.Subject{AccountID: "111122223333", User: "ci-us-east-1", AccessKeyID: "AKIAIOSFODNN7EXAMPLE", OwnerTag: "Team",
			AttachedPolicies: []fix.Policy{{Name: "Mine", ARN: "arn:" + tg.Partition + ":iam::111122223333:policy/Mine"}, {Name: "Lost"}},
			InlinePolicies:   []string{"inline-1"}, PasswordMinLength: 12, PasswordReusePrevention: 24}
		subjects := map[string]fix.Subject{
			"user":        user,
			"key slot":    {AccountID: "111122223333", User: "bob"},
			"role":        {AccountID: "111122223333", Role: "old-role"},
			"group":       {AccountID: "111122223333", Group: "Admins"},
			"certificate": {AccountID: "111122223333", ServerCertificate: "www"},
		}
		for _, r := range fix.Recipes() {
			kinds := []string{"user"}
			switch r {
			case fix.DisableAccessKey, fix.DeleteAccessKey:
				kinds = []string{"user", "key slot"}
			case fix.DeleteRole:
				kinds = []string{"role"}
			case fix.DeleteServerCert:
				kinds = []string{"certificate"}
			case fix.DetachCloudShellAccess:
				kinds = []string{"user", "role", "group"}
			}
			for _, k := range kinds {
				fmt.Fprintf(&b, "## %s %s (%s)\n", tg.Partition, r, k)
				for _, c := range Commands(fix.Plan(r, subjects[k], tg)) {
					b.WriteString(c + "\n")
				}
			}
		}
	}
	golden(t, "commands.txt", []byte(b.String()))
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden %s (run with -update to create it): %v", path, err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs from golden file (rerun with -update if the change is intended)\n--- got ---\n%s\n--- want ---\n%s", name, got, want)
	}
}
