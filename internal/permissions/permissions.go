// Package permissions is the one list of the AWS API actions iamaudit calls, per mode
// (the identity that runs the audit, the audit role in every account, the optional
// destinations, the remediation role), and the least-privilege IAM policies and the
// StackSet template generated from it (`iamaudit policy …`). The sandbox enforces
// these same lists on its read-only roles (internal/sandbox/readonly.go), the
// collection's client interfaces are checked against them (internal/collect
// permissions_test.go), deploy/iamaudit-role.yaml and docs/permissions.md are generated
// from them (a test fails when either differs), and the remediation role's actions are
// derived from the fix recipes (internal/fix), so none of these can drift apart.
//
// It is pure: no AWS SDK, no network.
package permissions

import (
	"slices"
	"strings"
)

// Action is an IAM action, "service:Operation" (iam:ListUsers).
type Action struct {
	Service string
	Name    string
}

// String is the action as IAM policies spell it.
func (a Action) String() string { return a.Service + ":" + a.Name }

// Parse reads "service:Operation".
func Parse(s string) (Action, bool) {
	svc, name, ok := strings.Cut(s, ":")
	if !ok || svc == "" || name == "" {
		return Action{}, false
	}
	return Action{svc, name}, true
}

// Why says what an action is for, as docs/permissions.md explains it.
type Why struct {
	Action Action
	Why    string
}

// The audit role: every call the collection makes in an account (internal/collect's
// iamAPI and trailAPI). The management identity makes the same calls when it audits
// its own account (the role absent there).
var auditRead = []Why{
	{Action{"iam", "GenerateCredentialReport"}, "passwords, MFA, key use for every user in one call"},
	{Action{"iam", "GetCredentialReport"}, "passwords, MFA, key use for every user in one call"},
	{Action{"iam", "GetAccountAuthorizationDetails"}, "users, groups, roles (last use), policies, tags in a few pages"},
	{Action{"iam", "ListVirtualMFADevices"}, "MFA device type (virtual / hardware)"},
	{Action{"iam", "ListMFADevices"}, "MFA device type (virtual / hardware)"},
	{Action{"iam", "ListAccessKeys"}, "key ids, status"},
	{Action{"iam", "GetAccessKeyLastUsed"}, "last use when the report cannot match a key, or --fresh-key-usage"},
	{Action{"iam", "GetAccountSummary"}, "root MFA and keys"},
	{Action{"iam", "GetAccountPasswordPolicy"}, "password policy"},
	{Action{"iam", "ListServerCertificates"}, "server certificates"},
	{Action{"iam", "ListUsers"}, "fallback when the credential report fails; with a reused report, current sign-ins (docs/checks.md \"Credential report staleness\")"},
	{Action{"iam", "GetLoginProfile"}, "fallback when the credential report fails; the passwords changed since a reused report"},
	{Action{"iam", "GetUser"}, "fallback when the credential report fails; password last use"},
	{Action{"cloudtrail", "LookupEvents"}, "IAM events of the last 90 days (the partition's home region)"},
}

// The identity that runs the audit: the Organization's accounts and OUs, and the
// audit role in each account (internal/collect's orgAPI, and its STS client).
var management = []Why{
	{Action{"organizations", "DescribeOrganization"}, "the Organization and its management account"},
	{Action{"organizations", "ListAccounts"}, "every account and its state"},
	{Action{"organizations", "ListParents"}, "--ou: whether an account is under the OUs asked for; OU paths"},
	{Action{"organizations", "ListOrganizationalUnitsForParent"}, "OU names in the account's OU path"},
	{Action{"sts", "AssumeRole"}, "the audit role in every account"},
}

// Destinations (internal/publish), each only when its flag is given.
var (
	// SecurityHubImport is what --securityhub needs in every account whose findings
	// are imported: the audit role's (or the management identity's, for its own account).
	SecurityHubImport = Action{"securityhub", "BatchImportFindings"}
	// S3PutObject is what --s3 needs on the bucket's prefix.
	S3PutObject = Action{"s3", "PutObject"}
	// KMSGenerateDataKey is what --s3-kms-key needs on the key: S3 asks KMS for a data
	// key on the caller's behalf for each SSE-KMS object (docs/aws-facts.md).
	KMSGenerateDataKey = Action{"kms", "GenerateDataKey"}
	// SNSPublish is what --sns needs on the topic.
	SNSPublish = Action{"sns", "Publish"}
	// SecretsManagerGetSecretValue is what a scheduled run needs to read the secrets
	// its environment names (IAMAUDIT_<FLAG>_SECRET_ARN: the PostgreSQL connection).
	SecretsManagerGetSecretValue = Action{"secretsmanager", "GetSecretValue"}
)

func actions(ws []Why) []Action {
	out := make([]Action, len(ws))
	for i, w := range ws {
		out[i] = w.Action
	}
	return out
}

// AuditRead is what the audit role grants, in the order of docs/permissions.md.
func AuditRead() []Action { return actions(auditRead) }

// AuditReadWhy is AuditRead with what each action is for.
func AuditReadWhy() []Why { return slices.Clone(auditRead) }

// Management is what the identity that runs the audit needs besides AuditRead.
func Management() []Action { return actions(management) }

// ManagementWhy is Management with what each action is for.
func ManagementWhy() []Why { return slices.Clone(management) }

// Strings renders actions as "service:Operation".
func Strings(as []Action) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.String()
	}
	return out
}
