// Package score summarises an audit: finding counts by severity, MFA coverage, access
// key age distribution, the seed tool's 0–100 risk score and the AWS Security Maturity
// Model phases, per account and for the whole Organization. See docs/checks.md.
package score

import (
	"slices"
	"time"

	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/inventory"
)

// Counts are finding counts by severity; suppressed findings are counted apart only.
type Counts struct {
	Critical   int `json:"critical"`
	High       int `json:"high"`
	Medium     int `json:"medium"`
	Low        int `json:"low"`
	Suppressed int `json:"suppressed"`
}

// Total is the number of unsuppressed findings.
func (c Counts) Total() int { return c.Critical + c.High + c.Medium + c.Low }

// Of returns the count of one severity.
func (c Counts) Of(s checks.Severity) int {
	switch s {
	case checks.Critical:
		return c.Critical
	case checks.High:
		return c.High
	case checks.Medium:
		return c.Medium
	case checks.Low:
		return c.Low
	}
	return 0
}

// KeyAges buckets active access keys by age in days.
type KeyAges struct {
	Days0To90    int `json:"days_0_90"`
	Days91To180  int `json:"days_91_180"`
	Days181To365 int `json:"days_181_365"`
	Over365      int `json:"over_365"`
}

func (k *KeyAges) add(age int) {
	switch {
	case age > 365:
		k.Over365++
	case age > 180:
		k.Days181To365++
	case age > 90:
		k.Days91To180++
	default:
		k.Days0To90++
	}
}

// RiskInputs are the terms of the risk score, after leaving out resources whose
// corresponding finding is suppressed.
type RiskInputs struct {
	KeysOver365          int `json:"keys_over_365"`
	Keys181To365         int `json:"keys_181_365"`
	Keys91To180          int `json:"keys_91_180"`
	UsersWithoutMFA      int `json:"users_without_mfa"`
	ConsoleNeverSignedIn int `json:"console_never_signed_in"`
	InactiveKeys         int `json:"inactive_keys"`
}

// Risk is min(8·keys>365d + 4·keys 181–365d + 2·keys 91–180d + 5·console users without
// MFA + 3·console users who never signed in + 1·inactive keys, 100).
func (r RiskInputs) Risk() int {
	return min(8*r.KeysOver365+4*r.Keys181To365+2*r.Keys91To180+5*r.UsersWithoutMFA+3*r.ConsoleNeverSignedIn+r.InactiveKeys, 100)
}

// RiskLabel is critical ≥ 80, high ≥ 60, medium ≥ 40, else low.
func RiskLabel(score int) string {
	switch {
	case score >= 80:
		return "critical"
	case score >= 60:
		return "high"
	case score >= 40:
		return "medium"
	}
	return "low"
}

// Phase is one AWS Security Maturity Model stage.
type Phase struct {
	Name string `json:"name"`
	// Known is false when the phase's inputs are incomplete (collection gaps, or an
	// account not audited): Complete and Advanced are then false and mean nothing.
	Known    bool `json:"known"`
	Complete bool `json:"complete"`
	// Advanced (phase 2 only): no IAM user has a long-term access key at all.
	Advanced bool `json:"advanced,omitempty"`
}

// Score is the summary of one account, or of the Organization.
type Score struct {
	AccountID   string `json:"account_id,omitempty"`
	AccountName string `json:"account_name,omitempty"`
	// Audited is false for an account that could not be audited: its facts are unknown
	// (zero) and it is left out of the Organization's counts.
	Audited bool `json:"audited"`
	// Known is false when some figure below rests on incomplete data: the account was
	// not audited, or a gap (account-wide or about one user) left unknown a field the
	// score uses (inventory.Field). UnknownSections lists those fields ("not_audited"
	// for an account that could not be audited; for the Organization, the union of its
	// accounts').
	Known           bool              `json:"known"`
	UnknownSections []inventory.Field `json:"unknown_sections,omitempty"`
	Accounts        int               `json:"accounts,omitempty"` // Organization only: audited accounts
	Findings        Counts            `json:"findings"`

	Users               int `json:"users"`
	ConsoleUsers        int `json:"console_users"`
	ConsoleUsersWithMFA int `json:"console_users_with_mfa"`
	// MFACoverage is null when unknown (a gap in users, mfa or password, or not
	// audited); 100 when there are no console users.
	MFACoverage   *float64 `json:"mfa_coverage_percent"`
	ActiveKeys    int      `json:"active_keys"`
	KeyAges       KeyAges  `json:"active_key_ages"`
	UnusedKeys    int      `json:"unused_keys"`     // active, last used more than unused_key_days ago
	NeverUsedKeys int      `json:"never_used_keys"` // active, never used
	InactiveKeys  int      `json:"inactive_keys"`   // status Inactive
	InactiveUsers int      `json:"inactive_users"`  // inactive_user's rule
	LongTermKeys  int      `json:"long_term_keys"`  // every user access key, any status
	// KeysOverRotation counts active keys older than key_rotation_medium_days (90).
	KeysOverRotation int `json:"keys_over_rotation"`

	RiskInputs RiskInputs `json:"risk_inputs"`
	// Risk is null when unknown (a gap in users, mfa, password or access_keys, or
	// not audited); RiskLabel is then "unknown" and RiskAtLeast is the score of
	// what was collected (a lower bound).
	Risk        *int   `json:"risk_score"`
	RiskAtLeast int    `json:"risk_at_least"`
	RiskLabel   string `json:"risk_label"`
	Phase1      Phase  `json:"phase1"`
	Phase2      Phase  `json:"phase2"`
}

// Scores holds every account's score and the Organization's.
type Scores struct {
	// KeyRotationDays is the age above which an active key counts against phase 2.
	KeyRotationDays int     `json:"key_rotation_days"`
	Accounts        []Score `json:"accounts"`
	Organization    Score   `json:"organization"`
}

// Account returns the score of an account by id.
func (s Scores) Account(id string) (Score, bool) {
	for _, a := range s.Accounts {
		if a.AccountID == id {
			return a, true
		}
	}
	return Score{}, false
}

type suppressedSet map[[3]string]bool

func (s suppressedSet) has(check, acct, resource string) bool {
	return s[[3]string{check, acct, resource}]
}

// Compute summarises the inventory and the findings. Counts by severity include only
// unsuppressed findings. The risk score is computed from inventory facts, leaving out
// each resource whose corresponding finding is suppressed (a key whose
// access_key_not_rotated finding, a user whose console_without_mfa or
// console_password_unused finding, an inactive key whose inactive_key_not_deleted
// finding is suppressed). The other figures are facts and ignore suppressions.
func Compute(inv *inventory.Inventory, findings []checks.Finding, now time.Time, cfg checks.Config) Scores {
	sup := suppressedSet{}
	counts := map[string]*Counts{}
	for _, f := range findings {
		c := counts[f.AccountID]
		if c == nil {
			c = &Counts{}
			counts[f.AccountID] = c
		}
		if f.Suppressed {
			sup[[3]string{f.CheckID, f.AccountID, f.Resource}] = true
			c.Suppressed++
			continue
		}
		switch f.Severity {
		case checks.Critical:
			c.Critical++
		case checks.High:
			c.High++
		case checks.Medium:
			c.Medium++
		case checks.Low:
			c.Low++
		}
	}
	out := Scores{KeyRotationDays: cfg.Thresholds.KeyRotationMediumDays, Accounts: []Score{}}
	org := Score{Audited: true, Known: true}
	for i := range inv.Accounts {
		if inv.Accounts[i].Status == inventory.StatusSkipped {
			continue // not ACTIVE: out of scope, listed apart by the report
		}
		a := &inv.Accounts[i]
		s := accountScore(a, sup, now, cfg)
		if c := counts[a.ID]; c != nil {
			s.Findings = *c
		}
		out.Accounts = append(out.Accounts, s)
		org.Findings = addCounts(org.Findings, s.Findings)
		if s.Audited {
			org.Accounts++
			addFacts(&org, s)
		}
		org.UnknownSections = union(org.UnknownSections, s.UnknownSections)
	}
	finish(&org)
	out.Organization = org
	return out
}

func addCounts(a, b Counts) Counts {
	return Counts{a.Critical + b.Critical, a.High + b.High, a.Medium + b.Medium, a.Low + b.Low, a.Suppressed + b.Suppressed}
}

func addFacts(o *Score, s Score) {
	o.Users += s.Users
	o.ConsoleUsers += s.ConsoleUsers
	o.ConsoleUsersWithMFA += s.ConsoleUsersWithMFA
	o.ActiveKeys += s.ActiveKeys
	o.KeyAges.Days0To90 += s.KeyAges.Days0To90
	o.KeyAges.Days91To180 += s.KeyAges.Days91To180
	o.KeyAges.Days181To365 += s.KeyAges.Days181To365
	o.KeyAges.Over365 += s.KeyAges.Over365
	o.UnusedKeys += s.UnusedKeys
	o.NeverUsedKeys += s.NeverUsedKeys
	o.InactiveKeys += s.InactiveKeys
	o.InactiveUsers += s.InactiveUsers
	o.LongTermKeys += s.LongTermKeys
	o.KeysOverRotation += s.KeysOverRotation
	r := &o.RiskInputs
	r.KeysOver365 += s.RiskInputs.KeysOver365
	r.Keys181To365 += s.RiskInputs.Keys181To365
	r.Keys91To180 += s.RiskInputs.Keys91To180
	r.UsersWithoutMFA += s.RiskInputs.UsersWithoutMFA
	r.ConsoleNeverSignedIn += s.RiskInputs.ConsoleNeverSignedIn
	r.InactiveKeys += s.RiskInputs.InactiveKeys
}

// Fields each figure rests on: MFA coverage on who has a console password and MFA;
// phase 2 on the keys (their age, not their last use); the risk score on both and on
// console sign-ins (never signed in).
var (
	coverageSections = []inventory.Field{inventory.FieldUsers, inventory.FieldMFA, inventory.FieldPassword}
	keySections      = []inventory.Field{inventory.FieldUsers, inventory.FieldAccessKeys}
	riskSections     = []inventory.Field{inventory.FieldUsers, inventory.FieldMFA, inventory.FieldPassword, inventory.FieldPasswordLastUsed, inventory.FieldAccessKeys}
	// scoreSections is every field a figure uses.
	scoreSections = []inventory.Field{inventory.FieldUsers, inventory.FieldAccessKeys, inventory.FieldMFA, inventory.FieldPassword, inventory.FieldPasswordLastUsed}
	// notAudited marks an account that could not be audited: every figure is unknown.
	notAudited = inventory.Field(inventory.StatusNotAudited)
)

func union(a, b []inventory.Field) []inventory.Field {
	for _, s := range b {
		if !slices.Contains(a, s) {
			a = append(a, s)
		}
	}
	slices.Sort(a)
	return a
}

// knownFrom reports whether none of sections is unknown.
func knownFrom(unknown []inventory.Field, sections []inventory.Field) bool {
	if slices.Contains(unknown, notAudited) {
		return false
	}
	for _, s := range sections {
		if slices.Contains(unknown, s) {
			return false
		}
	}
	return true
}

// finish derives coverage, risk and phases from the counted facts and says which of
// them are known.
func finish(s *Score) {
	covKnown := knownFrom(s.UnknownSections, coverageSections)
	keysKnown := knownFrom(s.UnknownSections, keySections)
	riskKnown := knownFrom(s.UnknownSections, riskSections)
	s.Known = len(s.UnknownSections) == 0
	s.MFACoverage = nil
	if covKnown {
		c := 100.0
		if s.ConsoleUsers > 0 {
			c = float64(s.ConsoleUsersWithMFA) * 100 / float64(s.ConsoleUsers)
		}
		s.MFACoverage = &c
	}
	s.RiskAtLeast = s.RiskInputs.Risk()
	s.Risk, s.RiskLabel = nil, "unknown"
	if riskKnown {
		r := s.RiskAtLeast
		s.Risk, s.RiskLabel = &r, RiskLabel(r)
	}
	s.Phase1 = Phase{Name: "MFA", Known: covKnown, Complete: covKnown && s.ConsoleUsers == s.ConsoleUsersWithMFA}
	s.Phase2 = Phase{Name: "Use temporary credentials", Known: keysKnown,
		Complete: keysKnown && s.KeysOverRotation == 0, Advanced: keysKnown && s.LongTermKeys == 0}
}

func accountScore(a *inventory.Account, sup suppressedSet, now time.Time, cfg checks.Config) Score {
	s := Score{AccountID: a.ID, AccountName: a.Name, Audited: a.Status == inventory.StatusAudited || a.Status == inventory.StatusPartial}
	if !s.Audited {
		s.UnknownSections = []inventory.Field{notAudited}
		finish(&s)
		return s
	}
	s.UnknownSections = checks.FieldsUnknown(a, scoreSections...)
	t := cfg.Thresholds
	for _, u := range a.Users {
		s.Users++
		if u.PasswordEnabled {
			s.ConsoleUsers++
			if checks.UserHasMFA(u) {
				s.ConsoleUsersWithMFA++
			} else if !sup.has("console_without_mfa", a.ID, u.ARN) {
				s.RiskInputs.UsersWithoutMFA++
			}
			if !checks.Known(u.PasswordLastUsed) && !sup.has("console_password_unused", a.ID, u.ARN) {
				s.RiskInputs.ConsoleNeverSignedIn++
			}
		}
		if checks.UserInactive(u, now, t.InactiveUserDays) {
			s.InactiveUsers++
		}
		for i, k := range u.AccessKeys {
			s.LongTermKeys++
			res := checks.KeyResource(u, i, k)
			if !checks.ActiveKey(k) {
				if k.Status == "Inactive" {
					s.InactiveKeys++
					if !sup.has("inactive_key_not_deleted", a.ID, res) {
						s.RiskInputs.InactiveKeys++
					}
				}
				continue
			}
			s.ActiveKeys++
			age := checks.AgeDays(now, k.CreatedAt)
			if k.CreatedAt.IsZero() {
				age = 0 // unknown creation: not counted as old
			}
			s.KeyAges.add(age)
			if age > t.KeyRotationMediumDays {
				s.KeysOverRotation++
			}
			if !sup.has("access_key_not_rotated", a.ID, res) {
				switch {
				case age > 365:
					s.RiskInputs.KeysOver365++
				case age > 180:
					s.RiskInputs.Keys181To365++
				case age > 90:
					s.RiskInputs.Keys91To180++
				}
			}
			switch {
			case !checks.Known(k.LastUsedAt):
				s.NeverUsedKeys++
			case checks.AgeDays(now, *k.LastUsedAt) > t.UnusedKeyDays:
				s.UnusedKeys++
			}
		}
	}
	finish(&s)
	return s
}
