package collect

import (
	"errors"
	"fmt"
	"slices"

	"github.com/iamaudit/iamaudit/internal/inventory"
)

// Gap sections about users (re-exported for tests and callers that name them). A Gap
// in one of these sections with Subject = a user's name leaves part of that user
// unknown; without Subject, for every user of the account. Which part is said by the
// Gap's Unknown fields (the failures below).
const (
	SectionUsers      = inventory.SectionUsers
	SectionPassword   = inventory.SectionPassword
	SectionMFA        = inventory.SectionMFA
	SectionAccessKeys = inventory.SectionAccessKeys
)

// failure is a failed AWS call and what it leaves unknown. This table is where the
// collection's knowledge of the AWS API (which call returns what) becomes the
// inventory's fields; checks, scores and reports read only the fields.
type failure struct {
	op      string
	section inventory.Section
	unknown []inventory.Field
}

// withOp is the same failure for another operation that returns the same data.
func (f failure) withOp(op string) failure { f.op = op; return f }

var (
	// The credential report: its data comes from per-user calls instead, whose own
	// failures are gaps; the root user's is recorded as a root gap.
	failReport = failure{"iam:GetCredentialReport", inventory.SectionCredentialReport, []inventory.Field{inventory.FieldCredentialReport}}
	// GetAccountAuthorizationDetails is the one call that returns users' policies,
	// groups and tags and every group, role and customer managed policy; the user
	// list itself still comes from the credential report or ListUsers.
	failAuthDetails = failure{"iam:GetAccountAuthorizationDetails", inventory.SectionUsers, []inventory.Field{
		inventory.FieldUserPolicies, inventory.FieldUserGroups, inventory.FieldUserTags,
		inventory.FieldGroups, inventory.FieldRoles, inventory.FieldManagedPolicies}}
	// ListVirtualMFADevices: devices are then classified by serial only, and the root
	// user's MFA type is unknown; whether users have MFA is still known.
	failVirtualMFA     = failure{"iam:ListVirtualMFADevices", inventory.SectionMFA, []inventory.Field{inventory.FieldMFATypes}}
	failSummary        = failure{"iam:GetAccountSummary", inventory.SectionSummary, []inventory.Field{inventory.FieldAccountSummary}}
	failPasswordPolicy = failure{"iam:GetAccountPasswordPolicy", inventory.SectionPasswordPolicy, []inventory.Field{inventory.FieldPasswordPolicy}}
	failServerCerts    = failure{"iam:ListServerCertificates", inventory.SectionServerCertificates, []inventory.Field{inventory.FieldServerCertificates}}
	failListUsers      = failure{"iam:ListUsers", inventory.SectionUsers, []inventory.Field{inventory.FieldUsers}}
	failListMFA        = failure{"iam:ListMFADevices", inventory.SectionMFA, []inventory.Field{inventory.FieldMFA}}
	// ListAccessKeys: the user's keys are unknown, or only their ids when the
	// credential report's key slots (status, creation, last use) were kept.
	failListKeys    = failure{"iam:ListAccessKeys", inventory.SectionAccessKeys, []inventory.Field{inventory.FieldAccessKeys}}
	failListKeyIDs  = failure{"iam:ListAccessKeys", inventory.SectionAccessKeys, []inventory.Field{inventory.FieldKeyIDs}}
	failKeyLastUsed = failure{"iam:GetAccessKeyLastUsed", inventory.SectionAccessKeys, []inventory.Field{inventory.FieldKeyLastUse}}
	// GetAccessKeyLastUsed asked for fresh data (--fresh-key-usage) failed, but the
	// credential report answered: its last use is kept, only a more recent one is unknown.
	failKeyLastUsedFresh = failure{"iam:GetAccessKeyLastUsed", inventory.SectionAccessKeys, []inventory.Field{inventory.FieldKeyLastUseRecent}}
	// GetLoginProfile says whether there is a console password; GetUser only its last use.
	failLoginProfile = failure{"iam:GetLoginProfile", inventory.SectionPassword, []inventory.Field{inventory.FieldPassword}}
	failGetUser      = failure{"iam:GetUser", inventory.SectionPassword, []inventory.Field{inventory.FieldPasswordLastUsed}}
	failLookupEvents = failure{"cloudtrail:LookupEvents", inventory.SectionEvents, []inventory.Field{inventory.FieldEvents}}
	failDescribeOrg  = failure{"organizations:DescribeOrganization", inventory.SectionOrganization, []inventory.Field{inventory.FieldOrganization}}
	failListAccounts = failure{"organizations:ListAccounts", inventory.SectionOrganization, []inventory.Field{inventory.FieldAccounts}}
	failOUNames      = failure{"organizations:ListOrganizationalUnitsForParent", inventory.SectionOrganization, []inventory.Field{inventory.FieldOUNames}}
	// A policy document GetAccountAuthorizationDetails returned that cannot be read:
	// what it allows is unknown.
	failPolicyDocument = failure{"iam:GetAccountAuthorizationDetails", inventory.SectionPolicies, []inventory.Field{inventory.FieldPolicyDocuments}}
)

// gapFrom records a failed call. note (optional) says what is missing as a result.
func gapFrom(accountID string, f failure, subject string, err error, note string) inventory.Gap {
	msg := fmt.Sprintf("%s failed: %v", f.op, err)
	if note != "" {
		msg = note + ": " + msg
	}
	g := inventory.NewGap(accountID, f.section, f.unknown, msg)
	g.Subject, g.Operation, g.ErrorCode = subject, f.op, errorCode(err)
	return g
}

// noteGap records something missing that no failed call explains (the credential
// report has no <root_account> row, an account asked for is not in the list).
func noteGap(accountID string, section inventory.Section, unknown []inventory.Field, msg string) inventory.Gap {
	return inventory.NewGap(accountID, section, unknown, msg)
}

// codeRepeatedToken is the Gap.ErrorCode of a listing cut short by a repeated
// pagination token (not an AWS error code: AWS answered, but with a token it had
// already given).
const codeRepeatedToken = "RepeatedPaginationToken"

// repeatedTokenError: a listing answered with a pagination token it had already
// given. Following it would loop; stopping there (the SDK's StopOnDuplicateToken)
// would pass a short list off as complete, so the listing fails and becomes a gap.
type repeatedTokenError struct{ op string }

func (e *repeatedTokenError) Error() string {
	return e.op + " returned a pagination token it had already returned: the listing stopped short of its end"
}

// tokens guards one listing against a pagination token that comes back.
type tokens struct {
	op   string
	seen map[string]bool
}

func newTokens(op string) *tokens { return &tokens{op: op, seen: map[string]bool{}} }

// next records the token a page gave for the next one (Marker, NextToken; "" or nil:
// the last page), which the SDK's paginator sends next. It fails when the token was
// given before.
func (t *tokens) next(token *string) error {
	if token == nil || *token == "" {
		return nil
	}
	if t.seen[*token] {
		return &repeatedTokenError{op: t.op}
	}
	t.seen[*token] = true
	return nil
}

func isRepeatedToken(err error) bool {
	var rt *repeatedTokenError
	return errors.As(err, &rt)
}

// union adds the fields of more to fields, once each.
func union(fields, more []inventory.Field) []inventory.Field {
	for _, f := range more {
		if !slices.Contains(fields, f) {
			fields = append(fields, f)
		}
	}
	return fields
}
