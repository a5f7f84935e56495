package checks

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPresets(t *testing.T) {
	cis, err := Preset("cis")
	if err != nil || cis.Thresholds.UnusedKeyDays != 45 || cis.Thresholds.UnusedPasswordDays != 45 || cis.Preset != "cis" {
		t.Fatalf("cis preset: %+v %v", cis.Thresholds, err)
	}
	if d, _ := Preset("default"); d.Thresholds.UnusedKeyDays != 90 {
		t.Errorf("default unused key days %d", d.Thresholds.UnusedKeyDays)
	}
	if _, err := Preset("nist"); err == nil || !strings.Contains(err.Error(), "default, cis") {
		t.Errorf("unknown preset error: %v", err)
	}
}

func TestParseConfig(t *testing.T) {
	cases := []struct {
		name, yaml string
		check      func(t *testing.T, c Config)
		err        string
	}{
		{name: "empty is default", yaml: "", check: func(t *testing.T, c Config) {
			if c.Preset != "default" || c.Thresholds.KeyRotationMediumDays != 90 {
				t.Errorf("%+v", c)
			}
		}},
		{name: "preset then overrides", yaml: "preset: cis\nthresholds:\n  unused_key_days: 30\nseverity:\n  user_without_owner: medium\ndisabled: [unused_role]\nowner_tags: [CostCenter]\n", check: func(t *testing.T, c Config) {
			if c.Thresholds.UnusedKeyDays != 30 || c.Thresholds.UnusedPasswordDays != 45 || c.Thresholds.KeyRotationCriticalDays != 365 {
				t.Errorf("thresholds %+v", c.Thresholds)
			}
			if c.Severity["user_without_owner"] != Medium || c.Enabled("unused_role") || !c.Enabled("inactive_user") || c.OwnerTags[0] != "CostCenter" {
				t.Errorf("%+v", c)
			}
		}},
		{name: "unknown key", yaml: "preset: cis\nthreshold:\n  x: 1\n", err: "cfg.yaml:2:1"},
		{name: "unknown nested key", yaml: "thresholds:\n  unused_key_dayz: 3\n", err: "cfg.yaml:2:"},
		{name: "bad severity", yaml: "severity:\n  unused_role: extreme\n", err: "cfg.yaml:2:"},
		{name: "unknown check", yaml: "disabled: [no_such_check]\n", err: `unknown check "no_such_check"`},
		{name: "unknown preset", yaml: "preset: nist\n", err: "unknown preset"},
		{name: "bad order", yaml: "thresholds:\n  key_rotation_high_days: 50\n", err: "key_rotation_medium_days"},
		{name: "negative", yaml: "thresholds:\n  unused_role_days: -1\n", err: "must not be negative"},
		{name: "syntax", yaml: "thresholds: [\n", err: "cfg.yaml:"},
		// Every error names file:line:col and the field, in the user's terms.
		{name: "unknown preset has its line", yaml: "# c\npreset: nist\n", err: "cfg.yaml:2:1: preset: unknown preset"},
		{name: "negative has its line", yaml: "thresholds:\n  unused_key_days: 3\n  unused_role_days: -1\n", err: "cfg.yaml:3:3: thresholds.unused_role_days: must not be negative (got -1)"},
		{name: "order has its line", yaml: "thresholds:\n  key_rotation_medium_days: 90\n  key_rotation_high_days: 50\n", err: "cfg.yaml:3:3: thresholds.key_rotation_high_days: must be at least key_rotation_medium_days"},
		{name: "critical below high", yaml: "thresholds:\n  key_rotation_critical_days: 100\n", err: "cfg.yaml:2:3: thresholds.key_rotation_critical_days:"},
		{name: "order from the preset: at thresholds", yaml: "preset: cis\nthresholds:\n  key_rotation_high_days: 50\n", err: "cfg.yaml:3:3:"},
		{name: "string threshold", yaml: "thresholds:\n  unused_key_days: ninety\n", err: "cfg.yaml:2:3: thresholds.unused_key_days: want a whole number of days (got ninety)"},
		{name: "fractional threshold", yaml: "thresholds:\n  unused_key_days: 1.5\n", err: "cfg.yaml:2:3: thresholds.unused_key_days: want a whole number of days"},
		{name: "thresholds not a mapping", yaml: "thresholds: 5\n", err: "cfg.yaml:1:1: thresholds: want a mapping"},
		{name: "disabled not a list", yaml: "disabled: unused_role\n", err: "cfg.yaml:1:1: disabled: want a list"},
		{name: "unknown disabled check has its line", yaml: "disabled:\n  - unused_role\n  - nope\n", err: `cfg.yaml:3:5: disabled[1]: unknown check "nope"`},
		{name: "bad glob", yaml: "exclude_roles:\n  - ok*\n  - \"Admin[\"\n", err: `cfg.yaml:3:5: exclude_roles[1]: invalid pattern "Admin["`},
		{name: "unknown severity check has its line", yaml: "severity:\n  nope: low\n", err: `cfg.yaml:2:3: severity.nope: unknown check "nope"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := ParseConfig("cfg.yaml", []byte(c.yaml))
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want %q", err, c.err)
				}
				if strings.Contains(err.Error(), "Go struct") || strings.Contains(err.Error(), "unmarshal") {
					t.Errorf("Go internals in %q", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			c.check(t, cfg)
		})
	}
}

func TestLoadConfigShippedFiles(t *testing.T) {
	files, _ := filepath.Glob("../../configs/*.yaml")
	if len(files) == 0 {
		t.Fatal("no configs/*.yaml")
	}
	for _, f := range files {
		if _, err := LoadConfig(f); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	if _, err := LoadConfig(filepath.Join(t.TempDir(), "missing.yaml")); err == nil || !os.IsNotExist(unwrapAll(err)) {
		t.Errorf("missing file: %v", err)
	}
}

func unwrapAll(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return err
		}
		err = u.Unwrap()
	}
}
