package checks

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path"
	"sort"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// Thresholds are the numbers the checks compare ages with. Every threshold in days is
// "more than N days": an age of exactly N days does not fire.
type Thresholds struct {
	// KeyRotationDays grades access_key_not_rotated: medium above the first,
	// high above the second, critical above the third.
	KeyRotationMediumDays   int `yaml:"key_rotation_medium_days" json:"key_rotation_medium_days"`
	KeyRotationHighDays     int `yaml:"key_rotation_high_days" json:"key_rotation_high_days"`
	KeyRotationCriticalDays int `yaml:"key_rotation_critical_days" json:"key_rotation_critical_days"`
	// NeverUsedKeyGraceDays: a never-used key younger than this is not flagged.
	NeverUsedKeyGraceDays int `yaml:"never_used_key_grace_days" json:"never_used_key_grace_days"`
	// UnusedKeyDays: access_key_unused.
	UnusedKeyDays int `yaml:"unused_key_days" json:"unused_key_days"`
	// UnusedPasswordDays: console_password_unused.
	UnusedPasswordDays int `yaml:"unused_password_days" json:"unused_password_days"`
	// RecentPasswordUseDays: console_without_mfa is critical when the password was
	// used within this many days.
	RecentPasswordUseDays int `yaml:"recent_password_use_days" json:"recent_password_use_days"`
	// InactiveUserDays: inactive_user.
	InactiveUserDays int `yaml:"inactive_user_days" json:"inactive_user_days"`
	// InactiveKeyDeleteDays: inactive_key_not_deleted.
	InactiveKeyDeleteDays int `yaml:"inactive_key_delete_days" json:"inactive_key_delete_days"`
	// UnusedRoleDays: unused_role.
	UnusedRoleDays int `yaml:"unused_role_days" json:"unused_role_days"`
	// RootRecentUseDays: root_used_recently.
	RootRecentUseDays int `yaml:"root_recent_use_days" json:"root_recent_use_days"`
	// PasswordMinLength and PasswordReusePrevention: password_policy_weak.
	PasswordMinLength       int `yaml:"password_min_length" json:"password_min_length"`
	PasswordReusePrevention int `yaml:"password_reuse_prevention" json:"password_reuse_prevention"`
}

// Config is what the checks need besides the inventory: thresholds, per-check
// severity overrides, disabled checks, owner tags and roles out of scope.
type Config struct {
	// Preset is the name of the preset this configuration started from.
	Preset     string     `yaml:"preset" json:"preset"`
	Thresholds Thresholds `yaml:"thresholds" json:"thresholds"`
	// Severity overrides the severity of every finding of a check (check id → severity).
	Severity map[string]Severity `yaml:"severity" json:"severity,omitempty"`
	// Disabled lists check ids that do not run.
	Disabled []string `yaml:"disabled" json:"disabled,omitempty"`
	// OwnerTags are the tag keys that name a user's owner (user_without_owner);
	// matched without regard to case.
	OwnerTags []string `yaml:"owner_tags" json:"owner_tags"`
	// ExcludeRoles are role names (path.Match patterns) that unused_role ignores, such
	// as the audit role itself. The role the account was audited through is always excluded.
	ExcludeRoles []string `yaml:"exclude_roles" json:"exclude_roles,omitempty"`
}

// DefaultConfig is the "default" preset: the thresholds of docs/checks.md.
func DefaultConfig() Config {
	return Config{
		Preset: "default",
		Thresholds: Thresholds{
			KeyRotationMediumDays:   90,
			KeyRotationHighDays:     180,
			KeyRotationCriticalDays: 365,
			NeverUsedKeyGraceDays:   7,
			UnusedKeyDays:           90,
			UnusedPasswordDays:      90,
			RecentPasswordUseDays:   30,
			InactiveUserDays:        90,
			InactiveKeyDeleteDays:   30,
			UnusedRoleDays:          90,
			RootRecentUseDays:       30,
			PasswordMinLength:       14,
			PasswordReusePrevention: 24,
		},
		OwnerTags:    []string{"Owner", "Team", "Email"},
		ExcludeRoles: []string{"AWSControlTowerExecution", "OrganizationAccountAccessRole", "IAMAuditRole"},
	}
}

// PresetNames lists the presets Preset knows.
var PresetNames = []string{"default", "cis"}

// Preset returns a named configuration: "default", or "cis" (CIS AWS Foundations
// Benchmark values: credentials unused for more than 45 days).
func Preset(name string) (Config, error) {
	cfg := DefaultConfig()
	switch name {
	case "", "default":
		return cfg, nil
	case "cis":
		cfg.Preset = "cis"
		cfg.Thresholds.UnusedKeyDays = 45
		cfg.Thresholds.UnusedPasswordDays = 45
		cfg.Thresholds.InactiveUserDays = 45
		return cfg, nil
	}
	return Config{}, fmt.Errorf("unknown preset %q: use one of %s", name, strings.Join(PresetNames, ", "))
}

// Enabled reports whether a check runs.
func (c Config) Enabled(checkID string) bool {
	for _, d := range c.Disabled {
		if d == checkID {
			return false
		}
	}
	return true
}

// fieldError is a configuration error about one field, named by its YAML path
// ("thresholds.unused_key_days", "exclude_roles[2]").
type fieldError struct {
	field, msg string
}

func (e fieldError) Error() string { return e.field + ": " + e.msg }

// Validate checks the configuration for unknown check ids, impossible thresholds and
// invalid role patterns.
func (c Config) Validate() error {
	errs := c.fieldErrors()
	out := make([]error, len(errs))
	for i, e := range errs {
		out[i] = e
	}
	return errors.Join(out...)
}

func (c Config) fieldErrors() []fieldError {
	var errs []fieldError
	for id := range c.Severity {
		if _, ok := Lookup(id); !ok {
			errs = append(errs, fieldError{"severity." + id, fmt.Sprintf("unknown check %q", id)})
		}
	}
	for i, id := range c.Disabled {
		if _, ok := Lookup(id); !ok {
			errs = append(errs, fieldError{fmt.Sprintf("disabled[%d]", i), fmt.Sprintf("unknown check %q", id)})
		}
	}
	for i, p := range c.ExcludeRoles {
		if _, err := path.Match(p, ""); err != nil {
			errs = append(errs, fieldError{fmt.Sprintf("exclude_roles[%d]", i),
				fmt.Sprintf("invalid pattern %q (use *, ? and [a-z] as in shell globs; close every '[')", p)})
		}
	}
	t := c.Thresholds
	for name, v := range map[string]int{
		"key_rotation_medium_days": t.KeyRotationMediumDays, "key_rotation_high_days": t.KeyRotationHighDays,
		"key_rotation_critical_days": t.KeyRotationCriticalDays, "never_used_key_grace_days": t.NeverUsedKeyGraceDays,
		"unused_key_days": t.UnusedKeyDays, "unused_password_days": t.UnusedPasswordDays,
		"recent_password_use_days": t.RecentPasswordUseDays, "inactive_user_days": t.InactiveUserDays,
		"inactive_key_delete_days": t.InactiveKeyDeleteDays, "unused_role_days": t.UnusedRoleDays,
		"root_recent_use_days": t.RootRecentUseDays, "password_min_length": t.PasswordMinLength,
		"password_reuse_prevention": t.PasswordReusePrevention,
	} {
		if v < 0 {
			errs = append(errs, fieldError{"thresholds." + name, fmt.Sprintf("must not be negative (got %d)", v)})
		}
	}
	switch {
	case t.KeyRotationMediumDays > t.KeyRotationHighDays:
		errs = append(errs, fieldError{"thresholds.key_rotation_high_days", fmt.Sprintf(
			"must be at least key_rotation_medium_days (%d ≤ %d ≤ %d does not hold for medium, high, critical)",
			t.KeyRotationMediumDays, t.KeyRotationHighDays, t.KeyRotationCriticalDays)})
	case t.KeyRotationHighDays > t.KeyRotationCriticalDays:
		errs = append(errs, fieldError{"thresholds.key_rotation_critical_days", fmt.Sprintf(
			"must be at least key_rotation_high_days (%d ≤ %d ≤ %d does not hold for medium, high, critical)",
			t.KeyRotationMediumDays, t.KeyRotationHighDays, t.KeyRotationCriticalDays)})
	}
	sort.Slice(errs, func(i, j int) bool { return errs[i].Error() < errs[j].Error() })
	return errs
}

// LoadConfig reads a YAML configuration file. It starts from the preset the file names
// (`preset: cis`; default when absent), then applies the file's values on top. Unknown
// keys are errors, reported with the file name, line and column.
func LoadConfig(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("read config: %w", err)
	}
	return ParseConfig(path, data)
}

// ParseConfig is LoadConfig on bytes already read; name is used in error messages,
// which all read "name:line:col: field: what is wrong".
func ParseConfig(name string, data []byte) (Config, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return DefaultConfig(), nil
	}
	file, err := parser.ParseBytes(data, 0)
	if err != nil {
		return Config{}, yamlError(name, err)
	}
	pos := positions(file)
	if err := checkShapes(name, file, pos); err != nil {
		return Config{}, err
	}
	var head struct {
		Preset string `yaml:"preset"`
	}
	// First pass: only the preset (unknown keys are checked in the strict pass below).
	if err := yaml.Unmarshal(data, &head); err != nil {
		return Config{}, yamlError(name, err)
	}
	cfg, err := Preset(head.Preset)
	if err != nil {
		return Config{}, fmt.Errorf("%s: preset: %w", pos.at(name, "preset"), err)
	}
	if err := yaml.UnmarshalWithOptions(data, &cfg, yaml.Strict(), yaml.DisallowUnknownField()); err != nil {
		return Config{}, locate(name, data, yamlError(name, err))
	}
	if cfg.Preset == "" {
		cfg.Preset = "default"
	}
	if errs := cfg.fieldErrors(); len(errs) > 0 {
		out := make([]error, len(errs))
		for i, e := range errs {
			out[i] = fmt.Errorf("%s: %w", pos.at(name, e.field), e)
		}
		return Config{}, errors.Join(out...)
	}
	return cfg, nil
}

// nodePos maps a YAML path ("thresholds.unused_key_days", "exclude_roles[1]") to the
// line and column of its value.
type nodePos map[string][2]int

// at is "name:line:col" for a field, or "name:line:col" of its closest parent, or "name".
func (p nodePos) at(name, field string) string {
	for f := field; f != ""; {
		if lc, ok := p[f]; ok {
			return fmt.Sprintf("%s:%d:%d", name, lc[0], lc[1])
		}
		i := strings.LastIndexAny(f, ".[")
		if i < 0 {
			break
		}
		f = f[:i]
	}
	return name
}

// positions records where every mapping key and sequence item of the document is.
func positions(f *ast.File) nodePos {
	p := nodePos{}
	var walk func(prefix string, n ast.Node)
	walk = func(prefix string, n ast.Node) {
		switch v := n.(type) {
		case *ast.DocumentNode:
			walk(prefix, v.Body)
		case *ast.MappingNode:
			for _, kv := range v.Values {
				walk(prefix, kv)
			}
		case *ast.MappingValueNode:
			key := v.Key.String()
			if prefix != "" {
				key = prefix + "." + key
			}
			if tok := v.Key.GetToken(); tok != nil && tok.Position != nil {
				p[key] = [2]int{tok.Position.Line, tok.Position.Column}
			}
			walk(key, v.Value)
		case *ast.SequenceNode:
			for i, it := range v.Values {
				key := fmt.Sprintf("%s[%d]", prefix, i)
				if tok := it.GetToken(); tok != nil && tok.Position != nil {
					p[key] = [2]int{tok.Position.Line, tok.Position.Column}
				}
				walk(key, it)
			}
		}
	}
	if f != nil {
		for _, d := range f.Docs {
			walk("", d)
		}
	}
	return p
}

// checkShapes reports values of the wrong kind before decoding, in the user's terms:
// a threshold that is not a whole number, a list that is not a list.
func checkShapes(name string, f *ast.File, pos nodePos) error {
	var errs []error
	bad := func(field, msg string) {
		errs = append(errs, fmt.Errorf("%s: %s: %s", pos.at(name, field), field, msg))
	}
	for _, d := range f.Docs {
		m, ok := d.Body.(*ast.MappingNode)
		if !ok {
			if d.Body != nil {
				bad("(document)", "want a mapping of settings (preset:, thresholds:, severity:, disabled:, owner_tags:, exclude_roles:)")
			}
			continue
		}
		for _, kv := range m.Values {
			key := kv.Key.String()
			switch key {
			case "preset":
				if _, ok := kv.Value.(*ast.StringNode); !ok {
					bad(key, "want a preset name ("+strings.Join(PresetNames, ", ")+")")
				}
			case "thresholds", "severity":
				tm, ok := kv.Value.(*ast.MappingNode)
				if !ok {
					if _, isNull := kv.Value.(*ast.NullNode); !isNull {
						bad(key, "want a mapping of names to values")
					}
					continue
				}
				for _, t := range tm.Values {
					field := key + "." + t.Key.String()
					if key == "thresholds" {
						if _, ok := t.Value.(*ast.IntegerNode); !ok {
							unit := "days"
							if strings.HasPrefix(t.Key.String(), "password_") {
								unit = "characters or passwords"
							}
							bad(field, fmt.Sprintf("want a whole number of %s (got %s)", unit, t.Value.String()))
						}
					} else if _, ok := t.Value.(*ast.StringNode); !ok {
						bad(field, "want a severity (critical, high, medium, low)")
					}
				}
			case "disabled", "owner_tags", "exclude_roles":
				sq, ok := kv.Value.(*ast.SequenceNode)
				if !ok {
					if _, isNull := kv.Value.(*ast.NullNode); !isNull {
						bad(key, "want a list, e.g. ["+map[string]string{"disabled": "unused_role", "owner_tags": "Owner, Team", "exclude_roles": "\"Admin*\""}[key]+"]")
					}
					continue
				}
				for i, it := range sq.Values {
					switch it.(type) {
					case *ast.StringNode, *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode:
					default:
						bad(fmt.Sprintf("%s[%d]", key, i), "want a single name, not a list or mapping")
					}
				}
			}
		}
	}
	return errors.Join(errs...)
}

// locate adds the line of a bad severity value that go-yaml reports without a position.
func locate(name string, data []byte, err error) error {
	var se *severityError
	if !errors.As(err, &se) {
		return err
	}
	for i, line := range strings.Split(string(data), "\n") {
		if j := strings.Index(line, se.value); j >= 0 && strings.Contains(line, ":") {
			return fmt.Errorf("%s:%d:%d: %w", name, i+1, j+1, se)
		}
	}
	return err
}

// yamlError turns a go-yaml error into "file:line:col: message".
func yamlError(name string, err error) error {
	var ye yaml.Error
	if errors.As(err, &ye) {
		if tok := ye.GetToken(); tok != nil && tok.Position != nil {
			return fmt.Errorf("%s:%d:%d: %s", name, tok.Position.Line, tok.Position.Column, ye.GetMessage())
		}
		return fmt.Errorf("%s: %s", name, ye.GetMessage())
	}
	return fmt.Errorf("%s: %w", name, err)
}
