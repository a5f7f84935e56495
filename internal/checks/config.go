package checks

import (
	"errors"
	"fmt"
	"os"
	"path"
	"sort"
	"strings"

	"github.com/iamaudit/iamaudit/internal/yamlfile"
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
		ExcludeRoles: []string{"AWSControlTowerExecution", "OrganizationAccountAccessRole", "IAMAuditRole", "IAMAuditRemediationRole"},
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

// fieldError is a configuration error about one field, at its YAML path
// (thresholds, unused_key_days; exclude_roles, 2).
type fieldError struct {
	path []any
	msg  string
}

func (e fieldError) Error() string { return yamlfile.Path(e.path...) + ": " + e.msg }

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
			errs = append(errs, fieldError{[]any{"severity", id}, fmt.Sprintf("unknown check %q", id)})
		}
	}
	for i, id := range c.Disabled {
		if _, ok := Lookup(id); !ok {
			errs = append(errs, fieldError{[]any{"disabled", i}, fmt.Sprintf("unknown check %q", id)})
		}
	}
	for i, p := range c.ExcludeRoles {
		if _, err := path.Match(p, ""); err != nil {
			errs = append(errs, fieldError{[]any{"exclude_roles", i},
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
			errs = append(errs, fieldError{[]any{"thresholds", name}, fmt.Sprintf("must not be negative (got %d)", v)})
		}
	}
	switch {
	case t.KeyRotationMediumDays > t.KeyRotationHighDays:
		errs = append(errs, fieldError{[]any{"thresholds", "key_rotation_high_days"}, fmt.Sprintf(
			"must be at least key_rotation_medium_days (%d ≤ %d ≤ %d does not hold for medium, high, critical)",
			t.KeyRotationMediumDays, t.KeyRotationHighDays, t.KeyRotationCriticalDays)})
	case t.KeyRotationHighDays > t.KeyRotationCriticalDays:
		errs = append(errs, fieldError{[]any{"thresholds", "key_rotation_critical_days"}, fmt.Sprintf(
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
	doc, err := yamlfile.Parse(name, data, yamlOptions)
	if err != nil {
		return Config{}, err
	}
	if doc.Empty() {
		return DefaultConfig(), nil
	}
	if err := checkShapes(doc); err != nil {
		return Config{}, err
	}
	cfg, err := Preset(doc.Text("preset"))
	if err != nil {
		return Config{}, doc.Errorf(doc.Pos("preset"), "preset: %v", err)
	}
	if err := doc.Decode(&cfg); err != nil { // on top of the preset
		return Config{}, err
	}
	if cfg.Preset == "" {
		cfg.Preset = "default"
	}
	if errs := cfg.fieldErrors(); len(errs) > 0 {
		out := make([]error, len(errs))
		for i, e := range errs {
			out[i] = doc.Errorf(doc.Pos(e.path...), "%s", e)
		}
		return Config{}, errors.Join(out...)
	}
	return cfg, nil
}

// yamlOptions: an unknown key lists the settings.
var yamlOptions = yamlfile.Options{What: "a configuration file",
	FieldHint: "the settings are preset, thresholds, severity, disabled, owner_tags and exclude_roles (docs/checks.md)"}

// checkShapes reports values of the wrong kind before decoding, in the user's terms, at
// the setting's key: a threshold that is not a whole number, a list that is not a
// list, a severity that is not one.
func checkShapes(doc *yamlfile.Doc) error {
	var errs []*yamlfile.Error
	bad := func(path []any, msg string) {
		errs = append(errs, doc.Errorf(doc.Pos(path...), "%s: %s", yamlfile.Path(path...), msg))
	}
	if !doc.IsMapping() {
		return doc.Errorf(doc.Pos(), "a configuration file is a mapping of settings (preset:, thresholds:, severity:, disabled:, owner_tags:, exclude_roles:)")
	}
	for _, key := range doc.Keys() {
		switch key {
		case "preset":
			if doc.Kind(key) != yamlfile.Text {
				bad([]any{key}, "want a preset name ("+strings.Join(PresetNames, ", ")+")")
			}
		case "thresholds", "severity":
			if k := doc.Kind(key); k != yamlfile.Mapping {
				if k != yamlfile.Null {
					bad([]any{key}, "want a mapping of names to values")
				}
				continue
			}
			for _, name := range doc.Keys(key) {
				field := []any{key, name}
				switch {
				case key == "thresholds" && doc.Kind(field...) != yamlfile.Integer:
					unit := "days"
					if strings.HasPrefix(name, "password_") {
						unit = "characters or passwords"
					}
					bad(field, fmt.Sprintf("want a whole number of %s (got %s)", unit, doc.Text(field...)))
				case key == "severity" && doc.Kind(field...) != yamlfile.Text:
					bad(field, "want a severity (critical, high, medium, low)")
				case key == "severity":
					if _, err := ParseSeverity(doc.Text(field...)); err != nil {
						bad(field, err.Error())
					}
				}
			}
		case "disabled", "owner_tags", "exclude_roles":
			if k := doc.Kind(key); k != yamlfile.List {
				if k != yamlfile.Null {
					bad([]any{key}, "want a list, e.g. ["+map[string]string{"disabled": "unused_role", "owner_tags": "Owner, Team", "exclude_roles": "\"Admin*\""}[key]+"]")
				}
				continue
			}
			for i := range doc.Len(key) {
				switch doc.Kind(key, i) {
				case yamlfile.Text, yamlfile.Integer, yamlfile.Number, yamlfile.Bool:
				default:
					bad([]any{key, i}, "want a single name, not a list or mapping")
				}
			}
		}
	}
	return yamlfile.Join(errs)
}
