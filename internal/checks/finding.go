package checks

import (
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"time"
)

// Finding states.
const (
	StateOpen       = "open"
	StateSuppressed = "suppressed"
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

	// State is "open", or "suppressed" when a suppression rule matched.
	State              string     `json:"state"`
	Suppressed         bool       `json:"suppressed"`
	SuppressionReason  string     `json:"suppression_reason,omitempty"`
	SuppressionExpires *time.Time `json:"suppression_expires,omitempty"`
}

// Remediation says how to fix a finding: the seed's remediation workflow and the
// equivalent AWS CLI commands for the concrete resource.
type Remediation struct {
	Workflow string   `json:"workflow"`
	Commands []string `json:"commands,omitempty"`
}

// FindingID is the stable id of a finding: the first 16 hex digits of
// sha256(check id, account id, resource).
func FindingID(checkID, accountID, resource string) string {
	h := sha256.Sum256([]byte(checkID + "\x00" + accountID + "\x00" + resource))
	return hex.EncodeToString(h[:8])
}

// Sort orders findings: severity (highest first), then account id, resource and check id.
func Sort(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
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
	})
}
