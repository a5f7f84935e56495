package checks

import (
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/iamaudit/iamaudit/internal/fix"
	"github.com/iamaudit/iamaudit/internal/fix/awscli"
	"github.com/iamaudit/iamaudit/internal/inventory"
)

// only returns cfg with every check but id disabled.
func only(id string, cfg Config) Config {
	for _, c := range All() {
		if c.ID != id {
			cfg.Disabled = append(cfg.Disabled, c.ID)
		}
	}
	return cfg
}

type tc struct {
	name string
	inv  *inventory.Inventory
	cfg  *Config
	// want lists the severities of the expected findings, in Run's order; empty: must not fire.
	want []Severity
	// msg, when set, must appear in the first finding's message; ev key=value pairs in its evidence.
	msg string
	ev  map[string]string
}

func runTable(t *testing.T, id string, cases []tc) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := DefaultConfig()
			if c.cfg != nil {
				cfg = *c.cfg
			}
			got := Run(c.inv, now, only(id, cfg))
			if len(got) != len(c.want) {
				t.Fatalf("%s: got %d findings, want %d: %+v", id, len(got), len(c.want), got)
			}
			for i, f := range got {
				if f.CheckID != id || f.Severity != c.want[i] {
					t.Errorf("finding %d: check %s severity %s, want %s %s", i, f.CheckID, f.Severity, id, c.want[i])
				}
				if f.ID == "" || f.State != StateOpen || f.AccountID == "" || f.Resource == "" || f.Message == "" || f.Remediation.Workflow == "" || len(f.Remediation.Actions) == 0 {
					t.Errorf("finding %d incomplete: %+v", i, f)
				}
			}
			if c.msg != "" && !strings.Contains(got[0].Message, c.msg) {
				t.Errorf("message %q does not contain %q", got[0].Message, c.msg)
			}
			for k, v := range c.ev {
				if got[0].Evidence[k] != v {
					t.Errorf("evidence %s = %q, want %q (all: %v)", k, got[0].Evidence[k], v, got[0].Evidence)
				}
			}
		})
	}
}

func TestAccountNotAudited(t *testing.T) {
	notAudited := func(state string) *inventory.Inventory {
		return account().with(func(a *inventory.Account) {
			a.Status, a.State, a.Reason = inventory.StatusNotAudited, state, "AccessDenied assuming role IAMAuditRole: deploy it"
			a.Root = &inventory.Root{MFAActive: false}
		}).user(inventory.User{Name: "x", PasswordEnabled: true}).inv()
	}
	runTable(t, "account_not_audited", []tc{
		{name: "not audited", inv: notAudited("ACTIVE"), want: []Severity{High}, msg: "AccessDenied assuming role", ev: map[string]string{"reason": "AccessDenied assuming role IAMAuditRole: deploy it"}},
		{name: "suspended account is not a finding", inv: notAudited("SUSPENDED")},
		{name: "audited", inv: account().inv()},
		{name: "partial is audited", inv: account().with(func(a *inventory.Account) { a.Status = inventory.StatusPartial }).inv()},
	})
	// And nothing else for that account.
	got := Run(notAudited("ACTIVE"), now, DefaultConfig())
	if len(got) != 1 || got[0].CheckID != "account_not_audited" {
		t.Fatalf("a not-audited account must yield only account_not_audited, got %+v", got)
	}
}

func TestRootChecks(t *testing.T) {
	root := func(r inventory.Root) *inventory.Inventory {
		return account().with(func(a *inventory.Account) { r.ARN = "arn:aws:iam::111122223333:root"; a.Root = &r }).inv()
	}
	noRoot := account().with(func(a *inventory.Account) { a.Root = nil }).inv()
	runTable(t, "root_mfa_disabled", []tc{
		{name: "no mfa", inv: root(inventory.Root{MFAType: inventory.MFANone}), want: []Severity{Critical}},
		{name: "mfa", inv: root(inventory.Root{MFAActive: true, MFAType: inventory.MFAVirtual})},
		{name: "nil root", inv: noRoot},
		{name: "root gap", inv: account().with(func(a *inventory.Account) {
			a.Root = &inventory.Root{}
			a.Gaps = []inventory.Gap{gapOf(inventory.SectionRoot, "", inventory.FieldRoot)}
		}).inv()},
	})
	runTable(t, "root_access_key_active", []tc{
		{name: "one active one inactive", inv: root(inventory.Root{MFAActive: true, AccessKeys: []inventory.RootKey{
			{Slot: 1, Active: true, LastRotated: ago(400)}, {Slot: 2, Active: false, LastRotated: ago(10)}}}), want: []Severity{Critical}, ev: map[string]string{"slot": "1"}},
		{name: "two active", inv: root(inventory.Root{MFAActive: true, AccessKeys: []inventory.RootKey{{Slot: 1, Active: true}, {Slot: 2, Active: true}}}), want: []Severity{Critical, Critical}},
		{name: "inactive only", inv: root(inventory.Root{MFAActive: true, AccessKeys: []inventory.RootKey{{Slot: 1}}})},
		{name: "nil root", inv: noRoot},
	})
	runTable(t, "root_hardware_mfa_missing", []tc{
		{name: "virtual", inv: root(inventory.Root{MFAActive: true, MFAType: inventory.MFAVirtual}), want: []Severity{Low}},
		{name: "hardware", inv: root(inventory.Root{MFAActive: true, MFAType: inventory.MFAHardware})},
		{name: "unknown type (credential report)", inv: root(inventory.Root{MFAActive: true, MFAType: ""})},
		{name: "no mfa at all is root_mfa_disabled's", inv: root(inventory.Root{MFAType: inventory.MFANone})},
		{name: "nil root", inv: noRoot},
	})
	runTable(t, "root_used_recently", []tc{
		{name: "password 3 days ago", inv: root(inventory.Root{MFAActive: true, PasswordLastUsed: ago(3)}), want: []Severity{Medium}, msg: "3 days ago"},
		{name: "exactly 30 days is within", inv: root(inventory.Root{MFAActive: true, PasswordLastUsed: ago(30)}), want: []Severity{Medium}},
		{name: "31 days is not", inv: root(inventory.Root{MFAActive: true, PasswordLastUsed: ago(31)})},
		{name: "key used", inv: root(inventory.Root{MFAActive: true, AccessKeys: []inventory.RootKey{{Slot: 2, Active: true, LastUsedAt: ago(1)}}}), want: []Severity{Medium}},
		{name: "console login event", inv: account().with(func(a *inventory.Account) {
			a.Events = []inventory.Event{{Name: "ConsoleLogin", Username: "root", Time: agoT(2)}}
		}).inv(), want: []Severity{Medium}},
		{name: "failed console login event", inv: account().with(func(a *inventory.Account) {
			a.Events = []inventory.Event{{Name: "ConsoleLogin", Username: "root", Time: agoT(2), ErrorCode: "Failed authentication"}}
		}).inv()},
		{name: "never used", inv: root(inventory.Root{MFAActive: true})},
		{name: "zero sentinel date", inv: root(inventory.Root{MFAActive: true, PasswordLastUsed: &time.Time{}})},
		{name: "nil root", inv: noRoot},
	})
}

func TestConsoleWithoutMFA(t *testing.T) {
	u := func(mod func(u *inventory.User)) *inventory.Inventory {
		x := owned("alice")
		x.PasswordEnabled = true
		mod(&x)
		return account().user(x).inv()
	}
	runTable(t, "console_without_mfa", []tc{
		{name: "used 10 days ago: critical", inv: u(func(u *inventory.User) { u.PasswordLastUsed = ago(10) }), want: []Severity{Critical}},
		{name: "used exactly 30 days ago: critical", inv: u(func(u *inventory.User) { u.PasswordLastUsed = ago(30) }), want: []Severity{Critical}},
		{name: "used 31 days ago: high", inv: u(func(u *inventory.User) { u.PasswordLastUsed = ago(31) }), want: []Severity{High}},
		{name: "never used: high", inv: u(func(u *inventory.User) {}), want: []Severity{High}, ev: map[string]string{"password_last_used": "never"}},
		{name: "virtual mfa", inv: u(func(u *inventory.User) { u.MFADevices = []inventory.MFADevice{{Type: inventory.MFAVirtual}} })},
		{name: "mfa active from report", inv: u(func(u *inventory.User) { u.MFAActive = true })},
		{name: "no password", inv: u(func(u *inventory.User) { u.PasswordEnabled = false })},
		{name: "mfa gap: unknown, no finding", inv: account().with(func(a *inventory.Account) {
			a.Gaps = []inventory.Gap{gapOf(inventory.SectionMFA, "bob", inventory.FieldMFA)}
		}).user(inventory.User{Name: "bob", PasswordEnabled: true}).inv()},
	})
}

func keysInv(keys ...inventory.AccessKey) *inventory.Inventory {
	u := owned("svc")
	u.AccessKeys = keys
	return account().user(u).inv()
}

func TestAccessKeyNotRotated(t *testing.T) {
	runTable(t, "access_key_not_rotated", []tc{
		{name: "2716 days: critical", inv: keysInv(key("AKIAOLD", "Active", 2716, ago(1))), want: []Severity{Critical}, msg: "Access key AKIAOLD is 2716 days old (not rotated)"},
		{name: "366: critical", inv: keysInv(key("K", "Active", 366, ago(1))), want: []Severity{Critical}},
		{name: "365: high", inv: keysInv(key("K", "Active", 365, ago(1))), want: []Severity{High}},
		{name: "181: high", inv: keysInv(key("K", "Active", 181, ago(1))), want: []Severity{High}},
		{name: "180: medium", inv: keysInv(key("K", "Active", 180, ago(1))), want: []Severity{Medium}},
		{name: "91: medium", inv: keysInv(key("K", "Active", 91, ago(1))), want: []Severity{Medium}, ev: map[string]string{"age_days": "91", "created": date(agoT(91))}},
		{name: "exactly 90: not", inv: keysInv(key("K", "Active", 90, ago(1)))},
		{name: "90 days and 23 hours: not", inv: keysInv(inventory.AccessKey{ID: "K", Status: "Active", CreatedAt: agoT(90).Add(-23 * time.Hour)})},
		{name: "inactive old key: not", inv: keysInv(key("K", "Inactive", 2000, nil))},
		{name: "zero created date: not", inv: keysInv(inventory.AccessKey{ID: "K", Status: "Active"})},
		{name: "severity override", inv: keysInv(key("K", "Active", 100, nil)), cfg: &Config{Thresholds: DefaultConfig().Thresholds, Severity: map[string]Severity{"access_key_not_rotated": Low}}, want: []Severity{Low}},
		{name: "report key without id", inv: keysInv(inventory.AccessKey{Status: "Active", CreatedAt: agoT(200)}), want: []Severity{High}, msg: "Access key 1 is 200 days old"},
	})
}

func TestAccessKeyNeverUsed(t *testing.T) {
	runTable(t, "access_key_never_used", []tc{
		{name: "never used, 30 days", inv: keysInv(key("K", "Active", 30, nil)), want: []Severity{Medium}, msg: "never been used"},
		{name: "8 days: past grace", inv: keysInv(key("K", "Active", 8, nil)), want: []Severity{Medium}},
		{name: "exactly 7 days: in grace", inv: keysInv(key("K", "Active", 7, nil))},
		{name: "made this morning", inv: keysInv(inventory.AccessKey{ID: "K", Status: "Active", CreatedAt: now.Add(-3 * time.Hour)})},
		{name: "zero sentinel last used counts as never", inv: keysInv(key("K", "Active", 30, &time.Time{})), want: []Severity{Medium}},
		{name: "used", inv: keysInv(key("K", "Active", 30, ago(1)))},
		{name: "inactive", inv: keysInv(key("K", "Inactive", 30, nil))},
	})
}

func TestAccessKeyUnused(t *testing.T) {
	cis, _ := Preset("cis")
	runTable(t, "access_key_unused", []tc{
		{name: "unused 200 days", inv: keysInv(key("K", "Active", 400, ago(200))), want: []Severity{Medium}, msg: "unused for 200 days", ev: map[string]string{"last_used_service": "s3"}},
		{name: "91 days", inv: keysInv(key("K", "Active", 400, ago(91))), want: []Severity{Medium}},
		{name: "exactly 90", inv: keysInv(key("K", "Active", 400, ago(90)))},
		{name: "cis preset: 46 days fires", inv: keysInv(key("K", "Active", 400, ago(46))), cfg: &cis, want: []Severity{Medium}},
		{name: "cis preset: 45 days does not", inv: keysInv(key("K", "Active", 400, ago(45))), cfg: &cis},
		{name: "never used is another check's", inv: keysInv(key("K", "Active", 400, nil))},
		{name: "inactive", inv: keysInv(key("K", "Inactive", 400, ago(300)))},
	})
}

func TestMultipleActiveKeys(t *testing.T) {
	runTable(t, "multiple_active_keys", []tc{
		{name: "two active", inv: keysInv(key("K1", "Active", 10, nil), key("K2", "Active", 5, nil)), want: []Severity{Medium}, ev: map[string]string{"active_keys": "K1,K2"}},
		{name: "one active one inactive", inv: keysInv(key("K1", "Active", 10, nil), key("K2", "Inactive", 5, nil))},
		{name: "one", inv: keysInv(key("K1", "Active", 10, nil))},
	})
}

func TestConsolePasswordUnused(t *testing.T) {
	pw := func(created int, lastUsed, changed *time.Time) *inventory.Inventory {
		u := owned("carol")
		u.PasswordEnabled, u.CreatedAt, u.PasswordLastUsed, u.PasswordLastChanged = true, agoT(created), lastUsed, changed
		u.MFAActive = true
		return account().user(u).inv()
	}
	runTable(t, "console_password_unused", []tc{
		{name: "used 120 days ago", inv: pw(500, ago(120), nil), want: []Severity{Medium}, msg: "unused for 120 days"},
		{name: "used exactly 90 days ago", inv: pw(500, ago(90), nil)},
		{name: "used recently", inv: pw(500, ago(2), nil)},
		{name: "never used, user 100 days old", inv: pw(100, nil, nil), want: []Severity{Medium}, msg: "never used"},
		{name: "never used, password set 10 days ago on an old user", inv: pw(1000, nil, ago(10))},
		{name: "never used, new user", inv: pw(20, nil, nil)},
		{name: "no password", inv: account().user(owned("dave")).inv()},
	})
}

func TestInactiveUser(t *testing.T) {
	user := func(created int, pwUsed *time.Time, keys ...inventory.AccessKey) *inventory.Inventory {
		u := owned("zed")
		u.CreatedAt, u.PasswordLastUsed, u.AccessKeys = agoT(created), pwUsed, keys
		u.PasswordEnabled = pwUsed != nil
		return account().user(u).inv()
	}
	runTable(t, "inactive_user", []tc{
		{name: "zombie: old sign-in, old key use", inv: user(800, ago(300), key("K", "Active", 700, ago(200))), want: []Severity{Medium}, ev: map[string]string{"last_activity": ago(200).Format(time.RFC3339)}},
		{name: "never did anything", inv: user(800, nil), want: []Severity{Medium}, ev: map[string]string{"last_activity": "never"}},
		{name: "key used recently", inv: user(800, ago(300), key("K", "Active", 700, ago(5)))},
		{name: "signed in recently", inv: user(800, ago(5))},
		{name: "signed in exactly 90 days ago", inv: user(800, ago(90))},
		{name: "user 90 days old", inv: user(90, nil)},
	})
}

func TestInactiveKeyNotDeleted(t *testing.T) {
	evInv := func(events []inventory.Event, keys ...inventory.AccessKey) *inventory.Inventory {
		u := owned("erin")
		u.AccessKeys = keys
		return account().with(func(a *inventory.Account) { a.Events = events }).user(u).inv()
	}
	deact := func(id string, d int, status string) inventory.Event {
		e := inventory.Event{Name: "UpdateAccessKey", Time: agoT(d), Resources: []inventory.EventResource{{Type: "AWS::IAM::AccessKey", Name: id}}}
		if status != "" {
			e.RequestParameters = map[string]any{"accessKeyId": id, "status": status, "userName": "erin"}
		}
		return e
	}
	old := key("K1", "Inactive", 400, ago(300))
	runTable(t, "inactive_key_not_deleted", []tc{
		{name: "deactivated 40 days ago", inv: evInv([]inventory.Event{deact("K1", 40, "Inactive")}, old), want: []Severity{Low}, msg: "deactivated 40 days ago"},
		{name: "resources only, no parameters", inv: evInv([]inventory.Event{deact("K1", 40, "")}, old), want: []Severity{Low}},
		{name: "deactivated exactly 30 days ago", inv: evInv([]inventory.Event{deact("K1", 30, "Inactive")}, old)},
		{name: "deactivated 5 days ago", inv: evInv([]inventory.Event{deact("K1", 5, "Inactive"), deact("K1", 60, "Active")}, old)},
		{name: "latest deactivation counts", inv: evInv([]inventory.Event{deact("K1", 60, "Inactive"), deact("K1", 10, "Inactive")}, old)},
		{name: "no event: before the window", inv: evInv(nil, old), want: []Severity{Low}, ev: map[string]string{"deactivated": "deactivated before " + date(agoT(90))}},
		{name: "no event, key created inside the window", inv: evInv(nil, key("K1", "Inactive", 20, nil))},
		{name: "other key's event does not count", inv: evInv([]inventory.Event{deact("K9", 5, "Inactive")}, old), want: []Severity{Low}},
		{name: "active key", inv: evInv(nil, key("K1", "Active", 400, nil))},
		{name: "short window", inv: func() *inventory.Inventory {
			i := evInv(nil, old)
			i.EventWindowStart = now.Add(-20 * day)
			return i
		}()},
		{name: "UpdateAccessKey not looked up", inv: func() *inventory.Inventory {
			i := evInv(nil, old)
			i.EventNames = []string{"CreateAccessKey"}
			return i
		}()},
		{name: "events gap for several names", inv: func() *inventory.Inventory {
			i := evInv(nil, old)
			i.Accounts[0].Gaps = []inventory.Gap{gapOf(inventory.SectionEvents, "DeleteAccessKey,UpdateAccessKey,ConsoleLogin", inventory.FieldEvents)}
			return i
		}()},
		{name: "events gap for another name only", inv: func() *inventory.Inventory {
			i := evInv(nil, old)
			i.Accounts[0].Gaps = []inventory.Gap{gapOf(inventory.SectionEvents, "ConsoleLogin", inventory.FieldEvents)}
			return i
		}(), want: []Severity{Low}},
		{name: "events gap for UpdateAccessKey", inv: func() *inventory.Inventory {
			i := evInv(nil, old)
			i.Accounts[0].Gaps = []inventory.Gap{gapOf(inventory.SectionEvents, "UpdateAccessKey", inventory.FieldEvents)}
			return i
		}()},
	})
}

func TestUserWithoutOwner(t *testing.T) {
	u := func(tags map[string]string, pw bool, keys ...inventory.AccessKey) *inventory.Inventory {
		return account().user(inventory.User{Name: "frank", Tags: tags, PasswordEnabled: pw, AccessKeys: keys}).inv()
	}
	custom := DefaultConfig()
	custom.OwnerTags = []string{"CostCenter"}
	runTable(t, "user_without_owner", []tc{
		{name: "password, no tags", inv: u(nil, true), want: []Severity{Low}},
		{name: "active key, other tags", inv: u(map[string]string{"Env": "prod"}, false, key("K", "Active", 1, nil)), want: []Severity{Low}},
		{name: "team tag", inv: u(map[string]string{"team": "payments"}, true)},
		{name: "empty owner value", inv: u(map[string]string{"Owner": " "}, true), want: []Severity{Low}},
		{name: "only inactive key", inv: u(nil, false, key("K", "Inactive", 1, nil))},
		{name: "custom tags", inv: u(map[string]string{"Owner": "x"}, true), cfg: &custom, want: []Severity{Low}},
		{name: "users gap (report only)", inv: account().with(func(a *inventory.Account) {
			a.Gaps = []inventory.Gap{gapOf(inventory.SectionUsers, "", inventory.FieldUserPolicies, inventory.FieldUserGroups, inventory.FieldUserTags)}
		}).user(inventory.User{Name: "frank", PasswordEnabled: true}).inv()},
	})
}

func TestUnusedRole(t *testing.T) {
	role := func(r inventory.Role) *inventory.Inventory {
		r.ARN = "arn:aws:iam::111122223333:role/" + r.Name
		return account().with(func(a *inventory.Account) {
			a.AuditedAs = "arn:aws:sts::111122223333:assumed-role/MyAudit/iamaudit"
			a.Roles = append(a.Roles, r)
		}).inv()
	}
	runTable(t, "unused_role", []tc{
		{name: "last used 200 days ago", inv: role(inventory.Role{Name: "Old", CreatedAt: agoT(900), LastUsedAt: ago(200), LastUsedRegion: "eu-west-1"}), want: []Severity{Low}, msg: "in eu-west-1", ev: map[string]string{"last_used_region": "eu-west-1"}},
		{name: "never used, created 100 days ago", inv: role(inventory.Role{Name: "Never", CreatedAt: agoT(100)}), want: []Severity{Low}},
		{name: "never used, created 90 days ago", inv: role(inventory.Role{Name: "Never", CreatedAt: agoT(90)})},
		{name: "used exactly 90 days ago", inv: role(inventory.Role{Name: "R", CreatedAt: agoT(900), LastUsedAt: ago(90)})},
		{name: "service-linked", inv: role(inventory.Role{Name: "AWSServiceRoleForSupport", Path: "/aws-service-role/support.amazonaws.com/", ServiceLinked: true, CreatedAt: agoT(900)})},
		{name: "the audit role itself", inv: role(inventory.Role{Name: "MyAudit", CreatedAt: agoT(900)})},
		{name: "excluded by config", inv: role(inventory.Role{Name: "OrganizationAccountAccessRole", CreatedAt: agoT(900)})},
	})
}

func TestPasswordPolicyWeak(t *testing.T) {
	pp := func(known bool, p *inventory.PasswordPolicy) *inventory.Inventory {
		return account().with(func(a *inventory.Account) { a.PasswordPolicyKnown, a.PasswordPolicy = known, p }).inv()
	}
	runTable(t, "password_policy_weak", []tc{
		{name: "no policy", inv: pp(true, nil), want: []Severity{Medium}, msg: "no password policy"},
		{name: "short", inv: pp(true, &inventory.PasswordPolicy{MinimumPasswordLength: 8, PasswordReusePrevention: 24}), want: []Severity{Medium}, msg: "minimum length 8 < 14"},
		{name: "reuse", inv: pp(true, &inventory.PasswordPolicy{MinimumPasswordLength: 14, PasswordReusePrevention: 5}), want: []Severity{Medium}, msg: "reuse prevention 5 < 24"},
		{name: "exactly compliant", inv: pp(true, &inventory.PasswordPolicy{MinimumPasswordLength: 14, PasswordReusePrevention: 24})},
		{name: "unknown policy is a gap, not a finding", inv: pp(false, nil)},
	})
}

func TestUserDirectPolicies(t *testing.T) {
	runTable(t, "user_direct_policies", []tc{
		{name: "attached and inline", inv: account().user(inventory.User{Name: "g",
			AttachedPolicies: []inventory.AttachedPolicy{{Name: "ReadOnlyAccess", ARN: "arn:aws:iam::aws:policy/ReadOnlyAccess"}},
			InlinePolicies:   []inventory.InlinePolicy{{Name: "x"}}}).inv(), want: []Severity{Low}, ev: map[string]string{"policies": "attached:ReadOnlyAccess,inline:x"}},
		{name: "groups only", inv: account().user(inventory.User{Name: "g", Groups: []string{"devs"}}).inv()},
	})
}

func TestAdminPolicyOnUser(t *testing.T) {
	starDoc := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`
	listDoc := `{"Statement":[{"Effect":"Allow","Action":["s3:*"],"Resource":"*"},{"Effect":"Allow","Action":["ec2:*","*"],"Resource":["*"]}]}`
	denyDoc := `{"Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}`
	scoped := `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"arn:aws:s3:::b/*"}]}`
	denyIAM := `{"Statement":[{"Effect":"Deny","Action":"iam:*","Resource":"*"}]}`
	inline := func(doc string) inventory.User {
		return inventory.User{Name: "a", InlinePolicies: []inventory.InlinePolicy{{Name: "i", Document: doc}}}
	}
	admin := inventory.AttachedPolicy{Name: "AdministratorAccess", ARN: "arn:aws:iam::aws:policy/AdministratorAccess"}
	base := func() *acctB {
		return account().with(func(a *inventory.Account) {
			a.Policies = []inventory.ManagedPolicy{{Name: "Star", ARN: "arn:aws:iam::111122223333:policy/Star", Document: starDoc},
				{Name: "Scoped", ARN: "arn:aws:iam::111122223333:policy/Scoped", Document: scoped}}
			a.Groups = []inventory.Group{{Name: "Admins", ARN: "arn:aws:iam::111122223333:group/Admins", AttachedPolicies: []inventory.AttachedPolicy{admin}},
				{Name: "Devs", ARN: "arn:aws:iam::111122223333:group/Devs", InlinePolicies: []inventory.InlinePolicy{{Name: "dev", Document: scoped}}},
				{Name: "Ops", ARN: "arn:aws:iam::111122223333:group/Ops", InlinePolicies: []inventory.InlinePolicy{{Name: "ops", Document: listDoc}}},
				{Name: "NoIAM", ARN: "arn:aws:iam::111122223333:group/NoIAM", InlinePolicies: []inventory.InlinePolicy{{Name: "guard", Document: denyIAM}}}}
			a.Policies = append(a.Policies, inventory.ManagedPolicy{Name: "Encoded", ARN: "arn:aws:iam::111122223333:policy/Encoded", Document: url.QueryEscape(starDoc)})
		})
	}
	runTable(t, "admin_policy_on_user", []tc{
		{name: "AdministratorAccess attached", inv: base().user(inventory.User{Name: "a", AttachedPolicies: []inventory.AttachedPolicy{admin}}).inv(), want: []Severity{High}},
		{name: "GovCloud partition", inv: base().user(inventory.User{Name: "a", AttachedPolicies: []inventory.AttachedPolicy{{Name: "AdministratorAccess", ARN: "arn:aws-us-gov:iam::aws:policy/AdministratorAccess"}}}).inv(), want: []Severity{High}},
		{name: "customer managed * on *", inv: base().user(inventory.User{Name: "a", AttachedPolicies: []inventory.AttachedPolicy{{Name: "Star", ARN: "arn:aws:iam::111122223333:policy/Star"}}}).inv(), want: []Severity{High}},
		{name: "inline * on * object statement", inv: base().user(inventory.User{Name: "a", InlinePolicies: []inventory.InlinePolicy{{Name: "i", Document: starDoc}}}).inv(), want: []Severity{High}},
		{name: "via group with AdministratorAccess", inv: base().user(inventory.User{Name: "a", Groups: []string{"Admins"}}).inv(), want: []Severity{High}, ev: map[string]string{"sources": "group Admins attached:AdministratorAccess"}},
		{name: "via group inline list", inv: base().user(inventory.User{Name: "a", Groups: []string{"Ops"}}).inv(), want: []Severity{High}},
		{name: "scoped policies", inv: base().user(inventory.User{Name: "a", Groups: []string{"Devs"}, AttachedPolicies: []inventory.AttachedPolicy{{Name: "Scoped", ARN: "arn:aws:iam::111122223333:policy/Scoped"}}}).inv()},
		{name: "deny * on *", inv: base().user(inventory.User{Name: "a", InlinePolicies: []inventory.InlinePolicy{{Name: "d", Document: denyDoc}}}).inv()},
		{name: "customer policy named AdministratorAccess is judged by its document", inv: base().user(inventory.User{Name: "a", AttachedPolicies: []inventory.AttachedPolicy{{Name: "AdministratorAccess", ARN: "arn:aws:iam::111122223333:policy/AdministratorAccess"}}}).inv()},
		// What it allows is unknown: no finding, and collection records the gap
		// (inventory.FieldPolicyDocuments); it is not read as "allows nothing" when
		// something known grants admin.
		{name: "malformed document", inv: base().user(inventory.User{Name: "a", InlinePolicies: []inventory.InlinePolicy{{Name: "m", Document: `{"Statement":`}}}).inv()},
		{name: "malformed document beside AdministratorAccess", inv: base().user(inventory.User{Name: "a", AttachedPolicies: []inventory.AttachedPolicy{admin},
			InlinePolicies: []inventory.InlinePolicy{{Name: "m", Document: `{"Statement":`}}}).inv(), want: []Severity{High}, ev: map[string]string{"sources": "attached:AdministratorAccess"}},
		{name: "NotAction s3:* on *: everything else, IAM included", inv: base().user(inline(`{"Statement":{"Effect":"Allow","NotAction":"s3:*","Resource":"*"}}`)).inv(), want: []Severity{High}},
		{name: "NotAction iam:* on * (PowerUserAccess): not full", inv: base().user(inline(`{"Statement":{"Effect":"Allow","NotAction":["iam:*","organizations:*","account:*"],"Resource":"*"}}`)).inv()},
		{name: "NotResource of one bucket", inv: base().user(inline(`{"Statement":{"Effect":"Allow","Action":"*","NotResource":["arn:aws:s3:::secret","arn:aws:s3:::secret/*"]}}`)).inv(), want: []Severity{High}},
		{name: "Deny in the same document", inv: base().user(inline(`{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"iam:*","Resource":"*"}]}`)).inv()},
		{name: "Deny through a group overrides AdministratorAccess", inv: base().user(inventory.User{Name: "a", Groups: []string{"NoIAM"}, AttachedPolicies: []inventory.AttachedPolicy{admin}}).inv()},
		{name: "URL-encoded customer managed * on *", inv: base().user(inventory.User{Name: "a", AttachedPolicies: []inventory.AttachedPolicy{{Name: "Encoded", ARN: "arn:aws:iam::111122223333:policy/Encoded"}}}).inv(), want: []Severity{High}},
	})
}

func TestSupportRoleMissing(t *testing.T) {
	runTable(t, "support_role_missing", []tc{
		{name: "no roles", inv: account().with(func(a *inventory.Account) { a.Roles = nil }).inv(), want: []Severity{Low}},
		{name: "role without the policy", inv: account().with(func(a *inventory.Account) { a.Roles[0].AttachedPolicies = nil }).inv(), want: []Severity{Low}},
		{name: "support role", inv: account().inv()},
		{name: "roles unknown", inv: account().with(func(a *inventory.Account) {
			a.Roles = nil
			a.Gaps = []inventory.Gap{gapOf(inventory.SectionRoles, "", inventory.FieldRoles)}
		}).inv()},
	})
}

func TestExpiredServerCertificate(t *testing.T) {
	cert := func(exp time.Time) *inventory.Inventory {
		return account().with(func(a *inventory.Account) {
			a.ServerCertificates = []inventory.ServerCertificate{{Name: "web", ARN: "arn:aws:iam::111122223333:server-certificate/web", Expiration: exp}}
		}).inv()
	}
	runTable(t, "expired_server_certificate", []tc{
		{name: "expired", inv: cert(agoT(3)), want: []Severity{Medium}, msg: "expired 3 days ago"},
		{name: "expires now", inv: cert(now), want: []Severity{Medium}},
		{name: "valid", inv: cert(now.Add(time.Hour))},
		{name: "zero expiration", inv: cert(time.Time{})},
	})
}

func TestCloudShellFullAccess(t *testing.T) {
	cs := inventory.AttachedPolicy{Name: "AWSCloudShellFullAccess", ARN: "arn:aws:iam::aws:policy/AWSCloudShellFullAccess"}
	runTable(t, "cloudshell_full_access", []tc{
		{name: "user, group and role", inv: account().with(func(a *inventory.Account) {
			a.Groups = []inventory.Group{{Name: "G", ARN: "arn:aws:iam::111122223333:group/G", AttachedPolicies: []inventory.AttachedPolicy{cs}}}
			a.Roles = append(a.Roles, inventory.Role{Name: "R", ARN: "arn:aws:iam::111122223333:role/R", AttachedPolicies: []inventory.AttachedPolicy{cs}})
		}).user(inventory.User{Name: "u", AttachedPolicies: []inventory.AttachedPolicy{cs}}).inv(), want: []Severity{Medium, Medium, Medium}},
		{name: "none", inv: account().user(inventory.User{Name: "u"}).inv()},
	})
}

func TestCommandsNameTheResource(t *testing.T) {
	fs := Run(keysInv(key("AKIAEXAMPLE", "Active", 400, ago(200))), now, only("access_key_unused", DefaultConfig()))
	if len(fs) != 1 {
		t.Fatalf("got %d findings", len(fs))
	}
	r := fs[0].Remediation
	a := r.Actions[0]
	if a.Kind != fix.Change || a.API != fix.IAMUpdateAccessKey || a.Resource.UserName != "svc" || a.Resource.AccessKeyID != "AKIAEXAMPLE" ||
		a.Resource.AccountID != "111122223333" || a.Params.Status != "Inactive" || a.Partition != "aws" || a.Region != "us-east-1" {
		t.Errorf("first action %+v", a)
	}
	want := "aws iam update-access-key --user-name svc --access-key-id AKIAEXAMPLE --status Inactive --profile ACCOUNT_PROFILE"
	if got := awscli.Commands(r.Actions); got[0] != want {
		t.Errorf("command %q, want %q", got[0], want)
	}
	if len(r.Commands) != 0 {
		t.Errorf("checks rendered commands: %q (the reports render them)", r.Commands)
	}
	if r.Workflow != Workflow2 || strings.Join(fs[0].CIS, ",") != "v3.0 1.12,v5.0 1.11" {
		t.Errorf("workflow %q cis %v", r.Workflow, fs[0].CIS)
	}
}

func TestStableIDsAndOrder(t *testing.T) {
	inv := account().with(func(a *inventory.Account) { a.Root.MFAActive = false }).
		user(inventory.User{Name: "a", PasswordEnabled: true, AccessKeys: []inventory.AccessKey{key("K", "Active", 100, ago(1))}}).inv()
	a, b := Run(inv, now, DefaultConfig()), Run(inv, now.Add(time.Hour), DefaultConfig())
	if len(a) == 0 || len(a) != len(b) {
		t.Fatalf("runs differ: %d vs %d", len(a), len(b))
	}
	seen := map[string]bool{}
	for i := range a {
		if a[i].ID != b[i].ID {
			t.Errorf("id not stable: %s vs %s", a[i].ID, b[i].ID)
		}
		if seen[a[i].ID] {
			t.Errorf("duplicate id %s", a[i].ID)
		}
		seen[a[i].ID] = true
		if i > 0 && a[i-1].Severity < a[i].Severity {
			t.Errorf("not sorted by severity at %d", i)
		}
	}
	if a[0].Severity != Critical {
		t.Errorf("first finding %s, want critical", a[0].Severity)
	}
}

func TestTableIsComplete(t *testing.T) {
	ids := map[string]bool{}
	for _, c := range All() {
		if ids[c.ID] {
			t.Errorf("duplicate check %s", c.ID)
		}
		ids[c.ID] = true
		if c.Title == "" || c.Severity == SeverityUnset || c.Workflow == "" || c.Run == nil || !slices.Contains(fix.Recipes(), c.Fix) {
			t.Errorf("check %s incomplete", c.ID)
		}
		if !c.ReportAnswers && c.ReportLacks == "" {
			t.Errorf("check %s: say what a credential report lacks", c.ID)
		}
	}
	if len(ids) != 22 {
		t.Errorf("%d checks, want 22", len(ids))
	}
}

// TestRootFromSummary: without the credential report (gaps in "credential_report" and
// "root"), root_mfa_disabled and root_access_key_active answer from GetAccountSummary;
// with the report, they answer from it alone (one finding, never two).
func TestRootFromSummary(t *testing.T) {
	noReport := []inventory.Gap{
		gapOf(inventory.SectionCredentialReport, "", inventory.FieldCredentialReport),
		gapOf(inventory.SectionRoot, "", inventory.FieldRoot),
	}
	mk := func(gaps []inventory.Gap, root *inventory.Root, summary map[string]int32) *inventory.Inventory {
		return account().with(func(a *inventory.Account) {
			a.Root, a.Summary = root, summary
			if len(gaps) > 0 {
				a.Status, a.Gaps = inventory.StatusPartial, gaps
			}
		}).inv()
	}
	const arn = "arn:aws:iam::111122223333:root"
	// What collect builds from the summary alone: MFA state, and a key counted as active in slot 1.
	fromSummary := func(mfa, keys bool) *inventory.Root {
		r := &inventory.Root{ARN: arn, MFAActive: mfa}
		if keys {
			r.AccessKeys = []inventory.RootKey{{Slot: 1, Active: true}}
		}
		return r
	}
	cases := []struct {
		name, check  string
		inv          *inventory.Inventory
		resource     string // "": must not fire
		source, slot string
	}{
		{"mfa off, no report", "root_mfa_disabled", mk(noReport, fromSummary(false, false), map[string]int32{"AccountMFAEnabled": 0}), arn, "GetAccountSummary", ""},
		{"mfa on, no report", "root_mfa_disabled", mk(noReport, fromSummary(true, false), map[string]int32{"AccountMFAEnabled": 1}), "", "", ""},
		{"no report, no summary", "root_mfa_disabled", mk(noReport, nil, nil), "", "", ""},
		{"summary without the figure", "root_mfa_disabled", mk(noReport, fromSummary(false, false), map[string]int32{"Users": 3}), "", "", ""},
		{"mfa off, report present: once", "root_mfa_disabled", mk(nil, &inventory.Root{ARN: arn, MFAType: inventory.MFANone}, map[string]int32{"AccountMFAEnabled": 0}), arn, "", ""},
		{"report says on, summary says off: report", "root_mfa_disabled", mk(nil, &inventory.Root{ARN: arn, MFAActive: true}, map[string]int32{"AccountMFAEnabled": 0}), "", "", ""},
		{"key, no report", "root_access_key_active", mk(noReport, fromSummary(true, true), map[string]int32{"AccountAccessKeysPresent": 1}), arn, "GetAccountSummary", "unknown"},
		{"no key, no report", "root_access_key_active", mk(noReport, fromSummary(true, false), map[string]int32{"AccountAccessKeysPresent": 0}), "", "", ""},
		{"key, report present: once, with its slot", "root_access_key_active",
			mk(nil, &inventory.Root{ARN: arn, MFAActive: true, AccessKeys: []inventory.RootKey{{Slot: 2, Active: true}}}, map[string]int32{"AccountAccessKeysPresent": 1}),
			arn + "/access_key_2", "", "2"},
	}
	for _, c := range cases {
		t.Run(c.check+"/"+c.name, func(t *testing.T) {
			got := Run(c.inv, now, only(c.check, DefaultConfig()))
			if c.resource == "" {
				if len(got) != 0 {
					t.Fatalf("fired: %+v", got)
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("got %d findings, want 1: %+v", len(got), got)
			}
			f := got[0]
			if f.Resource != c.resource || f.Severity != Critical || f.ID == "" || len(f.Remediation.Actions) == 0 {
				t.Errorf("finding %+v, want resource %s, critical, complete", f, c.resource)
			}
			if f.Evidence["source"] != c.source || f.Evidence["slot"] != c.slot {
				t.Errorf("evidence %v, want source %q slot %q", f.Evidence, c.source, c.slot)
			}
		})
	}
}
