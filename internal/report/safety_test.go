package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/inventory"
	"github.com/iamaudit/iamaudit/internal/score"
)

// hostileText holds every character issue 13 (defect 6) names: ESC (a terminal escape
// sequence that clears the screen), BEL, CR, NUL, U+202E (right-to-left override) and
// a newline followed by a forged line.
const hostileText = "ops\x1b[2J\x07\rA\x00B\u202Egnp.exe\n[CRITICAL] forged/line: all clear"

// raw reports the first raw control or bidirectional character in s ("" when none),
// newlines allowed when lines is true.
func raw(s string, lines bool) string {
	for _, r := range s {
		if lines && r == '\n' {
			continue
		}
		if unsafeRune(r) {
			return strings.ToValidUTF8(string(r), "?")
		}
	}
	return ""
}

func TestPrintable(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"plain name":         "plain name",
		"José Müller 李":      "José Müller 李",
		"a\x1b[31mred":       `a\x1b[31mred`,
		"bell\a":             `bell\x07`,
		"nul\x00":            `nul\x00`,
		"cr\rlf\n":           `cr\rlf\n`,
		"tab\t":              `tab\t`,
		"del\x7f":            `del\x7f`,
		"c1\u009b2J":         `c1\u009b2J`,
		"rlo\u202Eexe":       `rlo\u202eexe`,
		"isolate\u2066x":     `isolate\u2066x`,
		"sep\u2028":          `sep\u2028`,
		"bad\xffutf8":        `bad\xffutf8`,
		"back\\slash":        `back\slash`,
		"":                   "",
		"=formula@+-":        "=formula@+-", // formulas are the CSV writers' business (safeCell)
		"zero\u200bwidth ok": "zero\u200bwidth ok",
	} {
		if got := Printable(in); got != want {
			t.Errorf("Printable(%q) = %q, want %q", in, got, want)
		}
	}
}

// Control characters from AWS are neutralised in both seed CSVs and in the findings
// CSV (one line per row, nothing a terminal or spreadsheet would act on), and kept
// exact in the JSON.
func TestCSVNeutralisesControlCharacters(t *testing.T) {
	t.Parallel()
	created := ts("2024-01-02 03:04:05")
	inv := &inventory.Inventory{Accounts: []inventory.Account{{ID: "123456789012", Name: hostileText, Status: inventory.StatusAudited,
		Users: []inventory.User{{Name: hostileText, AccessKeys: []inventory.AccessKey{{ID: "AKIA1", Status: "Active", CreatedAt: created, LastUsedService: hostileText, LastUsedAt: &created}}}},
		Events: []inventory.Event{{ID: "e", Time: created, Name: "CreateUser", Username: hostileText,
			Resources: []inventory.EventResource{{Type: "AWS::IAM::User", Name: hostileText}}}},
	}}}
	m, _ := MessagesFor("en")
	var iamCSV, eventsCSV, findingsCSV bytes.Buffer
	if err := WriteCSV(&iamCSV, IAMReportHeader, IAMReportRows(inv, m)); err != nil {
		t.Fatal(err)
	}
	if err := WriteCSV(&eventsCSV, EventsReportHeader, EventRows(inv)); err != nil {
		t.Fatal(err)
	}
	f := checks.Finding{ID: "x", CheckID: "console_without_mfa", AccountID: "123456789012", AccountName: hostileText, User: hostileText,
		Resource: hostileText, Message: hostileText, Evidence: map[string]string{"k": hostileText}, SuppressionReason: hostileText}
	if err := WriteFindingsCSV(&findingsCSV, []checks.Finding{f}); err != nil {
		t.Fatal(err)
	}
	for name, out := range map[string]string{"iam report": iamCSV.String(), "events": eventsCSV.String(), "findings": findingsCSV.String()} {
		if c := raw(out, true); c != "" {
			t.Errorf("%s CSV holds a raw %q:\n%q", name, c, out)
		}
		if n := strings.Count(out, "\n"); n != 2 {
			t.Errorf("%s CSV has %d lines, want 2 (header and one row): a newline in a value split a row\n%s", name, n, out)
		}
		if !strings.Contains(out, `\x1b[2J`) || !strings.Contains(out, `\u202e`) {
			t.Errorf("%s CSV does not show the escapes visibly:\n%s", name, out)
		}
	}

	var js bytes.Buffer
	if err := WriteJSON(&js, Document{Inventory: inv}); err != nil {
		t.Fatal(err)
	}
	var back Document
	if err := json.Unmarshal(js.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if back.Inventory == nil || back.Inventory.Accounts[0].Name != hostileText || back.Inventory.Accounts[0].Users[0].Name != hostileText {
		t.Errorf("the JSON does not keep the values exact")
	}
}

// A newline in an account name cannot forge a summary line; ESC and the others do
// not reach the terminal.
func TestSummaryNeutralisesControlCharacters(t *testing.T) {
	t.Parallel()
	f := checks.Finding{ID: "x", CheckID: "console_without_mfa", Severity: checks.High, AccountID: "123456789012",
		AccountName: hostileText, User: hostileText, Message: hostileText, ResourceType: checks.ResourceUser}
	scores := score.Scores{Accounts: []score.Score{{AccountID: "123456789012", AccountName: hostileText, Audited: true}}}
	var b bytes.Buffer
	if err := WriteSummaryWith(&b, []checks.Finding{f}, scores, nil, SummaryOptions{Lang: "en"}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if c := raw(out, true); c != "" {
		t.Errorf("the summary holds a raw %q:\n%q", c, out)
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "[CRITICAL] forged") {
			t.Errorf("a newline in a name forged a summary line:\n%s", out)
		}
	}
}

// Defect 3: keys that could not be listed are not "a user without keys": the seed
// CSV says Unknown in the key columns, and the total is a lower bound that says how
// many users' keys are unknown.
func TestUnknownKeysAreNotNoKeys(t *testing.T) {
	t.Parallel()
	const acct = "123456789012"
	created := ts("2024-01-02 03:04:05")
	listFailed := func(user string) inventory.Gap {
		g := inventory.NewGap(acct, inventory.SectionAccessKeys, []inventory.Field{inventory.FieldAccessKeys}, "AccessDenied")
		g.Subject = user
		return g
	}
	inv := &inventory.Inventory{Accounts: []inventory.Account{{ID: acct, Name: "Prod", Status: inventory.StatusPartial,
		Users: []inventory.User{
			{Name: "ana", AccessKeys: []inventory.AccessKey{{ID: "AKIAANA", Status: "Active", CreatedAt: created}}},
			{Name: "ben"}, // listed: no keys
			{Name: "cai"}, // keys unknown
			{Name: "dan"}, // keys unknown
		},
		Gaps: []inventory.Gap{listFailed("cai"), listFailed("dan")},
	}}}
	for lang, want := range map[string]struct{ ben, cai, total string }{
		"en": {"Prod,ben,Not configured,Never,,,,,,None", "Prod,cai,Not configured,Never,Unknown,Unknown,Unknown,Unknown,Unknown,None",
			"Total Access Keys found: at least 1; keys of 2 users unknown"},
		"es": {"Prod,ben,No configurada,Nunca,,,,,,None", "Prod,cai,No configurada,Nunca,Desconocido,Desconocido,Desconocido,Desconocido,Desconocido,None",
			"Total de Access Keys encontradas: al menos 1; se desconocen las claves de 2 usuarios"},
	} {
		m, _ := MessagesFor(lang)
		rows := map[string]string{}
		for _, r := range IAMReportRows(inv, m) {
			rows[r[2]] = strings.Join(r[1:], ",")
		}
		if rows["ben"] != want.ben || rows["cai"] != want.cai {
			t.Errorf("%s rows:\n ben %s\n cai %s\nwant\n ben %s\n cai %s", lang, rows["ben"], rows["cai"], want.ben, want.cai)
		}
		if got := TotalKeysLine(inv, m); got != want.total {
			t.Errorf("%s total: %q, want %q", lang, got, want.total)
		}
	}

	// Every user's keys unknown in an account (an account-wide gap): named by account.
	inv.Accounts[0].Gaps = []inventory.Gap{inventory.NewGap(acct, inventory.SectionAccessKeys, []inventory.Field{inventory.FieldAccessKeys}, "interrupted")}
	m, _ := MessagesFor("en")
	if got, want := TotalKeysLine(inv, m), "Total Access Keys found: at least 1; keys of every user of Prod unknown"; got != want {
		t.Errorf("account-wide: %q, want %q", got, want)
	}
	// Complete: the seed's line.
	inv.Accounts[0].Gaps = nil
	if got, want := TotalKeysLine(inv, m), "Total Access Keys found: 1"; got != want {
		t.Errorf("complete: %q, want %q", got, want)
	}
}
