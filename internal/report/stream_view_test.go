package report

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/outcome"
)

// parts splits an outcome as a streamed run hands it over: one part per account,
// with its findings and resolved findings, and the summary outcome of the end (its
// accounts summarised, its findings and resolved findings bounded to a few).
func parts(o *outcome.Outcome) ([]outcome.Part, *outcome.Outcome) {
	var ps []outcome.Part
	for i := range o.Inventory.Accounts {
		a := o.Inventory.Accounts[i]
		sc, _ := o.Scores.Account(a.ID)
		p := outcome.Part{Account: &a, Score: sc}
		for _, f := range o.Findings {
			if f.AccountID == a.ID {
				p.Findings = append(p.Findings, f)
			}
		}
		for _, f := range o.Resolved {
			if f.AccountID == a.ID {
				p.Resolved = append(p.Resolved, f)
			}
		}
		ps = append(ps, p)
	}
	sum := *o
	inv := *o.Inventory
	inv.Accounts = nil
	for _, a := range o.Inventory.Accounts {
		inv.Accounts = append(inv.Accounts, a.Summarised())
	}
	sum.Inventory = &inv
	sum.Findings = o.Findings[:min(2, len(o.Findings))]
	sum.Resolved = o.Resolved[:0]
	return ps, &sum
}

// Parts is parts, for the external tests.
var Parts = parts

// TestStreamedPages: the HTML page and the Markdown summary of a streamed run are
// the pages of its summary outcome with every finding of the run: the same findings
// table, counts and "more" note as a run holding everything; the accounts say where
// their users and events are, never "no users".
func TestStreamedPages(t *testing.T) {
	m, _ := MessagesFor("en")
	for name, o := range map[string]*outcome.Outcome{"html fixture": htmlOutcome(t), "markdown fixture": markdownOutcome()} {
		ps, sum := parts(o)
		for _, c := range []struct {
			format string
			write  func(*bytes.Buffer, *findingsView) error
			opts   HTMLOptions
		}{
			{"html", func(b *bytes.Buffer, v *findingsView) error { return writeHTML(b, sum, m, HTMLOptions{}, v) }, HTMLOptions{}},
			{"markdown", func(b *bytes.Buffer, v *findingsView) error { return markdownOf(b, sum, m, v) }, HTMLOptions{}},
		} {
			f, _ := SelectFormats([]string{c.format})
			var got, want bytes.Buffer
			s, err := f[0].Stream(&got, &outcome.Outcome{Inventory: o.Inventory, Now: o.Now}, m)
			if err != nil {
				t.Fatal(err)
			}
			for i := range ps {
				if err := s.Account(ps[len(ps)-1-i]); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.Close(sum); err != nil {
				t.Fatal(err)
			}
			if err := c.write(&want, viewOf(o)); err != nil {
				t.Fatal(err)
			}
			if got.String() != want.String() {
				t.Errorf("%s %s: the streamed page is not the summary's with the run's findings", name, c.format)
			}
			var whole bytes.Buffer
			f[0].Write(&whole, o, m)
			page := got.String()
			// The findings part is the whole run's.
			checked := 0
			for _, line := range strings.Split(whole.String(), "\n") {
				if strings.Contains(line, "findings-counts") || strings.HasPrefix(line, "## Findings") || strings.HasSuffix(line, "| new |") || strings.HasSuffix(line, "| open |") {
					checked++
					if !strings.Contains(page, line) {
						t.Errorf("%s %s: the streamed page lacks %q", name, c.format, line)
					}
				}
			}
			for _, id := range regexp.MustCompile(`id="f-[0-9a-f]+"`).FindAllString(whole.String(), -1) {
				checked++
				if !strings.Contains(page, id) {
					t.Errorf("%s %s: the streamed page lacks the finding %s", name, c.format, id)
				}
			}
			if checked < 2 {
				t.Errorf("%s %s: only %d lines of findings compared", name, c.format, checked)
			}
			if c.format == "html" {
				if !strings.Contains(page, "users of this account to") || strings.Contains(page, m.html.NoUsers) {
					t.Errorf("%s: the streamed page does not say where the users are, or says there are none", name)
				}
				if !strings.Contains(page, "events to cloudtrail_events_") {
					t.Errorf("%s: the streamed page does not say where the events are", name)
				}
			}
		}
	}
}

// TestSummaryWrittenWhole: a streamed run's summary outcome written whole (its
// findings only the most severe) shows the scores' counts, "more" from them, and
// says where new and resolved findings are: never a count of the few it holds.
func TestSummaryWrittenWhole(t *testing.T) {
	m, _ := MessagesFor("en")
	o := htmlOutcome(t)
	_, sum := parts(o)
	open, sup := split(o.Findings)
	var b bytes.Buffer
	if err := WriteHTML(&b, sum, m, HTMLOptions{MaxFindings: 1}); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, want := range []string{
		fmtInt(len(open)) + " open findings, " + fmtInt(len(sup)) + " suppressed; which are new",
		"… and " + fmtInt(len(open)+len(sup)-1) + " more findings",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the summary's page lacks %q", want)
		}
	}
	b.Reset()
	if err := writeMarkdown(&b, sum, m); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	for _, want := range []string{"## Findings: " + fmtInt(len(open)) + " (" + fmtInt(len(sup)) + " suppressed)", "resolved since the previous run are in iamaudit\\_"} {
		if !strings.Contains(md, want) {
			t.Errorf("the summary's Markdown lacks %q\n%s", want, md)
		}
	}
}

func fmtInt(n int) string { return strconv.Itoa(n) }

// TestJSONGolden: the run's JSON shape (docs/inventory-schema.md), the remediation
// plans said once in "remediations" and named by each finding.
func TestJSONGolden(t *testing.T) {
	var b bytes.Buffer
	if err := WriteJSON(&b, DocumentOf(markdownOutcome())); err != nil {
		t.Fatal(err)
	}
	golden(t, "run.json", b.Bytes())
}

// TestTotalsOfSummary: the seed's totals of a streamed run's summary (its users and
// events dropped) are the whole run's: keys from the scores, events from Omitted;
// without the scores the keys are unknown, never 0.
func TestTotalsOfSummary(t *testing.T) {
	m, _ := MessagesFor("en")
	for name, o := range map[string]*outcome.Outcome{"html fixture": htmlOutcome(t), "markdown fixture": markdownOutcome()} {
		_, sum := parts(o)
		if got, want := TotalKeysLineWith(sum.Inventory, sum.Scores, m), TotalKeysLine(o.Inventory, m); got != want {
			t.Errorf("%s: keys %q, want %q", name, got, want)
		}
		if got, want := EventCount(sum.Inventory), EventCount(o.Inventory); got != want || want == 0 {
			t.Errorf("%s: events %d, want %d", name, got, want)
		}
		if kt := KeyTotalOf(sum.Inventory); kt.Complete() {
			t.Errorf("%s: the keys of a summary without scores are complete: %+v", name, kt)
		}
	}
}

// A streamed view keeps the most severe of each list across the parts, whatever
// order they come in: the first limit of all the run's findings in checks.Sort order.
func TestStreamedViewKeepsTheMostSevere(t *testing.T) {
	var all, resolved []checks.Finding
	var ps [][2][]checks.Finding
	sevs := []checks.Severity{checks.Low, checks.Medium, checks.High, checks.Critical}
	for a := 0; a < 40; a++ {
		acct := fmt.Sprintf("%012d", 900000000000-a*7919%1000) // accounts out of order
		var fs, rs []checks.Finding
		for i := 0; i < 25; i++ {
			f := checks.Finding{ID: fmt.Sprintf("%s-%d", acct, i), CheckID: fmt.Sprintf("check_%d", i%5), AccountID: acct,
				Resource: fmt.Sprintf("r%02d", i), Severity: sevs[(a*3+i)%4], State: checks.StateNew, Suppressed: i%6 == 0}
			if i%9 == 0 {
				f.State = checks.StateResolved
				rs = append(rs, f)
				continue
			}
			fs = append(fs, f)
		}
		all, resolved = append(all, fs...), append(resolved, rs...)
		ps = append(ps, [2][]checks.Finding{fs, rs})
	}
	const limit = 7
	v := newView()
	for _, p := range ps {
		v.add(p[0], p[1], limit)
	}
	v.top(limit)
	open, sup := split(all)
	res := sortedFindings(resolved)
	ids := func(fs []checks.Finding) []string {
		var out []string
		for _, f := range fs {
			out = append(out, f.ID)
		}
		return out
	}
	for _, c := range []struct {
		name      string
		got, want []checks.Finding
	}{{"open", v.open, open[:limit]}, {"suppressed", v.sup, sup[:limit]}, {"resolved", v.resolved, res[:limit]}} {
		if !slices.Equal(ids(c.got), ids(c.want)) {
			t.Errorf("%s: %v, want %v", c.name, ids(c.got), ids(c.want))
		}
	}
	if v.nOpen != len(open) || v.nSup != len(sup) || v.nRes != len(res) {
		t.Errorf("counts %d %d %d, want %d %d %d", v.nOpen, v.nSup, v.nRes, len(open), len(sup), len(res))
	}
}
