package report_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/inventory"
	"github.com/iamaudit/iamaudit/internal/outcome"
	"github.com/iamaudit/iamaudit/internal/outdir"
	"github.com/iamaudit/iamaudit/internal/report"
)

// streamOutcomes are the outcomes the streamed files are compared on: the HTML
// report's fixture (every kind of account, hostile names, a suppressed finding, one
// resolved), the Markdown one, and a generated Organization with a baseline (findings
// of every severity in many accounts, some resolved).
func streamOutcomes(t *testing.T) map[string]*outcome.Outcome {
	now := time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC)
	first := outcome.Evaluate(outcome.CommandRun, bigInventory(6, 12, now.Add(-24*time.Hour)), now.Add(-24*time.Hour), outcome.Settings{Checks: checks.DefaultConfig()}, nil)
	inv := bigInventory(6, 12, now)
	inv.RunID = "20260305_000000"
	for i := range inv.Accounts {
		a := &inv.Accounts[i]
		if len(a.Users) > 3 {
			a.Users = a.Users[3:] // three users gone per account: their findings resolved
		}
	}
	base := &outcome.Baseline{Ref: "iamaudit_20260304_000000.json", RunID: "20260304_000000", At: now.Add(-24 * time.Hour),
		Findings: first.Findings, FullyAudited: map[string]bool{}}
	for _, a := range first.Inventory.Accounts {
		base.FullyAudited[a.ID] = a.FullyAudited()
	}
	big := outcome.Evaluate(outcome.CommandRun, inv, now, outcome.Settings{Checks: checks.DefaultConfig()}, base)
	if len(big.Resolved) == 0 {
		t.Fatal("the generated outcome resolves nothing")
	}
	return map[string]*outcome.Outcome{"html fixture": report.HTMLOutcome(t), "markdown fixture": report.MarkdownOutcome(), "generated": big}
}

// sameAsWrite are the formats whose streamed file is Write's; the HTML page and the
// Markdown summary show the summary's accounts (their users and events are in the
// JSON and CSV files) and every finding's counts (stream_view_test.go).
var sameAsWrite = map[string]bool{"seed-iam-csv": true, "seed-events-csv": true, "json": true, "findings-csv": true, "ocsf": true}

// TestStreamIsWrite: every format that streams writes, account by account, the very
// file Write writes for the same run, whatever order the accounts finish in; the
// spools are gone once Close returns.
func TestStreamIsWrite(t *testing.T) {
	m, _ := report.MessagesFor("en")
	for name, o := range streamOutcomes(t) {
		ps, sum := report.Parts(o)
		rng := rand.New(rand.NewPCG(1, 2))
		shuffled := slices.Clone(ps)
		rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		orders := map[string][]outcome.Part{"organization order": ps, "reversed": reversed(ps), "shuffled": shuffled}
		for _, f := range report.Formats() {
			if !sameAsWrite[f.Name] {
				continue
			}
			var want bytes.Buffer
			if err := f.Write(&want, o, m); err != nil {
				t.Fatalf("%s %s: Write: %v", name, f.Name, err)
			}
			for order, ps := range orders {
				for hname, hd := range streamHeads(o) {
					dir := t.TempDir()
					p, err := outdir.Create(dir)
					if err != nil {
						t.Fatal(err)
					}
					s, err := f.Stream(p, hd, m)
					if err != nil {
						t.Fatalf("%s %s: Stream: %v", name, f.Name, err)
					}
					for _, part := range ps {
						if err := s.Account(part); err != nil {
							t.Fatalf("%s %s: Account: %v", name, f.Name, err)
						}
					}
					if err := s.Close(sum); err != nil {
						t.Fatalf("%s %s: Close: %v", name, f.Name, err)
					}
					if err := p.Commit("out"); err != nil {
						t.Fatal(err)
					}
					if entries, _ := os.ReadDir(dir); len(entries) != 1 {
						t.Errorf("%s %s %s: files left besides the output: %v", name, f.Name, order, entries)
					}
					got, _ := os.ReadFile(dir + "/out")
					if !bytes.Equal(got, want.Bytes()) {
						t.Errorf("%s %s, accounts in %s, %s: the streamed file differs from Write's (%d and %d bytes)\n%s",
							name, f.Name, order, hname, len(got), want.Len(), firstDiff(got, want.Bytes()))
					}
				}
			}
		}
	}
}

// streamHeads are the heads a stream may start from: the summary's run id and times
// (rendered as they come, copied as they are), a run id claimed later (…_2) and
// times that changed (filled in at Close), and none known (placeholders).
func streamHeads(o *outcome.Outcome) map[string]*outcome.Outcome {
	head := func(edit func(*inventory.Inventory, *time.Time)) *outcome.Outcome {
		inv := *o.Inventory
		inv.Accounts = nil
		now := o.Now
		edit(&inv, &now)
		return &outcome.Outcome{Inventory: &inv, Now: now}
	}
	return map[string]*outcome.Outcome{
		"head as the summary": head(func(*inventory.Inventory, *time.Time) {}),
		"run id and times changed": head(func(inv *inventory.Inventory, now *time.Time) {
			inv.RunID += "_2"
			inv.StartedAt = inv.StartedAt.Add(-time.Minute)
			*now = now.Add(-time.Hour)
		}),
		"nothing known": head(func(inv *inventory.Inventory, now *time.Time) {
			inv.RunID, inv.StartedAt, *now = "", time.Time{}, time.Time{}
		}),
	}
}

func reversed(ps []outcome.Part) []outcome.Part {
	out := slices.Clone(ps)
	slices.Reverse(out)
	return out
}

// firstDiff shows where two files part.
func firstDiff(a, b []byte) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	lo := max(0, i-200)
	return "got: …" + string(a[lo:min(len(a), i+200)]) + "\nwant: …" + string(b[lo:min(len(b), i+200)])
}

// failWriter fails every write after the first n bytes.
type failWriter struct {
	f *os.File
	n int
}

func (w *failWriter) Write(b []byte) (int, error) {
	if w.n -= len(b); w.n < 0 {
		return 0, errors.New("disk full")
	}
	return w.f.Write(b)
}

func (w *failWriter) Dir() string { return strings.TrimSuffix(w.f.Name(), "/out") }

// TestStreamErrorLeavesNoSpool: a format that cannot write its file says so and
// leaves no spool behind.
func TestStreamErrorLeavesNoSpool(t *testing.T) {
	m, _ := report.MessagesFor("en")
	o := report.HTMLOutcome(t)
	ps, sum := report.Parts(o)
	for _, f := range report.Formats() {
		if f.Stream == nil {
			continue
		}
		dir := t.TempDir()
		out, err := os.Create(dir + "/out")
		if err != nil {
			t.Fatal(err)
		}
		s, err := f.Stream(&failWriter{f: out, n: 100}, o, m)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range ps {
			if err := s.Account(p); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Close(sum); err == nil {
			t.Errorf("%s: Close on a full disk succeeded", f.Name)
		}
		out.Close()
		if entries, _ := os.ReadDir(dir); len(entries) != 1 {
			t.Errorf("%s: spool left after a failed Close: %v", f.Name, entries)
		}
	}
}

// TestJSONReadsBack: the JSON file, whose findings name their remediation plans,
// reads back (report.Document, as import and the directory history read it) with
// every finding's workflow, actions and commands.
func TestJSONReadsBack(t *testing.T) {
	for name, o := range streamOutcomes(t) {
		var buf bytes.Buffer
		if err := report.WriteJSON(&buf, report.DocumentOf(o)); err != nil {
			t.Fatal(err)
		}
		var doc report.Document
		if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, c := range []struct {
			what      string
			got, want []checks.Finding
		}{{"findings", doc.Findings, report.WithCommands(o.Findings)}, {"resolved findings", doc.ResolvedFindings, report.WithCommands(o.Resolved)}} {
			g, _ := json.Marshal(c.got)
			w, _ := json.Marshal(c.want)
			if !bytes.Equal(g, w) {
				t.Errorf("%s: %s read back differ\n%s", name, c.what, firstDiff(g, w))
			}
		}
		if len(o.Findings) > 0 && !bytes.Contains(buf.Bytes(), []byte(`"remediations": {`)) {
			t.Errorf("%s: no remediations table", name)
		}
		got, _ := json.Marshal(doc.Inventory)
		want, _ := json.Marshal(o.Inventory)
		if !bytes.Equal(got, want) {
			t.Errorf("%s: inventory read back differs", name)
		}
		var orig map[string]any
		json.Unmarshal(buf.Bytes(), &orig)
		if _, ok := orig["remediations"]; !ok {
			t.Errorf("%s: no remediations key", name)
		}
	}
}

// TestJSONReadsOlderFiles: a file written before remediation plans (each finding
// with its workflow and actions) reads the same.
func TestJSONReadsOlderFiles(t *testing.T) {
	o := report.HTMLOutcome(t)
	old := struct {
		*inventory.Inventory
		Findings []checks.Finding `json:"findings"`
	}{o.Inventory, report.WithCommands(o.Findings)}
	b, _ := json.Marshal(old)
	var doc report.Document
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	g, _ := json.Marshal(doc.Findings)
	w, _ := json.Marshal(old.Findings)
	if !bytes.Equal(g, w) {
		t.Errorf("an older file's findings read back differ\n%s", firstDiff(g, w))
	}
	if len(doc.Findings) == 0 || len(doc.Findings[0].Remediation.Actions) == 0 {
		t.Error("no actions read back")
	}
}

// TestOCSFStreamHeadMustHold: the OCSF events are rendered as the accounts finish,
// with the head's tool version, partition and region: a summary that says otherwise
// is an error, never a file that mixes them.
func TestOCSFStreamHeadMustHold(t *testing.T) {
	m, _ := report.MessagesFor("en")
	o := report.HTMLOutcome(t)
	ps, sum := report.Parts(o)
	f, _ := report.SelectFormats([]string{"ocsf"})
	head := *o.Inventory
	head.Region = "eu-west-1"
	var b bytes.Buffer
	s, err := f[0].Stream(&b, &outcome.Outcome{Inventory: &head, Now: o.Now}, m)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		if err := s.Account(p); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(sum); err == nil || !strings.Contains(err.Error(), "region") {
		t.Errorf("Close with another region: %v", err)
	}
}
