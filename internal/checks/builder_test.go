package checks

import (
	"encoding/json"
	"time"

	"github.com/iamaudit/iamaudit/internal/inventory"
)

// now is the reference time of every test.
var now = time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC)

// ago returns now minus d days (and extra), as a pointer.
func ago(d int) *time.Time { t := now.Add(-time.Duration(d) * day); return &t }

func agoT(d int) time.Time { return *ago(d) }

// acctB builds one account for tests.
type acctB struct{ a inventory.Account }

func account() *acctB {
	return &acctB{a: inventory.Account{ID: "111122223333", Name: "Production", State: "ACTIVE",
		Status: inventory.StatusAudited, PasswordPolicyKnown: true,
		PasswordPolicy: &inventory.PasswordPolicy{MinimumPasswordLength: 14, PasswordReusePrevention: 24},
		Root:           &inventory.Root{ARN: "arn:aws:iam::111122223333:root", MFAActive: true, MFAType: inventory.MFAHardware},
		Roles: []inventory.Role{{Name: "Support", ARN: "arn:aws:iam::111122223333:role/Support", CreatedAt: agoT(10),
			LastUsedAt: ago(1), AttachedPolicies: []inventory.AttachedPolicy{{Name: "AWSSupportAccess", ARN: "arn:aws:iam::aws:policy/AWSSupportAccess"}}}},
	}}
}

func (b *acctB) with(f func(a *inventory.Account)) *acctB { f(&b.a); return b }

func (b *acctB) user(u inventory.User) *acctB {
	if u.ARN == "" {
		u.ARN = "arn:aws:iam::" + b.a.ID + ":user/" + u.Name
	}
	if u.CreatedAt.IsZero() {
		u.CreatedAt = agoT(1000)
	}
	b.a.Users = append(b.a.Users, u)
	return b
}

func (b *acctB) inv() *inventory.Inventory {
	return &inventory.Inventory{Schema: inventory.Schema, Accounts: []inventory.Account{b.a},
		EventWindowStart: now.Add(-90 * day), EventWindowEnd: now,
		EventNames: []string{"CreateAccessKey", "UpdateAccessKey", "DeleteAccessKey", "ConsoleLogin"}}
}

// key builds an access key.
func key(id, status string, createdDays int, lastUsed *time.Time) inventory.AccessKey {
	return inventory.AccessKey{ID: id, Status: status, CreatedAt: agoT(createdDays), LastUsedAt: lastUsed, LastUsedService: "s3"}
}

// owned is a user with an owner tag and MFA (fires nothing on its own when recent).
func owned(name string) inventory.User {
	return inventory.User{Name: name, Tags: map[string]string{"Owner": "sec@example.com"}}
}

// gapOf builds a gap as collection does: its section, subject (a user, event names or
// "") and what it leaves unknown.
func gapOf(section inventory.Section, subject string, unknown ...inventory.Field) inventory.Gap {
	g := inventory.NewGap("111122223333", section, unknown, "AccessDenied")
	g.Subject = subject
	return g
}

// legacy decodes a gap the way an earlier version wrote it, without "unknown": its
// fields come from inventory.LegacyUnknown, as for any old run file read back.
func legacy(section inventory.Section, subject, op string) inventory.Gap {
	b, err := json.Marshal(map[string]string{"account_id": "111122223333", "section": string(section), "subject": subject,
		"operation": op, "message": "AccessDenied"})
	if err != nil {
		panic(err)
	}
	var g inventory.Gap
	if err := json.Unmarshal(b, &g); err != nil {
		panic(err)
	}
	return g
}
