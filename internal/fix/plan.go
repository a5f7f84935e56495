package fix

import "encoding/json"

// Recipe names how a kind of finding is fixed; each check of docs/checks.md names one
// (checks.Check.Fix), and Plan turns it into actions for one finding.
type Recipe string

// The recipes, after seed 004's workflows and the CIS benchmark's remediations.
const (
	DeployAuditRole        Recipe = "deploy_audit_role"         // account_not_audited
	SecureRootMFA          Recipe = "secure_root_mfa"           // root_mfa_disabled, root_hardware_mfa_missing
	DeleteRootKeys         Recipe = "delete_root_keys"          // root_access_key_active
	ReviewRootUse          Recipe = "review_root_use"           // root_used_recently
	ReviewRootSignins      Recipe = "review_root_signins"       // root_failed_signin
	RequireMFA             Recipe = "require_mfa"               // workflow 1
	RotateAccessKey        Recipe = "rotate_access_key"         // workflow 5, then 2
	DisableAccessKey       Recipe = "disable_access_key"        // workflow 2
	DeleteAccessKey        Recipe = "delete_access_key"         // workflow 2, last step
	RetireOldKey           Recipe = "retire_old_key"            // workflow 5, a user with two active keys
	DeleteLoginProfile     Recipe = "delete_login_profile"      // workflow 4, console access only
	DeleteUser             Recipe = "delete_user"               // workflow 4
	TagOwner               Recipe = "tag_owner"                 // "Identify the Owner"
	DeleteRole             Recipe = "delete_role"               // unused_role
	SetPasswordPolicy      Recipe = "set_password_policy"       // CIS 1.8, 1.9
	MovePoliciesToGroups   Recipe = "move_policies_to_groups"   // CIS 1.15
	RemoveAdminAccess      Recipe = "remove_admin_access"       // CIS 1.16
	CreateSupportRole      Recipe = "create_support_role"       // CIS 1.17
	DeleteServerCert       Recipe = "delete_server_certificate" // CIS 1.19
	DetachCloudShellAccess Recipe = "detach_cloudshell_access"  // CIS 1.22
)

// Recipes lists every recipe Plan knows.
func Recipes() []Recipe {
	return []Recipe{DeployAuditRole, SecureRootMFA, DeleteRootKeys, ReviewRootUse, ReviewRootSignins, RequireMFA, RotateAccessKey,
		DisableAccessKey, DeleteAccessKey, RetireOldKey, DeleteLoginProfile, DeleteUser, TagOwner, DeleteRole,
		SetPasswordPolicy, MovePoliciesToGroups, RemoveAdminAccess, CreateSupportRole, DeleteServerCert,
		DetachCloudShellAccess}
}

// Subject is what a plan reads of one finding: the account and the resource, and the
// values the fix sets.
type Subject struct {
	AccountID string
	// User is the IAM user's name (a user or access key finding).
	User string
	// AccessKeyID is the key's id; empty when the inventory has none (a credential
	// report names keys by slot), and the operator supplies it.
	AccessKeyID       string
	Role              string // role name (unused_role, cloudshell_full_access on a role)
	Group             string // group name (cloudshell_full_access on a group)
	ServerCertificate string // server certificate name
	// AttachedPolicies and InlinePolicies are the policies attached to the user
	// directly (MovePoliciesToGroups).
	AttachedPolicies []Policy
	InlinePolicies   []string
	// OwnerTag is the tag key that names a user's owner (TagOwner).
	OwnerTag string
	// PasswordMinLength and PasswordReusePrevention are the configured thresholds
	// (SetPasswordPolicy sets at least CIS's 14 characters and 1 remembered password).
	PasswordMinLength, PasswordReusePrevention int
}

// Policy is a managed policy; ARN is empty when the inventory does not have it.
type Policy struct {
	Name string
	ARN  string
}

// Target is where the run's fixes apply: the partition, its home region and the role
// the audit assumed in each account (empty when unknown).
type Target struct {
	Partition string
	Region    string
	AuditRole string
}

// Names and values the plans use.
const (
	// AuditStackSet is the StackSet that deploys the audit role (docs/permissions.md).
	AuditStackSet = "IAMAuditRole"
	// SessionName is the role session name of the assume-role check.
	SessionName       = "iamaudit-check"
	requireMFAName    = "RequireMFAPolicy"
	supportRoleName   = "AWSSupportRole"
	afterTwoDays      = "after 48 hours without issues"
	rootConsoleSignIn = "sign in as the root user: IAM console > Security credentials > "
)

// Plan returns the actions that fix a finding of the recipe, in order; nil for an
// unknown recipe. It is pure: every partition, region and role comes from t.
func Plan(r Recipe, s Subject, t Target) []Action {
	p := planner{s: s, t: t}
	user := Resource{UserName: s.User}
	switch r {
	case DeployAuditRole:
		role := p.act(Check, STSAssumeRole, Resource{RoleName: t.AuditRole}, Params{RoleSessionName: SessionName}, "")
		role.Credentials = InManagement
		if t.AuditRole == "" {
			role = unknown(role, FieldRoleName, "ROLE_NAME")
		}
		stack := p.act(Check, CloudFormationDescribeStackInstances, Resource{},
			Params{StackSetName: AuditStackSet, StackInstanceRegion: t.Region}, "")
		stack.Credentials = InManagement
		return []Action{role, stack}
	case SecureRootMFA:
		return []Action{
			p.manual(rootConsoleSignIn + "Assign MFA device (root MFA cannot be set from the CLI)"),
			p.act(Check, IAMGetAccountSummary, Resource{}, Params{Query: "SummaryMap.AccountMFAEnabled"}, ""),
		}
	case DeleteRootKeys:
		return []Action{
			p.manual(rootConsoleSignIn + "Access keys > Deactivate, then Delete"),
			p.act(Check, IAMGetAccountSummary, Resource{}, Params{Query: "SummaryMap.AccountAccessKeysPresent"}, ""),
		}
	case ReviewRootUse:
		a := p.act(Check, CloudTrailLookupEvents, Resource{Root: true},
			Params{LookupAttribute: &LookupAttribute{Key: "EventName", Value: "ConsoleLogin"}}, "")
		a.RegionPinned = true
		return []Action{a}
	case ReviewRootSignins:
		// Failed sign-ins are ConsoleLogin records whose CloudTrailEvent says
		// "Failed authentication"; then make sure the root needs MFA (or has no
		// credentials at all).
		a := p.act(Check, CloudTrailLookupEvents, Resource{Root: true},
			Params{LookupAttribute: &LookupAttribute{Key: "EventName", Value: "ConsoleLogin"},
				Query: "Events[?contains(CloudTrailEvent, 'Failed authentication')]"}, "")
		a.RegionPinned = true
		return []Action{a,
			p.act(Check, IAMGetAccountSummary, Resource{}, Params{Query: "SummaryMap.AccountMFAEnabled"}, "the root user needs MFA, or no credentials at all"),
		}
	case RequireMFA:
		return []Action{
			p.act(Change, IAMPutUserPolicy, user, Params{PolicyName: requireMFAName, Document: &Document{Name: RequireMFAPolicy}}, ""),
			p.act(Check, IAMListMFADevices, user, Params{}, ""),
			p.act(Change, IAMDeleteUserPolicy, user, Params{PolicyName: requireMFAName}, "once MFA is enabled"),
		}
	case RotateAccessKey:
		return append([]Action{p.act(Change, IAMCreateAccessKey, user, Params{}, "deploy the new key first (workflow 5)")},
			p.disableKey()...)
	case DisableAccessKey:
		return p.disableKey()
	case DeleteAccessKey:
		return []Action{p.key(p.act(Change, IAMDeleteAccessKey, user, Params{}, ""), "ACCESS_KEY_ID")}
	case RetireOldKey:
		return []Action{
			p.act(Check, IAMListAccessKeys, user, Params{}, ""),
			unknown(p.act(Change, IAMUpdateAccessKey, user, Params{Status: "Inactive"}, ""), FieldAccessKeyID, "OLD_KEY_ID"),
			unknown(p.act(Change, IAMDeleteAccessKey, user, Params{}, afterTwoDays), FieldAccessKeyID, "OLD_KEY_ID"),
		}
	case DeleteLoginProfile:
		return []Action{p.act(Change, IAMDeleteLoginProfile, user, Params{}, "")}
	case DeleteUser:
		return []Action{
			p.act(Check, IAMListAttachedUserPolicies, user, Params{}, ""),
			p.act(Check, IAMListUserPolicies, user, Params{}, ""),
			p.act(Check, IAMListGroupsForUser, user, Params{}, ""),
			p.act(Check, IAMListAccessKeys, user, Params{}, ""),
			unknown(p.act(Change, IAMDeleteAccessKey, user, Params{}, ""), FieldAccessKeyID, "ACCESS_KEY_ID"),
			p.act(Change, IAMDeleteLoginProfile, user, Params{}, ""),
			unknown(p.act(Change, IAMRemoveUserFromGroup, user, Params{}, ""), FieldGroupName, "GROUP_NAME"),
			unknown(p.act(Change, IAMDetachUserPolicy, user, Params{}, ""), FieldPolicyARN, "POLICY_ARN"),
			unknown(p.act(Change, IAMDeleteUserPolicy, user, Params{}, ""), FieldPolicyName, "POLICY_NAME"),
			p.act(Change, IAMDeleteUser, user, Params{}, ""),
		}
	case TagOwner:
		tag := s.OwnerTag
		if tag == "" {
			tag = "Owner"
		}
		return []Action{
			p.act(Check, IAMListUserTags, user, Params{}, ""),
			unknown(p.act(Change, IAMTagUser, user, Params{Tag: &Tag{Key: tag}}, ""), FieldTagValue, "OWNER"),
		}
	case DeleteRole:
		role := Resource{RoleName: s.Role}
		return []Action{
			p.act(Check, IAMGetRole, role, Params{Query: "Role.RoleLastUsed"}, ""),
			p.act(Check, IAMListAttachedRolePolicies, role, Params{}, ""),
			p.act(Check, IAMListRolePolicies, role, Params{}, ""),
			p.act(Change, IAMDeleteRole, role, Params{}, "after detaching its policies and removing it from instance profiles"),
		}
	case SetPasswordPolicy:
		return []Action{p.act(Change, IAMUpdateAccountPasswordPolicy, Resource{}, Params{PasswordPolicy: &PasswordPolicy{
			MinimumPasswordLength:   max(s.PasswordMinLength, 14),
			PasswordReusePrevention: max(s.PasswordReusePrevention, 1),
			RequireSymbols:          true, RequireNumbers: true, RequireUppercaseCharacters: true, RequireLowercaseCharacters: true,
			AllowUsersToChangePassword: true,
		}}, "")}
	case MovePoliciesToGroups:
		out := []Action{unknown(p.act(Change, IAMAddUserToGroup, user, Params{}, "grant the same permissions through a group first"), FieldGroupName, "GROUP_NAME")}
		for _, pol := range s.AttachedPolicies {
			a := p.act(Change, IAMDetachUserPolicy, user, Params{PolicyARN: pol.ARN}, "")
			if pol.ARN == "" {
				a = unknown(a, FieldPolicyARN, "POLICY_ARN_OF_"+pol.Name)
			}
			out = append(out, a)
		}
		for _, name := range s.InlinePolicies {
			out = append(out, p.act(Change, IAMDeleteUserPolicy, user, Params{PolicyName: name}, ""))
		}
		return out
	case RemoveAdminAccess:
		return []Action{
			p.act(Check, IAMListAttachedUserPolicies, user, Params{}, ""),
			p.act(Change, IAMDetachUserPolicy, user, Params{PolicyARN: p.managed("AdministratorAccess")}, ""),
			p.act(Check, IAMListGroupsForUser, user, Params{}, ""),
			unknown(p.act(Change, IAMRemoveUserFromGroup, user, Params{}, ""), FieldGroupName, "ADMIN_GROUP"),
		}
	case CreateSupportRole:
		role := Resource{RoleName: supportRoleName}
		return []Action{
			p.act(Change, IAMCreateRole, role, Params{Document: &Document{JSON: trustAccount(t.Partition, s.AccountID)}}, ""),
			p.act(Change, IAMAttachRolePolicy, role, Params{PolicyARN: p.managed("AWSSupportAccess")}, ""),
		}
	case DeleteServerCert:
		return []Action{p.act(Change, IAMDeleteServerCertificate, Resource{ServerCertificateName: s.ServerCertificate}, Params{}, "")}
	case DetachCloudShellAccess:
		arn := Params{PolicyARN: p.managed("AWSCloudShellFullAccess")}
		switch {
		case s.Group != "":
			return []Action{p.act(Change, IAMDetachGroupPolicy, Resource{GroupName: s.Group}, arn, "")}
		case s.Role != "":
			return []Action{p.act(Change, IAMDetachRolePolicy, Resource{RoleName: s.Role}, arn, "")}
		}
		return []Action{p.act(Change, IAMDetachUserPolicy, user, arn, "")}
	}
	return nil
}

type planner struct {
	s Subject
	t Target
}

// act is an action in the subject's account with the account's credentials.
func (p planner) act(k Kind, api API, r Resource, prm Params, note string) Action {
	r.AccountID = p.s.AccountID
	return Action{Kind: k, API: api, Partition: p.t.Partition, Region: p.t.Region, Credentials: InAccount,
		Resource: r, Params: prm, Note: note}
}

// manual is a console step on the account's root user.
func (p planner) manual(note string) Action {
	return Action{Kind: Manual, Partition: p.t.Partition, Region: p.t.Region, Credentials: InAccount,
		Resource: Resource{AccountID: p.s.AccountID, Root: true}, Note: note}
}

// key makes a user action act on the subject's access key (placeholder when it has no id).
func (p planner) key(a Action, placeholder string) Action {
	a.Resource.AccessKeyID = p.s.AccessKeyID
	if p.s.AccessKeyID == "" {
		a = unknown(a, FieldAccessKeyID, placeholder)
	}
	return a
}

// disableKey is workflow 2: deactivate, watch CloudTrail, delete after two days.
func (p planner) disableKey() []Action {
	user := Resource{UserName: p.s.User}
	watch := p.act(Check, CloudTrailLookupEvents, Resource{UserName: p.s.User, AccessKeyID: p.s.AccessKeyID},
		Params{LookupAttribute: &LookupAttribute{Key: "AccessKeyId", Value: p.s.AccessKeyID}}, "")
	if p.s.AccessKeyID == "" {
		watch = unknown(watch, FieldLookupValue, "ACCESS_KEY_ID")
	}
	return []Action{
		p.key(p.act(Change, IAMUpdateAccessKey, user, Params{Status: "Inactive"}, ""), "ACCESS_KEY_ID"),
		watch,
		p.key(p.act(Change, IAMDeleteAccessKey, user, Params{}, afterTwoDays), "ACCESS_KEY_ID"),
	}
}

// managed is the ARN of an AWS managed policy in the target's partition.
func (p planner) managed(name string) string {
	return "arn:" + p.t.Partition + ":iam::aws:policy/" + name
}

// unknown leaves a field to the operator, shown as placeholder.
func unknown(a Action, f Field, placeholder string) Action {
	m := make(map[Field]string, len(a.Unknown)+1)
	for k, v := range a.Unknown {
		m[k] = v
	}
	m[f] = placeholder
	a.Unknown = m
	return a
}

// trustAccount is a trust policy that lets the account's own principals assume the role.
func trustAccount(partition, account string) string {
	type principal struct {
		AWS string `json:"AWS"`
	}
	type statement struct {
		Effect    string    `json:"Effect"`
		Principal principal `json:"Principal"`
		Action    string    `json:"Action"`
	}
	doc := struct {
		Version   string      `json:"Version"`
		Statement []statement `json:"Statement"`
	}{"2012-10-17", []statement{{"Allow", principal{"arn:" + partition + ":iam::" + account + ":root"}, "sts:AssumeRole"}}}
	b, _ := json.Marshal(doc) // strings in fixed structs: Marshal cannot fail
	return string(b)
}
