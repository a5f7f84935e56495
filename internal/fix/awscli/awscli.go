// Package awscli renders fix actions as AWS CLI commands, the text the reports carry
// (the findings CSV's remediation_commands, the JSON's remediation.commands). Every
// value is shell-quoted when it needs it, and a value that starts with "-" is glued to
// its option, so a hostile name reaches the CLI as one argument (docs/checks.md).
package awscli

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode"

	"github.com/iamaudit/iamaudit/internal/fix"
)

// The profile placeholders of seed 004's commands.
const (
	AccountProfile    = "ACCOUNT_PROFILE"
	ManagementProfile = "MANAGEMENT_PROFILE"
)

// Commands renders actions in order, one command (or "# " comment) per action.
func Commands(actions []fix.Action) []string {
	if len(actions) == 0 {
		return nil
	}
	out := make([]string, len(actions))
	for i, a := range actions {
		out[i] = Command(a)
	}
	return out
}

// Command renders one action: "aws <service> <operation> <options> --profile P", with
// "  # note" when the action has a note. A Manual step is "# " and its note: it is not
// a command.
func Command(a fix.Action) string {
	if a.Kind == fix.Manual || a.API.Name == "" {
		return "# " + a.Note
	}
	c := command{a: a, parts: []string{"aws", a.API.Service, Name(a.API)}}
	r, p := a.Resource, a.Params
	switch a.API.Service {
	case "sts":
		if a.API == fix.STSAssumeRole {
			role := c.value(fix.FieldRoleName, r.RoleName)
			c.raw("--role-arn", q("arn:"+a.Partition+":iam::"+r.AccountID+":role/"+role))
		}
		c.opt("--role-session-name", p.RoleSessionName)
	case "cloudformation":
		c.opt("--stack-set-name", p.StackSetName)
		c.opt("--stack-instance-account", r.AccountID)
		c.opt("--stack-instance-region", p.StackInstanceRegion)
	case "iam":
		c.opt("--user-name", r.UserName)
		c.field("--role-name", fix.FieldRoleName, r.RoleName)
		c.opt("--group-name", r.GroupName)
		c.field("--access-key-id", fix.FieldAccessKeyID, r.AccessKeyID)
		c.opt("--server-certificate-name", r.ServerCertificateName)
		c.opt("--serial-number", r.MFASerial)
		c.opt("--certificate-id", r.SigningCertificateID)
		c.opt("--ssh-public-key-id", r.SSHPublicKeyID)
		c.opt("--service-specific-credential-id", r.ServiceSpecificCredentialID)
		c.opt("--path", p.Path)
		c.opt("--permissions-boundary", p.PermissionsBoundary)
	}
	c.opt("--status", p.Status)
	c.field("--group-name", fix.FieldGroupName, p.GroupName)
	c.field("--policy-name", fix.FieldPolicyName, p.PolicyName)
	c.field("--policy-arn", fix.FieldPolicyARN, p.PolicyARN)
	if p.Document != nil {
		flag := "--policy-document"
		if a.API == fix.IAMCreateRole {
			flag = "--assume-role-policy-document"
		}
		doc, err := p.Document.Text()
		if err != nil {
			c.raw(flag, q("file://"+p.Document.Name+".json")) // not shipped: the file the operator writes
		} else {
			c.raw(flag, q(doc))
		}
	}
	if t := p.Tag; t != nil {
		c.raw("--tags", structure("Key", t.Key, "Value", c.value(fix.FieldTagValue, t.Value)))
	}
	if len(p.Tags) > 0 {
		c.raw("--tags", tagList(p.Tags))
	}
	if la := p.LookupAttribute; la != nil {
		c.raw("--lookup-attributes", structure("AttributeKey", la.Key, "AttributeValue", c.value(fix.FieldLookupValue, la.Value)))
	}
	if a.RegionPinned {
		c.opt("--region", a.Region)
	}
	c.opt("--query", p.Query)
	if pp := p.PasswordPolicy; pp != nil {
		c.raw("--minimum-password-length", fmt.Sprint(pp.MinimumPasswordLength))
		c.raw("--password-reuse-prevention", fmt.Sprint(pp.PasswordReusePrevention))
		c.flag("require-symbols", pp.RequireSymbols)
		c.flag("require-numbers", pp.RequireNumbers)
		c.flag("require-uppercase-characters", pp.RequireUppercaseCharacters)
		c.flag("require-lowercase-characters", pp.RequireLowercaseCharacters)
		c.flag("allow-users-to-change-password", pp.AllowUsersToChangePassword)
	}
	profile := AccountProfile
	if a.Credentials == fix.InManagement {
		profile = ManagementProfile
	}
	c.raw("--profile", profile)
	s := strings.Join(c.parts, " ")
	if a.Note != "" {
		s += "  # " + a.Note
	}
	return s
}

// Name is the CLI's name of an operation: UpdateAccessKey → update-access-key,
// ListMFADevices → list-mfa-devices.
func Name(api fix.API) string {
	rs := []rune(api.Name)
	var b strings.Builder
	for i, r := range rs {
		if unicode.IsUpper(r) && i > 0 {
			prevLower := unicode.IsLower(rs[i-1])
			nextLower := i+1 < len(rs) && unicode.IsLower(rs[i+1])
			if prevLower || nextLower && unicode.IsUpper(rs[i-1]) {
				b.WriteByte('-')
			}
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

type command struct {
	a     fix.Action
	parts []string
}

// value is v, or the placeholder of the field the plan left to the operator.
func (c *command) value(f fix.Field, v string) string {
	if v == "" {
		return c.a.Unknown[f]
	}
	return v
}

// field adds an option whose value may be left to the operator.
func (c *command) field(flag string, f fix.Field, v string) { c.opt(flag, c.value(f, v)) }

// opt adds an option and its quoted value, when there is a value.
func (c *command) opt(flag, v string) {
	if v != "" {
		c.parts = append(c.parts, opt(flag, v))
	}
}

// raw adds an option and a value already shell-safe.
func (c *command) raw(flag, v string) { c.parts = append(c.parts, flag+" "+v) }

// flag adds a boolean option: --name or --no-name.
func (c *command) flag(name string, on bool) {
	if on {
		c.parts = append(c.parts, "--"+name)
	} else {
		c.parts = append(c.parts, "--no-"+name)
	}
}

// structure is a one-element list of structures for the CLI, shell-quoted: the
// shorthand "Key=Owner,Value=x" when the values hold none of the shorthand's special
// characters, else JSON ('[{"Key":"a,b","Value":"x"}]').
func structure(k1, v1, k2, v2 string) string {
	if !strings.ContainsAny(v1+v2, ",=[]{}\"' \t\n\\") && v1 != "" && v2 != "" {
		return k1 + "=" + q(v1) + "," + k2 + "=" + q(v2)
	}
	b, _ := json.Marshal([]map[string]string{{k1: v1, k2: v2}}) // a map of strings always marshals
	return q(string(b))
}

// tagList is a list of tags for the CLI as shell-quoted JSON.
func tagList(tags []fix.Tag) string {
	list := make([]map[string]string, len(tags))
	for i, t := range tags {
		list[i] = map[string]string{"Key": t.Key, "Value": t.Value}
	}
	b, _ := json.Marshal(list) // maps of strings always marshal
	return q(string(b))
}

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
