// Package fix holds the remediation of findings as typed actions: which AWS operation,
// on which resource, with which parameters, in which partition and region, and the
// steps no API can do (the root user's console). Plan (plan.go) is the one place that
// decides the actions of a finding; it is pure. Rendering them as AWS CLI text is
// package fix/awscli's job, and an executor built on the AWS SDK can run an Action as
// it is, without parsing any text (docs/checks.md, "Remediation").
package fix

// Kind says what an action is for.
type Kind string

const (
	// Change is an API call that changes the account: an executor asks before it.
	Change Kind = "change"
	// Check is a read-only API call, run before a change to see what it touches or after
	// it to confirm it (list-mfa-devices, lookup-events).
	Check Kind = "check"
	// Manual is a step no API can do (root MFA and root access keys are console-only):
	// Note says what to do.
	Manual Kind = "manual"
)

// API is an AWS operation: the service's SDK/CLI name and the API name, e.g.
// {iam UpdateAccessKey}.
type API struct {
	Service string `json:"service"`
	Name    string `json:"name"`
}

// The operations the plans use.
var (
	STSAssumeRole                        = API{"sts", "AssumeRole"}
	CloudFormationDescribeStackInstances = API{"cloudformation", "DescribeStackInstances"}
	CloudTrailLookupEvents               = API{"cloudtrail", "LookupEvents"}
	IAMGetAccountSummary                 = API{"iam", "GetAccountSummary"}
	IAMPutUserPolicy                     = API{"iam", "PutUserPolicy"}
	IAMDeleteUserPolicy                  = API{"iam", "DeleteUserPolicy"}
	IAMListMFADevices                    = API{"iam", "ListMFADevices"}
	IAMCreateAccessKey                   = API{"iam", "CreateAccessKey"}
	IAMUpdateAccessKey                   = API{"iam", "UpdateAccessKey"}
	IAMDeleteAccessKey                   = API{"iam", "DeleteAccessKey"}
	IAMListAccessKeys                    = API{"iam", "ListAccessKeys"}
	IAMDeleteLoginProfile                = API{"iam", "DeleteLoginProfile"}
	IAMListAttachedUserPolicies          = API{"iam", "ListAttachedUserPolicies"}
	IAMListUserPolicies                  = API{"iam", "ListUserPolicies"}
	IAMListGroupsForUser                 = API{"iam", "ListGroupsForUser"}
	IAMRemoveUserFromGroup               = API{"iam", "RemoveUserFromGroup"}
	IAMAddUserToGroup                    = API{"iam", "AddUserToGroup"}
	IAMDetachUserPolicy                  = API{"iam", "DetachUserPolicy"}
	IAMDeleteUser                        = API{"iam", "DeleteUser"}
	IAMListUserTags                      = API{"iam", "ListUserTags"}
	IAMTagUser                           = API{"iam", "TagUser"}
	IAMGetRole                           = API{"iam", "GetRole"}
	IAMListAttachedRolePolicies          = API{"iam", "ListAttachedRolePolicies"}
	IAMListRolePolicies                  = API{"iam", "ListRolePolicies"}
	IAMDeleteRole                        = API{"iam", "DeleteRole"}
	IAMCreateRole                        = API{"iam", "CreateRole"}
	IAMAttachRolePolicy                  = API{"iam", "AttachRolePolicy"}
	IAMDetachRolePolicy                  = API{"iam", "DetachRolePolicy"}
	IAMDetachGroupPolicy                 = API{"iam", "DetachGroupPolicy"}
	IAMUpdateAccountPasswordPolicy       = API{"iam", "UpdateAccountPasswordPolicy"}
	IAMDeleteServerCertificate           = API{"iam", "DeleteServerCertificate"}

	// The rest of seed 004 workflow 4's chain, its rollback and the reads the
	// remediation executor (internal/remediate) makes before and after a change.
	IAMDeactivateMFADevice             = API{"iam", "DeactivateMFADevice"}
	IAMDeleteVirtualMFADevice          = API{"iam", "DeleteVirtualMFADevice"}
	IAMDeleteSigningCertificate        = API{"iam", "DeleteSigningCertificate"}
	IAMDeleteSSHPublicKey              = API{"iam", "DeleteSSHPublicKey"}
	IAMDeleteServiceSpecificCredential = API{"iam", "DeleteServiceSpecificCredential"}
	IAMDeleteUserPermissionsBoundary   = API{"iam", "DeleteUserPermissionsBoundary"}
	IAMPutUserPermissionsBoundary      = API{"iam", "PutUserPermissionsBoundary"}
	IAMCreateUser                      = API{"iam", "CreateUser"}
	IAMAttachUserPolicy                = API{"iam", "AttachUserPolicy"}
	IAMGetUser                         = API{"iam", "GetUser"}
	IAMGetUserPolicy                   = API{"iam", "GetUserPolicy"}
	IAMGetLoginProfile                 = API{"iam", "GetLoginProfile"}
	IAMGetAccessKeyLastUsed            = API{"iam", "GetAccessKeyLastUsed"}
	IAMListSigningCertificates         = API{"iam", "ListSigningCertificates"}
	IAMListSSHPublicKeys               = API{"iam", "ListSSHPublicKeys"}
	IAMListServiceSpecificCredentials  = API{"iam", "ListServiceSpecificCredentials"}
	IAMListAccountAliases              = API{"iam", "ListAccountAliases"}
	STSGetCallerIdentity               = API{"sts", "GetCallerIdentity"}
	STSGetAccessKeyInfo                = API{"sts", "GetAccessKeyInfo"}
)

// Credentials says whose credentials an action runs with.
type Credentials string

const (
	// InAccount: credentials in the audited account (the seed's ACCOUNT_PROFILE).
	InAccount Credentials = "account"
	// InManagement: credentials in the Organization's management account (the seed's
	// MANAGEMENT_PROFILE), which deploys the audit role's StackSet.
	InManagement Credentials = "management"
)

// Action is one step of a finding's remediation.
type Action struct {
	Kind Kind `json:"kind"`
	// API is the operation; zero for a Manual step.
	API API `json:"api,omitzero"`
	// Partition (aws, aws-us-gov, aws-cn) and Region (the partition's home region, where
	// IAM, STS, the sign-in events of CloudTrail and the StackSets are) of the call.
	Partition string `json:"partition"`
	Region    string `json:"region"`
	// RegionPinned is true when the answer exists only in Region (sign-in events are
	// recorded in the home region only, docs/aws-facts.md): the CLI text names the
	// region instead of leaving it to the profile.
	RegionPinned bool        `json:"region_pinned,omitempty"`
	Credentials  Credentials `json:"credentials"`
	Resource     Resource    `json:"resource"`
	Params       Params      `json:"params,omitzero"`
	// Unknown lists the inputs the plan cannot know (which of two keys is the old one,
	// which group should grant the permissions): the field is left empty, an executor
	// must ask for it, and the CLI text shows the placeholder given here (OLD_KEY_ID).
	Unknown map[Field]string `json:"unknown,omitempty"`
	// Note is guidance for the step: when to run it ("after 48 hours without issues"),
	// and for a Manual step, what to do.
	Note string `json:"note,omitempty"`
}

// Resource is what an action acts on: an account, and in it a user, an access key, a
// role, a group, a server certificate or the root user.
type Resource struct {
	AccountID   string `json:"account_id"`
	Root        bool   `json:"root,omitempty"`
	UserName    string `json:"user_name,omitempty"`
	AccessKeyID string `json:"access_key_id,omitempty"`
	RoleName    string `json:"role_name,omitempty"`
	GroupName   string `json:"group_name,omitempty"`
	// ServerCertificateName names an IAM server certificate.
	ServerCertificateName string `json:"server_certificate_name,omitempty"`
	// A user's other credentials (seed 004 workflow 4): an MFA device's serial number
	// (its ARN for a virtual device), a signing certificate's id, an SSH public key's id
	// and a service-specific credential's id.
	MFASerial                   string `json:"mfa_serial,omitempty"`
	SigningCertificateID        string `json:"signing_certificate_id,omitempty"`
	SSHPublicKeyID              string `json:"ssh_public_key_id,omitempty"`
	ServiceSpecificCredentialID string `json:"service_specific_credential_id,omitempty"`
}

// Params are an operation's inputs besides the resource. Only the fields the API takes
// are set.
type Params struct {
	// Status is UpdateAccessKey's new status: Inactive (or Active to roll back).
	Status string `json:"status,omitempty"`
	// GroupName is the group of AddUserToGroup and RemoveUserFromGroup.
	GroupName  string `json:"group_name,omitempty"`
	PolicyName string `json:"policy_name,omitempty"`
	PolicyARN  string `json:"policy_arn,omitempty"`
	// Document is PutUserPolicy's policy document or CreateRole's trust policy.
	Document *Document `json:"document,omitempty"`
	// Tag is TagUser's tag.
	Tag *Tag `json:"tag,omitempty"`
	// LookupAttribute is LookupEvents' filter (one attribute per request).
	LookupAttribute *LookupAttribute `json:"lookup_attribute,omitempty"`
	// Query is the part of a read-only call's response that answers the check, as a
	// JMESPath over the API's response (the CLI's --query): SummaryMap.AccountMFAEnabled.
	Query string `json:"query,omitempty"`
	// RoleSessionName is AssumeRole's session name.
	RoleSessionName string `json:"role_session_name,omitempty"`
	// StackSetName and StackInstanceRegion are DescribeStackInstances' inputs (the
	// stack instance account is the resource's account).
	StackSetName        string `json:"stack_set_name,omitempty"`
	StackInstanceRegion string `json:"stack_instance_region,omitempty"`
	// PasswordPolicy is UpdateAccountPasswordPolicy's input.
	PasswordPolicy *PasswordPolicy `json:"password_policy,omitempty"`
	// Path, Tags and PermissionsBoundary are CreateUser's inputs (a deleted user
	// recreated by a rollback); PermissionsBoundary is PutUserPermissionsBoundary's.
	Path                string `json:"path,omitempty"`
	Tags                []Tag  `json:"tags,omitempty"`
	PermissionsBoundary string `json:"permissions_boundary,omitempty"`
}

// Field names an input of an Action, as its JSON path: Action.Unknown's keys.
type Field string

// The fields a plan may leave to the operator.
const (
	FieldRoleName    Field = "resource.role_name"
	FieldAccessKeyID Field = "resource.access_key_id"
	FieldGroupName   Field = "params.group_name"
	FieldPolicyName  Field = "params.policy_name"
	FieldPolicyARN   Field = "params.policy_arn"
	FieldTagValue    Field = "params.tag.value"
	FieldLookupValue Field = "params.lookup_attribute.value"
)

// Tag is an IAM tag.
type Tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// LookupAttribute is a CloudTrail LookupEvents attribute: EventName, AccessKeyId, ….
type LookupAttribute struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// PasswordPolicy is the account password policy to set.
type PasswordPolicy struct {
	MinimumPasswordLength      int  `json:"minimum_password_length"`
	PasswordReusePrevention    int  `json:"password_reuse_prevention"`
	RequireSymbols             bool `json:"require_symbols"`
	RequireNumbers             bool `json:"require_numbers"`
	RequireUppercaseCharacters bool `json:"require_uppercase_characters"`
	RequireLowercaseCharacters bool `json:"require_lowercase_characters"`
	AllowUsersToChangePassword bool `json:"allow_users_to_change_password"`
}
