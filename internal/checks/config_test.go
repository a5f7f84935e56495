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
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := ParseConfig("cfg.yaml", []byte(c.yaml))
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want %q", err, c.err)
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
