package report

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/inventory"
	"github.com/iamaudit/iamaudit/internal/outcome"
)

// markdownOutcome is the seed fixture evaluated, plus an account not audited, one
// never reached and a gap, with hostile names.
func markdownOutcome() *outcome.Outcome {
	inv := fixture()
	inv.Organization = &inventory.Organization{ID: "o-example"}
	inv.RunID, inv.StartedAt, inv.Partition, inv.Tool, inv.Version = "20260305_000000", ts("2026-03-05 00:00:00"), "aws", "iamaudit", "test"
	inv.Accounts = append(inv.Accounts,
		inventory.Account{ID: "333333333333", Name: "<script>alert(1)</script>|x", State: "ACTIVE", Status: inventory.StatusNotAudited,
			Reason: "cannot assume role [a](http://evil)"},
		inventory.Account{ID: "444444444444", Name: "Later", State: "ACTIVE", Status: inventory.StatusNotReached, Reason: "not reached: the run was interrupted"})
	inv.Accounts[0].Gaps = append(inv.Accounts[0].Gaps, inventory.Gap{AccountID: inv.Accounts[0].ID, Section: inventory.SectionMFA, Subject: "bob_*x*",
		Operation: "iam:ListMFADevices", ErrorCode: "AccessDenied", Message: "MFA devices unknown", Unknown: []inventory.Field{inventory.FieldMFA}})
	inv.Accounts[0].Status = inventory.StatusPartial
	return outcome.Evaluate(outcome.CommandRun, inv, ts("2026-03-05 00:00:00"), outcome.Settings{Checks: checks.DefaultConfig()}, nil)
}

func TestMarkdownGolden(t *testing.T) {
	for _, lang := range []string{"en", "es"} {
		t.Run(lang, func(t *testing.T) {
			m, _ := MessagesFor(lang)
			var b bytes.Buffer
			if err := markdownFormat.Write(&b, markdownOutcome(), m); err != nil {
				t.Fatal(err)
			}
			golden(t, "summary_"+lang+".md", b.Bytes())
			out := b.String()
			// A hostile name neither becomes HTML, a link, nor an extra table column.
			for _, bad := range []*regexp.Regexp{regexp.MustCompile(`<script>`), regexp.MustCompile(`[^\\]\]\(http`), regexp.MustCompile(`[^\\]\|x `)} {
				if bad.MatchString(out) {
					t.Errorf("unescaped %s in:\n%s", bad, out)
				}
			}
		})
	}
}

func TestMarkdownEscape(t *testing.T) {
	for in, want := range map[string]string{
		"alice":                   "alice",
		"a|b":                     `a\|b`,
		"<img src=x onerror=y>":   "&lt;img src=x onerror=y&gt;",
		"[x](javascript:alert())": `\[x\](javascript:alert())`,
		"line\nbreak":             "line break",
		"bidi\u202eevil":          "bidi\uFFFDevil",
		"esc\x1b[31m":             "esc\uFFFD\\[31m",
		"ci-us-east-1.user@x.com": "ci-us-east-1.user@x.com",
	} {
		if got := md(in); got != want {
			t.Errorf("md(%q) = %q, want %q", in, got, want)
		}
	}
}

// Every registered format has a distinct file name for a run, and writes something.
func TestFormatsRegistry(t *testing.T) {
	seen := map[string]string{}
	o := markdownOutcome()
	m, _ := MessagesFor("en")
	for _, f := range Formats() {
		name := f.FileName("20260305_000000")
		if prev, ok := seen[name]; ok {
			t.Errorf("%s and %s both write %s", prev, f.Name, name)
		}
		seen[name] = f.Name
		var b bytes.Buffer
		if err := f.Write(&b, o, m); err != nil || b.Len() == 0 {
			t.Errorf("%s: %d bytes, %v", f.Name, b.Len(), err)
		}
	}
	if _, err := SelectFormats([]string{"json", "nope"}); err == nil || !strings.Contains(err.Error(), "markdown") {
		t.Errorf("unknown format: %v", err)
	}
	got, err := SelectFormats([]string{"markdown", "json"})
	if err != nil || len(got) != 2 || got[0].Name != "json" {
		t.Errorf("selection keeps registry order: %v %v", got, err)
	}
}
