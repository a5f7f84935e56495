package permissions

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/iamaudit/iamaudit/internal/fix"
)

// Document is an IAM policy document.
type Document struct {
	Version   string      `json:"Version"`
	Statement []Statement `json:"Statement"`
}

// Statement is one statement of a Document. Resource is a string or a list.
type Statement struct {
	Sid      string   `json:"Sid"`
	Effect   string   `json:"Effect"`
	Action   []string `json:"Action"`
	Resource []string `json:"Resource"`
}

// Actions are every action the document allows, in order, once each.
func (d Document) Actions() []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range d.Statement {
		for _, a := range s.Action {
			if !seen[a] {
				seen[a] = true
				out = append(out, a)
			}
		}
	}
	return out
}

// JSON renders the document as IAM accepts it, indented.
func (d Document) JSON() []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	_ = enc.Encode(d) // strings and slices only: Encode cannot fail
	return b.Bytes()
}

const policyVersion = "2012-10-17"

func allow(sid string, as []Action, resources ...string) Statement {
	return Statement{Sid: sid, Effect: "Allow", Action: Strings(as), Resource: resources}
}

// ManagementOptions say what the identity that runs `iamaudit run` does besides
// listing the Organization and assuming the audit role.
type ManagementOptions struct {
	// Partition of the ARNs: aws (default), aws-us-gov, aws-cn.
	Partition string
	// Role is the audit role as --role gives it (a name, with its path if it has one;
	// default IAMAuditRole).
	Role string
	// SelfAudit adds the audit role's read actions: the management account is audited
	// with the caller's own credentials when the role is absent there.
	SelfAudit bool
	// SecurityHub: --securityhub imports the caller's own account's findings with its
	// own credentials (those of the other accounts go through the audit role).
	SecurityHub bool
	// S3 is --s3 (s3://bucket/prefix); KMSKey is --s3-kms-key (a key ARN).
	S3, KMSKey string
	// SNS is --sns (a topic ARN).
	SNS string
	// Secrets are the Secrets Manager secret ARNs a scheduled run reads
	// (IAMAUDIT_<FLAG>_SECRET_ARN).
	Secrets []string
}

// ManagementPolicy is the least-privilege policy of the identity that runs the audit.
func ManagementPolicy(o ManagementOptions) (Document, error) {
	p := partitionOr(o.Partition)
	role := o.Role
	if role == "" {
		role = "IAMAuditRole"
	}
	role = strings.TrimPrefix(role, "/")
	orgs := management[:len(management)-1] // every organizations: action
	d := Document{Version: policyVersion, Statement: []Statement{
		allow("ListTheOrganization", actions(orgs), "*"),
		allow("AssumeTheAuditRole", []Action{{"sts", "AssumeRole"}}, fmt.Sprintf("arn:%s:iam::*:role/%s", p, role)),
	}}
	if o.SelfAudit {
		d.Statement = append(d.Statement, allow("AuditThisAccount", AuditRead(), "*"))
	}
	if o.SecurityHub {
		d.Statement = append(d.Statement, allow("ImportThisAccountsFindings", []Action{SecurityHubImport},
			fmt.Sprintf("arn:%s:securityhub:*:*:product/*/default", p)))
	}
	if o.S3 != "" {
		bucket, prefix, err := ParseS3URL(o.S3)
		if err != nil {
			return Document{}, err
		}
		d.Statement = append(d.Statement, allow("UploadTheReports", []Action{S3PutObject},
			fmt.Sprintf("arn:%s:s3:::%s/%s*", p, bucket, prefix)))
	}
	if o.KMSKey != "" {
		d.Statement = append(d.Statement, allow("EncryptTheReports", []Action{KMSGenerateDataKey}, o.KMSKey))
	}
	if o.SNS != "" {
		d.Statement = append(d.Statement, allow("PublishTheSummary", []Action{SNSPublish}, o.SNS))
	}
	if len(o.Secrets) > 0 {
		d.Statement = append(d.Statement, allow("ReadTheConfiguredSecrets", []Action{SecretsManagerGetSecretValue}, o.Secrets...))
	}
	return d, nil
}

// AuditRoleOptions say what the audit role does besides reading.
type AuditRoleOptions struct {
	Partition string
	// SecurityHub lets the role import its own account's findings (--securityhub).
	SecurityHub bool
}

// AuditRolePolicy is the audit role's policy in every account.
func AuditRolePolicy(o AuditRoleOptions) Document {
	d := Document{Version: policyVersion, Statement: []Statement{allow("ReadIAMAndItsEvents", AuditRead(), "*")}}
	if o.SecurityHub {
		d.Statement = append(d.Statement, allow("ImportThisAccountsFindings", []Action{SecurityHubImport},
			fmt.Sprintf("arn:%s:securityhub:*:*:product/*/default", partitionOr(o.Partition))))
	}
	return d
}

// RemediationRolePolicy is the policy of a role in each account that runs the fixes
// of every recipe (reads to check, writes to fix): RemediationActions(fix.InAccount),
// plus extra, the calls the remediation command makes beyond the recipes' own
// (internal/remediate.APIs: live re-reads before acting, rollback, verification).
func RemediationRolePolicy(extra ...fix.API) Document {
	acts := RemediationActions(fix.InAccount)
	seen := map[Action]bool{}
	for _, a := range acts {
		seen[a] = true
	}
	for _, api := range extra {
		a := Action{api.Service, api.Name}
		if !seen[a] {
			seen[a] = true
			acts = append(acts, a)
		}
	}
	slices.SortFunc(acts, compareActions)
	return Document{Version: policyVersion, Statement: []Statement{
		allow("RunTheFixes", acts, "*"),
	}}
}

func partitionOr(p string) string {
	if p == "" {
		return "aws"
	}
	return p
}

// ParseS3URL splits s3://bucket/prefix into the bucket and the prefix, which ends
// with "/" unless empty. Bucket names follow S3's rules (3-63 lowercase letters,
// digits, dots and hyphens, starting and ending with a letter or digit).
func ParseS3URL(u string) (bucket, prefix string, err error) {
	rest, ok := strings.CutPrefix(u, "s3://")
	if !ok {
		return "", "", fmt.Errorf("%q is not an s3:// URL (s3://bucket/prefix)", u)
	}
	bucket, prefix, _ = strings.Cut(rest, "/")
	if !validBucket(bucket) {
		return "", "", fmt.Errorf("%q: bucket name %q is not valid (3-63 lowercase letters, digits, dots and hyphens)", u, bucket)
	}
	prefix = strings.Trim(prefix, "/")
	if prefix != "" {
		prefix += "/"
	}
	return bucket, prefix, nil
}

func validBucket(b string) bool {
	if len(b) < 3 || len(b) > 63 {
		return false
	}
	for i, c := range b {
		alnum := (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
		if !alnum && c != '.' && c != '-' {
			return false
		}
		if (i == 0 || i == len(b)-1) && !alnum {
			return false
		}
	}
	return !strings.Contains(b, "..")
}
