package scenario

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml/ast"

	"github.com/iamaudit/iamaudit/internal/yamlfile"
)

// Day is 24 hours, the unit of the "d" suffix in relative dates.
const Day = 24 * time.Hour

// Absolute date layouts accepted besides RFC 3339 (all read as UTC).
const (
	layoutDay      = "2006-01-02"
	layoutDateTime = "2006-01-02 15:04:05"
)

// ParseDate reads a date: "now", a relative offset from the sandbox clock
// ("-400d", "-3h", "-90d12h", "+30d"), or an absolute time ("2018-06-15",
// "2018-06-15 10:20:30" in UTC, or RFC 3339).
func ParseDate(s string) (Date, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return Date{}, errors.New("empty date: write \"now\", a relative date such as \"-400d\", or \"2018-06-15\"")
	case s == "now":
		return Date{IsRel: true}, nil
	case s[0] == '-' || s[0] == '+':
		d, err := parseOffset(s[1:])
		if err != nil {
			return Date{}, fmt.Errorf("invalid relative date %q: %w", s, err)
		}
		if s[0] == '-' {
			d = -d
		}
		return Date{Rel: d, IsRel: true}, nil
	}
	for _, layout := range []string{layoutDay, layoutDateTime, time.RFC3339Nano} {
		if t, err := time.Parse(layout, s); err == nil {
			return Date{Abs: t.UTC()}, nil
		}
	}
	if _, err := parseOffset(s); err == nil {
		return Date{}, fmt.Errorf("invalid date %q: a relative date needs a sign (\"-%s\" is in the past)", s, s)
	}
	return Date{}, fmt.Errorf("invalid date %q: use \"now\", \"-400d\", \"-3h\", \"-90d12h\", \"2018-06-15\", \"2018-06-15 10:20:30\" or RFC 3339", s)
}

// parseOffset reads "400d", "3h", "90d12h", "1h30m": an optional day count
// followed by a Go duration.
func parseOffset(s string) (time.Duration, error) {
	if s == "" {
		return 0, errors.New("missing offset")
	}
	var total time.Duration
	if i := strings.IndexByte(s, 'd'); i >= 0 {
		days, err := strconv.ParseUint(s[:i], 10, 32)
		if err != nil || i == 0 {
			return 0, errors.New("days must be a whole number, as in \"400d\"")
		}
		if days > 100*365 {
			return 0, errors.New("more than 100 years")
		}
		total = time.Duration(days) * Day
		s = s[i+1:]
		if s == "" {
			return total, nil
		}
	}
	if s[0] == '-' || s[0] == '+' {
		return 0, errors.New("the sign goes only in front")
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, errors.New("units are d, h, m, s, ms")
	}
	if d > 100*365*Day {
		return 0, errors.New("more than 100 years")
	}
	return total + d, nil
}

// String writes the date back in the form ParseDate reads.
func (d Date) String() string {
	if !d.IsRel {
		if d.Abs.Equal(d.Abs.Truncate(time.Second)) {
			return d.Abs.UTC().Format(layoutDateTime)
		}
		return d.Abs.UTC().Format(time.RFC3339Nano)
	}
	if d.Rel == 0 {
		return "now"
	}
	sign, off := "+", d.Rel
	if off < 0 {
		sign, off = "-", -off
	}
	days, rest := off/Day, off%Day
	switch {
	case rest == 0:
		return fmt.Sprintf("%s%dd", sign, days)
	case days == 0:
		return sign + rest.String()
	}
	return fmt.Sprintf("%s%dd%s", sign, days, rest)
}

// Add returns the date moved by delta, keeping it relative or absolute.
func (d Date) Add(delta time.Duration) Date {
	if d.IsRel {
		return Date{Rel: d.Rel + delta, IsRel: true}
	}
	return Date{Abs: d.Abs.Add(delta)}
}

// Before reports whether d is before e when both are resolved against the same
// clock. Relative and absolute dates are compared at now.
func (d Date) Before(e Date, now time.Time) bool { return d.Resolve(now).Before(e.Resolve(now)) }

// Ago returns the relative date the given duration before the sandbox clock.
func Ago(d time.Duration) *Date { return &Date{Rel: -d, IsRel: true} }

// DaysAgo returns the relative date n days before the sandbox clock.
func DaysAgo(n int) *Date { return Ago(time.Duration(n) * Day) }

// At returns the absolute date t.
func At(t time.Time) *Date { return &Date{Abs: t.UTC()} }

// UnmarshalYAML reads a date from a YAML scalar, reporting its position on error.
func (d *Date) UnmarshalYAML(node ast.Node) error {
	s, err := scalar(node)
	if err != nil {
		return err
	}
	v, err := ParseDate(s)
	if err != nil {
		return yamlfile.AtNode(node, err)
	}
	*d = v
	return nil
}

// MarshalYAML writes the date as ParseDate reads it.
func (d Date) MarshalYAML() ([]byte, error) { return []byte(strconv.Quote(d.String())), nil }

// ParseDuration reads a non-negative Go duration such as "250ms", "2s", "1h".
func ParseDuration(s string) (Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return Duration{}, fmt.Errorf("invalid duration %q: write it as \"250ms\", \"2s\" or \"1h\"", s)
	}
	if d < 0 {
		return Duration{}, fmt.Errorf("invalid duration %q: must not be negative", s)
	}
	return Duration{d}, nil
}

// UnmarshalYAML reads a duration from a YAML scalar, reporting its position on error.
func (d *Duration) UnmarshalYAML(node ast.Node) error {
	s, err := scalar(node)
	if err != nil {
		return err
	}
	v, err := ParseDuration(s)
	if err != nil {
		return yamlfile.AtNode(node, err)
	}
	*d = v
	return nil
}

// MarshalYAML writes the duration as ParseDuration reads it.
func (d Duration) MarshalYAML() ([]byte, error) { return []byte(strconv.Quote(d.String())), nil }

// ParsePeriod reads a positive interval with an optional day count: "7d", "12h",
// "1d12h", "30m".
func ParsePeriod(s string) (Period, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "-") || strings.HasPrefix(s, "+") {
		return Period{}, fmt.Errorf("invalid interval %q: write it without a sign, as \"7d\" or \"12h\"", s)
	}
	d, err := parseOffset(s)
	if err != nil {
		return Period{}, fmt.Errorf("invalid interval %q: %w, as in \"7d\" or \"12h\"", s, err)
	}
	if d <= 0 {
		return Period{}, fmt.Errorf("invalid interval %q: must be more than zero", s)
	}
	return Period{d}, nil
}

// String writes the period as ParsePeriod reads it ("7d", "1d12h0m0s", "12h0m0s").
func (p Period) String() string {
	days, rest := p.Duration/Day, p.Duration%Day
	switch {
	case days == 0:
		return rest.String()
	case rest == 0:
		return fmt.Sprintf("%dd", days)
	}
	return fmt.Sprintf("%dd%s", days, rest)
}

// UnmarshalYAML reads a period from a YAML scalar, reporting its position on error.
func (p *Period) UnmarshalYAML(node ast.Node) error {
	s, err := scalar(node)
	if err != nil {
		return err
	}
	v, err := ParsePeriod(s)
	if err != nil {
		return yamlfile.AtNode(node, err)
	}
	*p = v
	return nil
}

// MarshalYAML writes the period as ParsePeriod reads it.
func (p Period) MarshalYAML() ([]byte, error) { return []byte(strconv.Quote(p.String())), nil }

// scalar returns the text of a scalar node, or an error naming what was found instead.
func scalar(node ast.Node) (string, error) {
	switch n := node.(type) {
	case *ast.StringNode:
		return n.Value, nil
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.InfinityNode, *ast.NanNode, *ast.LiteralNode:
		return n.GetToken().Value, nil
	case *ast.NullNode:
		return "", yamlfile.AtNode(node, errors.New("missing value"))
	}
	return "", yamlfile.AtNode(node, fmt.Errorf("expected a single value, found a %s", strings.ToLower(node.Type().String())))
}
