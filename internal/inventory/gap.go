package inventory

import (
	"encoding/json"
	"slices"
)

// Section is the part of the inventory a Gap is filed under: where the failure
// happened, as the console and the JSON show it. What the failure leaves unknown is
// said by the Gap's Unknown fields, which is what checks, scores and reports read.
type Section string

// The sections of a Gap (docs/inventory-schema.md).
const (
	// SectionAccount: an account as a whole (an account asked for with --accounts
	// that is not in the Organization).
	SectionAccount Section = "account"
	// SectionUsers: the user list itself (ListUsers, GetAccountAuthorizationDetails),
	// and users' groups, policies, permissions boundaries and tags.
	SectionUsers Section = "users"
	// SectionPassword: whether a user has a console password, and its last sign-in.
	SectionPassword Section = "password"
	// SectionAccessKeys: a user's access keys, their ids and last use.
	SectionAccessKeys Section = "access_keys"
	// SectionMFA: a user's MFA devices and the device types.
	SectionMFA Section = "mfa"
	// SectionRoot: the root user.
	SectionRoot Section = "root"
	// SectionPasswordPolicy: the account password policy.
	SectionPasswordPolicy Section = "password_policy"
	// SectionSummary: the account summary (GetAccountSummary).
	SectionSummary Section = "summary"
	// SectionRoles: the account's roles.
	SectionRoles Section = "roles"
	// SectionPolicies: customer managed policies, and policy documents that could not
	// be read.
	SectionPolicies Section = "policies"
	// SectionServerCertificates: the account's server certificates.
	SectionServerCertificates Section = "server_certificates"
	// SectionCredentialReport: the IAM credential report.
	SectionCredentialReport Section = "credential_report"
	// SectionEvents: CloudTrail events (Subject: the event names).
	SectionEvents Section = "events"
	// SectionOrganization: the Organization, its account list and OU names.
	SectionOrganization Section = "organization"
	// SectionRun: the run as a whole (it failed or was interrupted part way).
	SectionRun Section = "run"
)

// Field names a piece of data a Gap leaves unknown. A Gap with a Subject (a user's
// name) leaves its per-user fields unknown for that user; without a Subject, for
// every user of the account. Some fields include others (Covers): not knowing a
// user's keys means not knowing their ids or last use either.
type Field string

// Per-user fields.
const (
	// FieldUsers: without Subject, the user list (any user may be missing); with a
	// Subject, everything about that user. Covers every per-user field.
	FieldUsers Field = "users"
	// FieldPassword: whether the user has a console password. Covers FieldPasswordLastUsed.
	FieldPassword Field = "password"
	// FieldPasswordLastUsed: the user's last console sign-in.
	FieldPasswordLastUsed Field = "password_last_used"
	// FieldMFA: the user's MFA devices: whether MFA is on, and which devices. Covers FieldMFATypes.
	FieldMFA Field = "mfa"
	// FieldMFATypes: the types (virtual, hardware) of MFA devices, the users' and the
	// root user's.
	FieldMFATypes Field = "mfa_types"
	// FieldAccessKeys: the user's access keys (which exist, their status, creation,
	// ids and last use). Covers FieldKeyIDs and FieldKeyLastUse.
	FieldAccessKeys Field = "access_keys"
	// FieldKeyIDs: the ids of the user's access keys (the keys themselves are known).
	FieldKeyIDs Field = "key_ids"
	// FieldKeyLastUse: when, where and with which service the user's keys were last used.
	// Covers FieldKeyLastUseRecent.
	FieldKeyLastUse Field = "key_last_use"
	// FieldKeyLastUseRecent: a use of the user's keys after their credential report was
	// generated. The report's last use (up to 4 hours old) is known and kept: only a
	// fresher one is unknown (--fresh-key-usage with GetAccessKeyLastUsed failing).
	FieldKeyLastUseRecent Field = "key_last_use_recent"
	// FieldUserPolicies: the user's attached and inline policies and permissions boundary.
	FieldUserPolicies Field = "user_policies"
	// FieldUserGroups: the groups the user belongs to.
	FieldUserGroups Field = "user_groups"
	// FieldUserTags: the user's tags.
	FieldUserTags Field = "user_tags"
	// FieldUserCreated: when users were created (a list that does not say, such as the
	// original script's iam_audit_report CSV): whether a user without recent activity
	// is old enough to be inactive is unknown.
	FieldUserCreated Field = "user_created"
	// FieldKeylessUsers: whether the account has users without access keys, and what
	// they are. A user list built from access keys (the original script wrote a row per
	// key only, docs/seed-contract.md defect 1) names every user that has a key, and
	// what it says of them is known; users without keys may be missing.
	FieldKeylessUsers Field = "keyless_users"
)

// Account-wide fields.
const (
	// FieldGroups: the account's groups and their policies.
	FieldGroups Field = "groups"
	// FieldRoles: the account's roles, their policies and last use.
	FieldRoles Field = "roles"
	// FieldManagedPolicies: the account's customer managed policies and their documents.
	FieldManagedPolicies Field = "managed_policies"
	// FieldPolicyDocuments: what a policy document allows: the document (named by the
	// Gap's Subject and Message) could not be read, so whether the users, groups or
	// roles it applies to have full administrative privileges through it is unknown.
	FieldPolicyDocuments Field = "policy_documents"
	// FieldRoot: the root user (the credential report's <root_account> row).
	FieldRoot Field = "root"
	// FieldPasswordPolicy: the account password policy.
	FieldPasswordPolicy Field = "password_policy"
	// FieldAccountSummary: the account summary (GetAccountSummary).
	FieldAccountSummary Field = "account_summary"
	// FieldServerCertificates: the account's server certificates.
	FieldServerCertificates Field = "server_certificates"
	// FieldCredentialReport: the credential report itself (when it was generated); what
	// it would have told is collected by other calls, whose own gaps say what is missing.
	FieldCredentialReport Field = "credential_report"
	// FieldEvents: CloudTrail events (of the event names the Gap's Subject lists; all
	// of them without a Subject).
	FieldEvents Field = "events"
)

// Organization-wide fields.
const (
	// FieldOrganization: the Organization (its id and management account).
	FieldOrganization Field = "organization"
	// FieldAccounts: the Organization's account list (some accounts may be missing).
	FieldAccounts Field = "accounts"
	// FieldOUNames: the names of organizational units (OU paths show ids instead).
	FieldOUNames Field = "ou_names"
	// FieldAccount: everything about the account the Gap names. Covers every field.
	FieldAccount Field = "account"
	// FieldRun: the run stopped part way; the other gaps and the accounts not audited
	// say what was left out.
	FieldRun Field = "run"
)

// includes lists the fields a field covers besides itself (transitively through Covers).
var includes = map[Field][]Field{
	FieldUsers: {FieldPassword, FieldPasswordLastUsed, FieldMFA, FieldMFATypes, FieldAccessKeys, FieldKeyIDs, FieldKeyLastUse,
		FieldKeyLastUseRecent, FieldUserPolicies, FieldUserGroups, FieldUserTags, FieldUserCreated, FieldKeylessUsers},
	FieldPassword:   {FieldPasswordLastUsed},
	FieldMFA:        {FieldMFATypes},
	FieldAccessKeys: {FieldKeyIDs, FieldKeyLastUse, FieldKeyLastUseRecent},
	FieldKeyLastUse: {FieldKeyLastUseRecent},
}

// Covers reports whether not knowing f means not knowing other: f is other, or
// includes it (FieldUsers covers every per-user field, FieldAccount every field).
func (f Field) Covers(other Field) bool {
	return f == other || f == FieldAccount || slices.Contains(includes[f], other)
}

// Gap records something that could not be collected. An AWS error is never turned into
// an empty result: it becomes a Gap, and the data it touched is unknown. Build gaps
// with NewGap, which makes each one say what it leaves unknown.
type Gap struct {
	AccountID string `json:"account_id,omitempty"`
	// Section is where the failure happened (Section* constants).
	Section Section `json:"section"`
	// Subject narrows it (a user name, event names, a policy), when it applies.
	Subject   string `json:"subject,omitempty"`
	Operation string `json:"operation,omitempty"` // e.g. "iam:ListAccessKeys"
	ErrorCode string `json:"error_code,omitempty"`
	Message   string `json:"message"`
	// Unknown is what the failure leaves unknown (never empty). Checks, scores and
	// reports read only this, never Operation.
	Unknown []Field `json:"unknown"`
}

// NewGap records that something in section could not be collected, leaving unknown
// the given fields (at least one).
func NewGap(accountID string, section Section, unknown []Field, message string) Gap {
	return Gap{AccountID: accountID, Section: section, Unknown: slices.Clone(unknown), Message: message}
}

// Leaves reports whether the gap leaves f unknown (one of its Unknown fields covers f).
func (g Gap) Leaves(f Field) bool {
	for _, u := range g.Unknown {
		if u.Covers(f) {
			return true
		}
	}
	return false
}

// UnmarshalJSON reads a Gap. A gap written before the "unknown" field existed (or
// with an empty one) gets its fields from LegacyUnknown, so run files of earlier
// versions mean what they meant when they were written.
func (g *Gap) UnmarshalJSON(b []byte) error {
	type plain Gap
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*g = Gap(p)
	if len(g.Unknown) == 0 {
		g.Unknown = LegacyUnknown(g.Section, g.Subject, g.Operation)
	}
	return nil
}

// Operations that legacy gaps were told apart by. These names are only read here, to
// understand run files written before Gap.Unknown existed.
const (
	legacyAuthDetails  = "iam:GetAccountAuthorizationDetails"
	legacyGetUser      = "iam:GetUser"
	legacyVirtualMFA   = "iam:ListVirtualMFADevices"
	legacyKeyLastUsed  = "iam:GetAccessKeyLastUsed"
	legacyDescribeOrg  = "organizations:DescribeOrganization"
	legacyListAccounts = "organizations:ListAccounts"
	legacyOUsForParent = "organizations:ListOrganizationalUnitsForParent"
)

// LegacyUnknown is the compatibility rule for gaps written before Gap.Unknown existed
// (iamaudit.inventory/v1 files of earlier versions): what such a gap left unknown, from
// its section, subject and operation, as the checks of that version read it. A gap
// without operation and subject described what a credential report lacks by nature
// (key ids, MFA device types, users' policies, groups and tags). New gaps state their
// fields themselves; nothing but decoding calls this.
func LegacyUnknown(section Section, subject, operation string) []Field {
	reportLacks := subject == "" && operation == ""
	switch section {
	case SectionUsers:
		switch {
		case operation == legacyAuthDetails:
			return []Field{FieldUserPolicies, FieldUserGroups, FieldUserTags, FieldGroups, FieldRoles, FieldManagedPolicies}
		case reportLacks:
			return []Field{FieldUserPolicies, FieldUserGroups, FieldUserTags}
		}
		return []Field{FieldUsers}
	case SectionPassword:
		if operation == legacyGetUser {
			return []Field{FieldPasswordLastUsed}
		}
		return []Field{FieldPassword}
	case SectionMFA:
		if operation == legacyVirtualMFA || reportLacks {
			return []Field{FieldMFATypes}
		}
		return []Field{FieldMFA}
	case SectionAccessKeys:
		switch {
		case operation == legacyKeyLastUsed:
			return []Field{FieldKeyLastUse}
		case reportLacks:
			return []Field{FieldKeyIDs}
		}
		return []Field{FieldAccessKeys}
	case SectionOrganization:
		switch operation {
		case legacyDescribeOrg:
			return []Field{FieldOrganization}
		case legacyListAccounts:
			return []Field{FieldAccounts}
		case legacyOUsForParent:
			return []Field{FieldOUNames}
		}
		return []Field{FieldAccount} // an account asked for is not in the Organization
	case SectionAccount:
		return []Field{FieldAccount}
	case SectionRoot:
		return []Field{FieldRoot}
	case SectionPasswordPolicy:
		return []Field{FieldPasswordPolicy}
	case SectionSummary:
		return []Field{FieldAccountSummary}
	case SectionRoles:
		return []Field{FieldRoles}
	case SectionPolicies:
		return []Field{FieldManagedPolicies}
	case SectionServerCertificates:
		return []Field{FieldServerCertificates}
	case SectionCredentialReport:
		return []Field{FieldCredentialReport}
	case SectionEvents:
		return []Field{FieldEvents}
	case SectionRun:
		return []Field{FieldRun}
	}
	return []Field{Field(section)} // a section this version does not know: nothing it reads
}
