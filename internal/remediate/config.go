package remediate

import (
	"errors"
	"fmt"
	"os"
	"path"
	"strings"
	"time"

	"github.com/iamaudit/iamaudit/internal/yamlfile"
)

// Config is the remediation configuration (configs/remediation/remediation.yaml): what is never
// touched, and the numbers of the guard rails.
type Config struct {
	Protected Protected `yaml:"protected" json:"protected"`
	// AuditRoles are the read-only audit roles: never used to remediate, never acted
	// on. The run's own audit role is added to them.
	AuditRoles []string `yaml:"audit_roles" json:"audit_roles"`
	// MaxPlanAge refuses a plan older than this ("24h", "2d").
	MaxPlanAge string `yaml:"max_plan_age" json:"max_plan_age"`
	// RecentUseDays: deactivate-key refuses a key used in the last N days unless forced.
	RecentUseDays int `yaml:"recent_use_days" json:"recent_use_days"`
	// InactiveHours: delete-key deletes only keys Inactive for at least N hours.
	InactiveHours int `yaml:"inactive_hours" json:"inactive_hours"`
}

// Protected is what remediation never touches, whatever a plan says.
type Protected struct {
	// Accounts are account ids or names.
	Accounts []string `yaml:"accounts" json:"accounts,omitempty"`
	// Users are user names or path.Match patterns (break-glass-*).
	Users []string `yaml:"users" json:"users,omitempty"`
	// Tags protect a user that has one of them (the key compared without case, the
	// value exactly; a value of "*" matches any value).
	Tags []Tag `yaml:"tags" json:"tags,omitempty"`
}

// Tag is a tag key and value.
type Tag struct {
	Key   string `yaml:"key" json:"key"`
	Value string `yaml:"value" json:"value"`
}

// Defaults of the guard rails (seed 004: "if used within 7 days, coordinate with the
// owner"; "if no issues reported after 48 hours").
const (
	DefaultMaxPlanAge    = 24 * time.Hour
	DefaultRecentUseDays = 7
	DefaultInactiveHours = 48
	// DefaultAuditRole is the read-only audit role of deploy/iamaudit-role.yaml.
	DefaultAuditRole = "IAMAuditRole"
	// DefaultRole is the remediation role `apply --role` assumes by default.
	DefaultRole = "IAMAuditRemediationRole"
)

// DefaultConfig protects nothing and uses the default numbers.
func DefaultConfig() Config {
	return Config{AuditRoles: []string{DefaultAuditRole}, MaxPlanAge: "24h",
		RecentUseDays: DefaultRecentUseDays, InactiveHours: DefaultInactiveHours}
}

// LoadConfig reads a remediation configuration file on top of DefaultConfig.
func LoadConfig(name string) (Config, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return Config{}, fmt.Errorf("read the remediation config: %w", err)
	}
	return ParseConfig(name, data)
}

// ParseConfig is LoadConfig on bytes already read.
func ParseConfig(name string, data []byte) (Config, error) {
	cfg := DefaultConfig()
	doc, err := yamlfile.Parse(name, data, yamlfile.Options{What: "a remediation configuration file",
		FieldHint: "(configs/remediation/remediation.yaml lists the keys)"})
	if err != nil {
		return Config{}, err
	}
	if doc.Empty() {
		return cfg, nil
	}
	if err := doc.Decode(&cfg); err != nil {
		return Config{}, err
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, fmt.Errorf("%s: %w", name, err)
	}
	return cfg, nil
}

// Validate checks the numbers and patterns.
func (c Config) Validate() error {
	var errs []error
	if _, err := c.PlanAge(); err != nil {
		errs = append(errs, err)
	}
	if c.RecentUseDays < 0 {
		errs = append(errs, fmt.Errorf("recent_use_days %d: give 0 or more days", c.RecentUseDays))
	}
	if c.InactiveHours < DefaultInactiveHours {
		errs = append(errs, fmt.Errorf("inactive_hours %d: at least %d (seed 004: delete only after 48 hours)", c.InactiveHours, DefaultInactiveHours))
	}
	for _, p := range c.Protected.Users {
		if _, err := path.Match(p, ""); err != nil {
			errs = append(errs, fmt.Errorf("protected.users %q: %v", p, err))
		}
	}
	for _, t := range c.Protected.Tags {
		if t.Key == "" {
			errs = append(errs, errors.New("protected.tags: a tag needs a key"))
		}
	}
	return errors.Join(errs...)
}

// PlanAge is MaxPlanAge as a duration ("24h", "2d").
func (c Config) PlanAge() (time.Duration, error) {
	s := c.MaxPlanAge
	if s == "" {
		return DefaultMaxPlanAge, nil
	}
	if n, ok := strings.CutSuffix(s, "d"); ok {
		var days int
		if _, err := fmt.Sscanf(n, "%d", &days); err == nil && days > 0 && fmt.Sprint(days) == n {
			return time.Duration(days) * 24 * time.Hour, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("max_plan_age %q: give a duration such as 24h or 2d", s)
	}
	return d, nil
}

// accountProtected names the rule that protects an account ("" when none).
func (c Config) accountProtected(id, name string) string {
	for _, a := range c.Protected.Accounts {
		if a == id || (name != "" && strings.EqualFold(a, name)) {
			return "protected account " + a
		}
	}
	return ""
}

// userProtected names the rule that protects a user by name ("" when none).
func (c Config) userProtected(user string) string {
	for _, p := range c.Protected.Users {
		if ok, _ := path.Match(p, user); ok {
			return "protected user " + p
		}
	}
	return ""
}

// tagsProtected names the protected tag a user's tags hold ("" when none).
func (c Config) tagsProtected(tags map[string]string) string {
	for _, t := range c.Protected.Tags {
		for k, v := range tags {
			if strings.EqualFold(k, t.Key) && (t.Value == "*" || v == t.Value) {
				return fmt.Sprintf("protected tag %s=%s", k, v)
			}
		}
	}
	return ""
}

// isAuditRole tells whether role (a name, or path/name) is one of the audit roles.
func (c Config) isAuditRole(role, runAuditRole string) bool {
	name := role[strings.LastIndex(role, "/")+1:]
	for _, r := range append(append([]string{}, c.AuditRoles...), runAuditRole) {
		if r != "" && strings.EqualFold(r[strings.LastIndex(r, "/")+1:], name) {
			return true
		}
	}
	return false
}
