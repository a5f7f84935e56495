// Package notify fills seed 004's three communication templates (MFA enforcement,
// access key deactivation, user deletion) per owner from a run's findings, and writes
// them as Markdown and as .eml messages (docs/remediation.md, "Notify"). The templates
// ship embedded and a directory of the user's own replaces any of them.
package notify

import (
	"bytes"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"text/template"
	"time"
	"unicode"

	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/inventory"
	"github.com/iamaudit/iamaudit/internal/outcome"
	"github.com/iamaudit/iamaudit/internal/outdir"
)

//go:embed templates/*.md.tmpl
var shipped embed.FS

// The templates, by name (their file is NAME.md.tmpl).
const (
	MFA  = "mfa"  // seed 004 template 1: MFA enforcement
	Key  = "key"  // template 2: access key deactivation
	User = "user" // template 3: user deletion
)

// Templates lists the template names.
func Templates() []string { return []string{MFA, Key, User} }

// checksOf are the findings each template is sent for.
var checksOf = map[string][]string{
	MFA:  {"console_without_mfa"},
	Key:  {"access_key_not_rotated", "access_key_never_used", "access_key_unused"},
	User: {"inactive_user"},
}

// Options fill what the findings do not say.
type Options struct {
	Now time.Time
	// SecurityContact is the template's [Security Team Contact]; Team its
	// [Your Security Team]; From the messages' sender (omitted when empty).
	SecurityContact string
	Team            string
	From            string
	// Days until the MFA deadline, the key's deactivation and the user's deletion
	// (seed 004: 7, 7 and 14).
	MFADays, KeyDays, UserDays int
	// TemplateDir holds the user's templates (NAME.md.tmpl); those it lacks are the shipped ones.
	TemplateDir string
}

func (o *Options) defaults() {
	if o.SecurityContact == "" {
		o.SecurityContact = "the security team"
	}
	if o.Team == "" {
		o.Team = "Your Security Team"
	}
	if o.MFADays <= 0 {
		o.MFADays = 7
	}
	if o.KeyDays <= 0 {
		o.KeyDays = 7
	}
	if o.UserDays <= 0 {
		o.UserDays = 14
	}
}

// Notice is one filled template for one recipient.
type Notice struct {
	Template string
	// Owner is who it goes to (the owner tag's value; "" when the user has none), To
	// their address when that value is one.
	Owner   string
	To      string
	Subject string
	// Markdown is the body with the values escaped for Markdown; Text the same body
	// as plain text, for the .eml.
	Markdown, Text string
	AccountID      string
	User           string
	FindingID      string
}

// Data is what a template can use. Every value is text; what is unknown says
// "unknown", never "Never".
type Data struct {
	Username, AccountName, AccountID                       string
	KeyID, KeyCreated, KeyAgeDays, KeyLastUsed, KeyService string
	LastConsoleLogin, LastKeyUsage                         string
	MFADays, MFADeadline, DeactivationDate, DeletionDate   string
	InactiveDays                                           string
	Recipient, SecurityContact, Team                       string
}

// Build fills the templates for every open finding they are for, in the run's order.
func Build(o *outcome.Outcome, opts Options) ([]Notice, error) {
	opts.defaults()
	tmpls, err := load(opts.TemplateDir)
	if err != nil {
		return nil, err
	}
	ownerTags := o.Settings.Checks.OwnerTags
	if len(ownerTags) == 0 {
		ownerTags = checks.DefaultConfig().OwnerTags
	}
	inactiveDays := o.Settings.Checks.Thresholds.InactiveUserDays
	if inactiveDays == 0 {
		inactiveDays = checks.DefaultConfig().Thresholds.InactiveUserDays
	}
	var out []Notice
	seen := map[string]bool{}
	for _, name := range Templates() {
		for i := range o.Findings {
			f := &o.Findings[i]
			if !contains(checksOf[name], f.CheckID) || f.Suppressed || f.State == checks.StateSuppressed {
				continue
			}
			acct, u := find(o.Inventory, f.AccountID, f.User)
			if u == nil {
				continue
			}
			key := name + "/" + f.AccountID + "/" + f.User + "/" + f.Resource
			if seen[key] {
				continue
			}
			seen[key] = true
			d := data(acct, u, f, opts, inactiveDays)
			owner := ownerOf(u, ownerTags)
			d.Recipient = "Manager/Team Lead"
			if t := tagValue(u, "Team"); t != "" && name == User {
				d.Recipient = t + " team lead"
			}
			n := Notice{Template: name, Owner: owner, To: address(u, ownerTags), AccountID: f.AccountID, User: f.User, FindingID: f.ID}
			if n.Subject, n.Markdown, err = render(tmpls[name], escaped(d)); err != nil {
				return nil, err
			}
			if _, n.Text, err = render(tmpls[name], plain(d)); err != nil {
				return nil, err
			}
			out = append(out, n)
		}
	}
	return out, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func find(inv *inventory.Inventory, acctID, user string) (*inventory.Account, *inventory.User) {
	for ai := range inv.Accounts {
		a := &inv.Accounts[ai]
		if a.ID != acctID {
			continue
		}
		for ui := range a.Users {
			if a.Users[ui].Name == user {
				return a, &a.Users[ui]
			}
		}
	}
	return nil, nil
}

func tagValue(u *inventory.User, key string) string {
	for k, v := range u.Tags {
		if strings.EqualFold(k, key) {
			return v
		}
	}
	return ""
}

// ownerOf is the value of the first owner tag the user has ("" for none).
func ownerOf(u *inventory.User, keys []string) string {
	for _, k := range keys {
		if v := tagValue(u, k); v != "" {
			return v
		}
	}
	return ""
}

// address is the first owner tag value (Email first) that is an e-mail address.
func address(u *inventory.User, keys []string) string {
	for _, k := range append([]string{"Email"}, keys...) {
		v := tagValue(u, k)
		if a, err := mail.ParseAddress(v); err == nil && a.Name == "" && !strings.ContainsAny(v, "\r\n<>,") {
			return a.Address
		}
	}
	return ""
}

func day(t time.Time) string { return t.UTC().Format("2006-01-02") }

// lastUseKnown: no gap leaves the user's key use unknown.
func lastUseKnown(acct *inventory.Account, user string, f inventory.Field) bool {
	for _, g := range acct.Gaps {
		if (g.Subject == "" || g.Subject == user) && g.Leaves(f) {
			return false
		}
	}
	return true
}

func data(acct *inventory.Account, u *inventory.User, f *checks.Finding, o Options, inactiveDays int) Data {
	d := Data{Username: u.Name, AccountName: acct.Name, AccountID: acct.ID, SecurityContact: o.SecurityContact, Team: o.Team,
		MFADays: fmt.Sprint(o.MFADays), MFADeadline: day(o.Now.AddDate(0, 0, o.MFADays)),
		DeactivationDate: day(o.Now.AddDate(0, 0, o.KeyDays)), DeletionDate: day(o.Now.AddDate(0, 0, o.UserDays)),
		InactiveDays: fmt.Sprint(inactiveDays), KeyID: "unknown", KeyCreated: "unknown", KeyAgeDays: "unknown",
		KeyLastUsed: "unknown", KeyService: "unknown", LastConsoleLogin: "unknown", LastKeyUsage: "unknown"}
	switch {
	case !lastUseKnown(acct, u.Name, inventory.FieldPasswordLastUsed):
	case !u.PasswordEnabled && u.PasswordLastUsed == nil:
		d.LastConsoleLogin = "Never (no console password)"
	case u.PasswordLastUsed == nil:
		d.LastConsoleLogin = "Never"
	default:
		d.LastConsoleLogin = day(*u.PasswordLastUsed)
	}
	keysKnown := lastUseKnown(acct, u.Name, inventory.FieldKeyLastUse)
	var last *time.Time
	for _, k := range u.AccessKeys {
		if k.LastUsedAt != nil && (last == nil || k.LastUsedAt.After(*last)) {
			last = k.LastUsedAt
		}
	}
	switch {
	case !keysKnown:
	case last != nil:
		d.LastKeyUsage = day(*last)
	default:
		d.LastKeyUsage = "Never"
	}
	if f.ResourceType == checks.ResourceAccessKey {
		for _, k := range u.AccessKeys {
			if k.ID != f.Resource {
				continue
			}
			d.KeyID = MaskKey(k.ID)
			if !k.CreatedAt.IsZero() {
				d.KeyCreated, d.KeyAgeDays = day(k.CreatedAt), fmt.Sprint(int(o.Now.Sub(k.CreatedAt).Hours()/24))
			}
			if keysKnown {
				d.KeyLastUsed, d.KeyService = "Never", "N/A"
				if k.LastUsedAt != nil {
					d.KeyLastUsed, d.KeyService = day(*k.LastUsedAt), orUnknown(k.LastUsedService)
				}
			}
		}
	}
	return d
}

func orUnknown(s string) string {
	if s == "" || s == "N/A" {
		return "unknown"
	}
	return s
}

// MaskKey hides the middle of an access key id (characters 5 to 16): the AKIA/ASIA
// prefix and the last four characters stay, enough to tell keys apart in a message
// that leaves the machine (aws-vault's practice, docs/remediation.md).
func MaskKey(id string) string {
	if len(id) != 20 {
		return strings.Repeat("*", len(id))
	}
	return id[:4] + strings.Repeat("*", 12) + id[16:]
}

// mdEscape makes a value from AWS inert in Markdown: HTML neutralised, syntax
// characters escaped, no line breaks or control characters.
func mdEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r == '&':
			b.WriteString("&amp;")
		case strings.ContainsRune("\\`*_[]()#+!|~{}", r):
			b.WriteRune('\\')
			b.WriteRune(r)
		case r == '\n' || r == '\r' || r == '\t':
			b.WriteRune(' ')
		case unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r):
			b.WriteRune('\uFFFD')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// clean removes line breaks and control characters (a header or a line of text).
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\r' || r == '\t':
			return ' '
		case unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r):
			return '\uFFFD'
		}
		return r
	}, s)
}

func mapData(d Data, f func(string) string) Data {
	return Data{Username: f(d.Username), AccountName: f(d.AccountName), AccountID: f(d.AccountID), KeyID: f(d.KeyID),
		KeyCreated: f(d.KeyCreated), KeyAgeDays: f(d.KeyAgeDays), KeyLastUsed: f(d.KeyLastUsed), KeyService: f(d.KeyService),
		LastConsoleLogin: f(d.LastConsoleLogin), LastKeyUsage: f(d.LastKeyUsage), MFADays: f(d.MFADays), MFADeadline: f(d.MFADeadline),
		DeactivationDate: f(d.DeactivationDate), DeletionDate: f(d.DeletionDate), InactiveDays: f(d.InactiveDays),
		Recipient: f(d.Recipient), SecurityContact: f(d.SecurityContact), Team: f(d.Team)}
}

func escaped(d Data) Data { return mapData(d, mdEscape) }
func plain(d Data) Data   { return mapData(d, clean) }

// load parses the templates: the user's directory first, then the shipped ones.
func load(dir string) (map[string]*template.Template, error) {
	out := map[string]*template.Template{}
	for _, name := range Templates() {
		file := name + ".md.tmpl"
		var b []byte
		var err error
		src := "the shipped " + file
		if dir != "" {
			p := filepath.Join(dir, file)
			b, err = os.ReadFile(p)
			src = p
			if errors.Is(err, os.ErrNotExist) {
				b, err, src = nil, nil, "the shipped "+file
			} else if err != nil {
				return nil, fmt.Errorf("template %s: %w", p, err)
			}
		}
		if b == nil {
			if b, err = shipped.ReadFile("templates/" + file); err != nil {
				return nil, err
			}
		}
		if !bytes.HasPrefix(b, []byte("Subject: ")) {
			return nil, fmt.Errorf("template %s: its first line must be \"Subject: …\"", src)
		}
		t, err := template.New(src).Option("missingkey=error").Parse(string(b))
		if err != nil {
			return nil, fmt.Errorf("template %w (docs/remediation.md lists the fields)", err)
		}
		out[name] = t
	}
	return out, nil
}

// render fills a template and splits its Subject line from its body.
func render(t *template.Template, d Data) (subject, body string, err error) {
	var b strings.Builder
	if err := t.Execute(&b, d); err != nil {
		return "", "", fmt.Errorf("template %w (docs/remediation.md lists the fields)", err)
	}
	first, rest, _ := strings.Cut(b.String(), "\n")
	return strings.TrimSpace(strings.TrimPrefix(first, "Subject: ")), strings.TrimLeft(rest, "\n"), nil
}

var slugUnsafe = regexp.MustCompile(`[^a-z0-9._@-]+`)

func slug(s string) string {
	s = slugUnsafe.ReplaceAllString(strings.ToLower(s), "-")
	s = strings.Trim(s, "-.")
	if s == "" {
		return "no-owner"
	}
	if len(s) > 60 {
		s = s[:60]
	}
	return s
}

// Write writes, in dir (created owner-only), one Markdown file per owner holding
// their notices, and one .eml message per notice; it returns the files written.
func Write(dir string, notices []Notice, opts Options) ([]string, error) {
	opts.defaults()
	if err := outdir.Check(dir); err != nil {
		return nil, err
	}
	byOwner := map[string][]Notice{}
	for _, n := range notices {
		byOwner[slug(n.Owner)] = append(byOwner[slug(n.Owner)], n)
	}
	owners := make([]string, 0, len(byOwner))
	for o := range byOwner {
		owners = append(owners, o)
	}
	sort.Strings(owners)
	var files []string
	for _, o := range owners {
		ns := byOwner[o]
		md := filepath.Join(dir, o+".md")
		if err := outdir.WriteFile(md, func(w io.Writer) error {
			who := ns[0].Owner
			if who == "" {
				who = "users without an owner tag (Owner, Team, Email): find their owner first"
			}
			fmt.Fprintf(w, "# Notices for %s\n\n", mdEscape(who))
			for i, n := range ns {
				fmt.Fprintf(w, "## %d. %s\n\n%s\n", i+1, mdEscape(n.Subject), n.Markdown)
			}
			return nil
		}); err != nil {
			return files, err
		}
		files = append(files, md)
		for i, n := range ns {
			eml := filepath.Join(dir, fmt.Sprintf("%s-%d-%s.eml", o, i+1, n.Template))
			if err := outdir.WriteFile(eml, func(w io.Writer) error { return writeEML(w, n, opts) }); err != nil {
				return files, err
			}
			files = append(files, eml)
		}
	}
	return files, nil
}

// writeEML writes an RFC 5322 message: headers free of line breaks (a tag value
// cannot add one), the subject encoded, the body quoted-printable UTF-8.
func writeEML(w io.Writer, n Notice, opts Options) error {
	id := make([]byte, 12)
	_, _ = rand.Read(id) // crypto/rand never fails on supported platforms
	h := []string{}
	if opts.From != "" {
		if a, err := mail.ParseAddress(clean(opts.From)); err == nil {
			h = append(h, "From: "+a.String())
		}
	}
	if n.To != "" {
		h = append(h, "To: "+(&mail.Address{Address: n.To}).String())
	} else {
		h = append(h, "X-Iamaudit-Owner: "+mime.QEncoding.Encode("utf-8", orNone(clean(n.Owner))))
	}
	h = append(h,
		"Subject: "+mime.QEncoding.Encode("utf-8", clean(n.Subject)),
		"Date: "+opts.Now.UTC().Format(time.RFC1123Z),
		"Message-ID: <"+hex.EncodeToString(id)+"@iamaudit>",
		"X-Iamaudit-Finding: "+clean(n.FindingID),
		"MIME-Version: 1.0",
		"Content-Type: text/plain; charset=utf-8",
		"Content-Transfer-Encoding: quoted-printable",
	)
	if _, err := io.WriteString(w, strings.Join(h, "\r\n")+"\r\n\r\n"); err != nil {
		return err
	}
	qp := quotedprintable.NewWriter(w)
	if _, err := io.WriteString(qp, strings.ReplaceAll(n.Text, "\n", "\r\n")); err != nil {
		return err
	}
	return qp.Close()
}

func orNone(s string) string {
	if s == "" {
		return "unknown (no owner tag)"
	}
	return s
}
