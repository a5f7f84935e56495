package permissions

import (
	"encoding/json"
	"flag"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"

	"github.com/iamaudit/iamaudit/internal/fix"
	"github.com/iamaudit/iamaudit/internal/remediate"
)

var update = flag.Bool("update", false, "rewrite deploy/iamaudit-role.yaml and the generated blocks of docs/permissions.md")

// deploy/iamaudit-role.yaml and docs/permissions.md are generated from the lists of
// this package: a hand edit, or a change to the lists without regenerating, fails.
func TestGeneratedFilesAreCurrent(t *testing.T) {
	const tmpl, doc = "../../deploy/iamaudit-role.yaml", "../../docs/permissions.md"
	if *update {
		if err := os.WriteFile(tmpl, []byte(StackSetTemplate()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(tmpl)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != StackSetTemplate() {
		t.Errorf("%s differs from `iamaudit policy stackset`: run go test ./internal/permissions -update", tmpl)
	}
	raw, err := os.ReadFile(doc)
	if err != nil {
		t.Fatal(err)
	}
	want, missing := ReplaceDocBlocks(string(raw))
	if len(missing) > 0 {
		t.Fatalf("%s has no markers for %v", doc, missing)
	}
	if *update {
		if err := os.WriteFile(doc, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		raw = []byte(want)
	}
	if string(raw) != want {
		t.Errorf("%s: a generated block is stale: run go test ./internal/permissions -update", doc)
	}
}

// The StackSet template's role allows exactly AuditRead (and, behind its condition,
// Security Hub's import on the account's own default product).
func TestStackSetTemplateAllowsExactlyTheList(t *testing.T) {
	t.Parallel()
	var tpl struct {
		Resources map[string]struct {
			Type       string         `yaml:"Type"`
			Condition  string         `yaml:"Condition"`
			Properties map[string]any `yaml:"Properties"`
		} `yaml:"Resources"`
	}
	if err := yaml.Unmarshal([]byte(StackSetTemplate()), &tpl); err != nil {
		t.Fatal(err)
	}
	role := tpl.Resources["AuditRole"]
	pols := role.Properties["Policies"].([]any)
	stmt := pols[0].(map[string]any)["PolicyDocument"].(map[string]any)["Statement"].([]any)[0].(map[string]any)
	var got []string
	for _, a := range stmt["Action"].([]any) {
		got = append(got, a.(string))
	}
	if !slices.Equal(got, Strings(AuditRead())) {
		t.Errorf("template allows %v, want %v", got, Strings(AuditRead()))
	}
	sh := tpl.Resources["SecurityHubImportPolicy"]
	if sh.Type != "AWS::IAM::RolePolicy" || sh.Condition != "ImportsFindings" {
		t.Errorf("Security Hub import policy: %+v", sh)
	}
}

func TestManagementPolicy(t *testing.T) {
	t.Parallel()
	d, err := ManagementPolicy(ManagementOptions{Partition: "aws-us-gov", Role: "/security/IAMAuditRole", SelfAudit: true,
		SecurityHub: true, S3: "s3://reports-bucket/iam/", KMSKey: "arn:aws-us-gov:kms:us-gov-west-1:111122223333:key/k",
		SNS: "arn:aws-us-gov:sns:us-gov-west-1:111122223333:audit"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"ListTheOrganization":        {"*"},
		"AssumeTheAuditRole":         {"arn:aws-us-gov:iam::*:role/security/IAMAuditRole"},
		"AuditThisAccount":           {"*"},
		"ImportThisAccountsFindings": {"arn:aws-us-gov:securityhub:*:*:product/*/default"},
		"UploadTheReports":           {"arn:aws-us-gov:s3:::reports-bucket/iam/*"},
		"EncryptTheReports":          {"arn:aws-us-gov:kms:us-gov-west-1:111122223333:key/k"},
		"PublishTheSummary":          {"arn:aws-us-gov:sns:us-gov-west-1:111122223333:audit"},
	}
	if len(d.Statement) != len(want) {
		t.Fatalf("statements %+v", d.Statement)
	}
	for _, s := range d.Statement {
		if !slices.Equal(s.Resource, want[s.Sid]) {
			t.Errorf("%s: resource %v, want %v", s.Sid, s.Resource, want[s.Sid])
		}
	}
	var back Document
	if err := json.Unmarshal(d.JSON(), &back); err != nil || back.Version != "2012-10-17" {
		t.Fatalf("JSON: %v %s", err, d.JSON())
	}
	if slices.Contains(d.Actions(), "organizations:ListRoots") {
		t.Error("organizations:ListRoots is not called by the collection")
	}
	plain, _ := ManagementPolicy(ManagementOptions{})
	if len(plain.Statement) != 2 || plain.Statement[1].Resource[0] != "arn:aws:iam::*:role/IAMAuditRole" {
		t.Errorf("default policy: %+v", plain.Statement)
	}
	if _, err := ManagementPolicy(ManagementOptions{S3: "https://bucket/x"}); err == nil {
		t.Error("an https URL accepted as --s3")
	}
}

func TestParseS3URL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in, bucket, prefix string
		ok                 bool
	}{
		{"s3://my-bucket", "my-bucket", "", true},
		{"s3://my-bucket/", "my-bucket", "", true},
		{"s3://my-bucket/a/b", "my-bucket", "a/b/", true},
		{"s3://my.bucket/a/b/", "my.bucket", "a/b/", true},
		{"s3://My-Bucket/a", "", "", false},
		{"s3://ab", "", "", false},
		{"s3://-bucket", "", "", false},
		{"s3://a..b", "", "", false},
		{"bucket/prefix", "", "", false},
	} {
		b, p, err := ParseS3URL(tc.in)
		if (err == nil) != tc.ok || b != tc.bucket || p != tc.prefix {
			t.Errorf("%s: %q %q %v", tc.in, b, p, err)
		}
	}
}

// Every operation internal/fix declares is reached by planning the recipes on the
// subjects RemediationActions uses: a new branch of fix.Plan that the subjects miss,
// or a new fix.API, fails here rather than leaving the role without it.
func TestRemediationCoversEveryFixAPI(t *testing.T) {
	t.Parallel()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "../fix/action.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var declared []Action
	ast.Inspect(f, func(n ast.Node) bool {
		cl, ok := n.(*ast.CompositeLit)
		if !ok {
			return true
		}
		if id, ok := cl.Type.(*ast.Ident); ok && id.Name == "API" && len(cl.Elts) == 2 {
			svc, _ := strconv.Unquote(cl.Elts[0].(*ast.BasicLit).Value)
			name, _ := strconv.Unquote(cl.Elts[1].(*ast.BasicLit).Value)
			declared = append(declared, Action{svc, name})
		}
		return true
	})
	if len(declared) < 20 {
		t.Fatalf("found only %d fix.API values in internal/fix/action.go", len(declared))
	}
	// Every declared call is planned by a recipe, or made by the remediation command
	// itself (re-reads, rollback, verification: remediate.APIs), and the remediation
	// role's policy (`iamaudit policy remediation-role`) holds it.
	planned := append(RemediationActions(fix.InAccount), RemediationActions(fix.InManagement)...)
	for _, api := range remediate.APIs() {
		planned = append(planned, Action{api.Service, api.Name})
	}
	full := RemediationRolePolicy(remediate.APIs()...).Actions()
	for _, a := range declared {
		if !slices.Contains(planned, a) {
			t.Errorf("%s is declared in internal/fix but neither a recipe nor the remediation command makes it", a)
		}
		if a.Service == "iam" && slices.Contains(planned, a) && !slices.Contains(full, a.String()) && !slices.Contains(RemediationActions(fix.InManagement), a) {
			t.Errorf("the remediation role's policy lacks %s", a)
		}
	}
	role := RemediationRolePolicy().Actions()
	for _, w := range []string{"iam:UpdateAccessKey", "iam:DeleteAccessKey", "iam:PutUserPolicy", "iam:DetachUserPolicy", "iam:ListMFADevices"} {
		if !slices.Contains(role, w) {
			t.Errorf("remediation role lacks %s", w)
		}
	}
	for _, a := range role {
		if strings.HasPrefix(a, "cloudformation:") || a == "sts:AssumeRole" {
			t.Errorf("remediation role has %s, which the management identity runs", a)
		}
	}
}

// AuditRead holds only reads: a write in the audit role's list would be a bug.
func TestAuditReadIsReadOnly(t *testing.T) {
	t.Parallel()
	for _, a := range AuditRead() {
		if !(strings.HasPrefix(a.Name, "Get") || strings.HasPrefix(a.Name, "List") || strings.HasPrefix(a.Name, "Lookup") ||
			a.String() == "iam:GenerateCredentialReport") {
			t.Errorf("%s is not a read", a)
		}
	}
}
