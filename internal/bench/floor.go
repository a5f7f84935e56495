// Package bench is `iamaudit bench`: a generated Organization served by the sandbox
// with a latency and rate profile, the real audit run against it as a child process,
// and its wall time set against the floor that AWS's limits allow (docs/bench.md).
package bench

import (
	"math"
	"time"
)

// Operations of the minimum: the bulk IAM calls the collector makes once per account
// (internal/collect/iam.go collectIAM), and the per-user and CloudTrail ones.
const (
	OpGenerateReport  = "iam:GenerateCredentialReport"
	OpGetReport       = "iam:GetCredentialReport"
	OpAuthDetails     = "iam:GetAccountAuthorizationDetails"
	OpVirtualMFA      = "iam:ListVirtualMFADevices"
	OpAccountSummary  = "iam:GetAccountSummary"
	OpPasswordPolicy  = "iam:GetAccountPasswordPolicy"
	OpServerCerts     = "iam:ListServerCertificates"
	OpListAccessKeys  = "iam:ListAccessKeys"
	OpListMFADevices  = "iam:ListMFADevices"
	OpLookupEvents    = "cloudtrail:LookupEvents"
	OpAssumeRole      = "sts:AssumeRole"
	OpDescribeOrg     = "organizations:DescribeOrganization"
	OpListAccounts    = "organizations:ListAccounts"
	iamPageItems      = 1000 // GetAccountAuthorizationDetails MaxItems (collect's iamMaxItems)
	eventsPageItems   = 50   // LookupEvents MaxResults
	listAccountsItems = 20   // ListAccounts MaxResults
)

// Account is what the floor needs to know of one account.
type Account struct {
	Users         int
	UsersWithKeys int // users holding at least one access key: one ListAccessKeys each
	UsersWithMFA  int // users with an MFA device: one ListMFADevices each
	// AuthEntries are the users, groups, roles and customer managed policies that
	// GetAccountAuthorizationDetails lists (pages of 1000).
	AuthEntries int
	// Events per looked-up event name, within the window.
	Events map[string]int
	// AssumesRole: the account is reached through sts:AssumeRole (not the management
	// account audited with the caller's own credentials).
	AssumesRole bool
}

// Limits are the profile's numbers the floor uses. A rate of 0 is no limit.
type Limits struct {
	IAMRate, EventsRate, OrgRate float64       // requests per second, token bucket with burst = max(1, ceil(rate)) (the sandbox's)
	Latency                      time.Duration // mean latency of one call
	ReportGeneration             time.Duration
}

// MinCalls is the least number of calls per operation one account needs: the bulk
// IAM calls once each (GetAccountAuthorizationDetails once per page), one
// ListAccessKeys per user with keys, one ListMFADevices per user with MFA, and one
// LookupEvents per event name per page of 50 of its events (at least one).
func MinCalls(a Account, eventNames []string) map[string]int {
	m := map[string]int{
		OpGenerateReport: 1, OpGetReport: 1, OpAuthDetails: pages(a.AuthEntries, iamPageItems),
		OpVirtualMFA: 1, OpAccountSummary: 1, OpPasswordPolicy: 1, OpServerCerts: 1,
	}
	if a.UsersWithKeys > 0 {
		m[OpListAccessKeys] = a.UsersWithKeys
	}
	if a.UsersWithMFA > 0 {
		m[OpListMFADevices] = a.UsersWithMFA
	}
	for _, n := range eventNames {
		m[OpLookupEvents] += pages(a.Events[n], eventsPageItems)
	}
	if a.AssumesRole {
		m[OpAssumeRole] = 1
	}
	return m
}

// pages is how many pages of size per list n items (an empty list is one page).
func pages(n, per int) int { return max(1, (n+per-1)/per) }

// AccountFloor is one account's floor and its terms.
type AccountFloor struct {
	IAM    time.Duration `json:"iam"`    // IAM calls through the IAM bucket
	Events time.Duration `json:"events"` // LookupEvents calls through the CloudTrail bucket
	Report time.Duration `json:"report"` // credential report generation
	Chain  time.Duration `json:"chain"`  // the longest chain of dependent calls × mean latency
	Total  time.Duration `json:"total"`  // the largest of the four
}

// Floor computes one account's floor: the largest of its IAM calls through the IAM
// bucket, its LookupEvents calls through the CloudTrail bucket, the credential report's
// generation, and its longest chain of dependent calls × the mean latency.
func Floor(a Account, eventNames []string, l Limits) AccountFloor {
	calls := MinCalls(a, eventNames)
	iamCalls := 0
	for op, n := range calls {
		if len(op) > 4 && op[:4] == "iam:" {
			iamCalls += n
		}
	}
	f := AccountFloor{
		IAM:    bucket(iamCalls, l.IAMRate),
		Events: bucket(calls[OpLookupEvents], l.EventsRate),
		Report: l.ReportGeneration,
		Chain:  time.Duration(Chain(a, eventNames)) * l.Latency,
	}
	f.Total = max(f.IAM, f.Events, f.Report, f.Chain)
	return f
}

// Chain is the longest chain of calls that must follow one another in one account:
// AssumeRole (when the account is reached through a role), then the longest of
// GenerateCredentialReport → GetCredentialReport → a per-user call (when some user
// has keys or MFA), the pages of GetAccountAuthorizationDetails, and the pages of
// one event name's LookupEvents.
func Chain(a Account, eventNames []string) int {
	report := 2
	if a.UsersWithKeys > 0 || a.UsersWithMFA > 0 {
		report++
	}
	longest := max(report, pages(a.AuthEntries, iamPageItems))
	for _, n := range eventNames {
		longest = max(longest, pages(a.Events[n], eventsPageItems))
	}
	if a.AssumesRole {
		longest++
	}
	return longest
}

// bucket is the least time n calls take through a token bucket of rate r per second
// and burst max(1, ceil(r)) that starts full: the burst goes at once, each further
// call waits 1/r. A rate of 0 (no limit) costs nothing.
func bucket(n int, r float64) time.Duration {
	if r <= 0 || n <= 0 {
		return 0
	}
	burst := max(1, int(math.Ceil(r)))
	if n <= burst {
		return 0
	}
	return time.Duration(float64(n-burst) / r * float64(time.Second))
}

// EnumerationCalls are the least calls that list an Organization of n accounts:
// DescribeOrganization and the ListAccounts pages of 20.
func EnumerationCalls(n int) map[string]int {
	return map[string]int{OpDescribeOrg: 1, OpListAccounts: pages(n, listAccountsItems)}
}

// OrgFloor is the Organization's floor and its terms.
type OrgFloor struct {
	Enumeration time.Duration `json:"enumeration"` // DescribeOrganization + ListAccounts pages
	Slowest     AccountFloor  `json:"slowest_account"`
	Total       time.Duration `json:"total"` // Enumeration + Slowest.Total
}

// Organization computes the Organization's floor: enumeration (DescribeOrganization
// and the ListAccounts pages of 20, the larger of their time through the
// Organizations bucket and the pages one after the other × the mean latency) plus the
// slowest account (accounts are independent: AWS's limits are per account).
func Organization(accounts []Account, eventNames []string, l Limits) OrgFloor {
	listPages := pages(len(accounts), listAccountsItems)
	var f OrgFloor
	f.Enumeration = max(bucket(1+listPages, l.OrgRate), time.Duration(listPages)*l.Latency)
	for _, a := range accounts {
		if af := Floor(a, eventNames, l); af.Total > f.Slowest.Total {
			f.Slowest = af
		}
	}
	f.Total = f.Enumeration + f.Slowest.Total
	return f
}
