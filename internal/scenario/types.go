// Package scenario describes a synthetic AWS Organization for the sandbox: the YAML
// format (see examples/scenario.yaml), its loading with file:line errors, relative
// dates, the generator for large Organizations and the built-in demo Organization.
package scenario

import "time"

// Scenario is a whole synthetic Organization plus the sandbox's realism knobs.
type Scenario struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description,omitempty"`
	// Now fixes the sandbox clock (absolute date). Empty: the real clock. Only the
	// sandbox uses it: clients (iamaudit run, demo) keep their own clock.
	Now          *Date        `yaml:"now,omitempty"`
	Organization Organization `yaml:"organization"`
	Accounts     []Account    `yaml:"accounts"`
	// Generator adds generated accounts (after the listed ones).
	Generator *Generator `yaml:"generator,omitempty"`
	Knobs     Knobs      `yaml:"knobs,omitempty"`
}

// Organization is the Organization itself and the management account's credentials.
type Organization struct {
	ID                  string `yaml:"id"`                    // o-xxxxxxxxxx
	ManagementAccountID string `yaml:"management_account_id"` // must be one of Accounts
	// Partition: aws (default), aws-us-gov, aws-cn.
	Partition string `yaml:"partition,omitempty"`
	// Credentials of the management account's caller (the sandbox's "profile").
	AccessKeyID     string `yaml:"access_key_id"`
	SecretAccessKey string `yaml:"secret_access_key"`
	// CallerName is the IAM user name of that caller in its account.
	CallerName string `yaml:"caller_name,omitempty"`
	// CallerAccountID is the account the caller belongs to: the management account
	// (default) or a delegated administrator. The audit roles trust this account.
	// Added field.
	CallerAccountID string `yaml:"caller_account_id,omitempty"`
	// DelegatedAdministrators are member accounts registered as delegated
	// administrators: Organizations answers their read calls (ListAccounts,
	// ListParents, ListOrganizationalUnitsForParent, ListRoots…) as the management
	// account's; any other member account gets AccessDeniedException, except for
	// DescribeOrganization, which any account of the Organization may call. Added field.
	DelegatedAdministrators []string `yaml:"delegated_administrators,omitempty"`
	// OUs form the tree under the root; accounts name their OU by Name.
	OUs []OU `yaml:"ous,omitempty"`
	// ReadOnlyRoles name the roles (in every account) whose sessions may call only the
	// read actions of deploy/iamaudit-role.yaml (internal/permissions.AuditRead, or the
	// sandbox's Options.RoleActions); anything else is AccessDenied. Nil: DefaultReadOnlyRoles; an empty list: none. Added field.
	ReadOnlyRoles []string `yaml:"read_only_roles,omitempty"`
}

// DefaultReadOnlyRoles are the read-only roles of a scenario that names none.
var DefaultReadOnlyRoles = []string{"IAMAuditRole"}

// OU is an organizational unit.
type OU struct {
	ID     string `yaml:"id,omitempty"` // generated when empty
	Name   string `yaml:"name"`
	Parent string `yaml:"parent,omitempty"` // parent OU name; empty = root
}

// Audit role states of an account.
const (
	RolePresent   = "present"
	RoleMissing   = "missing"   // AssumeRole: AccessDenied (role does not exist)
	RoleUntrusted = "untrusted" // AssumeRole: AccessDenied (trust policy does not allow the caller)
)

// Account is one member (or the management) account.
type Account struct {
	ID    string `yaml:"id"` // 12 digits
	Name  string `yaml:"name"`
	Email string `yaml:"email,omitempty"`
	// State: ACTIVE (default), SUSPENDED, PENDING_CLOSURE, CLOSED.
	State string `yaml:"state,omitempty"`
	OU    string `yaml:"ou,omitempty"` // OU name; empty = root
	// Roles by name that can be assumed from the management account, and their state.
	// A role not listed here and not in Roles is missing. Default: {"IAMAuditRole": present,
	// "OrganizationAccountAccessRole": present} for member accounts, none for the management account.
	AuditRoles map[string]string `yaml:"audit_roles,omitempty"`

	Root               Root                `yaml:"root,omitempty"`
	PasswordPolicy     *PasswordPolicy     `yaml:"password_policy,omitempty"`
	Users              []User              `yaml:"users,omitempty"`
	Groups             []Group             `yaml:"groups,omitempty"`
	Roles              []Role              `yaml:"roles,omitempty"`
	Policies           []Policy            `yaml:"policies,omitempty"`
	ServerCertificates []ServerCertificate `yaml:"server_certificates,omitempty"`
	Events             []Event             `yaml:"events,omitempty"`
	// CredentialReport is a credential report that exists already when the sandbox
	// starts: GenerateCredentialReport reuses it for 4 hours from its generation, as
	// AWS does. Absent: none (the first GenerateCredentialReport starts one). Added field.
	CredentialReport *CredentialReport `yaml:"credential_report,omitempty"`
	// Changes are IAM writes (and uses of credentials) made at their times, applied in
	// time order to the account as the sections above describe it: a credential report
	// generated before a change does not show it. Each write is recorded in CloudTrail
	// as AWS records the call. The changes dated after the sandbox's start (such as
	// "+40d") are its timeline: each is applied when the sandbox clock reaches its
	// time, so an Organization served on a clock that moves forward (`iamaudit demo
	// --months N`) changes between audits. Added field.
	Changes []Change `yaml:"changes,omitempty"`
}

// CredentialReport is an account's existing credential report.
type CredentialReport struct {
	// GeneratedAt is when it was generated (GetCredentialReport's GeneratedTime). It
	// shows the account as it was then: the changes made later are not in it, nor are
	// last-use dates after it. Required.
	GeneratedAt *Date `yaml:"generated_at"`
}

// Change actions: the IAM API calls a Change makes.
const (
	ChangeCreateUser          = "CreateUser"
	ChangeDeleteUser          = "DeleteUser"
	ChangeCreateAccessKey     = "CreateAccessKey"
	ChangeDeleteAccessKey     = "DeleteAccessKey"
	ChangeUpdateAccessKey     = "UpdateAccessKey"
	ChangeCreateLoginProfile  = "CreateLoginProfile"
	ChangeUpdateLoginProfile  = "UpdateLoginProfile"
	ChangeDeleteLoginProfile  = "DeleteLoginProfile"
	ChangeEnableMFADevice     = "EnableMFADevice"
	ChangeDeactivateMFADevice = "DeactivateMFADevice"
	ChangeRemoveUserFromGroup = "RemoveUserFromGroup"
	// ChangeCreateRole creates a role trusting the caller's account, as the StackSet
	// of deploy/iamaudit-role.yaml does: an account whose audit role was missing can
	// be audited from then on.
	ChangeCreateRole = "CreateRole"
	// ChangeConsoleLogin is a console sign-in of the user (not an IAM write): the
	// password's last use, and a ConsoleLogin record in CloudTrail.
	ChangeConsoleLogin = "ConsoleLogin"
	// ChangeUseAccessKey is a call signed with the user's key (not an IAM write): the
	// key's last use (date, service, region), as GetAccessKeyLastUsed and the
	// credential report show it. CloudTrail records no IAM event for it.
	ChangeUseAccessKey = "UseAccessKey"
	// ChangeUseRole is a session of the role (not an IAM write): its last use (date,
	// region), as GetAccountAuthorizationDetails shows it.
	ChangeUseRole = "UseRole"
)

// ChangeActions are the actions a Change may make.
var ChangeActions = []string{ChangeCreateUser, ChangeDeleteUser, ChangeCreateAccessKey, ChangeDeleteAccessKey, ChangeUpdateAccessKey,
	ChangeCreateLoginProfile, ChangeUpdateLoginProfile, ChangeDeleteLoginProfile, ChangeEnableMFADevice, ChangeDeactivateMFADevice,
	ChangeRemoveUserFromGroup, ChangeCreateRole, ChangeConsoleLogin, ChangeUseAccessKey, ChangeUseRole}

// RepeatableActions are the actions a Change may repeat (Every): uses of
// credentials. An IAM write happens once.
var RepeatableActions = []string{ChangeConsoleLogin, ChangeUseAccessKey, ChangeUseRole}

// MinEvery is the shortest interval between the repetitions of a use.
const MinEvery = time.Hour

// MaxRepetitions bounds how many times one change repeats.
const MaxRepetitions = 10000

// Change is one IAM write made at a given time, with its CloudTrail record, or one
// use of a credential (ConsoleLogin, UseAccessKey), possibly repeated.
type Change struct {
	Time   *Date  `yaml:"time"`   // required
	Action string `yaml:"action"` // one of ChangeActions, required
	// User is the IAM user it changes (or who signs in, or whose key is used);
	// required, except for CreateRole and UseRole.
	User string `yaml:"user,omitempty"`
	// By is the IAM user of the account who made the call (CloudTrail's userIdentity).
	// Default "admin" (who need not be listed among the users).
	By string `yaml:"by,omitempty"`
	// KeyID: CreateAccessKey, the new key's id (default derived from account, user
	// and change); DeleteAccessKey and UpdateAccessKey, the key (required).
	KeyID string `yaml:"key_id,omitempty"`
	// Status: UpdateAccessKey, Active or Inactive (required).
	Status string `yaml:"status,omitempty"`
	// MFA: EnableMFADevice, the device (type required; serial generated by type when
	// empty); DeactivateMFADevice, its serial (default: the user's only device).
	MFA *MFADevice `yaml:"mfa,omitempty"`
	// Group: RemoveUserFromGroup, the group (required). Added field.
	Group string `yaml:"group,omitempty"`
	// Role: CreateRole, the role's name with an optional path ("IAMAuditRole",
	// "/security/IAMAuditRole"); UseRole, the role's name (required). Added field.
	Role string `yaml:"role,omitempty"`
	// Service and Region: UseAccessKey, where the key was used (default sts and the
	// partition's home region); UseRole, Region only. Added field.
	Service string `yaml:"service,omitempty"`
	Region  string `yaml:"region,omitempty"`
	// Every repeats a use (ConsoleLogin, UseAccessKey, UseRole) at this interval from Time
	// ("7d"; at least 1h, at most MaxRepetitions times), until Until or until the
	// credential is gone (the user, password or key deleted, the key made inactive):
	// the person stopped using it. Zero: once. Added field.
	Every Period `yaml:"every,omitempty"`
	// Until ends the repetitions (inclusive). Added field.
	Until *Date `yaml:"until,omitempty"`
}

// Root is the account's root user.
type Root struct {
	CreatedAt *Date  `yaml:"created_at,omitempty"`
	MFA       string `yaml:"mfa,omitempty"` // none (default), virtual, hardware, fido
	// MFASerial of the root's device; generated when empty (virtual:
	// arn:<p>:iam::<acct>:mfa/root-account-mfa-device). Added field.
	MFASerial        string `yaml:"mfa_serial,omitempty"`
	PasswordLastUsed *Date  `yaml:"password_last_used,omitempty"`
	// Password false: the root user has no password (member accounts created by
	// Organizations, or whose root credentials were deleted through centralised root
	// access); the credential report's password_last_used is then N/A. Absent: it
	// has one. Added field.
	Password   *bool `yaml:"password,omitempty"`
	AccessKeys []Key `yaml:"access_keys,omitempty"`
}

// HasPassword tells whether the root user has a password (the default).
func (r Root) HasPassword() bool { return r.Password == nil || *r.Password }

// PasswordPolicy is the account password policy. Absent: the account has none.
type PasswordPolicy struct {
	MinimumPasswordLength      int  `yaml:"minimum_password_length"`
	RequireSymbols             bool `yaml:"require_symbols,omitempty"`
	RequireNumbers             bool `yaml:"require_numbers,omitempty"`
	RequireUppercaseCharacters bool `yaml:"require_uppercase_characters,omitempty"`
	RequireLowercaseCharacters bool `yaml:"require_lowercase_characters,omitempty"`
	AllowUsersToChangePassword bool `yaml:"allow_users_to_change_password,omitempty"`
	MaxPasswordAge             int  `yaml:"max_password_age,omitempty"`
	PasswordReusePrevention    int  `yaml:"password_reuse_prevention,omitempty"`
	HardExpiry                 bool `yaml:"hard_expiry,omitempty"`
}

// User is an IAM user.
type User struct {
	Name      string            `yaml:"name"`
	Path      string            `yaml:"path,omitempty"`
	CreatedAt *Date             `yaml:"created_at,omitempty"`
	Tags      map[string]string `yaml:"tags,omitempty"`
	Groups    []string          `yaml:"groups,omitempty"`
	// AttachedPolicies are managed policy ARNs, or names of AWS managed policies
	// ("AdministratorAccess" means arn:<partition>:iam::aws:policy/AdministratorAccess).
	AttachedPolicies []string          `yaml:"attached_policies,omitempty"`
	InlinePolicies   map[string]string `yaml:"inline_policies,omitempty"` // name -> JSON document
	Password         *Password         `yaml:"password,omitempty"`        // console password; absent: none
	MFA              []MFADevice       `yaml:"mfa,omitempty"`
	AccessKeys       []Key             `yaml:"access_keys,omitempty"`
}

// Password is a console password (login profile).
type Password struct {
	CreatedAt *Date `yaml:"created_at,omitempty"`
	LastUsed  *Date `yaml:"last_used,omitempty"` // absent: never used
}

// MFA device kinds.
const (
	MFAVirtual  = "virtual"  // serial arn:<p>:iam::<acct>:mfa/<name>, listed by ListVirtualMFADevices
	MFAHardware = "hardware" // hardware TOTP token, plain serial such as GAHT12345678
	MFAFIDO     = "fido"     // FIDO security key, serial arn:<p>:iam::<acct>:u2f/user/<user>/<id>
)

// MFADevice is an MFA device assigned to a user (or the root).
type MFADevice struct {
	Type      string `yaml:"type"`             // virtual, hardware, fido
	Serial    string `yaml:"serial,omitempty"` // generated when empty
	EnabledAt *Date  `yaml:"enabled_at,omitempty"`
}

// Key is an access key.
type Key struct {
	ID        string `yaml:"id,omitempty"` // generated (AKIA…) when empty
	Secret    string `yaml:"secret,omitempty"`
	Status    string `yaml:"status,omitempty"` // Active (default), Inactive, Expired
	CreatedAt *Date  `yaml:"created_at,omitempty"`
	LastUsed  *Date  `yaml:"last_used,omitempty"` // absent: never used
	Service   string `yaml:"service,omitempty"`   // service of the last use
	Region    string `yaml:"region,omitempty"`    // region of the last use
	// Slot is the credential report slot the key occupies (1: access_key_1_*, 2:
	// access_key_2_*). Default: the free slots, oldest key first. A user whose key 1
	// was deleted has slot: 2 alone. Added field.
	Slot int `yaml:"slot,omitempty"`
	// ReportLastRotatedNA: the credential report shows the key's last_rotated as N/A,
	// as AWS does for some keys that are not active. Only for a key that is not
	// Active. Added field.
	ReportLastRotatedNA bool `yaml:"report_last_rotated_na,omitempty"`
}

// Group is an IAM group.
type Group struct {
	Name             string            `yaml:"name"`
	AttachedPolicies []string          `yaml:"attached_policies,omitempty"`
	InlinePolicies   map[string]string `yaml:"inline_policies,omitempty"`
}

// Role is an IAM role (other than the audit roles, which AuditRoles describes).
type Role struct {
	Name             string            `yaml:"name"`
	Path             string            `yaml:"path,omitempty"` // /aws-service-role/ marks a service-linked role
	CreatedAt        *Date             `yaml:"created_at,omitempty"`
	LastUsed         *Date             `yaml:"last_used,omitempty"`
	LastUsedRegion   string            `yaml:"last_used_region,omitempty"`
	AttachedPolicies []string          `yaml:"attached_policies,omitempty"`
	InlinePolicies   map[string]string `yaml:"inline_policies,omitempty"`
	TrustPolicy      string            `yaml:"trust_policy,omitempty"`
}

// Policy is a customer managed policy.
type Policy struct {
	Name     string `yaml:"name"`
	Document string `yaml:"document"` // JSON
}

// ServerCertificate is an IAM server certificate.
type ServerCertificate struct {
	Name       string `yaml:"name"`
	UploadedAt *Date  `yaml:"uploaded_at,omitempty"`
	Expiration *Date  `yaml:"expiration"`
}

// Event is a CloudTrail event in the account's history.
type Event struct {
	Time      *Date    `yaml:"time"`
	Name      string   `yaml:"name"`                // eventName
	Source    string   `yaml:"source,omitempty"`    // default iam.amazonaws.com (signin.amazonaws.com for ConsoleLogin)
	Username  string   `yaml:"username,omitempty"`  // who performed it; "root" for the root user
	Resources []string `yaml:"resources,omitempty"` // names of affected resources (user names, key ids)
	// Result of a ConsoleLogin: Success (default) or Failure. A failure is recorded as
	// AWS records it: no errorCode, errorMessage "Failed authentication",
	// responseElements.ConsoleLogin "Failure". Added field.
	Result string `yaml:"result,omitempty"`
	// MFAUsed of a ConsoleLogin (additionalEventData.MFAUsed "Yes"; default "No").
	// Added field.
	MFAUsed bool `yaml:"mfa_used,omitempty"`
	// SourceIP is the record's sourceIPAddress (default 127.0.0.1). Added field.
	SourceIP string `yaml:"source_ip,omitempty"`
}

// Sign-in results (Event.Result).
const (
	LoginSuccess = "Success"
	LoginFailure = "Failure"
)

// Generator builds large Organizations reproducibly from a seed.
type Generator struct {
	Seed            int64 `yaml:"seed"`
	Accounts        int   `yaml:"accounts"`
	UsersPerAccount int   `yaml:"users_per_account"`
	// EventsPerAccount CloudTrail events spread over the last 90 days.
	EventsPerAccount int `yaml:"events_per_account,omitempty"`
	// MissingRoleEvery: every Nth generated account lacks the audit role (0: never).
	MissingRoleEvery int `yaml:"missing_role_every,omitempty"`
}

// Knobs are the sandbox's realism settings; command-line flags override them.
type Knobs struct {
	// Latency per service ("iam", "sts", "organizations", "cloudtrail", or "*").
	Latency map[string]Latency `yaml:"latency,omitempty"`
	// RateLimits per account and API family, requests per second (token bucket, burst = rate).
	// Families: "iam", "cloudtrail" (LookupEvents), "organizations" (per Organization), "sts".
	// Defaults: iam 20, cloudtrail 2, organizations 5; 0 disables a limit; absent uses the default.
	RateLimits map[string]float64 `yaml:"rate_limits,omitempty"`
	// PageCap caps every list operation's page size (0: no cap beyond AWS's own maxima).
	PageCap int `yaml:"page_cap,omitempty"`
	// ReportGeneration is how long GenerateCredentialReport takes (default 2s).
	ReportGeneration Duration `yaml:"report_generation,omitempty"`
	// SessionDuration, when set, is how long every AssumeRole session lasts at most,
	// whatever DurationSeconds the caller asks (the SDK asks 900 s, AWS's minimum;
	// shorter values let a session expire in the middle of a run). Not set: what the
	// caller asks, else 1h.
	SessionDuration Duration `yaml:"session_duration,omitempty"`
	// CloudTrailDelay is how long after its time an event appears in LookupEvents
	// (CloudTrail delivers events minutes late; default 0: at once). Added field.
	CloudTrailDelay Duration `yaml:"cloudtrail_delay,omitempty"`
	Faults          []Fault  `yaml:"faults,omitempty"`
}

// Latency is a mean and a jitter.
type Latency struct {
	Mean   Duration `yaml:"mean"`
	Jitter Duration `yaml:"jitter,omitempty"`
}

// Fault injects an error (or a slow response or a dropped connection) for matching requests.
type Fault struct {
	Account   string `yaml:"account,omitempty"`   // account id; empty: any
	Service   string `yaml:"service,omitempty"`   // iam, sts, organizations, cloudtrail; empty: any
	Operation string `yaml:"operation,omitempty"` // e.g. ListAccessKeys; empty: any
	// Error is an AWS error code (AccessDenied, Throttling, ServiceUnavailable, InternalFailure…),
	// or "drop" (close the connection), "slow" (add Delay) or FaultRepeatToken.
	Error string `yaml:"error"`
	// Rate is the probability that a matching request faults, in (0, 1]; 0 (not given)
	// means 1. A rate written as 0 is refused (it would never fire).
	Rate  float64  `yaml:"rate,omitempty"`
	Delay Duration `yaml:"delay,omitempty"`
	// Count stops the fault after it fired this many times (0: unlimited).
	Count int `yaml:"count,omitempty"`
}

// FaultRepeatToken is the Fault.Error that makes a paginated list operation answer a
// request for a later page with the very pagination token it was sent (Marker,
// NextToken), as a misbehaving endpoint might: a client that stops on a repeated
// token silently ends the listing short. The first page and the last one are served
// as usual, and only requests that carry a token count towards Count.
const FaultRepeatToken = "repeat_token"

// Duration is a time.Duration written as "250ms", "2s", "1h".
type Duration struct{ time.Duration }

// Period is an interval written with days: "7d", "12h", "1d12h".
type Period struct{ time.Duration }

// Date is an absolute time ("2018-06-15", "2018-06-15 10:20:30", RFC 3339) or a time
// relative to the sandbox clock ("-400d", "-3h", "-90d12h", "now").
type Date struct {
	Abs time.Time     // set when absolute
	Rel time.Duration // offset from now when relative
	// IsRel tells which of the two is set.
	IsRel bool
}

// Resolve returns the absolute time, relative dates counted from now, in UTC and
// truncated to the second (AWS reports seconds).
func (d Date) Resolve(now time.Time) time.Time {
	if d.IsRel {
		return now.Add(d.Rel).UTC().Truncate(time.Second)
	}
	return d.Abs.UTC().Truncate(time.Second)
}
