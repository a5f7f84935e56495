// Package suppress reads suppression rules and applies them to findings. A suppressed
// finding stays in every output, marked with its reason; it counts towards neither the
// exit code nor the scores. An expired rule suppresses nothing, and the run says so.
package suppress

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"

	"github.com/iamaudit/iamaudit/internal/checks"
)

// Rule suppresses the findings it matches. Every field set must match (fields left
// empty match anything); values are exact strings or path.Match patterns ("dev-*").
type Rule struct {
	Check    string `yaml:"check" json:"check,omitempty"`       // check id
	Account  string `yaml:"account" json:"account,omitempty"`   // account id or account name
	User     string `yaml:"user" json:"user,omitempty"`         // user name
	Key      string `yaml:"key" json:"key,omitempty"`           // access key id
	Resource string `yaml:"resource" json:"resource,omitempty"` // resource (ARN, key id, account id)
	Reason   string `yaml:"reason" json:"reason"`               // required
	// Expires is the date the rule stops suppressing (YYYY-MM-DD, UTC; the rule is
	// valid through the whole day before). Empty: never expires.
	Expires string `yaml:"expires" json:"expires,omitempty"`

	// Line is where the rule starts in its file.
	Line int `yaml:"-" json:"line,omitempty"`
	// expiresAt is Expires parsed.
	expiresAt *time.Time
}

// ExpiresAt is the parsed expiry, nil when the rule never expires.
func (r Rule) ExpiresAt() *time.Time { return r.expiresAt }

// String describes the rule for messages.
func (r Rule) String() string {
	var parts []string
	for _, kv := range [][2]string{{"check", r.Check}, {"account", r.Account}, {"user", r.User}, {"key", r.Key}, {"resource", r.Resource}} {
		if kv[1] != "" {
			parts = append(parts, kv[0]+"="+kv[1])
		}
	}
	s := strings.Join(parts, " ")
	if r.Expires != "" {
		s += " (expires " + r.Expires + ")"
	}
	return s + ": " + r.Reason
}

// Rules is a suppression file's rules.
type Rules []Rule

type file struct {
	Suppressions []Rule `yaml:"suppressions"`
}

// Load reads a suppressions file.
func Load(p string) (Rules, error) {
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("read suppressions: %w", err)
	}
	return Parse(p, data)
}

// Parse reads suppression rules from YAML:
//
//	suppressions:
//	  - check: access_key_not_rotated
//	    account: "111122223333"
//	    user: ci-*
//	    reason: CI keys rotate with the pipeline, ticket SEC-42
//	    expires: 2026-06-30
//
// Unknown keys, a missing reason, an unknown check id, a bad pattern or date are
// errors naming the file, line and column.
func Parse(name string, data []byte) (Rules, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return Rules{}, nil
	}
	var f file
	if err := yaml.UnmarshalWithOptions(data, &f, yaml.Strict(), yaml.DisallowUnknownField()); err != nil {
		return nil, yamlError(name, err)
	}
	pos := rulePositions(data)
	var errs []error
	for i := range f.Suppressions {
		r := &f.Suppressions[i]
		var rp rulePos
		if i < len(pos) {
			rp = pos[i]
		}
		r.Line = rp.line
		// at is where an error about one field of the rule points: that field's line,
		// or the rule's first line when the field is absent.
		at := func(field string) string {
			if lc, ok := rp.fields[field]; ok {
				return fmt.Sprintf("%s:%d:%d", name, lc[0], lc[1])
			}
			return fmt.Sprintf("%s:%d", name, r.Line)
		}
		if strings.TrimSpace(r.Reason) == "" {
			errs = append(errs, fmt.Errorf("%s: rule %d has no reason: every suppression needs one", at("reason"), i+1))
		}
		if r.Check == "" && r.Account == "" && r.User == "" && r.Key == "" && r.Resource == "" {
			errs = append(errs, fmt.Errorf("%s: rule %d matches everything: give a check, account, user, key or resource", at(""), i+1))
		}
		if r.Check != "" && !strings.ContainsAny(r.Check, "*?[") {
			if _, ok := checks.Lookup(r.Check); !ok {
				errs = append(errs, fmt.Errorf("%s: rule %d: check: unknown check %q", at("check"), i+1, r.Check))
			}
		}
		for _, fv := range [][2]string{{"check", r.Check}, {"account", r.Account}, {"user", r.User}, {"key", r.Key}, {"resource", r.Resource}} {
			if _, err := path.Match(fv[1], ""); err != nil {
				errs = append(errs, fmt.Errorf("%s: rule %d: %s: bad pattern %q (use *, ? and [a-z] as in shell globs; close every '[')", at(fv[0]), i+1, fv[0], fv[1]))
			}
		}
		if r.Expires != "" {
			t, err := time.Parse("2006-01-02", r.Expires)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: rule %d: expires: %q is not a date (YYYY-MM-DD)", at("expires"), i+1, r.Expires))
			} else {
				r.expiresAt = &t
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return Rules(f.Suppressions), nil
}

// rulePos is where a rule and each of its fields are in the file.
type rulePos struct {
	line   int               // the rule's "- " item
	fields map[string][2]int // field → line, column of its key
}

// rulePositions finds each item of the suppressions list and its fields.
func rulePositions(data []byte) []rulePos {
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil
	}
	var out []rulePos
	for _, d := range f.Docs {
		m, ok := d.Body.(*ast.MappingNode)
		if !ok {
			continue
		}
		for _, kv := range m.Values {
			sq, ok := kv.Value.(*ast.SequenceNode)
			if kv.Key.String() != "suppressions" || !ok {
				continue
			}
			for _, it := range sq.Values {
				rp := rulePos{fields: map[string][2]int{}}
				if tok := it.GetToken(); tok != nil && tok.Position != nil {
					rp.line = tok.Position.Line
				}
				if rm, ok := it.(*ast.MappingNode); ok {
					for _, fkv := range rm.Values {
						if tok := fkv.Key.GetToken(); tok != nil && tok.Position != nil {
							rp.fields[fkv.Key.String()] = [2]int{tok.Position.Line, tok.Position.Column}
							if rp.line == 0 || tok.Position.Line < rp.line {
								rp.line = tok.Position.Line
							}
						}
					}
				}
				out = append(out, rp)
			}
		}
	}
	return out
}

// goType rewrites go-yaml's "cannot unmarshal X into Go struct field T.F of type Y".
var goType = regexp.MustCompile(`cannot unmarshal (.+?) into Go (?:struct field \S+|value)(?: of type (\S+))?`)

func yamlError(name string, err error) error {
	var ye yaml.Error
	if errors.As(err, &ye) {
		if tok := ye.GetToken(); tok != nil && tok.Position != nil {
			return fmt.Errorf("%s:%d:%d: %s", name, tok.Position.Line, tok.Position.Column, plain(ye.GetMessage()))
		}
		return fmt.Errorf("%s: %s", name, plain(ye.GetMessage()))
	}
	return fmt.Errorf("%s: %w", name, err)
}

// Expired reports whether the rule no longer suppresses at now: from its expiry date on.
func (r Rule) Expired(now time.Time) bool {
	return r.expiresAt != nil && !now.Before(*r.expiresAt)
}

func match(pattern, value string) bool {
	if pattern == "" {
		return true
	}
	if pattern == value {
		return true
	}
	ok, _ := path.Match(pattern, value)
	return ok
}

// Matches reports whether the rule covers a finding (ignoring expiry).
func (r Rule) Matches(f checks.Finding) bool {
	if !match(r.Check, f.CheckID) || !match(r.User, f.User) || !match(r.Resource, f.Resource) {
		return false
	}
	if r.Account != "" && !match(r.Account, f.AccountID) && !match(r.Account, f.AccountName) {
		return false
	}
	if r.Key != "" && (f.ResourceType != checks.ResourceAccessKey || !match(r.Key, f.Resource)) {
		return false
	}
	return true
}

// Apply marks the findings that a live rule matches as suppressed (the first matching
// rule gives the reason and expiry) and returns the expired rules, so the run can
// report them. An expired rule suppresses nothing.
func Apply(findings []checks.Finding, rules Rules, now time.Time) (expired []Rule) {
	for _, r := range rules {
		if r.Expired(now) {
			expired = append(expired, r)
		}
	}
	for i := range findings {
		f := &findings[i]
		for _, r := range rules {
			if r.Expired(now) || !r.Matches(*f) {
				continue
			}
			f.State, f.Suppressed, f.SuppressionReason = checks.StateSuppressed, true, r.Reason
			if r.expiresAt != nil {
				t := *r.expiresAt
				f.SuppressionExpires = &t
			}
			break
		}
	}
	return expired
}

// plain says a type mismatch in the user's terms: "want a single text value (got a list)".
func plain(msg string) string {
	m := goType.FindStringSubmatch(msg)
	if m == nil {
		return msg
	}
	want := "a single text value (quote it)"
	if strings.HasPrefix(m[2], "[]") || strings.HasPrefix(m[2], "suppress.Rules") {
		want = "a list of rules (- check: …)"
	}
	got := strings.TrimPrefix(m[1], "!!")
	switch {
	case strings.HasPrefix(got, "[]"):
		got = "a list"
	case strings.HasPrefix(got, "map"):
		got = "a mapping"
	}
	return "want " + want + ", got " + got
}
