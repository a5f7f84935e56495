package checks

import (
	"time"

	"github.com/iamaudit/iamaudit/internal/fix"
	"github.com/iamaudit/iamaudit/internal/inventory"
)

// Func is a check: a pure function of the inventory, one account, the reference time
// and the configuration. It fills Resource, ResourceType, User, Message, Evidence and,
// for graded checks, Severity; Run fills the rest from the Check.
type Func func(inv *inventory.Inventory, acct *inventory.Account, now time.Time, cfg Config) []Finding

// Check is one entry of the table of checks.
type Check struct {
	ID       string
	Title    string
	Severity Severity // default (graded checks set their own)
	// CIS references: the v3.0 and v5.0 numbers of the CIS AWS Foundations Benchmark.
	CISv3, CISv5 []string
	SecurityHub  []string
	// Workflow is the remediation workflow (seed 004 number and name, or what replaces it).
	Workflow string
	// Fix is how a finding of the check is fixed: fix.Plan turns it into the finding's
	// Remediation.Actions.
	Fix fix.Recipe
	// Needs are the inventory fields the check reads for the whole account; an
	// account-wide gap (a Gap without Subject) leaving any of them unknown means the
	// check cannot answer and does not run.
	Needs []inventory.Field
	// UserNeeds are the per-user fields a finding about a user rests on: a gap naming
	// that user (or an account-wide one) that leaves any of them, or the user
	// (inventory.FieldUsers), unknown means the check does not fire for that user (its
	// data is unknown, not absent).
	UserNeeds []inventory.Field
	// ReportAnswers is false when a credential report alone cannot answer the check.
	ReportAnswers bool
	// ReportLacks says what a credential report is missing for this check.
	ReportLacks string
	Run         Func
	// Fallback, when set, runs instead of Run when an account-wide gap leaves one of
	// Needs unknown: it answers from what was still collected (GetAccountSummary for
	// the root user when the credential report is missing), or returns nothing.
	Fallback Func
}

// CIS returns the check's CIS references as "v3.0 1.5" and "v5.0 1.4".
func (c Check) CIS() []string {
	var out []string
	for _, n := range c.CISv3 {
		out = append(out, "v3.0 "+n)
	}
	for _, n := range c.CISv5 {
		out = append(out, "v5.0 "+n)
	}
	return out
}

// Seed 004's remediation workflows.
const (
	Workflow1 = "1: Enforce MFA for Console Users"
	Workflow2 = "2: Disable Old Access Keys Safely"
	Workflow3 = "3: Migrate from Long-Term to Temporary Credentials"
	Workflow4 = "4: Delete Unused IAM Users"
	Workflow5 = "5: Rotate Access Keys Without Downtime"
)

// All returns the table of checks, in the order of docs/checks.md.
func All() []Check {
	return []Check{
		{ID: "account_not_audited", Title: "Account could not be audited", Severity: High,
			Workflow: "Deploy the audit role (seed 000 troubleshooting)", Fix: fix.DeployAuditRole,
			ReportAnswers: true, Run: checkAccountNotAudited},
		{ID: "root_mfa_disabled", Title: "Root user has no MFA", Severity: Critical,
			CISv3: []string{"1.5"}, CISv5: []string{"1.4"}, SecurityHub: []string{"IAM.9"},
			Workflow: "Secure the root user (CIS 1.5)", Fix: fix.SecureRootMFA,
			Needs: fields(inventory.FieldRoot), ReportAnswers: true, Run: checkRootMFADisabled, Fallback: summaryRootMFADisabled},
		{ID: "root_access_key_active", Title: "Root user has an active access key", Severity: Critical,
			CISv3: []string{"1.4"}, CISv5: []string{"1.3"}, SecurityHub: []string{"IAM.4"},
			Workflow: "Delete the root access keys (CIS 1.4)", Fix: fix.DeleteRootKeys,
			Needs: fields(inventory.FieldRoot), ReportAnswers: true, Run: checkRootAccessKeyActive, Fallback: summaryRootAccessKey},
		{ID: "console_without_mfa", Title: "Console user without MFA", Severity: High,
			CISv3: []string{"1.10"}, CISv5: []string{"1.9"}, SecurityHub: []string{"IAM.5"},
			Workflow: Workflow1, Fix: fix.RequireMFA,
			// The last sign-in only grades the severity: unknown, the finding fires at high.
			ReportAnswers: true, UserNeeds: fields(inventory.FieldMFA, inventory.FieldPassword),
			Run: checkConsoleWithoutMFA},
		{ID: "access_key_not_rotated", Title: "Access key not rotated", Severity: Medium,
			CISv3: []string{"1.14"}, CISv5: []string{"1.13"}, SecurityHub: []string{"IAM.3"},
			Workflow: Workflow2, Fix: fix.RotateAccessKey,
			ReportAnswers: true, UserNeeds: fields(inventory.FieldAccessKeys),
			Run: checkAccessKeyNotRotated},
		{ID: "access_key_never_used", Title: "Access key never used", Severity: Medium,
			CISv3: []string{"1.11"}, CISv5: []string{"1.10"},
			Workflow: Workflow2, Fix: fix.DisableAccessKey,
			ReportAnswers: true, UserNeeds: fields(inventory.FieldAccessKeys, inventory.FieldKeyLastUse),
			Run: checkAccessKeyNeverUsed},
		{ID: "access_key_unused", Title: "Access key unused", Severity: Medium,
			CISv3: []string{"1.12"}, CISv5: []string{"1.11"}, SecurityHub: []string{"IAM.8", "IAM.22"},
			Workflow: Workflow2, Fix: fix.DisableAccessKey,
			ReportAnswers: true, UserNeeds: fields(inventory.FieldAccessKeys, inventory.FieldKeyLastUse),
			Run: checkAccessKeyUnused},
		{ID: "multiple_active_keys", Title: "User has two active access keys", Severity: Medium,
			CISv3: []string{"1.13"}, CISv5: []string{"1.12"},
			Workflow: Workflow5, Fix: fix.RetireOldKey,
			ReportAnswers: true, UserNeeds: fields(inventory.FieldAccessKeys),
			Run: checkMultipleActiveKeys},
		{ID: "console_password_unused", Title: "Console password unused", Severity: Medium,
			CISv3: []string{"1.12"}, CISv5: []string{"1.11"}, SecurityHub: []string{"IAM.8", "IAM.22"},
			Workflow: Workflow4, Fix: fix.DeleteLoginProfile,
			ReportAnswers: true, UserNeeds: fields(inventory.FieldPassword, inventory.FieldPasswordLastUsed),
			Run: checkConsolePasswordUnused},
		{ID: "inactive_user", Title: "Inactive (zombie) user", Severity: Medium,
			Workflow: Workflow4, Fix: fix.DeleteUser,
			ReportAnswers: true, UserNeeds: fields(inventory.FieldAccessKeys, inventory.FieldKeyLastUse, inventory.FieldPassword, inventory.FieldPasswordLastUsed),
			Run: checkInactiveUser},
		{ID: "inactive_key_not_deleted", Title: "Deactivated access key not deleted", Severity: Low,
			Workflow: Workflow2, Fix: fix.DeleteAccessKey,
			Needs:       fields(inventory.FieldUsers, inventory.FieldAccessKeys, inventory.FieldKeyIDs), // events are read per key inside (an Expired key needs none)
			ReportLacks: "key ids and CloudTrail events", UserNeeds: fields(inventory.FieldAccessKeys),
			Run: checkInactiveKeyNotDeleted},
		{ID: "user_without_owner", Title: "User without owner tag", Severity: Low,
			Workflow: "Identify the Owner (seed 004, before remediation)", Fix: fix.TagOwner,
			Needs: fields(inventory.FieldUserTags), ReportLacks: "tags", UserNeeds: fields(inventory.FieldUserTags),
			Run: checkUserWithoutOwner},
		{ID: "unused_role", Title: "Unused role", Severity: Low,
			Workflow: "Delete unused roles (IAM Access Analyzer UnusedIAMRole)", Fix: fix.DeleteRole,
			Needs: fields(inventory.FieldRoles), ReportLacks: "roles", Run: checkUnusedRole},
		{ID: "root_hardware_mfa_missing", Title: "Root MFA is not a hardware device", Severity: Low,
			CISv3: []string{"1.6"}, CISv5: []string{"1.5"}, SecurityHub: []string{"IAM.6"},
			Workflow: "Secure the root user (CIS 1.6)", Fix: fix.SecureRootMFA,
			Needs: fields(inventory.FieldRoot, inventory.FieldMFATypes), ReportLacks: "MFA device types", Run: checkRootHardwareMFAMissing,
			Fallback: fallbackRootHardwareMFA},
		{ID: "root_used_recently", Title: "Root user used recently", Severity: Medium,
			CISv3: []string{"1.7"}, CISv5: []string{"1.6"},
			Workflow: "Avoid using the root user (CIS 1.7)", Fix: fix.ReviewRootUse,
			Needs: fields(inventory.FieldRoot), ReportAnswers: true, Run: checkRootUsedRecently, Fallback: eventsRootUsedRecently},
		{ID: "root_failed_signin", Title: "Failed root sign-in attempts", Severity: Medium,
			CISv3: []string{"4.3", "4.6"}, CISv5: []string{"4.3", "4.6"}, SecurityHub: []string{"CloudWatch.1", "CloudWatch.6"},
			Workflow: "Investigate failed root sign-ins (CIS 4.3, 4.6)", Fix: fix.ReviewRootSignins,
			Needs: fields(inventory.FieldEvents), ReportLacks: "CloudTrail events", Run: checkRootFailedSignin},
		{ID: "password_policy_weak", Title: "Weak account password policy", Severity: Medium,
			CISv3: []string{"1.8", "1.9"}, CISv5: []string{"1.7", "1.8"}, SecurityHub: []string{"IAM.15", "IAM.16"},
			Workflow: "Set the account password policy (CIS 1.8, 1.9)", Fix: fix.SetPasswordPolicy,
			Needs: fields(inventory.FieldPasswordPolicy), ReportLacks: "password policy", Run: checkPasswordPolicyWeak},
		{ID: "user_direct_policies", Title: "User has policies attached directly", Severity: Low,
			CISv3: []string{"1.15"}, CISv5: []string{"1.14"}, SecurityHub: []string{"IAM.2"},
			Workflow: "Grant permissions through groups (CIS 1.15)", Fix: fix.MovePoliciesToGroups,
			Needs: fields(inventory.FieldUserPolicies), ReportLacks: "policies", UserNeeds: fields(inventory.FieldUserPolicies),
			Run: checkUserDirectPolicies},
		{ID: "admin_policy_on_user", Title: "User has full administrative privileges", Severity: High,
			CISv3: []string{"1.16"}, CISv5: []string{"1.15"}, SecurityHub: []string{"IAM.1"},
			Workflow: "Remove full \"*:*\" privileges (CIS 1.16)", Fix: fix.RemoveAdminAccess,
			Needs:       fields(inventory.FieldUserPolicies, inventory.FieldUserGroups, inventory.FieldGroups, inventory.FieldManagedPolicies, inventory.FieldPolicyDocuments),
			ReportLacks: "policies and groups", UserNeeds: fields(inventory.FieldUserPolicies, inventory.FieldUserGroups),
			Run: checkAdminPolicyOnUser},
		{ID: "support_role_missing", Title: "No support role", Severity: Low,
			CISv3: []string{"1.17"}, CISv5: []string{"1.16"}, SecurityHub: []string{"IAM.18"},
			Workflow: "Create a support role (CIS 1.17)", Fix: fix.CreateSupportRole,
			Needs: fields(inventory.FieldRoles), ReportLacks: "roles", Run: checkSupportRoleMissing},
		{ID: "expired_server_certificate", Title: "Expired server certificate", Severity: Medium,
			CISv3: []string{"1.19"}, CISv5: []string{"1.18"}, SecurityHub: []string{"IAM.26"},
			Workflow: "Delete expired certificates (CIS 1.19)", Fix: fix.DeleteServerCert,
			Needs: fields(inventory.FieldServerCertificates), ReportLacks: "server certificates", Run: checkExpiredServerCertificate},
		{ID: "cloudshell_full_access", Title: "AWSCloudShellFullAccess attached", Severity: Medium,
			CISv3: []string{"1.22"}, CISv5: []string{"1.21"}, SecurityHub: []string{"IAM.27"},
			Workflow: "Detach AWSCloudShellFullAccess (CIS 1.22)", Fix: fix.DetachCloudShellAccess,
			Needs:       fields(inventory.FieldUserPolicies, inventory.FieldGroups, inventory.FieldRoles),
			ReportLacks: "policies, groups and roles", UserNeeds: fields(inventory.FieldUserPolicies),
			Run: checkCloudShellFullAccess},
	}
}

func fields(f ...inventory.Field) []inventory.Field { return f }

// Lookup finds a check by id.
func Lookup(id string) (Check, bool) {
	for _, c := range All() {
		if c.ID == id {
			return c, true
		}
	}
	return Check{}, false
}

// NotAnsweredByReport lists the checks a credential report alone cannot answer.
func NotAnsweredByReport() []Check {
	var out []Check
	for _, c := range All() {
		if !c.ReportAnswers {
			out = append(out, c)
		}
	}
	return out
}
