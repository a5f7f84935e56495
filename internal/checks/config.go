package checks

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/goccy/go-yaml"
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

// Validate checks the configuration for unknown check ids and impossible thresholds.
func (c Config) Validate() error {
	var errs []error
	for id := range c.Severity {
		if _, ok := Lookup(id); !ok {
			errs = append(errs, fmt.Errorf("severity: unknown check %q", id))
		}
	}
	for _, id := range c.Disabled {
		if _, ok := Lookup(id); !ok {
			errs = append(errs, fmt.Errorf("disabled: unknown check %q", id))
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
			errs = append(errs, fmt.Errorf("thresholds.%s: must not be negative (got %d)", name, v))
		}
	}
	if !(t.KeyRotationMediumDays <= t.KeyRotationHighDays && t.KeyRotationHighDays <= t.KeyRotationCriticalDays) {
		errs = append(errs, errors.New("thresholds: key_rotation_medium_days ≤ key_rotation_high_days ≤ key_rotation_critical_days must hold"))
	}
	sort.Slice(errs, func(i, j int) bool { return errs[i].Error() < errs[j].Error() })
	return errors.Join(errs...)
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

// ParseConfig is LoadConfig on bytes already read; name is used in error messages.
func ParseConfig(name string, data []byte) (Config, error) {
	var head struct {
		Preset string `yaml:"preset"`
	}
	// First pass: only the preset (unknown keys are checked in the strict pass below).
	if err := yaml.Unmarshal(data, &head); err != nil {
		return Config{}, yamlError(name, err)
	}
	cfg, err := Preset(head.Preset)
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", name, err)
	}
	if len(bytes.TrimSpace(data)) > 0 {
		if err := yaml.UnmarshalWithOptions(data, &cfg, yaml.Strict(), yaml.DisallowUnknownField()); err != nil {
			return Config{}, locate(name, data, yamlError(name, err))
		}
	}
	if cfg.Preset == "" {
		cfg.Preset = "default"
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, fmt.Errorf("%s: %w", name, err)
	}
	return cfg, nil
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
