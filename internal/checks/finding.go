package checks

import (
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"time"

	"github.com/iamaudit/iamaudit/internal/fix"
)

// Finding states. A single run knows only open and suppressed; CompareRuns, given
// the previous run's findings, tells new from open (still open) and lists the
// resolved ones.
const (
	StateNew        = "new"        // not in the previous run
	StateOpen       = "open"       // in the previous run too (or no previous run to compare with)
	StateSuppressed = "suppressed" // a suppression rule matched, whatever the previous run said
	StateResolved   = "resolved"   // in the previous run, not in this one
)

// Resource types a finding names.
const (
	ResourceAccount           = "account"
	ResourceUser              = "user"
	ResourceAccessKey         = "access_key"
	ResourceRoot              = "root"
	ResourceRootAccessKey     = "root_access_key"
	ResourceRole              = "role"
	ResourceGroup             = "group"
	ResourceServerCertificate = "server_certificate"
)

// Finding is one problem found in one resource of one account.
type Finding struct {
	// ID is stable: a hash of check id, account id and resource, so the same finding
	// in two runs has the same id.
	ID           string   `json:"id"`
	CheckID      string   `json:"check_id"`
	Title        string   `json:"title"`
	Severity     Severity `json:"severity"`
	AccountID    string   `json:"account_id"`
	AccountName  string   `json:"account_name"`
	Resource     string   `json:"resource"`      // user ARN, key id, account id, role ARN, certificate ARN
	ResourceType string   `json:"resource_type"` // one of the Resource* constants
	User         string   `json:"user,omitempty"`
	// Message is one line, e.g. "Access key AKIA… is 2716 days old (not rotated)".
	Message string `json:"message"`
	// Evidence holds the facts behind the finding: dates, ages in days, last used
	// service, thresholds, and any collection gap that limits it.
	Evidence    map[string]string `json:"evidence,omitempty"`
	CIS         []string          `json:"cis,omitempty"`
	SecurityHub []string          `json:"security_hub,omitempty"`
	Remediation Remediation       `json:"remediation"`

	// State is "open", or "suppressed" when a suppression rule matched; after
	// CompareRuns, "new", "open", "suppressed" or "resolved".
	State              string     `json:"state"`
	Suppressed         bool       `json:"suppressed"`
	SuppressionReason  string     `json:"suppression_reason,omitempty"`
	SuppressionExpires *time.Time `json:"suppression_expires,omitempty"`

	// Lifecycle across runs, set for a run's findings (not for an analysis) from the
	// history (docs/store-schema.md, "Finding lifecycle"): FirstSeen is when the
	// finding was first observed, LastSeen the newest run that observed it (this run,
	// or for a resolved finding the last run that had it), ResolvedAt when a run
	// found it gone (resolved findings only), and Reopened that it is found again
	// after having been resolved (kept while it stays open).
	FirstSeen  *time.Time `json:"first_seen,omitempty"`
	LastSeen   *time.Time `json:"last_seen,omitempty"`
	ResolvedAt *time.Time `json:"resolved_at,omitempty"`
	Reopened   bool       `json:"reopened,omitempty"`
}

// Remediation says how to fix a finding: the seed's remediation workflow and the typed
// actions for the concrete resource (planned by fix.Plan). Commands are the actions as
// AWS CLI text: the checks leave them empty, and the reports render them from Actions
// when they write a finding (report.WithCommands), so the JSON and the findings CSV
// carry both. A finding read back from an older run's JSON may have Commands only.
type Remediation struct {
	Workflow string       `json:"workflow"`
	Actions  []fix.Action `json:"actions,omitempty"`
	Commands []string     `json:"commands,omitempty"`
}

// FindingID is the stable id of a finding: the first 16 hex digits of
// sha256(check id, account id, resource).
func FindingID(checkID, accountID, resource string) string {
	h := sha256.Sum256([]byte(checkID + "\x00" + accountID + "\x00" + resource))
	return hex.EncodeToString(h[:8])
}

// Sort orders findings: severity (highest first), then account id, resource and check id.
// It is stable: findings equal in all four keep their order.
func Sort(fs []Finding) {
	if !Sorted(fs) {
		sort.Stable(byOrder(fs))
	}
}

// Sorted tells whether fs is in Sort's order already.
func Sorted(fs []Finding) bool {
	for i := 1; i < len(fs); i++ {
		if less(&fs[i], &fs[i-1]) {
			return false
		}
	}
	return true
}

// byOrder sorts in Sort's order; a finding is large: it is compared in place.
type byOrder []Finding

func (s byOrder) Len() int           { return len(s) }
func (s byOrder) Less(i, j int) bool { return less(&s[i], &s[j]) }
func (s byOrder) Swap(i, j int)      { s[i], s[j] = s[j], s[i] }

func less(a, b *Finding) bool {
	if a.Severity != b.Severity {
		return a.Severity > b.Severity
	}
	if a.AccountID != b.AccountID {
		return a.AccountID < b.AccountID
	}
	if a.Resource != b.Resource {
		return a.Resource < b.Resource
	}
	return a.CheckID < b.CheckID
}

// CompareRuns gives each current finding its state across runs, matching findings by
// their stable ID: "suppressed" when suppressed (whatever the previous run said),
// "open" when the previous run had it, "new" otherwise. resolved lists the previous
// run's findings that are not in current, with State "resolved", in Sort order; a
// finding suppressed last time and gone now is resolved too. current is not modified:
// the result is a copy, in the same order.
func CompareRuns(previous []Finding, current []Finding) (out []Finding, resolved []Finding) {
	before := make(map[string]bool, len(previous))
	for _, f := range previous {
		before[f.ID] = true
	}
	now := make(map[string]bool, len(current))
	out = make([]Finding, len(current))
	for i, f := range current {
		now[f.ID] = true
		switch {
		case f.Suppressed || f.State == StateSuppressed:
			f.State = StateSuppressed
		case before[f.ID]:
			f.State = StateOpen
		default:
			f.State = StateNew
		}
		out[i] = f
	}
	seen := map[string]bool{}
	for _, f := range previous {
		if now[f.ID] || seen[f.ID] {
			continue
		}
		seen[f.ID] = true
		f.State = StateResolved
		resolved = append(resolved, f)
	}
	Sort(resolved)
	return out, resolved
}
