package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/inventory"
	"github.com/iamaudit/iamaudit/internal/score"
)

// TestSummaryRootCredentials: a root user without credentials has no finding, so the
// account's line says so; unknown credentials say unknown; present ones say nothing.
func TestSummaryRootCredentials(t *testing.T) {
	acct := func(id, name, creds string) inventory.Account {
		return inventory.Account{ID: id, Name: name, State: "ACTIVE", Status: inventory.StatusAudited, PasswordPolicyKnown: true,
			PasswordPolicy: &inventory.PasswordPolicy{MinimumPasswordLength: 14, PasswordReusePrevention: 24},
			Root:           &inventory.Root{ARN: "arn:aws:iam::" + id + ":root", Credentials: creds, MFAType: inventory.MFANone}}
	}
	inv := &inventory.Inventory{Accounts: []inventory.Account{
		acct("111111111111", "Member", inventory.RootCredentialsNone),
		acct("222222222222", "NoReport", inventory.RootCredentialsUnknown),
		acct("333333333333", "Management", inventory.RootCredentialsPresent),
	}}
	cfg := checks.DefaultConfig()
	fs := checks.Run(inv, fnow, cfg)
	sc := score.Compute(inv, fs, fnow, cfg)
	for _, c := range []struct{ lang, none, unknown string }{
		{"en", "root: no root credentials", "root: root credentials unknown"},
		{"es", "root: sin credenciales de root", "root: credenciales de root desconocidas"},
	} {
		var buf bytes.Buffer
		if err := WriteSummaryWith(&buf, fs, sc, nil, SummaryOptions{Lang: c.lang, Inventory: inv}); err != nil {
			t.Fatal(err)
		}
		lines := map[string]string{}
		for _, l := range strings.Split(buf.String(), "\n") {
			for _, n := range []string{"Member", "NoReport", "Management"} {
				if strings.HasPrefix(strings.TrimSpace(l), n+" (") {
					lines[n] = l
				}
			}
		}
		if !strings.HasSuffix(lines["Member"], "; "+c.none) || !strings.HasSuffix(lines["NoReport"], "; "+c.unknown) || strings.Contains(lines["Management"], "root:") {
			t.Errorf("%s: account lines %q", c.lang, lines)
		}
		if strings.Contains(buf.String(), "Member/<root_account>") {
			t.Errorf("%s: a finding about a root without credentials:\n%s", c.lang, buf.String())
		}
	}
}
