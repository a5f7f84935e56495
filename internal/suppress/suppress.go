// Package suppress reads suppression rules and applies them to findings. A suppressed
// finding stays in every output, marked with its reason; it counts towards neither the
// exit code nor the scores. An expired rule suppresses nothing, and the run says so.
package suppress

import (
	"errors"
	"fmt"
	"os"
	"path"
	"strings"
	"time"

	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/yamlfile"
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
	doc, err := yamlfile.Parse(name, data, yamlOptions)
	if err != nil {
		return nil, err
	}
	var f file
	if err := doc.Decode(&f); err != nil {
		return nil, err
	}
	var errs []*yamlfile.Error
	for i := range f.Suppressions {
		r := &f.Suppressions[i]
		rule := doc.Pos("suppressions", i)
		r.Line = rule.Line
		// at is where an error about one field of the rule points: that field's key, or
		// the rule's line when the field is absent.
		at := func(field string) yamlfile.Pos {
			if p, ok := doc.Find("suppressions", i, field); ok && field != "" {
				return p
			}
			return yamlfile.Pos{Line: rule.Line}
		}
		bad := func(field, format string, args ...any) {
			errs = append(errs, doc.Errorf(at(field), "rule %d%s", i+1, fmt.Sprintf(format, args...)))
		}
		if strings.TrimSpace(r.Reason) == "" {
			bad("reason", " has no reason: every suppression needs one")
		}
		if r.Check == "" && r.Account == "" && r.User == "" && r.Key == "" && r.Resource == "" {
			bad("", " matches everything: give a check, account, user, key or resource")
		}
		if r.Check != "" && !strings.ContainsAny(r.Check, "*?[") {
			if _, ok := checks.Lookup(r.Check); !ok {
				bad("check", ": check: unknown check %q", r.Check)
			}
		}
		for _, fv := range [][2]string{{"check", r.Check}, {"account", r.Account}, {"user", r.User}, {"key", r.Key}, {"resource", r.Resource}} {
			if _, err := path.Match(fv[1], ""); err != nil {
				bad(fv[0], ": %s: bad pattern %q (use *, ? and [a-z] as in shell globs; close every '[')", fv[0], fv[1])
			}
		}
		if r.Expires != "" {
			t, err := time.Parse("2006-01-02", r.Expires)
			if err != nil {
				bad("expires", ": expires: %q is not a date (YYYY-MM-DD)", r.Expires)
			} else {
				r.expiresAt = &t
			}
		}
	}
	if len(errs) > 0 {
		out := make([]error, len(errs))
		for i, e := range errs {
			out[i] = e
		}
		return nil, errors.Join(out...)
	}
	if f.Suppressions == nil {
		return Rules{}, nil
	}
	return Rules(f.Suppressions), nil
}

// yamlOptions: an unknown key lists the keys of a rule.
var yamlOptions = yamlfile.Options{What: "a suppressions file",
	FieldHint: "a suppressions file has suppressions:, and each rule check, account, user, key, resource, reason and expires"}

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
