package scenario

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/iamaudit/iamaudit/internal/inventory"
)

// Defaults filled in by Parse. Dates default relative to the sandbox clock so that a
// scenario stays realistic whenever it is served.
const (
	defaultPartition   = "aws"
	defaultCallerName  = "audit-runner"
	defaultKeyService  = "sts" // a key's last use when last_used is set without a service
	defaultRootAge     = 5 * 365 * Day
	defaultUserAge     = 400 * Day
	defaultRoleAge     = 400 * Day
	defaultCertLife    = 365 * Day // a server certificate was uploaded this long before it expires
	defaultIAMSource   = "iam.amazonaws.com"
	defaultLoginSource = "signin.amazonaws.com"
)

// DefaultChangeBy is the IAM user who makes a scenario change that names none.
const DefaultChangeBy = "admin"

// DefaultAuditRoles are the roles a member account has unless audit_roles says
// otherwise (AWS Control Tower style). The management account has none.
func DefaultAuditRoles() map[string]string {
	return map[string]string{"IAMAuditRole": RolePresent, "OrganizationAccountAccessRole": RolePresent}
}

// normalise fills every default of a validated scenario. It is idempotent.
//
// Defaults:
//   - organization: partition aws; id o-… derived from the management account id;
//     caller_name audit-runner; access_key_id and secret_access_key derived from the
//     organization id when both are empty.
//   - OUs: ids ou-xxxx-xxxxxxxx derived from the OU name.
//   - accounts: state ACTIVE; email aws+<name>@example.com; audit_roles
//     DefaultAuditRoles() for members, none (an empty map) for the management account.
//   - root: created_at -1825d; mfa none; mfa_serial generated for its MFA type.
//   - users: path /; created_at -400d; password created_at = user created_at;
//     MFA enabled_at = password created_at (else user created_at); serials generated.
//   - access keys: id AKIA… and secret derived from account, user and slot;
//     status Active; created_at = the user's (root's) created_at; when last_used is
//     set, service sts and region us-east-1 unless given.
//   - roles: path /; created_at -400d; last_used_region us-east-1 when last_used is
//     set; trust policy: the account itself (or the service, for service-linked roles).
//   - attached policies: names become ARNs (the account's own policy of that name,
//     else the AWS managed policy).
//   - server certificates: uploaded_at = expiration - 365d.
//   - events: source iam.amazonaws.com (signin.amazonaws.com for ConsoleLogin).
//   - changes: by admin; CreateAccessKey's key id derived from account, user and
//     change; EnableMFADevice's serial generated for its type; UseAccessKey's
//     service sts, and its and UseRole's region the partition's home region.
//
// Knobs are left as written: zero values mean "the sandbox's default".
func normalise(s *Scenario) {
	o := &s.Organization
	if o.Partition == "" {
		o.Partition = defaultPartition
	}
	if o.ID == "" {
		o.ID = "o-" + hashString(alnumLower, 10, "org", o.ManagementAccountID)
	}
	if o.CallerName == "" {
		o.CallerName = defaultCallerName
	}
	if o.AccessKeyID == "" {
		o.AccessKeyID = keyID(o.ManagementAccountID, "organization-caller:"+o.CallerName, 0)
		o.SecretAccessKey = keySecret(o.AccessKeyID)
	}
	for i := range o.OUs {
		if o.OUs[i].ID == "" {
			o.OUs[i].ID = "ou-" + hashString(alnumLower, 4, "ou-root", o.ID) + "-" + hashString(alnumLower, 8, "ou", o.ID, o.OUs[i].Name)
		}
	}
	for i := range s.Accounts {
		normaliseAccount(&s.Accounts[i], o.Partition, o.ManagementAccountID)
	}
	// The caller's own key, when listed under its user, shares the organization's secret.
	for i := range s.Accounts {
		a := &s.Accounts[i]
		if a.ID != o.ManagementAccountID {
			continue
		}
		for j := range a.Users {
			for k := range a.Users[j].AccessKeys {
				if key := &a.Users[j].AccessKeys[k]; key.ID == o.AccessKeyID {
					key.Secret = o.SecretAccessKey
				}
			}
		}
	}
}

// normaliseAccount fills the defaults of one account (see normalise). Idempotent.
func normaliseAccount(a *Account, partition, managementID string) {
	if a.State == "" {
		a.State = StateActive
	}
	if a.Email == "" {
		a.Email = "aws+" + slug(a.Name) + "@example.com"
	}
	if a.AuditRoles == nil {
		if a.ID == managementID {
			a.AuditRoles = map[string]string{}
		} else {
			a.AuditRoles = DefaultAuditRoles()
		}
	}
	arn := func(kind, name string) string { return "arn:" + partition + ":iam::" + a.ID + ":" + kind + "/" + name }
	custom := map[string]bool{}
	for _, p := range a.Policies {
		custom[p.Name] = true
	}
	resolve := func(refs []string) {
		for i, ref := range refs {
			if r, err := policyARN(ref, partition, a.ID, custom); err == nil {
				refs[i] = r
			}
		}
	}

	r := &a.Root
	if r.CreatedAt == nil {
		r.CreatedAt = Ago(defaultRootAge)
	}
	if r.MFA == "" {
		r.MFA = MFANone
	}
	if r.MFASerial == "" {
		switch r.MFA {
		case MFAVirtual:
			r.MFASerial = arn("mfa", "root-account-mfa-device")
		case MFAHardware:
			r.MFASerial = hardwareSerial(a.ID, "root", 0)
		case MFAFIDO:
			r.MFASerial = "arn:" + partition + ":iam::" + a.ID + ":u2f/root/root-account-mfa-device-" + hashString(upperB32, 26, "u2f", a.ID, "root")
		}
	}
	for i := range r.AccessKeys {
		normaliseKey(&r.AccessKeys[i], partition, a.ID, "root", i, r.CreatedAt)
	}

	for i := range a.Users {
		u := &a.Users[i]
		if u.Path == "" {
			u.Path = "/"
		}
		if u.CreatedAt == nil {
			u.CreatedAt = Ago(defaultUserAge)
		}
		resolve(u.AttachedPolicies)
		enabled := u.CreatedAt
		if pw := u.Password; pw != nil {
			if pw.CreatedAt == nil {
				pw.CreatedAt = u.CreatedAt
			}
			enabled = pw.CreatedAt
		}
		for j := range u.MFA {
			d := &u.MFA[j]
			if d.EnabledAt == nil {
				d.EnabledAt = enabled
			}
			if d.Serial == "" {
				d.Serial = mfaSerial(d.Type, partition, a.ID, u.Name, j)
			}
		}
		for j := range u.AccessKeys {
			normaliseKey(&u.AccessKeys[j], partition, a.ID, u.Name, j, u.CreatedAt)
		}
	}
	for i := range a.Groups {
		resolve(a.Groups[i].AttachedPolicies)
	}
	for i := range a.Roles {
		ro := &a.Roles[i]
		if ro.Path == "" {
			ro.Path = "/"
		}
		if ro.CreatedAt == nil {
			ro.CreatedAt = Ago(defaultRoleAge)
		}
		if ro.LastUsed != nil && ro.LastUsedRegion == "" {
			ro.LastUsedRegion = inventory.HomeRegion(partition)
		}
		if ro.TrustPolicy == "" {
			ro.TrustPolicy = trustPolicy(ro, partition, a.ID)
		}
		resolve(ro.AttachedPolicies)
	}
	for i := range a.ServerCertificates {
		c := &a.ServerCertificates[i]
		if c.UploadedAt == nil && c.Expiration != nil {
			up := c.Expiration.Add(-defaultCertLife)
			c.UploadedAt = &up
		}
	}
	enabled := map[string]int{} // user → MFA devices listed or enabled by earlier changes
	for _, u := range a.Users {
		enabled[u.Name] = len(u.MFA)
	}
	for i := range a.Changes {
		c := &a.Changes[i]
		if c.By == "" {
			c.By = DefaultChangeBy
		}
		switch c.Action {
		case ChangeCreateAccessKey:
			if c.KeyID == "" {
				c.KeyID = keyID(a.ID, "change/"+c.User, i)
			}
		case ChangeUseAccessKey, ChangeUseRole:
			if c.Service == "" && c.Action == ChangeUseAccessKey {
				c.Service = defaultKeyService
			}
			if c.Region == "" {
				c.Region = inventory.HomeRegion(partition)
			}
		case ChangeEnableMFADevice:
			if c.MFA != nil && c.MFA.Serial == "" && slices.Contains(mfaTypes, c.MFA.Type) {
				c.MFA.Serial = mfaSerial(c.MFA.Type, partition, a.ID, c.User, enabled[c.User])
			}
			enabled[c.User]++
		}
	}
	for i := range a.Events {
		e := &a.Events[i]
		if e.Source == "" {
			e.Source = defaultIAMSource
			if e.Name == "ConsoleLogin" {
				e.Source = defaultLoginSource
			}
		}
	}
}

func normaliseKey(k *Key, partition, acct, owner string, slot int, ownerCreated *Date) {
	if k.ID == "" {
		k.ID = keyID(acct, owner, slot)
	}
	if k.Secret == "" {
		k.Secret = keySecret(k.ID)
	}
	if k.Status == "" {
		k.Status = KeyActive
	}
	if k.CreatedAt == nil {
		k.CreatedAt = ownerCreated
	}
	if k.LastUsed != nil {
		if k.Service == "" {
			k.Service = defaultKeyService
		}
		if k.Region == "" {
			k.Region = inventory.HomeRegion(partition)
		}
	}
}

// IsServiceLinked reports whether the role is a service-linked role.
func (r Role) IsServiceLinked() bool { return strings.HasPrefix(r.Path, "/aws-service-role/") }

func trustPolicy(r *Role, partition, acct string) string {
	principal := fmt.Sprintf(`{"AWS":"arn:%s:iam::%s:root"}`, partition, acct)
	if r.IsServiceLinked() {
		svc := strings.Trim(strings.TrimPrefix(r.Path, "/aws-service-role/"), "/")
		if svc == "" {
			svc = "support.amazonaws.com"
		}
		principal = fmt.Sprintf(`{"Service":%q}`, svc)
	}
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":` + principal + `,"Action":"sts:AssumeRole"}]}`
}

func mfaSerial(typ, partition, acct, user string, slot int) string {
	switch typ {
	case MFAVirtual:
		name := user
		if slot > 0 {
			name = fmt.Sprintf("%s-%d", user, slot+1)
		}
		return "arn:" + partition + ":iam::" + acct + ":mfa/" + name
	case MFAFIDO:
		return "arn:" + partition + ":iam::" + acct + ":u2f/user/" + user + "/" + hashString(upperB32, 26, "u2f", acct, user, strconv.Itoa(slot))
	}
	return hardwareSerial(acct, user, slot)
}

func hardwareSerial(acct, user string, slot int) string {
	return "GAHT" + hashString(digits, 8, "hw", acct, user, strconv.Itoa(slot))
}

// Alphabets of generated identifiers.
const (
	upperB32   = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567" // AWS access key ids use base32
	alnumLower = "abcdefghijklmnopqrstuvwxyz0123456789"
	digits     = "0123456789"
)

// keyID derives an access key id (AKIA + 16 characters) from the account, the
// owner (user name or "root") and the key's slot: the same scenario always gives
// the same ids.
func keyID(acct, owner string, slot int) string {
	return "AKIA" + hashString(upperB32, 16, "key", acct, owner, strconv.Itoa(slot))
}

// keySecret derives a 40-character secret from the key id. It protects nothing:
// sandbox secrets are test data.
func keySecret(id string) string {
	sum := sha256.Sum256([]byte("secret\x00" + id))
	return base64.StdEncoding.EncodeToString(sum[:])[:40]
}

// hashString draws n characters of alphabet from a hash of parts.
func hashString(alphabet string, n int, parts ...string) string {
	seed := strings.Join(parts, "\x00")
	b := make([]byte, n)
	var sum [32]byte
	for i := range b {
		if i%8 == 0 {
			sum = sha256.Sum256([]byte(seed + "\x00" + strconv.Itoa(i/8)))
		}
		v := binary.BigEndian.Uint32(sum[(i%8)*4:])
		b[i] = alphabet[v%uint32(len(alphabet))]
	}
	return string(b)
}

func slug(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
	}
	out := strings.Trim(b.String(), "-")
	if out == "" {
		return "account"
	}
	return out
}

// Normalize validates a scenario built as Go values and fills it in as Parse does a
// file's: every default, then the generator's accounts (unless they are already there,
// as in a parsed scenario), normalised too. It works in place and is idempotent. The
// errors name the scenario (there are no lines to point at).
func Normalize(s *Scenario) error {
	check := func() error {
		problems := validate(s)
		errs := make([]error, len(problems))
		for i, p := range problems {
			errs[i] = &Error{File: s.Name, Msg: p.msg}
		}
		return errors.Join(errs...)
	}
	if err := check(); err != nil {
		return err
	}
	normalise(s)
	if s.Generator == nil || GeneratorApplied(s) {
		return nil
	}
	appendGenerated(s)
	return nil
}

// GeneratorApplied tells whether s already holds its generator's accounts after the
// listed ones (true for Parse's output; true when s has no generator). Generate draws
// the first account's id before anything else, so a one-account, user-less run with
// the same seed and reserved ids gives that id.
func GeneratorApplied(s *Scenario) bool {
	if s.Generator == nil {
		return true
	}
	g := *s.Generator
	listed := len(s.Accounts) - g.Accounts
	if g.Accounts <= 0 || listed < 0 {
		return g.Accounts <= 0
	}
	first := Generate(Generator{Seed: g.Seed, Accounts: 1}, s.Organization.Partition, accountIDs(s.Accounts[:listed]))
	return s.Accounts[listed].ID == first[0].ID
}
