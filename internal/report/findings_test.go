package report

import (
	"bytes"
	"encoding/csv"
	"fmt"
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
	// One line per finding, so that wc -l, grep and sort work: header + len(fs).
	if n := bytes.Count(buf.Bytes(), []byte("\n")); n != len(fs)+1 {
		t.Errorf("%d lines for %d findings", n, len(fs))
	}

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

// TestFindingsCSVOneLine: line breaks in free text (a suppression reason, a message)
// never split a finding over two lines; commands are joined with CommandSeparator.
func TestFindingsCSVOneLine(t *testing.T) {
	fs := []checks.Finding{{ID: "1", Message: "two\nlines", SuppressionReason: "a\r\nb",
		Remediation: checks.Remediation{Commands: []string{"aws iam a", "aws iam b  # note"}}}}
	var buf bytes.Buffer
	if err := WriteFindingsCSV(&buf, fs); err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(buf.Bytes(), []byte("\n")); n != 2 {
		t.Fatalf("%d lines:\n%s", n, buf.String())
	}
	rows, err := csv.NewReader(bytes.NewReader(buf.Bytes())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if rows[1][14] != "aws iam a ;; aws iam b  # note" || rows[1][9] != "two lines" || rows[1][17] != "a b" {
		t.Errorf("row %q", rows[1])
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
			if strings.Contains(out, "%!") {
				t.Errorf("format error in:\n%s", out)
			}
			first := strings.SplitN(out, "\n", 3)[1]
			if !strings.HasPrefix(first, map[string]string{"en": "[CRITICAL] ", "es": "[CRÍTICO] "}[lang]) {
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

// TestSummaryOptions: the finding lines are capped (most severe first) with a pointer
// to the CSV, resolved findings are counted and named (up to 10), Spanish tags.
func TestSummaryOptions(t *testing.T) {
	var fs, resolved []checks.Finding
	for i := range 60 {
		sev := checks.Low
		if i == 59 {
			sev = checks.Critical // last given, first printed
		}
		fs = append(fs, checks.Finding{ID: fmt.Sprint(i), Severity: sev, AccountName: "A", User: fmt.Sprintf("u%02d", i), Message: "m", State: checks.StateNew})
		resolved = append(resolved, checks.Finding{ID: fmt.Sprint("r", i), Severity: checks.Medium, AccountName: "A", User: fmt.Sprintf("r%02d", i), Message: "gone", State: checks.StateResolved})
	}
	sc := score.Compute(&inventory.Inventory{}, fs, fnow, checks.DefaultConfig())
	cases := []struct {
		name  string
		opts  SummaryOptions
		lines int // finding lines
		want  []string
	}{
		{"default 50", SummaryOptions{FindingsFile: "out/findings.csv"}, 50, []string{"… and 10 more findings: see out/findings.csv"}},
		{"custom 5", SummaryOptions{MaxFindings: 5}, 5, []string{"… and 55 more findings: see the findings CSV"}},
		{"all", SummaryOptions{MaxFindings: -1}, 60, nil},
		{"resolved", SummaryOptions{MaxFindings: 1, Resolved: resolved[:12]}, 1 + 10, []string{"Resolved since the previous run: 12", "  … and 2 more", "  [MEDIUM] A/r00: gone"}},
		{"spanish", SummaryOptions{Lang: "es", MaxFindings: 2, FindingsFile: "f.csv"}, 2, []string{"[CRÍTICO] A/u59: m", "[BAJO] A/u00: m", "… y 58 hallazgos más: vea f.csv"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteSummaryWith(&buf, fs, sc, nil, c.opts); err != nil {
				t.Fatal(err)
			}
			out := buf.String()
			n := 0
			for _, l := range strings.Split(out, "\n") {
				if strings.Contains(l, "] A/") {
					n++
				}
			}
			if n != c.lines {
				t.Errorf("%d finding lines, want %d:\n%s", n, c.lines, out)
			}
			if first := strings.SplitN(out, "\n", 3)[1]; !strings.Contains(first, "A/u59") {
				t.Errorf("first line %q is not the most severe", first)
			}
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("no %q in:\n%s", w, out)
				}
			}
		})
	}
}

// TestSummaryUnknown: figures built on incomplete data print "unknown", never a
// number from missing data; singular forms for one user or key.
func TestSummaryUnknown(t *testing.T) {
	inv := &inventory.Inventory{Accounts: []inventory.Account{
		{ID: "111122223333", Name: "P", Status: inventory.StatusPartial,
			Users: []inventory.User{{Name: "a", PasswordEnabled: true, MFAActive: true, CreatedAt: fnow,
				AccessKeys: []inventory.AccessKey{{ID: "K", Status: "Active", CreatedAt: fnow.AddDate(-1, 0, 0)}}}},
			Gaps: []inventory.Gap{userGap("111122223333", inventory.SectionMFA, "b", inventory.FieldMFA)}},
	}}
	for _, lang := range []string{"en", "es"} {
		var buf bytes.Buffer
		fs := checks.Run(inv, fnow, checks.DefaultConfig())
		sc := score.Compute(inv, fs, fnow, checks.DefaultConfig())
		if err := WriteSummary(&buf, fs, sc, nil, lang); err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		want := map[string][]string{
			// high 1, medium 1, low 2: 40 + round(60·9/49) = 51 of what is known; the
			// original dashboard's formula: 4 (key 181–365 days) + 3 (never signed in).
			"en": {`Phase 1 "MFA": unknown (MFA coverage unknown`, "Organization risk score: unknown (at least 51/100", "risk unknown (at least 51/100", "incomplete data: mfa",
				"Original dashboard's risk score, for comparison: unknown (at least 7/100", "original dashboard's risk unknown (at least 7/100)",
				`Phase 2 "Use temporary credentials": not complete (1 active key older than 90 days)`},
			"es": {`Fase 1 "MFA": desconocida (cobertura de MFA desconocida`, "organización: desconocida (al menos 51/100", "riesgo desconocido (al menos 51/100",
				"panel original, para comparar: desconocida (al menos 7/100", "datos incompletos: mfa", "1 access key activa con más de 90 días"},
		}[lang]
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: no %q in:\n%s", lang, w, out)
			}
		}
		if strings.Contains(out, "% of") || strings.Contains(out, "risk score: 0") {
			t.Errorf("%s: a figure from missing data:\n%s", lang, out)
		}
	}
}

// TestSummaryOfStreamedRun: a streamed run's summary outcome holds only the most
// severe findings (and resolved ones); the summary counts them all from the scores
// (and ResolvedCount) and says how many more there are, never the few it holds.
func TestSummaryOfStreamedRun(t *testing.T) {
	fs, sc, _ := findingsFixture(t)
	open, sup := split(fs)
	if len(open) < 3 || len(sup) < 1 {
		t.Fatalf("fixture: %d open, %d suppressed", len(open), len(sup))
	}
	var buf bytes.Buffer
	resolved := []checks.Finding{fs[0]}
	if err := WriteSummaryWith(&buf, fs[:1], sc, nil, SummaryOptions{FindingsFile: "f.csv", Resolved: resolved, ResolvedCount: 7}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		fmt.Sprintf("Findings: %d (%d suppressed)", len(open), len(sup)),
		fmt.Sprintf("… and %d more findings: see f.csv", len(open)-1),
		fmt.Sprintf("… and %d more suppressed findings", len(sup)),
		"Resolved since the previous run: 7", "… and 6 more",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
}
