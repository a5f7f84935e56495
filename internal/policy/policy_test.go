package policy

import (
	"net/url"
	"strings"
	"testing"
)

// TestFullAdmin: which documents grant full administrative privileges (admin.go's
// rule), and which do not parse (their meaning is unknown, never "allows nothing").
func TestFullAdmin(t *testing.T) {
	stmt := func(s ...string) string {
		return `{"Version":"2012-10-17","Statement":[` + strings.Join(s, ",") + `]}`
	}
	adminDoc := stmt(`{"Effect":"Allow","Action":"*","Resource":"*"}`)
	cases := []struct {
		name     string
		doc      string
		admin    bool
		parseErr string // "" when the document parses
	}{
		{"Action * on Resource *", adminDoc, true, ""},
		{"Action *:* on *", stmt(`{"Effect":"Allow","Action":"*:*","Resource":"*"}`), true, ""},
		{"lists of one", stmt(`{"Effect":"Allow","Action":["*"],"Resource":["*"]}`), true, ""},
		{"Statement as one object", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`, true, ""},
		{"among other actions", stmt(`{"Effect":"Allow","Action":["s3:GetObject","*"],"Resource":"*"}`), true, ""},
		{"with a Condition: admin whenever it holds", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":true},"NumericLessThan":{"aws:MultiFactorAuthAge":3600}}}`), true, ""},
		{"Action * on one bucket", stmt(`{"Effect":"Allow","Action":"*","Resource":"arn:aws:s3:::b/*"}`), false, ""},
		{"s3:* on *", stmt(`{"Effect":"Allow","Action":"s3:*","Resource":"*"}`), false, ""},
		{"iam:* on *: not every action", stmt(`{"Effect":"Allow","Action":"iam:*","Resource":"*"}`), false, ""},
		{"NotAction s3:* on *: everything else, IAM included", stmt(`{"Effect":"Allow","NotAction":"s3:*","Resource":"*"}`), true, ""},
		{"NotAction iam:* on * (PowerUserAccess): not full", stmt(`{"Effect":"Allow","NotAction":["iam:*","organizations:*","account:*"],"Resource":"*"}`), false, ""},
		{"NotAction of one IAM action: not full", stmt(`{"Effect":"Allow","NotAction":"iam:DeleteUser","Resource":"*"}`), false, ""},
		{"NotAction with a service wildcard that may be IAM", stmt(`{"Effect":"Allow","NotAction":"i*:*","Resource":"*"}`), false, ""},
		{"NotResource of a bucket: every IAM resource left", stmt(`{"Effect":"Allow","Action":"*","NotResource":"arn:aws:s3:::secret/*"}`), true, ""},
		{"NotResource of IAM users: not full", stmt(`{"Effect":"Allow","Action":"*","NotResource":"arn:aws:iam::111122223333:user/*"}`), false, ""},
		{"NotResource with a wildcard service", stmt(`{"Effect":"Allow","Action":"*","NotResource":"arn:aws:*:*:*:*"}`), false, ""},
		{"Deny iam:* on * overrides", stmt(`{"Effect":"Allow","Action":"*","Resource":"*"}`, `{"Effect":"Deny","Action":"iam:*","Resource":"*"}`), false, ""},
		{"Deny * on * overrides", stmt(`{"Effect":"Allow","Action":"*","Resource":"*"}`, `{"Effect":"Deny","Action":"*","Resource":"*"}`), false, ""},
		{"Deny NotAction s3:* (all but S3) overrides", stmt(`{"Effect":"Allow","Action":"*","Resource":"*"}`, `{"Effect":"Deny","NotAction":"s3:*","Resource":"*"}`), false, ""},
		{"Deny NotAction iam:* (IAM spared) does not", stmt(`{"Effect":"Allow","NotAction":"s3:*","Resource":"*"}`, `{"Effect":"Deny","NotAction":"iam:*","Resource":"*"}`), true, ""},
		{"Deny on a bucket does not", stmt(`{"Effect":"Allow","Action":"*","Resource":"*"}`, `{"Effect":"Deny","Action":"*","Resource":"arn:aws:s3:::secret/*"}`), true, ""},
		{"Deny of S3 actions does not", stmt(`{"Effect":"Allow","Action":"*","Resource":"*"}`, `{"Effect":"Deny","Action":["s3:DeleteBucket","ec2:*"],"Resource":"*"}`), true, ""},
		{"Deny on IAM users overrides", stmt(`{"Effect":"Allow","Action":"*","Resource":"*"}`, `{"Effect":"Deny","Action":"*","Resource":"arn:aws:iam::*:user/*"}`), false, ""},
		{"Deny NotResource of all IAM does not", stmt(`{"Effect":"Allow","Action":"*","Resource":"*"}`, `{"Effect":"Deny","Action":"*","NotResource":"arn:aws:iam::*:*"}`), true, ""},
		{"conditional Deny does not", stmt(`{"Effect":"Allow","Action":"*","Resource":"*"}`, `{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}}`), true, ""},
		{"lower-case action names match", stmt(`{"Effect":"Allow","Action":"*","Resource":"*"}`, `{"Effect":"Deny","Action":"IAM:createaccesskey","Resource":"*"}`), false, ""},
		{"URL-encoded, as IAM returns it", url.QueryEscape(adminDoc), true, ""},
		{"URL-encoded, not admin", url.QueryEscape(stmt(`{"Effect":"Allow","Action":"s3:*","Resource":"*"}`)), false, ""},
		{"surrounding whitespace", "\n  " + adminDoc + "\n", true, ""},
		{"trust policy (no resource): not a grant", stmt(`{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}`), false, ""},
		{"not JSON", `{"Statement": [`, false, "document"},
		{"empty", ``, false, "empty document"},
		{"data after the document", adminDoc + ` {}`, false, "after the closing brace"},
		{"no Statement", `{"Version":"2012-10-17"}`, false, "no Statement"},
		{"Statement is a string", `{"Statement":"Allow everything"}`, false, "not a JSON object"},
		{"unknown effect", stmt(`{"Effect":"allow","Action":"*","Resource":"*"}`), false, "Effect"},
		{"both Action and NotAction", stmt(`{"Effect":"Allow","Action":"*","NotAction":"s3:*","Resource":"*"}`), false, "exactly one of Action and NotAction"},
		{"no action", stmt(`{"Effect":"Allow","Resource":"*"}`), false, "exactly one of Action and NotAction"},
		{"action that is a number", stmt(`{"Effect":"Allow","Action":5,"Resource":"*"}`), false, "Action must be"},
		{"list with a number", stmt(`{"Effect":"Allow","Action":["*",3],"Resource":"*"}`), false, "Action must be"},
		{"action without a service", stmt(`{"Effect":"Allow","Action":"s3","Resource":"*"}`), false, "not \"*\" nor"},
		{"misspelt element (case matters)", stmt(`{"Effect":"Allow","action":"*","Resource":"*"}`), false, `unknown element "action"`},
		{"element twice", stmt(`{"Effect":"Allow","Action":"s3:*","Action":"*","Resource":"*"}`), false, "appears twice"},
		{"URL encoding broken", "%7B%ZZ", false, "does not decode"},
		{"Condition not an object of objects", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":"x"}`), false, "Condition"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, err := Parse(c.doc)
			switch {
			case c.parseErr == "" && err != nil:
				t.Fatalf("does not parse: %v", err)
			case c.parseErr != "" && err == nil:
				t.Fatalf("parses (%+v), want an error about %q", d, c.parseErr)
			case c.parseErr != "" && !strings.Contains(err.Error(), c.parseErr):
				t.Fatalf("error %q, want one about %q", err, c.parseErr)
			case c.parseErr != "":
				return
			}
			if got := FullAdmin(d); got != c.admin {
				t.Errorf("FullAdmin = %v, want %v (statements %+v)", got, c.admin, d.Statements)
			}
		})
	}
}

// TestDenyInAnotherPolicy: a Deny in another policy of the same principal takes full
// administrative privileges away too.
func TestDenyInAnotherPolicy(t *testing.T) {
	admin, err := Parse(`{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`)
	if err != nil {
		t.Fatal(err)
	}
	deny, err := Parse(`{"Statement":{"Effect":"Deny","Action":"iam:*","Resource":"*"}}`)
	if err != nil {
		t.Fatal(err)
	}
	if !FullAdmin(admin) || FullAdmin(admin, deny) || FullAdmin(deny) || FullAdmin() {
		t.Errorf("admin %v, admin+deny %v, deny %v, none %v", FullAdmin(admin), FullAdmin(admin, deny), FullAdmin(deny), FullAdmin())
	}
}

func TestGlob(t *testing.T) {
	for _, c := range []struct {
		p, s string
		want bool
	}{
		{"*", "iam", true}, {"i*", "iam", true}, {"?am", "iam", true}, {"iam", "iam", true},
		{"s3", "iam", false}, {"i?", "iam", false}, {"*m", "iam", true}, {"", "", true}, {"", "x", false}, {"a*b*c", "axxbyyc", true}, {"a*b*c", "axxbyy", false},
	} {
		if got := glob(c.p, c.s); got != c.want {
			t.Errorf("glob(%q, %q) = %v, want %v", c.p, c.s, got, c.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)
	f.Add(`{"Statement":{"Effect":"Deny","NotAction":["iam:*"],"NotResource":"arn:aws:s3:::x"}}`)
	f.Add(`%7B%22Statement%22%3A%5B%5D%7D`)
	f.Fuzz(func(t *testing.T, doc string) {
		d, err := Parse(doc)
		if err != nil {
			return
		}
		for _, s := range d.Statements {
			if (s.Actions == nil) == (s.NotActions == nil) || (s.Effect != Allow && s.Effect != Deny) {
				t.Fatalf("parsed an invalid statement %+v from %q", s, doc)
			}
		}
		_ = FullAdmin(d)
	})
}
