package checks

import (
	"fmt"
	"strings"
)

// profile is the placeholder the seed's workflows use for the account's CLI profile.
const profile = "--profile ACCOUNT_PROFILE"

// q quotes a value for a POSIX shell when it needs it: anything outside
// [A-Za-z0-9._@+=,/:-], or a leading "-" or "=" (zsh expands a leading "=").
func q(s string) string {
	if s != "" && s[0] != '-' && s[0] != '=' && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+=,.@_-/:") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// opt is an option and its value for the AWS CLI, shell-quoted: "--user-name alice",
// "--user-name 'a b'", and "--user-name='-x'" for a value that starts with "-", which
// the CLI would otherwise read as an option whatever the shell quoting.
func opt(flag, v string) string {
	if strings.HasPrefix(v, "-") {
		return flag + "=" + q(v)
	}
	return flag + " " + q(v)
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

func cmdRootFailedSignin(Finding, Config) []string {
	return []string{
		`aws cloudtrail lookup-events --lookup-attributes AttributeKey=EventName,AttributeValue=ConsoleLogin --region us-east-1 --query "Events[?contains(CloudTrailEvent, 'Failed authentication')]" ` + profile,
		"aws iam get-account-summary --query SummaryMap.AccountMFAEnabled " + profile + "  # the root user needs MFA, or no credentials at all",
	}
}

func cmdConsoleWithoutMFA(f Finding, _ Config) []string {
	un := opt("--user-name", f.User)
	return []string{
		"aws iam put-user-policy " + un + " --policy-name RequireMFAPolicy --policy-document file://require-mfa.json " + profile,
		"aws iam list-mfa-devices " + un + " " + profile,
		"aws iam delete-user-policy " + un + " --policy-name RequireMFAPolicy " + profile + "  # once MFA is enabled",
	}
}

func cmdDisableKey(f Finding, _ Config) []string {
	un, k := opt("--user-name", f.User), keyID(f)
	return []string{
		"aws iam update-access-key " + un + " --access-key-id " + k + " --status Inactive " + profile,
		"aws cloudtrail lookup-events --lookup-attributes AttributeKey=AccessKeyId,AttributeValue=" + k + " " + profile,
		"aws iam delete-access-key " + un + " --access-key-id " + k + " " + profile + "  # after 48 hours without issues",
	}
}

func cmdRotateKey(f Finding, cfg Config) []string {
	un := opt("--user-name", f.User)
	return append([]string{"aws iam create-access-key " + un + " " + profile + "  # deploy the new key first (workflow 5)"},
		cmdDisableKey(f, cfg)...)
}

func cmdDeleteKey(f Finding, _ Config) []string {
	return []string{"aws iam delete-access-key " + opt("--user-name", f.User) + " --access-key-id " + keyID(f) + " " + profile}
}

func cmdMultipleKeys(f Finding, _ Config) []string {
	un := opt("--user-name", f.User)
	return []string{
		"aws iam list-access-keys " + un + " " + profile,
		"aws iam update-access-key " + un + " --access-key-id OLD_KEY_ID --status Inactive " + profile,
		"aws iam delete-access-key " + un + " --access-key-id OLD_KEY_ID " + profile + "  # after 48 hours without issues",
	}
}

func cmdPasswordUnused(f Finding, _ Config) []string {
	return []string{"aws iam delete-login-profile " + opt("--user-name", f.User) + " " + profile}
}

func cmdDeleteUser(f Finding, _ Config) []string {
	un := opt("--user-name", f.User)
	return []string{
		"aws iam list-attached-user-policies " + un + " " + profile,
		"aws iam list-user-policies " + un + " " + profile,
		"aws iam list-groups-for-user " + un + " " + profile,
		"aws iam list-access-keys " + un + " " + profile,
		"aws iam delete-access-key " + un + " --access-key-id ACCESS_KEY_ID " + profile,
		"aws iam delete-login-profile " + un + " " + profile,
		"aws iam remove-user-from-group " + un + " --group-name GROUP_NAME " + profile,
		"aws iam detach-user-policy " + un + " --policy-arn POLICY_ARN " + profile,
		"aws iam delete-user-policy " + un + " --policy-name POLICY_NAME " + profile,
		"aws iam delete-user " + un + " " + profile,
	}
}

func cmdTagOwner(f Finding, cfg Config) []string {
	tag := "Owner"
	if len(cfg.OwnerTags) > 0 {
		tag = cfg.OwnerTags[0]
	}
	un := opt("--user-name", f.User)
	return []string{
		"aws iam list-user-tags " + un + " " + profile,
		"aws iam tag-user " + un + " --tags Key=" + q(tag) + ",Value=OWNER " + profile,
	}
}

func cmdDeleteRole(f Finding, _ Config) []string {
	rn := opt("--role-name", nameFromARN(f.Resource))
	return []string{
		"aws iam get-role " + rn + " --query Role.RoleLastUsed " + profile,
		"aws iam list-attached-role-policies " + rn + " " + profile,
		"aws iam list-role-policies " + rn + " " + profile,
		"aws iam delete-role " + rn + " " + profile + "  # after detaching its policies and removing it from instance profiles",
	}
}

func cmdPasswordPolicy(_ Finding, cfg Config) []string {
	return []string{fmt.Sprintf("aws iam update-account-password-policy --minimum-password-length %d --password-reuse-prevention %d --require-symbols --require-numbers --require-uppercase-characters --require-lowercase-characters --allow-users-to-change-password %s",
		max(cfg.Thresholds.PasswordMinLength, 14), max(cfg.Thresholds.PasswordReusePrevention, 1), profile)}
}

func cmdDirectPolicies(f Finding, _ Config) []string {
	un := opt("--user-name", f.User)
	var out []string
	for _, p := range strings.Split(f.Evidence["policies"], ",") {
		switch {
		case strings.HasPrefix(p, "attached:"):
			out = append(out, "aws iam detach-user-policy "+un+" --policy-arn POLICY_ARN_OF_"+q(strings.TrimPrefix(p, "attached:"))+" "+profile)
		case strings.HasPrefix(p, "inline:"):
			out = append(out, "aws iam delete-user-policy "+un+" "+opt("--policy-name", strings.TrimPrefix(p, "inline:"))+" "+profile)
		}
	}
	return append([]string{"aws iam add-user-to-group " + un + " --group-name GROUP_NAME " + profile + "  # grant the same permissions through a group first"}, out...)
}

func cmdAdminPolicy(f Finding, _ Config) []string {
	un := opt("--user-name", f.User)
	return []string{
		"aws iam list-attached-user-policies " + un + " " + profile,
		"aws iam detach-user-policy " + un + " --policy-arn arn:aws:iam::aws:policy/AdministratorAccess " + profile,
		"aws iam list-groups-for-user " + un + " " + profile,
		"aws iam remove-user-from-group " + un + " --group-name ADMIN_GROUP " + profile,
	}
}

func cmdSupportRole(f Finding, _ Config) []string {
	return []string{
		fmt.Sprintf(`aws iam create-role --role-name AWSSupportRole --assume-role-policy-document '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::%s:root"},"Action":"sts:AssumeRole"}]}' %s`, f.AccountID, profile),
		"aws iam attach-role-policy --role-name AWSSupportRole --policy-arn arn:aws:iam::aws:policy/AWSSupportAccess " + profile,
	}
}

func cmdDeleteCert(f Finding, _ Config) []string {
	return []string{"aws iam delete-server-certificate " + opt("--server-certificate-name", f.Evidence["name"]) + " " + profile}
}

func cmdCloudShell(f Finding, _ Config) []string {
	arn := "arn:aws:iam::aws:policy/AWSCloudShellFullAccess"
	name := nameFromARN(f.Resource)
	switch f.ResourceType {
	case ResourceGroup:
		return []string{"aws iam detach-group-policy " + opt("--group-name", name) + " --policy-arn " + arn + " " + profile}
	case ResourceRole:
		return []string{"aws iam detach-role-policy " + opt("--role-name", name) + " --policy-arn " + arn + " " + profile}
	}
	return []string{"aws iam detach-user-policy " + opt("--user-name", f.User) + " --policy-arn " + arn + " " + profile}
}
