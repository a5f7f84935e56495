// Package inventory holds what an audit collected: the Organization's accounts and,
// per account, its IAM users, keys, MFA devices, root user, policies, roles and
// CloudTrail events, plus every gap (what could not be collected, and why).
//
// It is the contract between collection (internal/collect), the checks
// (internal/checks) and the reports (internal/report). It is serialised as the
// run's JSON file; SchemaVersion changes whenever a field changes meaning or goes away
// (adding a field does not change it). See docs/inventory-schema.md.
package inventory

import "time"

// Schema identifies the JSON document. Bump the suffix on breaking changes.
const Schema = "iamaudit.inventory/v1"

// Account audit status values.
const (
	StatusAudited    = "audited"     // everything was collected
	StatusPartial    = "partial"     // audited, but some sections have gaps (see Gaps)
	StatusNotAudited = "not_audited" // an ACTIVE account where nothing could be collected (see Reason)
	StatusSkipped    = "skipped"     // not ACTIVE (SUSPENDED, PENDING_CLOSURE, CLOSED): only ACTIVE accounts are audited
	// StatusNotReached: an ACTIVE account the run never started on because it was
	// interrupted (Ctrl-C, SIGTERM) first. Nothing is known about it; it is not a
	// finding (the account may well be auditable) and the run is incomplete.
	StatusNotReached = "not_reached"
)

// RunIDLayout is the time layout of a run id (the run's start, UTC): it names every
// output file of the run and sorts by time.
const RunIDLayout = "20060102_150405"

// RunID is the run id of a run that started at start: YYYYMMDD_HHMMSS in UTC. Two
// runs started in the same second get suffixes (_2, _3…) when their files are written.
func RunID(start time.Time) string { return start.UTC().Format(RunIDLayout) }

// MFA device types, as the seed's mfa_status column spells them.
const (
	MFAVirtual  = "Virtual"
	MFAHardware = "Hardware"
	MFANone     = "None"
)

// Inventory is the whole result of one run.
type Inventory struct {
	Schema     string    `json:"schema"`
	Tool       string    `json:"tool"`    // "iamaudit"
	Version    string    `json:"version"` // tool version
	RunID      string    `json:"run_id"`  // start time, YYYYMMDD_HHMMSS UTC; also in the CSV file names
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`
	Partition  string    `json:"partition"` // aws, aws-us-gov, aws-cn
	Region     string    `json:"region"`    // region of the IAM/CloudTrail calls (us-east-1 in the aws partition)
	// EventWindow is the CloudTrail LookupEvents window (the last --days days).
	EventWindowStart time.Time `json:"event_window_start"`
	EventWindowEnd   time.Time `json:"event_window_end"`
	// AuditRole is the role name the run assumed in each account (--role).
	AuditRole string `json:"audit_role,omitempty"`
	// EventNames are the CloudTrail event names that were looked up.
	EventNames []string `json:"event_names"`

	Organization *Organization `json:"organization,omitempty"`
	// Caller is who ran the audit (sts:GetCallerIdentity).
	Caller *Caller `json:"caller,omitempty"`

	Accounts []Account `json:"accounts"`
	// Gaps that belong to no single account (e.g. Organizations enumeration failed part way).
	Gaps []Gap `json:"gaps"`
}

// Organization describes the AWS Organization.
type Organization struct {
	ID                  string `json:"id"`
	ARN                 string `json:"arn,omitempty"`
	ManagementAccountID string `json:"management_account_id"`
}

// Caller is the identity that ran the audit.
type Caller struct {
	AccountID string `json:"account_id"`
	ARN       string `json:"arn"`
}

// Account is one AWS account of the Organization and what was collected in it.
type Account struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email,omitempty"`
	// State is the Organizations account State (ACTIVE, SUSPENDED, PENDING_CLOSURE, CLOSED).
	State string `json:"state"`
	// OUPath is the account's place in the Organization, e.g. "Root/Workloads/Prod".
	OUPath       string `json:"ou_path,omitempty"`
	IsManagement bool   `json:"is_management"`

	// Status is StatusAudited, StatusPartial, StatusNotAudited, StatusSkipped or StatusNotReached.
	Status string `json:"status"`
	// Reason says why the account was not audited (StatusNotAudited), with what to do next.
	Reason string `json:"reason,omitempty"`
	// AuditedAs is the principal ARN whose credentials collected this account
	// (the assumed role, or the caller for the management account).
	AuditedAs   string    `json:"audited_as,omitempty"`
	CollectedAt time.Time `json:"collected_at"`

	CredentialReport *CredentialReport `json:"credential_report,omitempty"`
	Root             *Root             `json:"root,omitempty"`
	// PasswordPolicy is nil when the account has none (NoSuchEntity) or when it could
	// not be read; PasswordPolicyKnown tells the two apart.
	PasswordPolicy      *PasswordPolicy  `json:"password_policy,omitempty"`
	PasswordPolicyKnown bool             `json:"password_policy_known"`
	Summary             map[string]int32 `json:"summary,omitempty"` // GetAccountSummary SummaryMap

	Users              []User              `json:"users"`
	Groups             []Group             `json:"groups"`
	Roles              []Role              `json:"roles"`
	Policies           []ManagedPolicy     `json:"policies"` // customer managed policies, with their default version document
	ServerCertificates []ServerCertificate `json:"server_certificates"`
	Events             []Event             `json:"events"`

	// Gaps lists every part of this account that could not be collected.
	Gaps []Gap `json:"gaps"`
	// APICalls counts the AWS API calls made for this account, per operation ("iam:ListAccessKeys").
	APICalls map[string]int `json:"api_calls,omitempty"`
	// Omitted, in a streamed run's summary (Summarised), counts what was written to
	// the outputs and the store and then dropped from memory; nil: nothing omitted.
	Omitted *Omitted `json:"-"`
}

// Omitted counts the parts of an account a streamed run wrote and then dropped.
type Omitted struct {
	Users, Groups, Roles, Policies, ServerCertificates, Events int
}

// Summarised is the account without its users, groups, roles, policies, server
// certificates and events (counted in Omitted): what a streamed run keeps of an
// account once its part is written (docs/streaming.md).
func (a Account) Summarised() Account {
	om := &Omitted{Users: len(a.Users), Groups: len(a.Groups), Roles: len(a.Roles), Policies: len(a.Policies),
		ServerCertificates: len(a.ServerCertificates), Events: len(a.Events)}
	if a.Omitted != nil {
		om = a.Omitted
	}
	a.Users, a.Groups, a.Roles, a.Policies, a.ServerCertificates, a.Events = nil, nil, nil, nil, nil, nil
	a.Omitted = om
	return a
}

// CredentialReport describes the IAM credential report the account's data came from.
type CredentialReport struct {
	GeneratedAt time.Time `json:"generated_at"`
	// Reused is true when an existing report (under 4 hours old) was used instead of a new one.
	Reused bool `json:"reused"`
	// AgeSeconds is the report's age when the audit read it; last-use data may be that stale.
	AgeSeconds int64 `json:"age_seconds"`
	// FreshKeyData is true when key last-use came from GetAccessKeyLastUsed per key
	// (--fresh-key-usage) rather than from the report.
	FreshKeyData bool `json:"fresh_key_data"`

	// Check says how the report's rows were checked against what changed after
	// GeneratedAt (docs/checks.md "Credential report staleness"): ReportGenerated,
	// ReportCheckedCloudTrail or ReportReread. Empty in inventories built from a
	// report alone (analyze).
	Check string `json:"check,omitempty"`
	// ChangesSince and CloudTrailCompleteUntil bound the CloudTrail events that named
	// the users to re-read (ReportCheckedCloudTrail): from 15 minutes before the report
	// (its generation and clock skew) to the audit; CloudTrail is complete up to
	// CloudTrailCompleteUntil (15 minutes before the lookup: its delivery delay), and
	// the events it had delivered after that were used too.
	ChangesSince            *time.Time `json:"changes_since,omitempty"`
	CloudTrailCompleteUntil *time.Time `json:"cloudtrail_complete_until,omitempty"`
	// RereadSections are re-read for every user (password, access_keys, mfa), and
	// RereadReason says why: the report is too recent for CloudTrail to vouch for it,
	// or a lookup it needs failed.
	RereadSections []string `json:"reread_sections,omitempty"`
	RereadReason   string   `json:"reread_reason,omitempty"`
	// RereadUsers are the users re-read because a CloudTrail event names them.
	RereadUsers []RereadUser `json:"reread_users,omitempty"`
	// UnknownUsers are users whose re-read failed: what the report said of them is not
	// used, and their gaps say what is unknown.
	UnknownUsers []string `json:"unknown_users,omitempty"`
}

// CredentialReport.Check values.
const (
	// ReportGenerated: the report was generated for this audit (not reused): its rows
	// are current as of GeneratedAt.
	ReportGenerated = "generated"
	// ReportCheckedCloudTrail: a reused report; CloudTrail named the users changed
	// since it was generated, and they were re-read (RereadUsers).
	ReportCheckedCloudTrail = "cloudtrail"
	// ReportReread: a reused report that CloudTrail cannot vouch for (generated less
	// than 15 minutes before the audit, or older than the event window): every
	// user's RereadSections were re-read.
	ReportReread = "reread"
)

// RereadUser is a user whose credential report row was not used as it was, because
// CloudTrail shows a change after the report.
type RereadUser struct {
	User string `json:"user"`
	// Sections re-read: users (the user itself was created or deleted since: the row
	// is not used at all), password, access_keys, mfa.
	Sections []string `json:"sections"`
	// Events are the CloudTrail events that named the user ("CreateAccessKey at
	// 2026-03-01T10:00:00Z").
	Events []string `json:"events"`
}

// Root credential states (Root.Credentials).
const (
	// RootCredentialsPresent: the root user has a password, an access key, a signing
	// certificate or an MFA device.
	RootCredentialsPresent = "present"
	// RootCredentialsNone: no password, no access key, no signing certificate and no
	// MFA device (member accounts created by Organizations, or whose root credentials
	// were deleted through centralised root access). MFA is then "neither possible
	// nor necessary" (CIS AWS Foundations v5.0 1.4): root_mfa_disabled does not fire.
	RootCredentialsNone = "none"
	// RootCredentialsUnknown: whether the root user has a password cannot be told
	// (no credential report: GetAccountSummary says nothing of the root password).
	RootCredentialsUnknown = "unknown"
)

// Root is the account's root user.
type Root struct {
	ARN string `json:"arn"`
	// Credentials is RootCredentialsPresent, RootCredentialsNone or
	// RootCredentialsUnknown (docs/inventory-schema.md).
	Credentials string `json:"credentials"`
	// MFAActive: whether the root user has MFA (credential report mfa_active, AccountMFAEnabled).
	MFAActive bool `json:"mfa_active"`
	// MFAType is MFAVirtual, MFAHardware, MFANone, or "" when unknown.
	MFAType          string     `json:"mfa_type"`
	PasswordLastUsed *time.Time `json:"password_last_used,omitempty"`
	CreatedAt        *time.Time `json:"created_at,omitempty"`
	// AccessKeys are the root's keys, from the credential report (no ids are available).
	AccessKeys []RootKey `json:"access_keys"`
}

// RootKey is one root access key slot of the credential report.
type RootKey struct {
	Slot            int        `json:"slot"` // 1 or 2
	Active          bool       `json:"active"`
	LastRotated     *time.Time `json:"last_rotated,omitempty"`
	LastUsedAt      *time.Time `json:"last_used_at,omitempty"`
	LastUsedService string     `json:"last_used_service,omitempty"`
	LastUsedRegion  string     `json:"last_used_region,omitempty"`
}

// PasswordPolicy is the account password policy (GetAccountPasswordPolicy).
type PasswordPolicy struct {
	MinimumPasswordLength      int  `json:"minimum_password_length"`
	RequireSymbols             bool `json:"require_symbols"`
	RequireNumbers             bool `json:"require_numbers"`
	RequireUppercaseCharacters bool `json:"require_uppercase_characters"`
	RequireLowercaseCharacters bool `json:"require_lowercase_characters"`
	AllowUsersToChangePassword bool `json:"allow_users_to_change_password"`
	ExpirePasswords            bool `json:"expire_passwords"`
	MaxPasswordAge             int  `json:"max_password_age,omitempty"`
	PasswordReusePrevention    int  `json:"password_reuse_prevention,omitempty"`
	HardExpiry                 bool `json:"hard_expiry"`
}

// User is an IAM user.
type User struct {
	Name      string    `json:"name"`
	ARN       string    `json:"arn"`
	UserID    string    `json:"user_id,omitempty"`
	Path      string    `json:"path,omitempty"`
	CreatedAt time.Time `json:"created_at"`

	// PasswordEnabled: the user has a console password (login profile).
	PasswordEnabled     bool       `json:"password_enabled"`
	PasswordLastUsed    *time.Time `json:"password_last_used,omitempty"`
	PasswordLastChanged *time.Time `json:"password_last_changed,omitempty"`

	// MFAActive: the user has at least one MFA device (credential report mfa_active,
	// or a device listed). Set by every producer; when MFADevices is empty because
	// the device types could not be learned (report-only inventory), MFAActive still
	// tells whether MFA is on.
	MFAActive  bool        `json:"mfa_active"`
	MFADevices []MFADevice `json:"mfa_devices"`
	AccessKeys []AccessKey `json:"access_keys"`

	Tags                map[string]string `json:"tags,omitempty"`
	Groups              []string          `json:"groups"`
	AttachedPolicies    []AttachedPolicy  `json:"attached_policies"`
	InlinePolicies      []InlinePolicy    `json:"inline_policies"`
	PermissionsBoundary string            `json:"permissions_boundary,omitempty"`
}

// MFAType is the user's MFA type for the seed's mfa_status column: Virtual when any
// device is virtual, else Hardware when any device exists, else None.
func (u User) MFAType() string {
	t := MFANone
	for _, d := range u.MFADevices {
		if d.Type == MFAVirtual {
			return MFAVirtual
		}
		t = MFAHardware
	}
	return t
}

// MFADevice is one MFA device assigned to a user.
type MFADevice struct {
	Serial    string     `json:"serial"`
	Type      string     `json:"type"` // MFAVirtual or MFAHardware
	EnabledAt *time.Time `json:"enabled_at,omitempty"`
}

// Access key statuses, as IAM's statusType spells them. Only Active keys sign
// requests; Inactive and Expired keys exist but do not (docs/checks.md).
const (
	KeyActive   = "Active"
	KeyInactive = "Inactive"
	KeyExpired  = "Expired"
)

// AccessKey is one access key of a user.
type AccessKey struct {
	ID     string `json:"id"`
	Status string `json:"status"` // KeyActive, KeyInactive, KeyExpired
	// Slot is the key's credential report slot (1 for access_key_1_*, 2 for
	// access_key_2_*); 0 when the report does not show the key (created after it, or
	// no report). Findings name a key without id by its slot.
	Slot      int       `json:"slot,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	// LastUsedAt is nil when the key was never used.
	LastUsedAt      *time.Time `json:"last_used_at,omitempty"`
	LastUsedService string     `json:"last_used_service,omitempty"`
	LastUsedRegion  string     `json:"last_used_region,omitempty"`
	// LastUsedSource says where the last-use data came from:
	// "credential_report" (may be up to 4 h stale) or "GetAccessKeyLastUsed".
	LastUsedSource string `json:"last_used_source,omitempty"`
}

// AttachedPolicy is a managed policy attached to a user, group or role.
type AttachedPolicy struct {
	Name string `json:"name"`
	ARN  string `json:"arn"`
}

// InlinePolicy is an inline policy and its (URL-decoded) JSON document.
type InlinePolicy struct {
	Name     string `json:"name"`
	Document string `json:"document,omitempty"`
}

// Group is an IAM group.
type Group struct {
	Name             string           `json:"name"`
	ARN              string           `json:"arn"`
	AttachedPolicies []AttachedPolicy `json:"attached_policies"`
	InlinePolicies   []InlinePolicy   `json:"inline_policies"`
}

// Role is an IAM role.
type Role struct {
	Name      string    `json:"name"`
	ARN       string    `json:"arn"`
	Path      string    `json:"path,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	// ServiceLinked: path /aws-service-role/.
	ServiceLinked bool `json:"service_linked"`
	// LastUsedAt is nil when the role was never used (or not in the tracking period).
	LastUsedAt       *time.Time       `json:"last_used_at,omitempty"`
	LastUsedRegion   string           `json:"last_used_region,omitempty"`
	AttachedPolicies []AttachedPolicy `json:"attached_policies"`
	InlinePolicies   []InlinePolicy   `json:"inline_policies"`
	TrustPolicy      string           `json:"trust_policy,omitempty"`
}

// ManagedPolicy is a customer managed policy and its default version's document.
type ManagedPolicy struct {
	Name            string `json:"name"`
	ARN             string `json:"arn"`
	AttachmentCount int    `json:"attachment_count"`
	Document        string `json:"document,omitempty"`
}

// ServerCertificate is an IAM server certificate.
type ServerCertificate struct {
	Name       string    `json:"name"`
	ARN        string    `json:"arn"`
	UploadedAt time.Time `json:"uploaded_at"`
	Expiration time.Time `json:"expiration"`
}

// Event is one CloudTrail management event.
type Event struct {
	ID        string    `json:"id"`
	Time      time.Time `json:"time"`
	Name      string    `json:"name"`
	Source    string    `json:"source,omitempty"` // iam.amazonaws.com, signin.amazonaws.com
	Username  string    `json:"username,omitempty"`
	AccessKey string    `json:"access_key_id,omitempty"` // key that made the call
	// Resources affected by the event (LookupEvents Resources).
	Resources []EventResource `json:"resources"`
	// RequestParameters are the event's request parameters (from CloudTrailEvent), when present.
	RequestParameters map[string]any `json:"request_parameters,omitempty"`
	ErrorCode         string         `json:"error_code,omitempty"`
	// ErrorMessage is the record's errorMessage: a failed sign-in has "Failed
	// authentication" here and no ErrorCode.
	ErrorMessage string `json:"error_message,omitempty"`
	// EventType is the record's eventType: AwsApiCall, AwsConsoleSignIn, …
	EventType string `json:"event_type,omitempty"`
	// UserType is userIdentity.type: Root, IAMUser, AssumedRole, …
	UserType string `json:"user_type,omitempty"`
	// SourceIP is the record's sourceIPAddress.
	SourceIP string `json:"source_ip,omitempty"`
	// LoginResult is responseElements.ConsoleLogin of a ConsoleLogin record:
	// LoginSuccess or LoginFailure ("" when the record has none).
	LoginResult string `json:"login_result,omitempty"`
	// MFAUsed is additionalEventData.MFAUsed of a sign-in record: "Yes" or "No".
	MFAUsed string `json:"mfa_used,omitempty"`
}

// ConsoleLogin results (responseElements.ConsoleLogin).
const (
	LoginSuccess = "Success"
	LoginFailure = "Failure"
)

// EventResource is one resource named by a CloudTrail event.
type EventResource struct {
	Type string `json:"type,omitempty"` // AWS::IAM::User, AWS::IAM::AccessKey
	Name string `json:"name"`
}

// FullyAudited tells whether everything about the account was collected: it was
// audited and no section has a gap. Only such an account can show that a finding
// was resolved, or count as complete.
func (a Account) FullyAudited() bool { return a.Status == StatusAudited && len(a.Gaps) == 0 }

// NotReached lists the ACTIVE accounts the run was interrupted before reaching.
func (inv *Inventory) NotReached() []Account {
	var out []Account
	for _, a := range inv.Accounts {
		if a.Status == StatusNotReached {
			out = append(out, a)
		}
	}
	return out
}

// NotAudited lists the ACTIVE accounts that could not be audited at all.
func (inv *Inventory) NotAudited() []Account {
	var out []Account
	for _, a := range inv.Accounts {
		if a.Status == StatusNotAudited {
			out = append(out, a)
		}
	}
	return out
}

// Skipped lists the accounts not audited because they are not ACTIVE.
func (inv *Inventory) Skipped() []Account {
	var out []Account
	for _, a := range inv.Accounts {
		if a.Status == StatusSkipped {
			out = append(out, a)
		}
	}
	return out
}

// Complete reports whether every ACTIVE account was fully audited and nothing is missing.
func (inv *Inventory) Complete() bool {
	if len(inv.Gaps) > 0 {
		return false
	}
	for _, a := range inv.Accounts {
		if a.Status == StatusSkipped {
			continue
		}
		if !a.FullyAudited() {
			return false
		}
	}
	return true
}
