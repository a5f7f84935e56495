package checks

import (
	"fmt"
	"strings"
)

// profile is the placeholder the seed's workflows use for the account's CLI profile.
const profile = "--profile ACCOUNT_PROFILE"

// q quotes a value for a POSIX shell when it needs it.
func q(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+=,.@_-/:") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// keyID is the key id for commands, or a placeholder when the inventory has none.
func keyID(f Finding) string {
	if strings.HasPrefix(f.Resource, "arn:") {
		return "ACCESS_KEY_ID"
	}
	return q(f.Resource)
}

func nameFromARN(arn string) string { return arn[strings.LastIndex(arn, "/")+1:] }

func cmdAccountNotAudited(f Finding, cfg Config) []string {
	role := "ROLE_NAME" // the --role of the run, filled in by localize
	return []string{
		fmt.Sprintf("aws sts assume-role --role-arn arn:aws:iam::%s:role/%s --role-session-name iamaudit-check --profile MANAGEMENT_PROFILE", f.AccountID, role),
		"aws cloudformation describe-stack-instances --stack-set-name IAMAuditRole --stack-instance-account " + f.AccountID + " --stack-instance-region us-east-1 --profile MANAGEMENT_PROFILE",
	}
}

func cmdRootMFA(Finding, Config) []string {
	return []string{
		"# sign in as the root user: IAM console > Security credentials > Assign MFA device (root MFA cannot be set from the CLI)",
		"aws iam get-account-summary --query SummaryMap.AccountMFAEnabled " + profile,
	}
}

func cmdRootKey(Finding, Config) []string {
	return []string{
		"# sign in as the root user: IAM console > Security credentials > Access keys > Deactivate, then Delete",
		"aws iam get-account-summary --query SummaryMap.AccountAccessKeysPresent " + profile,
	}
}

func cmdRootUsed(f Finding, _ Config) []string {
	return []string{"aws cloudtrail lookup-events --lookup-attributes AttributeKey=EventName,AttributeValue=ConsoleLogin --region us-east-1 " + profile}
}

func cmdConsoleWithoutMFA(f Finding, _ Config) []string {
	u := q(f.User)
	return []string{
		"aws iam put-user-policy --user-name " + u + " --policy-name RequireMFAPolicy --policy-document file://require-mfa.json " + profile,
		"aws iam list-mfa-devices --user-name " + u + " " + profile,
		"aws iam delete-user-policy --user-name " + u + " --policy-name RequireMFAPolicy " + profile + "  # once MFA is enabled",
	}
}

func cmdDisableKey(f Finding, _ Config) []string {
	u, k := q(f.User), keyID(f)
	return []string{
		"aws iam update-access-key --user-name " + u + " --access-key-id " + k + " --status Inactive " + profile,
		"aws cloudtrail lookup-events --lookup-attributes AttributeKey=AccessKeyId,AttributeValue=" + k + " " + profile,
		"aws iam delete-access-key --user-name " + u + " --access-key-id " + k + " " + profile + "  # after 48 hours without issues",
	}
}

func cmdRotateKey(f Finding, cfg Config) []string {
	u := q(f.User)
	return append([]string{"aws iam create-access-key --user-name " + u + " " + profile + "  # deploy the new key first (workflow 5)"},
		cmdDisableKey(f, cfg)...)
}

func cmdDeleteKey(f Finding, _ Config) []string {
	return []string{"aws iam delete-access-key --user-name " + q(f.User) + " --access-key-id " + keyID(f) + " " + profile}
}

func cmdMultipleKeys(f Finding, _ Config) []string {
	u := q(f.User)
	return []string{
		"aws iam list-access-keys --user-name " + u + " " + profile,
		"aws iam update-access-key --user-name " + u + " --access-key-id OLD_KEY_ID --status Inactive " + profile,
		"aws iam delete-access-key --user-name " + u + " --access-key-id OLD_KEY_ID " + profile + "  # after 48 hours without issues",
	}
}

func cmdPasswordUnused(f Finding, _ Config) []string {
	return []string{"aws iam delete-login-profile --user-name " + q(f.User) + " " + profile}
}

func cmdDeleteUser(f Finding, _ Config) []string {
	u := q(f.User)
	return []string{
		"aws iam list-attached-user-policies --user-name " + u + " " + profile,
		"aws iam list-user-policies --user-name " + u + " " + profile,
		"aws iam list-groups-for-user --user-name " + u + " " + profile,
		"aws iam list-access-keys --user-name " + u + " " + profile,
		"aws iam delete-access-key --user-name " + u + " --access-key-id ACCESS_KEY_ID " + profile,
		"aws iam delete-login-profile --user-name " + u + " " + profile,
		"aws iam remove-user-from-group --user-name " + u + " --group-name GROUP_NAME " + profile,
		"aws iam detach-user-policy --user-name " + u + " --policy-arn POLICY_ARN " + profile,
		"aws iam delete-user-policy --user-name " + u + " --policy-name POLICY_NAME " + profile,
		"aws iam delete-user --user-name " + u + " " + profile,
	}
}

func cmdTagOwner(f Finding, cfg Config) []string {
	tag := "Owner"
	if len(cfg.OwnerTags) > 0 {
		tag = cfg.OwnerTags[0]
	}
	u := q(f.User)
	return []string{
		"aws iam list-user-tags --user-name " + u + " " + profile,
		"aws iam tag-user --user-name " + u + " --tags Key=" + q(tag) + ",Value=OWNER " + profile,
	}
}

func cmdDeleteRole(f Finding, _ Config) []string {
	r := q(nameFromARN(f.Resource))
	return []string{
		"aws iam get-role --role-name " + r + " --query Role.RoleLastUsed " + profile,
		"aws iam list-attached-role-policies --role-name " + r + " " + profile,
		"aws iam list-role-policies --role-name " + r + " " + profile,
		"aws iam delete-role --role-name " + r + " " + profile + "  # after detaching its policies and removing it from instance profiles",
	}
}

func cmdPasswordPolicy(_ Finding, cfg Config) []string {
	return []string{fmt.Sprintf("aws iam update-account-password-policy --minimum-password-length %d --password-reuse-prevention %d --require-symbols --require-numbers --require-uppercase-characters --require-lowercase-characters --allow-users-to-change-password %s",
		max(cfg.Thresholds.PasswordMinLength, 14), max(cfg.Thresholds.PasswordReusePrevention, 1), profile)}
}

func cmdDirectPolicies(f Finding, _ Config) []string {
	u := q(f.User)
	var out []string
	for _, p := range strings.Split(f.Evidence["policies"], ",") {
		switch {
		case strings.HasPrefix(p, "attached:"):
			out = append(out, "aws iam detach-user-policy --user-name "+u+" --policy-arn POLICY_ARN_OF_"+q(strings.TrimPrefix(p, "attached:"))+" "+profile)
		case strings.HasPrefix(p, "inline:"):
			out = append(out, "aws iam delete-user-policy --user-name "+u+" --policy-name "+q(strings.TrimPrefix(p, "inline:"))+" "+profile)
		}
	}
	return append([]string{"aws iam add-user-to-group --user-name " + u + " --group-name GROUP_NAME " + profile + "  # grant the same permissions through a group first"}, out...)
}

func cmdAdminPolicy(f Finding, _ Config) []string {
	u := q(f.User)
	return []string{
		"aws iam list-attached-user-policies --user-name " + u + " " + profile,
		"aws iam detach-user-policy --user-name " + u + " --policy-arn arn:aws:iam::aws:policy/AdministratorAccess " + profile,
		"aws iam list-groups-for-user --user-name " + u + " " + profile,
		"aws iam remove-user-from-group --user-name " + u + " --group-name ADMIN_GROUP " + profile,
	}
}

func cmdSupportRole(f Finding, _ Config) []string {
	return []string{
		fmt.Sprintf(`aws iam create-role --role-name AWSSupportRole --assume-role-policy-document '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::%s:root"},"Action":"sts:AssumeRole"}]}' %s`, f.AccountID, profile),
		"aws iam attach-role-policy --role-name AWSSupportRole --policy-arn arn:aws:iam::aws:policy/AWSSupportAccess " + profile,
	}
}

func cmdDeleteCert(f Finding, _ Config) []string {
	return []string{"aws iam delete-server-certificate --server-certificate-name " + q(f.Evidence["name"]) + " " + profile}
}

func cmdCloudShell(f Finding, _ Config) []string {
	arn := "arn:aws:iam::aws:policy/AWSCloudShellFullAccess"
	name := q(nameFromARN(f.Resource))
	switch f.ResourceType {
	case ResourceGroup:
		return []string{"aws iam detach-group-policy --group-name " + name + " --policy-arn " + arn + " " + profile}
	case ResourceRole:
		return []string{"aws iam detach-role-policy --role-name " + name + " --policy-arn " + arn + " " + profile}
	}
	return []string{"aws iam detach-user-policy --user-name " + q(f.User) + " --policy-arn " + arn + " " + profile}
}
