package checks

import (
	"os/exec"
	"strings"
	"testing"
)

// TestCommandsShellSafe runs every remediation command through /bin/sh (with "aws"
// replaced by printf) and checks that a hostile name reaches the CLI as one argument,
// and that a leading "-" is glued to its option ("--user-name=-x") so the CLI does not
// read it as an option.
func TestCommandsShellSafe(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Fatalf("this test needs /bin/sh: %v", err)
	}
	quoting := []struct{ in, want string }{
		{"alice", "alice"},
		{"svc.ci@example.com", "svc.ci@example.com"},
		{"=1+2", "'=1+2'"},
		{"-x", "'-x'"},
		{"a b", "'a b'"},
		{"it's", `'it'\''s'`},
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

	hostile := []string{"=1+2", "-x", "a b", "it's", "$(touch pwned)", "x;rm -rf ~", "`id`", "-"}
	for _, name := range hostile {
		for _, c := range All() {
			if c.Commands == nil || c.ID == "account_not_audited" || c.ID == "support_role_missing" { // fixed names only
				continue
			}
			f := Finding{CheckID: c.ID, AccountID: "111122223333", User: name, ResourceType: ResourceUser,
				Resource: "arn:aws:iam::111122223333:user/" + name,
				Evidence: map[string]string{"name": name, "policies": "attached:" + name + ",inline:" + name}}
			if c.ID == "unused_role" {
				f.ResourceType, f.Resource = ResourceRole, "arn:aws:iam::111122223333:role/"+name
			}
			if c.ID == "expired_server_certificate" {
				f.ResourceType = ResourceServerCertificate
			}
			for _, cmd := range c.Commands(f, DefaultConfig()) {
				if !strings.HasPrefix(cmd, "aws ") {
					continue // a comment
				}
				out, err := exec.Command(sh, "-c", `printf '%s\n' `+strings.TrimPrefix(cmd, "aws ")).Output()
				if err != nil {
					t.Fatalf("%s %q: sh: %v: %s", c.ID, name, err, cmd)
				}
				args := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
				for i, a := range args {
					if !strings.HasPrefix(a, "--") || !strings.HasSuffix(a, "-name") && !strings.Contains(a, "-name=") {
						continue
					}
					flag, val, glued := strings.Cut(a, "=")
					if !glued {
						if i+1 == len(args) {
							t.Fatalf("%s: %s has no value: %s", c.ID, a, cmd)
						}
						val = args[i+1]
						if strings.HasPrefix(val, "-") {
							t.Errorf("%s: %s value %q starts with '-' as a separate argument: %s", c.ID, flag, val, cmd)
						}
					}
					if strings.ToUpper(val) == val && !strings.ContainsAny(val, "=-' ;$`") {
						continue // a placeholder such as GROUP_NAME or a fixed policy name
					}
					if val != name && !strings.HasPrefix(val, "Require") {
						t.Errorf("%s: %s got %q, want %q: %s", c.ID, flag, val, name, cmd)
					}
				}
			}
		}
	}
}
