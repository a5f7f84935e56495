package report

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/inventory"
	"github.com/iamaudit/iamaudit/internal/score"
	"github.com/iamaudit/iamaudit/internal/suppress"
)

var fnow = time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC)

func fago(d int) *time.Time { t := fnow.Add(-time.Duration(d) * 24 * time.Hour); return &t }

// findingsFixture is a small Organization with findings of several kinds, one
// suppressed finding, one expired rule and a user name crafted for CSV injection.
func findingsFixture(t *testing.T) ([]checks.Finding, score.Scores, []suppress.Rule) {
	t.Helper()
	prod := inventory.Account{ID: "111122223333", Name: "Production", State: "ACTIVE", Status: inventory.StatusAudited,
		PasswordPolicyKnown: true, PasswordPolicy: &inventory.PasswordPolicy{MinimumPasswordLength: 8, PasswordReusePrevention: 24},
		Root: &inventory.Root{ARN: "arn:aws:iam::111122223333:root", MFAType: inventory.MFANone},
		Roles: []inventory.Role{{Name: "Support", ARN: "arn:aws:iam::111122223333:role/Support", CreatedAt: *fago(10), LastUsedAt: fago(1),
			AttachedPolicies: []inventory.AttachedPolicy{{Name: "AWSSupportAccess", ARN: "arn:aws:iam::aws:policy/AWSSupportAccess"}}}},
		Users: []inventory.User{
			{Name: "john.doe", ARN: "arn:aws:iam::111122223333:user/john.doe", CreatedAt: *fago(3000), PasswordEnabled: true, PasswordLastUsed: fago(2),
				Tags:       map[string]string{"Owner": "john@example.com"},
				AccessKeys: []inventory.AccessKey{{ID: "AKIAIOSFODNN7EXAMPLE", Status: "Active", CreatedAt: *fago(2716), LastUsedAt: fago(1), LastUsedService: "s3"}}},
			{Name: "=HYPERLINK(\"x\")", ARN: "arn:aws:iam::111122223333:user/=HYPERLINK(\"x\")", CreatedAt: *fago(30), Tags: map[string]string{"Team": "x"},
				AccessKeys: []inventory.AccessKey{{ID: "AKIANEVERUSED0000001", Status: "Active", CreatedAt: *fago(20)}}},
		}}
	dev := inventory.Account{ID: "444455556666", Name: "Development-Sandbox", State: "ACTIVE", Status: inventory.StatusNotAudited,
		Reason: "AccessDenied: cannot assume IAMAuditRole; deploy it with the StackSet"}
	inv := &inventory.Inventory{Accounts: []inventory.Account{prod, dev}}
	cfg := checks.DefaultConfig()
	fs := checks.Run(inv, fnow, cfg)
	rules, err := suppress.Parse("suppressions.yaml", []byte(`suppressions:
  - check: access_key_never_used
    user: "=HYPERLINK*"
    reason: new CI user, keys issued this sprint
    expires: 2026-04-01
  - check: root_mfa_disabled
    reason: old exception
    expires: 2026-01-01
`))
	if err != nil {
		t.Fatal(err)
	}
	expired := suppress.Apply(fs, rules, fnow)
	return fs, score.Compute(inv, fs, fnow, cfg), expired
}

func TestWriteFindingsCSV(t *testing.T) {
	fs, _, _ := findingsFixture(t)
	var buf bytes.Buffer
	if err := WriteFindingsCSV(&buf, fs); err != nil {
		t.Fatal(err)
	}
	golden(t, "findings.csv", buf.Bytes())

	rows, err := csv.NewReader(bytes.NewReader(buf.Bytes())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(fs)+1 || strings.Join(rows[0], ",") != strings.Join(FindingsColumns, ",") {
		t.Fatalf("rows %d header %v", len(rows), rows[0])
	}
	for _, r := range rows[1:] {
		if len(r) != len(FindingsColumns) {
			t.Fatalf("row has %d cells", len(r))
		}
		for _, c := range r {
			if c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
				t.Errorf("unsafe cell %q", c)
			}
		}
	}
	found := false
	for _, r := range rows[1:] {
		if r[8] == `'=HYPERLINK("x")` {
			found = true
		}
	}
	if !found {
		t.Error("the crafted user name was not neutralised with a leading quote")
	}
}

func TestWriteFindingsCSVEmpty(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteFindingsCSV(&buf, nil); err != nil {
		t.Fatal(err)
	}
	if buf.String() != strings.Join(FindingsColumns, ",")+"\n" {
		t.Errorf("empty findings: %q", buf.String())
	}
}

func TestWriteSummary(t *testing.T) {
	fs, sc, expired := findingsFixture(t)
	for _, lang := range []string{"en", "es"} {
		t.Run(lang, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteSummary(&buf, fs, sc, expired, lang); err != nil {
				t.Fatal(err)
			}
			golden(t, "summary_"+lang+".txt", buf.Bytes())
			out := buf.String()
			first := strings.SplitN(out, "\n", 3)[1]
			if !strings.HasPrefix(first, "[CRITICAL] ") {
				t.Errorf("first finding line %q is not the most severe", first)
			}
			if !strings.Contains(out, "(suppressed: new CI user") && !strings.Contains(out, "(suprimido: new CI user") {
				t.Error("suppressed finding not marked")
			}
			if !strings.Contains(out, "root_mfa_disabled") {
				t.Error("expired rule not reported")
			}
		})
	}
	var buf bytes.Buffer
	if err := WriteSummary(&buf, nil, score.Compute(&inventory.Inventory{}, nil, fnow, checks.DefaultConfig()), nil, "en"); err != nil {
		t.Fatal(err)
	}
	golden(t, "summary_empty.txt", buf.Bytes())
}
