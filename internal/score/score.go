// Package score summarises an audit: finding counts by severity, MFA coverage, access
// key age distribution, the 0–100 risk score of every open finding (formula
// iamaudit-risk/2), the seed dashboard's risk score kept for comparison
// (iamaudit-risk/1) and the AWS Security Maturity Model phases, per account and for
// the whole Organization. See docs/checks.md, "Scores and maturity".
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

// Risk formula versions. Every risk figure names the formula it was computed with,
// so that a trend never silently mixes two formulas. iamaudit-risk/1 is the seed
// dashboard's formula: the one every "risk_score" written before "risk_formula"
// existed was computed with.
const (
	RiskFormula     = "iamaudit-risk/2"
	SeedRiskFormula = "iamaudit-risk/1"
)

// Weights of iamaudit-risk/2 (docs/checks.md, "Scores and maturity").
const (
	// Points per open finding, by severity. With the floors, one critical finding
	// alone scores 73 ("high") and two score 80 ("critical"); one high finding alone
	// scores 47 ("medium") and four score 60 ("high").
	pointsCritical, pointsHigh, pointsMedium, pointsLow = 20, 5, 2, 1
	// Floors by the worst open severity: the label is never more than one step below
	// the worst finding, so one critical finding makes at least "high" (60) and one
	// high finding at least "medium" (40).
	floorCritical, floorHigh = 60, 40
	// halfPoints is how many points take a score half-way from its floor to 100
	// (2 critical, 8 high, 20 medium or 40 low findings).
	halfPoints = 40
)

// RiskBasis is what iamaudit-risk/2 is computed from: the open (unsuppressed)
// findings by severity, leaving out account_not_audited (it says the account could
// not be looked at, not that its credentials are at risk: an unknown is not counted
// as bad), their points and the floor set by the worst of them.
type RiskBasis struct {
	Critical int `json:"critical"`
	High     int `json:"high"`
	Medium   int `json:"medium"`
	Low      int `json:"low"`
	Points   int `json:"points"`
	Floor    int `json:"floor"`
}

func (b *RiskBasis) add(s checks.Severity) {
	switch s {
	case checks.Critical:
		b.Critical++
	case checks.High:
		b.High++
	case checks.Medium:
		b.Medium++
	case checks.Low:
		b.Low++
	}
}

// Risk is iamaudit-risk/2 of the counts (Points and Floor are not read):
//
//	points = 20·critical + 5·high + 2·medium + 1·low
//	floor  = 60 if any critical, else 40 if any high, else 0
//	score  = floor + round((100 − floor) · points / (points + 40))
//
// in integers (halves round up), so the same findings give the same score on every
// machine. It never falls when a finding is added, is at least the floor, and
// approaches 100 without saturating early (100 takes over 3,000 points).
func (b RiskBasis) Risk() int {
	p, f := b.points(), b.floor()
	// round(x/y) = (2x + y) / (2y) for non-negative integers.
	x, y := (100-f)*p, p+halfPoints
	return f + (2*x+y)/(2*y)
}

func (b RiskBasis) points() int {
	return pointsCritical*b.Critical + pointsHigh*b.High + pointsMedium*b.Medium + pointsLow*b.Low
}

func (b RiskBasis) floor() int {
	switch {
	case b.Critical > 0:
		return floorCritical
	case b.High > 0:
		return floorHigh
	}
	return 0
}

// RiskInputs are the terms of the seed dashboard's risk score (iamaudit-risk/1),
// after leaving out resources whose corresponding finding is suppressed and users
// whose data the term needs is unknown (a lower bound counts only what is known).
type RiskInputs struct {
	KeysOver365          int `json:"keys_over_365"`
	Keys181To365         int `json:"keys_181_365"`
	Keys91To180          int `json:"keys_91_180"`
	UsersWithoutMFA      int `json:"users_without_mfa"`
	ConsoleNeverSignedIn int `json:"console_never_signed_in"`
	InactiveKeys         int `json:"inactive_keys"`
}

// Risk is min(8·keys>365d + 4·keys 181–365d + 2·keys 91–180d + 5·console users without
// MFA + 3·console users who never signed in + 1·inactive keys, 100): iamaudit-risk/1.
func (r RiskInputs) Risk() int {
	return min(8*r.KeysOver365+4*r.Keys181To365+2*r.Keys91To180+5*r.UsersWithoutMFA+3*r.ConsoleNeverSignedIn+r.InactiveKeys, 100)
}

// RiskLabel is critical ≥ 80, high ≥ 60, medium ≥ 40, else low (both formulas).
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

// SeedRisk is the seed dashboard's risk score, kept for comparison with the seed.
type SeedRisk struct {
	Formula string `json:"formula"` // SeedRiskFormula
	// Score is null when unknown (a gap in users, mfa, password or access_keys, or not
	// audited); Label is then "unknown" and AtLeast is the score of what is known.
	Score   *int       `json:"score"`
	AtLeast int        `json:"at_least"`
	Label   string     `json:"label"`
	Inputs  RiskInputs `json:"inputs"`
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
	// not audited, a gap (account-wide or about one user) left unknown a field the
	// score uses (inventory.Field), or a check could not look at all of the account
	// (RiskUnevaluated). UnknownSections lists those fields ("not_audited" for an
	// account that could not be audited; for the Organization, the union of its
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

	// RiskFormula names the formula of Risk: RiskFormula (iamaudit-risk/2).
	RiskFormula string `json:"risk_formula"`
	// Risk is the score of every open finding by severity (RiskBasis.Risk). It is
	// null when some findings may be missing: the account was not audited, a gap left
	// a user section unknown (UnknownSections), or a check could not look at all of
	// the account (RiskUnevaluated). RiskLabel is then "unknown" and RiskAtLeast is
	// the score of the findings that were made, which rest only on known data (a
	// lower bound).
	Risk        *int      `json:"risk_score"`
	RiskAtLeast int       `json:"risk_at_least"`
	RiskLabel   string    `json:"risk_label"`
	RiskBasis   RiskBasis `json:"risk_basis"`
	// RiskUnevaluated lists the enabled checks that could not look at all of the
	// account (checks.Unevaluated); for the Organization, the union of its accounts'.
	RiskUnevaluated []string `json:"risk_unevaluated_checks,omitempty"`
	// SeedRisk is the seed dashboard's formula, for comparison.
	SeedRisk SeedRisk `json:"seed_risk"`
	Phase1   Phase    `json:"phase1"`
	Phase2   Phase    `json:"phase2"`
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

// Compute summarises the inventory and the findings. Counts by severity and the risk
// score (iamaudit-risk/2) include only unsuppressed findings. The seed risk score
// (iamaudit-risk/1) is computed from inventory facts, leaving out each resource whose
// corresponding finding is suppressed (a key whose access_key_not_rotated finding, a
// user whose console_without_mfa or console_password_unused finding, an inactive key
// whose inactive_key_not_deleted finding is suppressed). The other figures are facts
// and ignore suppressions.
//
// The Organization's risk is the same formula over the open findings of all its
// accounts: its floor is the worst account's floor and its points the sum of theirs,
// so it is never below any account's score (see docs/checks.md).
func Compute(inv *inventory.Inventory, findings []checks.Finding, now time.Time, cfg checks.Config) Scores {
	byAccount := map[string][]checks.Finding{}
	for _, f := range findings {
		byAccount[f.AccountID] = append(byAccount[f.AccountID], f)
	}
	accounts := []Score{}
	for i := range inv.Accounts {
		if inv.Accounts[i].Status == inventory.StatusSkipped {
			continue // not ACTIVE: out of scope, listed apart by the report
		}
		a := &inv.Accounts[i]
		accounts = append(accounts, AccountScore(a, byAccount[a.ID], now, cfg))
	}
	return Aggregate(accounts, cfg)
}

// AccountScore is one account's score from its findings (findings of other accounts
// are ignored). A streamed run computes it as each account finishes and Aggregate
// makes the Organization's from them: the same as Compute.
func AccountScore(a *inventory.Account, findings []checks.Finding, now time.Time, cfg checks.Config) Score {
	sup := suppressedSet{}
	var c Counts
	var basis RiskBasis
	for _, f := range findings {
		if f.AccountID != a.ID {
			continue
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
		if f.CheckID != notAuditedCheck {
			basis.add(f.Severity)
		}
	}
	s := accountScore(a, basis, sup, now, cfg)
	s.Findings = c
	return s
}

// Aggregate is the scores of a run from its accounts' scores (in account order,
// skipped accounts left out): the Organization's figures are the sums of the
// audited accounts' facts and its risk the formula over all their findings.
func Aggregate(accounts []Score, cfg checks.Config) Scores {
	out := Scores{KeyRotationDays: cfg.Thresholds.KeyRotationMediumDays, Accounts: []Score{}}
	org := Score{Audited: true, Known: true}
	for _, s := range accounts {
		out.Accounts = append(out.Accounts, s)
		org.Findings = addCounts(org.Findings, s.Findings)
		addBasis(&org.RiskBasis, s.RiskBasis)
		if s.Audited {
			org.Accounts++
			addFacts(&org, s)
		}
		org.UnknownSections = union(org.UnknownSections, s.UnknownSections)
		org.RiskUnevaluated = union(org.RiskUnevaluated, s.RiskUnevaluated)
	}
	finish(&org)
	out.Organization = org
	return out
}

// notAuditedCheck is the finding of an account that could not be audited: counted by
// severity, but not in the risk score, as it says the account's data is unknown.
const notAuditedCheck = "account_not_audited"

func addBasis(o *RiskBasis, b RiskBasis) {
	o.Critical += b.Critical
	o.High += b.High
	o.Medium += b.Medium
	o.Low += b.Low
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
	r, in := &o.SeedRisk.Inputs, s.SeedRisk.Inputs
	r.KeysOver365 += in.KeysOver365
	r.Keys181To365 += in.Keys181To365
	r.Keys91To180 += in.Keys91To180
	r.UsersWithoutMFA += in.UsersWithoutMFA
	r.ConsoleNeverSignedIn += in.ConsoleNeverSignedIn
	r.InactiveKeys += in.InactiveKeys
}

// Fields each figure rests on: MFA coverage on who has a console password and MFA;
// phase 2 on the keys (their age, not their last use); the seed's risk on both and on
// console sign-ins (never signed in). The risk score rests on every finding, and a
// finding about a user is not made when a gap leaves one of these fields unknown for
// that user (checks.Run), key last use included; account-wide gaps that stop a check
// are RiskUnevaluated. A list that may leave out users without keys (keyless_users,
// an imported seed report) leaves MFA coverage and both risks unknown, not the key
// figures (every key's user is listed); unknown user creation dates (user_created)
// leave inactive users, and so the risk, unknown.
var (
	coverageSections = []inventory.Field{inventory.FieldUsers, inventory.FieldMFA, inventory.FieldPassword, inventory.FieldKeylessUsers}
	keySections      = []inventory.Field{inventory.FieldUsers, inventory.FieldAccessKeys}
	seedRiskSections = []inventory.Field{inventory.FieldUsers, inventory.FieldMFA, inventory.FieldPassword, inventory.FieldPasswordLastUsed, inventory.FieldAccessKeys, inventory.FieldKeylessUsers}
	riskSections     = []inventory.Field{inventory.FieldUsers, inventory.FieldMFA, inventory.FieldPassword, inventory.FieldPasswordLastUsed, inventory.FieldAccessKeys, inventory.FieldKeyLastUse,
		inventory.FieldKeylessUsers, inventory.FieldUserCreated}
	// scoreSections is every field a figure uses.
	scoreSections = riskSections
	// notAudited marks an account that could not be audited: every figure is unknown.
	notAudited = inventory.Field(inventory.StatusNotAudited)
)

func union[T ~string](a, b []T) []T {
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
	seedKnown := knownFrom(s.UnknownSections, seedRiskSections)
	riskKnown := knownFrom(s.UnknownSections, riskSections) && len(s.RiskUnevaluated) == 0
	s.Known = len(s.UnknownSections) == 0 && len(s.RiskUnevaluated) == 0
	s.MFACoverage = nil
	if covKnown {
		c := 100.0
		if s.ConsoleUsers > 0 {
			c = float64(s.ConsoleUsersWithMFA) * 100 / float64(s.ConsoleUsers)
		}
		s.MFACoverage = &c
	}
	sr := &s.SeedRisk
	sr.Formula, sr.AtLeast = SeedRiskFormula, sr.Inputs.Risk()
	sr.Score, sr.Label = nil, "unknown"
	if seedKnown {
		r := sr.AtLeast
		sr.Score, sr.Label = &r, RiskLabel(r)
	}
	s.RiskBasis.Points, s.RiskBasis.Floor = s.RiskBasis.points(), s.RiskBasis.floor()
	s.RiskFormula, s.RiskAtLeast = RiskFormula, s.RiskBasis.Risk()
	s.Risk, s.RiskLabel = nil, "unknown"
	if riskKnown {
		r := s.RiskAtLeast
		s.Risk, s.RiskLabel = &r, RiskLabel(r)
	}
	s.Phase1 = Phase{Name: "MFA", Known: covKnown, Complete: covKnown && s.ConsoleUsers == s.ConsoleUsersWithMFA}
	s.Phase2 = Phase{Name: "Use temporary credentials", Known: keysKnown,
		Complete: keysKnown && s.KeysOverRotation == 0, Advanced: keysKnown && s.LongTermKeys == 0}
}

func accountScore(a *inventory.Account, basis RiskBasis, sup suppressedSet, now time.Time, cfg checks.Config) Score {
	s := Score{AccountID: a.ID, AccountName: a.Name, Audited: a.Status == inventory.StatusAudited || a.Status == inventory.StatusPartial,
		RiskBasis: basis}
	if !s.Audited {
		s.UnknownSections = []inventory.Field{notAudited}
		finish(&s)
		return s
	}
	s.UnknownSections = checks.FieldsUnknown(a, scoreSections...)
	s.RiskUnevaluated = union(nil, checks.Unevaluated(a, cfg))
	t := cfg.Thresholds
	seed := &s.SeedRisk.Inputs
	// unknown reports whether a gap leaves one of sections unknown for u: the seed
	// score's lower bound then leaves the term out rather than count it as bad.
	unknown := func(u inventory.User, sections ...inventory.Field) bool {
		_, gap := checks.UserGap(a, u.Name, sections...)
		return gap
	}
	for _, u := range a.Users {
		s.Users++
		userKeysKnown := !unknown(u, inventory.FieldUsers, inventory.FieldAccessKeys)
		if u.PasswordEnabled {
			s.ConsoleUsers++
			if checks.UserHasMFA(u) {
				s.ConsoleUsersWithMFA++
			} else if !sup.has("console_without_mfa", a.ID, u.ARN) && !unknown(u, inventory.FieldUsers, inventory.FieldMFA, inventory.FieldPassword) {
				seed.UsersWithoutMFA++
			}
			if !checks.Known(u.PasswordLastUsed) && !sup.has("console_password_unused", a.ID, u.ARN) && !unknown(u, inventory.FieldUsers, inventory.FieldPassword, inventory.FieldPasswordLastUsed) {
				seed.ConsoleNeverSignedIn++
			}
		}
		if checks.UserInactive(u, now, t.InactiveUserDays) {
			s.InactiveUsers++
		}
		for i, k := range u.AccessKeys {
			s.LongTermKeys++
			res := checks.KeyResource(u, i, k)
			if !checks.ActiveKey(k) {
				if k.Status == inventory.KeyInactive {
					s.InactiveKeys++
					if !sup.has("inactive_key_not_deleted", a.ID, res) && userKeysKnown {
						seed.InactiveKeys++
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
			if !sup.has("access_key_not_rotated", a.ID, res) && userKeysKnown {
				switch {
				case age > 365:
					seed.KeysOver365++
				case age > 180:
					seed.Keys181To365++
				case age > 90:
					seed.Keys91To180++
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
