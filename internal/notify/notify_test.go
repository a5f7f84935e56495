package notify

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/inventory"
	"github.com/iamaudit/iamaudit/internal/outcome"
)

var update = flag.Bool("update", false, "rewrite the golden files")

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func ago(days int) *time.Time {
	t := now.AddDate(0, 0, -days)
	return &t
}

// run is a small audited account: a console user without MFA, an old key whose owner
// tag tries to inject a header, a zombie user, and a key whose last use is unknown.
func run() *outcome.Outcome {
	acct := inventory.Account{ID: "111122223333", Name: "Production", State: "ACTIVE", Status: inventory.StatusAudited,
		Users: []inventory.User{
			{Name: "alice", ARN: "arn:aws:iam::111122223333:user/alice", CreatedAt: *ago(500), PasswordEnabled: true, PasswordLastUsed: ago(10),
				Tags: map[string]string{"Owner": "alice@example.com"}, MFADevices: []inventory.MFADevice{}, AccessKeys: []inventory.AccessKey{}},
			{Name: "bot_*[x](y)", ARN: "arn:aws:iam::111122223333:user/bot", CreatedAt: *ago(500),
				Tags:       map[string]string{"Owner": "bot-owner@example.com\r\nBcc: evil@example.com", "Team": "<script>alert(1)</script>"},
				AccessKeys: []inventory.AccessKey{{ID: "AKIAIOSFODNN7EXAMPLE", Status: inventory.KeyActive, CreatedAt: *ago(400), LastUsedAt: ago(2), LastUsedService: "s3", LastUsedRegion: "us-east-1"}}},
			{Name: "zombie", ARN: "arn:aws:iam::111122223333:user/zombie", CreatedAt: *ago(900), PasswordEnabled: true, PasswordLastUsed: ago(200),
				Tags:       map[string]string{"Team": "platform", "Email": "lead@example.com"},
				AccessKeys: []inventory.AccessKey{{ID: "AKIAZOMBIE0000000001", Status: inventory.KeyActive, CreatedAt: *ago(800), LastUsedAt: ago(300), LastUsedService: "ec2"}}},
			{Name: "ghost", ARN: "arn:aws:iam::111122223333:user/ghost", CreatedAt: *ago(300),
				AccessKeys: []inventory.AccessKey{{ID: "AKIAGHOST00000000001", Status: inventory.KeyActive, CreatedAt: *ago(200)}}},
		}}
	g := inventory.NewGap(acct.ID, inventory.SectionAccessKeys, []inventory.Field{inventory.FieldKeyLastUse}, "GetAccessKeyLastUsed: AccessDenied")
	g.Subject = "ghost"
	acct.Gaps = []inventory.Gap{g}
	inv := &inventory.Inventory{Partition: "aws", Region: "us-east-1", RunID: "20260301_120000", Accounts: []inventory.Account{acct}}
	return outcome.Evaluate(outcome.CommandRun, inv, now, outcome.Settings{Checks: checks.DefaultConfig()}, nil)
}

var messageID = regexp.MustCompile(`Message-ID: <[0-9a-f]+@iamaudit>`)

// The three templates filled per owner, as Markdown and .eml: golden files.
func TestNotices(t *testing.T) {
	opts := Options{Now: now, SecurityContact: "security@example.com", Team: "Cloud Security", From: "Cloud Security <security@example.com>"}
	ns, err := Build(run(), opts)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	files, err := Write(dir, ns, opts)
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "golden")
	if *update {
		os.RemoveAll(golden)
		os.MkdirAll(golden, 0o755)
	}
	for _, f := range files {
		b, _ := os.ReadFile(f)
		got := messageID.ReplaceAllString(string(b), "Message-ID: <ID@iamaudit>")
		if fi, _ := os.Stat(f); fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v", f, fi.Mode())
		}
		want := filepath.Join(golden, filepath.Base(f))
		if *update {
			os.WriteFile(want, []byte(got), 0o644)
			continue
		}
		w, err := os.ReadFile(want)
		if err != nil {
			t.Errorf("%s: %v (run with -update)", want, err)
			continue
		}
		if got != string(w) {
			t.Errorf("%s differs from %s:\n%s", f, want, got)
		}
	}
	if ents, _ := os.ReadDir(golden); !*update && len(ents) != len(files) {
		t.Errorf("%d golden files, %d written", len(ents), len(files))
	}
	all := ""
	for _, n := range ns {
		all += n.Template + " "
	}
	if strings.Count(all, "mfa") != 2 || strings.Count(all, "key") != 3 || strings.Count(all, "user") != 1 {
		t.Errorf("notices %s", all)
	}
}

// A tag value cannot add a header, a key id is masked, Markdown and HTML in names are
// inert, and what is unknown says unknown.
func TestNoticeSafety(t *testing.T) {
	ns, err := Build(run(), Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	files, err := Write(dir, ns, Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		b, _ := os.ReadFile(f)
		s := string(b)
		head, _, _ := strings.Cut(s, "\r\n\r\n")
		if strings.Contains(head, "\nBcc:") || strings.Contains(s, "AKIAIOSFODNN7EXAMPLE") || strings.Contains(s, "AKIAZOMBIE0000000001") {
			t.Errorf("%s:\n%s", f, s)
		}
		if strings.HasSuffix(f, ".md") && (strings.Contains(s, "<script>") || strings.Contains(s, "bot_*[x](y)")) {
			t.Errorf("%s: raw markup\n%s", f, s)
		}
	}
	var ghost *Notice
	for i := range ns {
		if ns[i].User == "ghost" {
			ghost = &ns[i]
		}
	}
	if ghost == nil || !strings.Contains(ghost.Text, "**Last Used:** unknown") || !strings.Contains(ghost.Text, "**Service:** unknown") {
		t.Fatalf("unknown last use: %+v", ghost)
	}
	if MaskKey("AKIAIOSFODNN7EXAMPLE") != "AKIA************MPLE" {
		t.Errorf("mask %s", MaskKey("AKIAIOSFODNN7EXAMPLE"))
	}
}

// A template of the user's replaces the shipped one; a field it misspells is an error
// that names the file.
func TestTemplateOverride(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "mfa.md.tmpl"), []byte("Subject: MFA por favor\n\nHola {{.Username}} ({{.AccountName}})\n"), 0o600)
	ns, err := Build(run(), Options{Now: now, TemplateDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if ns[0].Subject != "MFA por favor" || ns[0].Text != "Hola alice (Production)\n" {
		t.Fatalf("%+v", ns[0])
	}
	if ns[len(ns)-1].Template != User || !strings.Contains(ns[len(ns)-1].Subject, "Scheduled for Deletion") {
		t.Fatalf("the shipped user template: %+v", ns[len(ns)-1])
	}
	os.WriteFile(filepath.Join(dir, "key.md.tmpl"), []byte("Subject: x\n\n{{.Usrname}}\n"), 0o600)
	if _, err := Build(run(), Options{Now: now, TemplateDir: dir}); err == nil || !strings.Contains(err.Error(), "key.md.tmpl") {
		t.Fatalf("a misspelt field: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "key.md.tmpl"), []byte("no subject\n"), 0o600)
	if _, err := Build(run(), Options{Now: now, TemplateDir: dir}); err == nil || !strings.Contains(err.Error(), "Subject") {
		t.Fatalf("no subject line: %v", err)
	}
}
