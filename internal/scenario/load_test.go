package scenario

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// base is a minimal valid scenario; tests append to or alter it.
const base = `name: t
organization:
  management_account_id: "210987654321"
accounts:
  - id: "210987654321"
    name: Management
`

func TestParseMinimal(t *testing.T) {
	s, err := Parse("x.yaml", []byte(base))
	if err != nil {
		t.Fatal(err)
	}
	o := s.Organization
	if o.Partition != "aws" || o.CallerName != "audit-runner" || !reOrgID.MatchString(o.ID) ||
		!reKeyID.MatchString(o.AccessKeyID) || len(o.SecretAccessKey) != 40 {
		t.Errorf("organization defaults not filled: %+v", o)
	}
	a := s.Accounts[0]
	if a.State != StateActive || a.AuditRoles == nil || len(a.AuditRoles) != 0 || a.Root.MFA != MFANone || a.Root.CreatedAt == nil {
		t.Errorf("management account defaults: %+v", a)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"short account id", base + `  - id: "12345"
    name: Production
`, `x.yaml:7: account "Production": id "12345" must be 12 digits`},
		{"duplicate account id", base + `  - id: "210987654321"
    name: Copy
`, `x.yaml:7: account "Copy": id "210987654321" is already used by account "Management"`},
		{"unknown field", base + `    colour: blue
`, `x.yaml:7: unknown field "colour": see examples/scenario.yaml for the fields of each section`},
		{"bad date", base + `    root:
      created_at: -3 days
`, `x.yaml:8: invalid relative date "-3 days": days must be a whole number, as in "400d"`},
		{"date needs a sign", base + `    root:
      password_last_used: 30d
`, `x.yaml:8: invalid date "30d": a relative date needs a sign ("-30d" is in the past)`},
		{"bad duration", base + `knobs:
  report_generation: soon
`, `x.yaml:8: invalid duration "soon": write it as "250ms", "2s" or "1h"`},
		{"management not an account", `name: t
organization:
  management_account_id: "999999999999"
accounts:
  - id: "210987654321"
    name: Management
`, `x.yaml:3: organization: management_account_id "999999999999" is not one of the accounts: add it under accounts`},
		{"missing management", `name: t
organization:
  partition: aws
accounts:
  - id: "210987654321"
    name: Management
`, `x.yaml:2: organization: management_account_id is required: the id of one of the accounts`},
		{"bad state", base + `    state: DELETED
`, `x.yaml:7: account "Management": state "DELETED" must be one of ACTIVE, SUSPENDED, PENDING_CLOSURE, CLOSED`},
		{"unknown ou", base + `    ou: Prod
`, `x.yaml:7: account "Management": ou "Prod" is not defined under organization.ous`},
		{"bad mfa type", base + `    users:
      - name: bob
        mfa:
          - type: sms
`, `x.yaml:10: account "Management": user "bob": mfa 1: type "sms" must be one of virtual, hardware, fido`},
		{"bad key status", base + `    users:
      - name: bob
        access_keys:
          - status: Disabled
`, `x.yaml:10: account "Management": user "bob": access key 1: status "Disabled" must be Active, Inactive or Expired`},
		{"three keys", base + `    users:
      - name: bob
        access_keys:
          - {}
          - {}
          - {}
`, `x.yaml:12: account "Management": user "bob": at most 2 access keys (IAM's limit), found 3`},
		{"three root keys", base + `    root:
      access_keys: [{}, {}, {}]
`, `x.yaml:8: account "Management": root: at most 2 access keys (IAM's limit), found 3`},
		{"duplicate user", base + `    users:
      - name: bob
      - name: Bob
`, `x.yaml:9: account "Management": user "Bob": user name used twice in the account (IAM names are case-insensitive)`},
		{"unknown group", base + `    users:
      - name: bob
        groups: [Admins]
`, `x.yaml:9: account "Management": user "bob": group "Admins" is not defined in the account's groups`},
		{"negative rate", base + `knobs:
  rate_limits:
    iam: -1
`, `x.yaml:9: knobs: rate_limits: iam must be 0 (no limit) or more requests per second`},
		{"fault rate above 1", base + `knobs:
  faults:
    - error: Throttling
      rate: 1.5
`, `x.yaml:10: knobs: fault 1: rate 1.5 must be between 0 and 1`},
		{"negative page cap", base + `knobs:
  page_cap: -1
`, `x.yaml:8: knobs: page_cap -1 must be 0 (no cap) or more`},
		{"bad audit role state", base + `    audit_roles: {IAMAuditRole: gone}
`, `x.yaml:7: account "Management": audit role "IAMAuditRole": state "gone" must be one of present, missing, untrusted`},
		{"duplicate key id", base + `    users:
      - name: bob
        access_keys: [{id: AKIAIOSFODNN7EXAMPLE}]
      - name: alice
        access_keys: [{id: AKIAIOSFODNN7EXAMPLE}]
`, `x.yaml:11: account "Management": user "alice": access key 1: id "AKIAIOSFODNN7EXAMPLE" is already used at accounts[0].users[0].access_keys[0]`},
		{"bad key id", base + `    users:
      - name: bob
        access_keys: [{id: akia123}]
`, `x.yaml:9: account "Management": user "bob": access key 1: id "akia123" must be AKIA followed by upper-case letters and digits (20 characters, as AKIAIOSFODNN7EXAMPLE)`},
		{"service without last use", base + `    users:
      - name: bob
        access_keys:
          - service: s3
`, `x.yaml:10: account "Management": user "bob": access key 1: service and region describe the last use: set last_used too (or remove them for a never-used key)`},
		{"last use before creation", base + `    users:
      - name: bob
        access_keys:
          - created_at: -10d
            last_used: -20d
`, `x.yaml:11: account "Management": user "bob": access key 1: last_used -20d is before the creation (-10d)`},
		{"bad policy json", base + `    users:
      - name: bob
        inline_policies:
          p: '{"Statement": ['
`, `x.yaml:10: account "Management": user "bob": inline policy "p": document is not valid JSON: unexpected end of JSON input`},
		{"relative now", `now: -1d
` + base, `x.yaml:1: now must be an absolute date such as "2026-03-01 12:00:00" (it fixes the sandbox clock)`},
		{"ou cycle", `name: t
organization:
  management_account_id: "210987654321"
  ous:
    - {name: A, parent: B}
    - {name: B, parent: A}
accounts:
  - id: "210987654321"
    name: Management
`, "x.yaml:5: ou \"A\": parents form a cycle\nx.yaml:6: ou \"B\": parents form a cycle"},
		{"generator too big", base + `generator: {seed: 1, accounts: 5000, users_per_account: 1000}
`, `x.yaml:7: generator: 5000 accounts × 1000 users is more than 2000000 users`},
		{"wrong type", base + `    users: bob
`, `x.yaml:7: string was used where sequence is expected`},
		{"empty", ``, `x.yaml: empty scenario: see examples/scenario.yaml for the format`},
		{"not a mapping", `- a
- b
`, `x.yaml:1: a scenario is a mapping with name, organization and accounts: see examples/scenario.yaml`},
		{"custom tag", base + `    email: !secret x
`, `x.yaml:7: YAML tag !secret is not supported in a scenario: remove it`},
		{"syntax", "name: [\n", `x.yaml:1: sequence end token ']' not found`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("x.yaml", []byte(tt.src))
			if err == nil {
				t.Fatalf("Parse succeeded, want error %q", tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("error:\n got %q\nwant %q", err.Error(), tt.want)
			}
		})
	}
}

func TestLoadNamesTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.yaml")
	if err := os.WriteFile(path, []byte(base+"  - id: \"1\"\n    name: P\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	if err == nil || err.Error() != path+`:7: account "P": id "1" must be 12 digits` {
		t.Errorf("Load error = %v", err)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.yaml")); err == nil || !strings.Contains(err.Error(), "read scenario") {
		t.Errorf("Load of a missing file: %v", err)
	}
}

func TestNormaliseIdsAndSerials(t *testing.T) {
	src := `name: t
organization:
  management_account_id: "210987654321"
  ous: [{name: Prod}]
accounts:
  - id: "210987654321"
    name: Management
  - id: "345678901234"
    name: Production
    ou: Prod
    policies:
      - {name: mine, document: '{"Statement":[]}'}
    users:
      - name: bob
        created_at: -100d
        attached_policies: [AdministratorAccess, mine]
        password: {}
        mfa: [{type: virtual}, {type: fido}, {type: hardware}, {type: virtual}]
        access_keys: [{}, {status: Inactive, last_used: -1d}]
`
	s1, err := Parse("x.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	s2, _ := Parse("x.yaml", []byte(src))
	p := s1.Accounts[1]
	u := p.Users[0]
	if got := p.AuditRoles; len(got) != 2 || got["IAMAuditRole"] != RolePresent || got["OrganizationAccountAccessRole"] != RolePresent {
		t.Errorf("member audit roles = %v", got)
	}
	if !regexp.MustCompile(`^ou-[a-z0-9]{4}-[a-z0-9]{8}$`).MatchString(s1.Organization.OUs[0].ID) {
		t.Errorf("OU id %q", s1.Organization.OUs[0].ID)
	}
	wantPolicies := []string{"arn:aws:iam::aws:policy/AdministratorAccess", "arn:aws:iam::345678901234:policy/mine"}
	if strings.Join(u.AttachedPolicies, " ") != strings.Join(wantPolicies, " ") {
		t.Errorf("attached policies = %v", u.AttachedPolicies)
	}
	reGen := regexp.MustCompile(`^AKIA[A-Z2-7]{16}$`)
	for i, k := range u.AccessKeys {
		if !reGen.MatchString(k.ID) || k.ID != s2.Accounts[1].Users[0].AccessKeys[i].ID {
			t.Errorf("key %d id %q not generated deterministically", i, k.ID)
		}
		if k.CreatedAt == nil || *k.CreatedAt != *u.CreatedAt {
			t.Errorf("key %d created_at %v, want the user's", i, k.CreatedAt)
		}
	}
	if u.AccessKeys[0].ID == u.AccessKeys[1].ID || u.AccessKeys[0].Status != KeyActive {
		t.Errorf("keys: %+v", u.AccessKeys)
	}
	if k := u.AccessKeys[1]; k.Service != "sts" || k.Region != "us-east-1" {
		t.Errorf("last-use defaults: %+v", k)
	}
	if k := u.AccessKeys[0]; k.Service != "" || k.LastUsed != nil {
		t.Errorf("never-used key got last-use data: %+v", k)
	}
	serials := []string{u.MFA[0].Serial, u.MFA[1].Serial, u.MFA[2].Serial, u.MFA[3].Serial}
	if serials[0] != "arn:aws:iam::345678901234:mfa/bob" ||
		!regexp.MustCompile(`^arn:aws:iam::345678901234:u2f/user/bob/[A-Z2-7]{26}$`).MatchString(serials[1]) ||
		!regexp.MustCompile(`^GAHT[0-9]{8}$`).MatchString(serials[2]) ||
		serials[3] != "arn:aws:iam::345678901234:mfa/bob-4" {
		t.Errorf("MFA serials = %q", serials)
	}
	if u.Password.CreatedAt == nil || *u.Password.CreatedAt != *u.CreatedAt || *u.MFA[0].EnabledAt != *u.CreatedAt {
		t.Errorf("password / MFA dates not defaulted to the user's creation")
	}
}
