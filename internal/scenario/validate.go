package scenario

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"
)

// Account states (Organizations' State field).
const (
	StateActive         = "ACTIVE"
	StateSuspended      = "SUSPENDED"
	StatePendingClosure = "PENDING_CLOSURE"
	StateClosed         = "CLOSED"
)

// Access key statuses (IAM's statusType).
const (
	KeyActive   = "Active"
	KeyInactive = "Inactive"
	KeyExpired  = "Expired"
)

// MFANone is the root's MFA when it has none (the normalised default).
const MFANone = "none"

// Limits that keep the generator within what one machine serves.
var (
	maxGeneratedAccounts = 5000
	maxGeneratedUsers    = 2_000_000 // accounts × users_per_account
	maxGeneratedEvents   = 2_000_000 // accounts × events_per_account
)

var (
	reAccountID = regexp.MustCompile(`^[0-9]{12}$`)
	reOrgID     = regexp.MustCompile(`^o-[a-z0-9]{10,32}$`)
	reOUID      = regexp.MustCompile(`^ou-[a-z0-9]{4,32}-[a-z0-9]{8,32}$`)
	reKeyID     = regexp.MustCompile(`^AKIA[A-Z0-9]{12,124}$`)
	reIAMName   = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
	reLongName  = regexp.MustCompile(`^[\w+=,.@-]{1,128}$`) // policies, groups, certificates
	reRoleName  = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
	rePath      = regexp.MustCompile(`^/([\x21-\x7e]{0,510}/)?$`)
	rePolicyRef = regexp.MustCompile(`^[\w+=,.@/-]{1,256}$`)
	reTagKey    = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$`)
)

var (
	partitions    = []string{"aws", "aws-us-gov", "aws-cn"}
	accountStates = []string{StateActive, StateSuspended, StatePendingClosure, StateClosed}
	roleStates    = []string{RolePresent, RoleMissing, RoleUntrusted}
	mfaTypes      = []string{MFAVirtual, MFAHardware, MFAFIDO}
	rootMFATypes  = []string{MFANone, MFAVirtual, MFAHardware, MFAFIDO}
	keyStatuses   = []string{KeyActive, KeyInactive, KeyExpired}
	loginResults  = []string{LoginSuccess, LoginFailure}
	knobServices  = []string{"iam", "sts", "organizations", "cloudtrail", "securityhub", "s3", "sns"}
	faultErrors   = []string{"drop", "slow", FaultRepeatToken}
)

// validator collects problems with their document paths.
type validator struct {
	problems []problem
	keyIDs   map[string][]any // access key id -> path of its first use
}

func (v *validator) addf(path []any, format string, args ...any) {
	v.problems = append(v.problems, problem{path: slices.Clone(path), msg: fmt.Sprintf(format, args...)})
}

// at builds a child path without aliasing the parent's backing array.
func at(path []any, elems ...any) []any {
	return append(slices.Clone(path), elems...)
}

// validate checks a decoded scenario; it does not modify it.
func validate(s *Scenario) []problem {
	v := &validator{keyIDs: map[string][]any{}}
	partition := s.Organization.Partition
	if partition == "" {
		partition = "aws"
	}
	if s.Now != nil && s.Now.IsRel {
		v.addf([]any{"now"}, "now must be an absolute date such as \"2026-03-01 12:00:00\" (it fixes the sandbox clock)")
	}
	ous := v.organization(s)
	ids := map[string]int{}
	for i := range s.Accounts {
		a := &s.Accounts[i]
		p := []any{"accounts", i}
		if j, dup := ids[a.ID]; dup && a.ID != "" {
			v.addf(at(p, "id"), "account %q: id %q is already used by account %q", a.Name, a.ID, s.Accounts[j].Name)
		} else {
			ids[a.ID] = i
		}
		v.account(p, a, partition, ous)
	}
	o := s.Organization
	if o.ManagementAccountID == "" {
		v.addf([]any{"organization"}, "organization: management_account_id is required: the id of one of the accounts")
	} else if _, ok := ids[o.ManagementAccountID]; !ok {
		v.addf([]any{"organization", "management_account_id"}, "organization: management_account_id %q is not one of the accounts: add it under accounts", o.ManagementAccountID)
	}
	if _, ok := ids[o.CallerAccountID]; o.CallerAccountID != "" && !ok {
		v.addf([]any{"organization", "caller_account_id"}, "organization: caller_account_id %q is not one of the accounts", o.CallerAccountID)
	}
	delegated := map[string]bool{}
	for i, id := range o.DelegatedAdministrators {
		q := []any{"organization", "delegated_administrators", i}
		_, ok := ids[id]
		switch {
		case !ok:
			v.addf(q, "organization: delegated administrator %q is not one of the accounts", id)
		case id == o.ManagementAccountID:
			v.addf(q, "organization: delegated administrator %q is the management account: only member accounts are delegated administrators", id)
		case delegated[id]:
			v.addf(q, "organization: delegated administrator %q listed twice", id)
		}
		delegated[id] = true
	}
	if o.AccessKeyID != "" {
		if prev, dup := v.keyIDs[o.AccessKeyID]; dup && !v.callerKey(s, prev) {
			v.addf([]any{"organization", "access_key_id"}, "organization: access_key_id %q is also used by another key", o.AccessKeyID)
		}
	}
	v.knobs(&s.Knobs)
	if g := s.Generator; g != nil {
		v.generator(g)
	}
	return v.problems
}

// callerKey reports whether the key at path is the caller's own key, listed as a key
// of the caller's user in the caller's account (allowed to repeat access_key_id).
func (v *validator) callerKey(s *Scenario, path []any) bool {
	if len(path) < 5 || path[0] != "accounts" || path[2] != "users" {
		return false
	}
	a := s.Accounts[path[1].(int)]
	u := a.Users[path[3].(int)]
	return a.ID == s.CallerAccount() && u.Name == s.callerName()
}

// CallerAccount is the account of the caller: caller_account_id, else the management account.
func (s *Scenario) CallerAccount() string {
	if s.Organization.CallerAccountID != "" {
		return s.Organization.CallerAccountID
	}
	return s.Organization.ManagementAccountID
}

func (s *Scenario) callerName() string {
	if s.Organization.CallerName == "" {
		return defaultCallerName
	}
	return s.Organization.CallerName
}

// organization checks the organization section and returns the OU names.
func (v *validator) organization(s *Scenario) map[string]bool {
	o := &s.Organization
	p := []any{"organization"}
	if o.Partition != "" && !slices.Contains(partitions, o.Partition) {
		v.addf(at(p, "partition"), "organization: partition %q must be one of %s", o.Partition, strings.Join(partitions, ", "))
	}
	if o.ID != "" && !reOrgID.MatchString(o.ID) {
		v.addf(at(p, "id"), "organization: id %q must look like o-a1b2c3d4e5 (o- and 10 to 32 lower-case letters or digits)", o.ID)
	}
	if o.AccessKeyID != "" && !reKeyID.MatchString(o.AccessKeyID) {
		v.addf(at(p, "access_key_id"), "organization: access_key_id %q must be AKIA followed by upper-case letters and digits (20 characters in all, as AKIAIOSFODNN7SANDBOX)", o.AccessKeyID)
	}
	if (o.AccessKeyID == "") != (o.SecretAccessKey == "") {
		v.addf(p, "organization: set access_key_id and secret_access_key together (or neither, to have them generated)")
	}
	if o.CallerName != "" && !reIAMName.MatchString(o.CallerName) {
		v.addf(at(p, "caller_name"), "organization: caller_name %q is not a valid IAM user name", o.CallerName)
	}
	for i, name := range o.ReadOnlyRoles {
		if !reRoleName.MatchString(name) {
			v.addf(at(p, "read_only_roles", i), "organization: read_only_roles: %q is not a valid IAM role name", name)
		}
	}
	names := map[string]bool{}
	ouIDs := map[string]bool{}
	for i, ou := range o.OUs {
		q := at(p, "ous", i)
		switch {
		case strings.TrimSpace(ou.Name) == "":
			v.addf(q, "ou %d: name is required", i+1)
		case names[ou.Name]:
			v.addf(at(q, "name"), "ou %q: name used twice: OU names must be unique in a scenario", ou.Name)
		}
		names[ou.Name] = true
		if ou.ID != "" {
			if !reOUID.MatchString(ou.ID) {
				v.addf(at(q, "id"), "ou %q: id %q must look like ou-ab12-cd34ef56", ou.Name, ou.ID)
			} else if ouIDs[ou.ID] {
				v.addf(at(q, "id"), "ou %q: id %q used twice", ou.Name, ou.ID)
			}
			ouIDs[ou.ID] = true
		}
	}
	parent := map[string]string{}
	for i, ou := range o.OUs {
		if ou.Parent == "" {
			continue
		}
		if !names[ou.Parent] {
			v.addf(at(p, "ous", i, "parent"), "ou %q: parent %q is not an OU: define it under organization.ous", ou.Name, ou.Parent)
			continue
		}
		parent[ou.Name] = ou.Parent
	}
	for i, ou := range o.OUs {
		seen := map[string]bool{ou.Name: true}
		for cur := parent[ou.Name]; cur != ""; cur = parent[cur] {
			if seen[cur] {
				v.addf(at(p, "ous", i, "parent"), "ou %q: parents form a cycle", ou.Name)
				break
			}
			seen[cur] = true
		}
	}
	return names
}

func (v *validator) account(p []any, a *Account, partition string, ous map[string]bool) {
	label := fmt.Sprintf("account %q", a.Name)
	if a.Name == "" {
		label = fmt.Sprintf("account %q", a.ID)
		v.addf(p, "%s: name is required", label)
	}
	if !reAccountID.MatchString(a.ID) {
		v.addf(at(p, "id"), "%s: id %q must be 12 digits", label, a.ID)
	}
	if a.State != "" && !slices.Contains(accountStates, a.State) {
		v.addf(at(p, "state"), "%s: state %q must be one of %s", label, a.State, strings.Join(accountStates, ", "))
	}
	if a.OU != "" && !ous[a.OU] {
		v.addf(at(p, "ou"), "%s: ou %q is not defined under organization.ous", label, a.OU)
	}
	for _, name := range sortedKeys(a.AuditRoles) {
		st := a.AuditRoles[name]
		if _, _, ok := SplitRole(name); !ok {
			v.addf(at(p, "audit_roles", name), "%s: audit role name %q is not a valid IAM role name (with an optional path: /security/IAMAuditRole)", label, name)
		}
		if !slices.Contains(roleStates, st) {
			v.addf(at(p, "audit_roles", name), "%s: audit role %q: state %q must be one of %s", label, name, st, strings.Join(roleStates, ", "))
		}
	}
	custom := map[string]bool{}
	for i, pol := range a.Policies {
		q := at(p, "policies", i)
		switch {
		case !reLongName.MatchString(pol.Name):
			v.addf(at(q, "name"), "%s: policy name %q is not a valid IAM policy name", label, pol.Name)
		case custom[pol.Name]:
			v.addf(at(q, "name"), "%s: policy %q defined twice", label, pol.Name)
		}
		custom[pol.Name] = true
		v.document(at(q, "document"), fmt.Sprintf("%s: policy %q", label, pol.Name), pol.Document, true)
	}
	v.root(at(p, "root"), label, &a.Root)
	if pp := a.PasswordPolicy; pp != nil {
		q := at(p, "password_policy")
		if pp.MinimumPasswordLength < 6 || pp.MinimumPasswordLength > 128 {
			v.addf(at(q, "minimum_password_length"), "%s: password_policy: minimum_password_length %d must be between 6 and 128", label, pp.MinimumPasswordLength)
		}
		if pp.PasswordReusePrevention < 0 || pp.PasswordReusePrevention > 24 {
			v.addf(at(q, "password_reuse_prevention"), "%s: password_policy: password_reuse_prevention %d must be between 0 and 24", label, pp.PasswordReusePrevention)
		}
		if pp.MaxPasswordAge < 0 || pp.MaxPasswordAge > 1095 {
			v.addf(at(q, "max_password_age"), "%s: password_policy: max_password_age %d must be between 0 (never expires) and 1095 days", label, pp.MaxPasswordAge)
		}
	}
	groups := map[string]bool{}
	for i, g := range a.Groups {
		q := at(p, "groups", i)
		gl := fmt.Sprintf("%s: group %q", label, g.Name)
		switch {
		case !reLongName.MatchString(g.Name):
			v.addf(at(q, "name"), "%s: group name %q is not a valid IAM group name", label, g.Name)
		case groups[g.Name]:
			v.addf(at(q, "name"), "%s: defined twice", gl)
		}
		groups[g.Name] = true
		v.policies(q, gl, g.AttachedPolicies, g.InlinePolicies, partition, a.ID, custom)
	}
	users := map[string]bool{}
	for i := range a.Users {
		u := &a.Users[i]
		q := at(p, "users", i)
		ul := fmt.Sprintf("%s: user %q", label, u.Name)
		switch {
		case !reIAMName.MatchString(u.Name):
			v.addf(at(q, "name"), "%s: user name %q must be 1 to 64 letters, digits or +=,.@_-", label, u.Name)
		case users[strings.ToLower(u.Name)]:
			v.addf(at(q, "name"), "%s: user name used twice in the account (IAM names are case-insensitive)", ul)
		}
		users[strings.ToLower(u.Name)] = true
		v.user(q, ul, u, groups, partition, a.ID, custom)
	}
	roles := map[string]bool{}
	for i, r := range a.Roles {
		q := at(p, "roles", i)
		rl := fmt.Sprintf("%s: role %q", label, r.Name)
		switch {
		case !reRoleName.MatchString(r.Name):
			v.addf(at(q, "name"), "%s: role name %q is not a valid IAM role name", label, r.Name)
		case roles[strings.ToLower(r.Name)]:
			v.addf(at(q, "name"), "%s: defined twice", rl)
		}
		roles[strings.ToLower(r.Name)] = true
		if r.Path != "" && !rePath.MatchString(r.Path) {
			v.addf(at(q, "path"), "%s: path %q must start and end with /", rl, r.Path)
		}
		if r.LastUsedRegion != "" && r.LastUsed == nil {
			v.addf(at(q, "last_used_region"), "%s: last_used_region needs last_used", rl)
		}
		v.order(at(q, "last_used"), rl, "last_used", r.CreatedAt, r.LastUsed)
		v.policies(q, rl, r.AttachedPolicies, r.InlinePolicies, partition, a.ID, custom)
		if r.TrustPolicy != "" {
			v.document(at(q, "trust_policy"), rl+": trust_policy", r.TrustPolicy, false)
		}
	}
	certs := map[string]bool{}
	for i, c := range a.ServerCertificates {
		q := at(p, "server_certificates", i)
		switch {
		case !reLongName.MatchString(c.Name):
			v.addf(at(q, "name"), "%s: server certificate name %q is not valid", label, c.Name)
		case certs[c.Name]:
			v.addf(at(q, "name"), "%s: server certificate %q defined twice", label, c.Name)
		}
		certs[c.Name] = true
		if c.Expiration == nil {
			v.addf(q, "%s: server certificate %q: expiration is required", label, c.Name)
		}
		v.order(at(q, "expiration"), fmt.Sprintf("%s: server certificate %q", label, c.Name), "expiration", c.UploadedAt, c.Expiration)
	}
	for i, e := range a.Events {
		q := at(p, "events", i)
		if e.Time == nil {
			v.addf(q, "%s: event %d: time is required", label, i+1)
		}
		if strings.TrimSpace(e.Name) == "" {
			v.addf(q, "%s: event %d: name is required (the CloudTrail eventName, such as CreateAccessKey)", label, i+1)
		}
		switch {
		case e.Result != "" && e.Name != "ConsoleLogin":
			v.addf(at(q, "result"), "%s: event %d: result is for ConsoleLogin events only", label, i+1)
		case e.Result != "" && !slices.Contains(loginResults, e.Result):
			v.addf(at(q, "result"), "%s: event %d: result %q must be Success or Failure", label, i+1, e.Result)
		}
		if e.MFAUsed && e.Name != "ConsoleLogin" {
			v.addf(at(q, "mfa_used"), "%s: event %d: mfa_used is for ConsoleLogin events only", label, i+1)
		}
		if _, err := netip.ParseAddr(e.SourceIP); e.SourceIP != "" && err != nil {
			v.addf(at(q, "source_ip"), "%s: event %d: source_ip %q is not an IP address", label, i+1, e.SourceIP)
		}
	}
	if r := a.CredentialReport; r != nil && r.GeneratedAt == nil {
		v.addf(at(p, "credential_report"), "%s: credential_report: generated_at is required (when the existing report was generated, such as -2h)", label)
	}
	for i := range a.Changes {
		v.change(at(p, "changes", i), fmt.Sprintf("%s: change %d", label, i+1), &a.Changes[i])
	}
}

// change checks one of an account's changes; whether its user, key or device exists
// at its time is checked when the sandbox applies it.
func (v *validator) change(p []any, label string, c *Change) {
	if c.Time == nil {
		v.addf(p, "%s: time is required", label)
	}
	if !slices.Contains(ChangeActions, c.Action) {
		v.addf(at(p, "action"), "%s: action %q must be one of %s", label, c.Action, strings.Join(ChangeActions, ", "))
		return
	}
	onRole := c.Action == ChangeCreateRole || c.Action == ChangeUseRole
	switch {
	case onRole && c.User != "":
		v.addf(at(p, "user"), "%s: %s changes no user: remove user (role names the role)", label, c.Action)
	case !onRole && !reIAMName.MatchString(c.User):
		v.addf(at(p, "user"), "%s: user %q must be an IAM user name", label, c.User)
	}
	if c.By != "" && !reIAMName.MatchString(c.By) {
		v.addf(at(p, "by"), "%s: by %q must be an IAM user name", label, c.By)
	}
	switch c.Action {
	case ChangeDeleteAccessKey, ChangeUpdateAccessKey:
		if c.KeyID == "" {
			v.addf(p, "%s: %s needs key_id: the key it changes", label, c.Action)
		}
	case ChangeUseAccessKey:
		if c.KeyID == "" {
			v.addf(p, "%s: UseAccessKey needs key_id: the key used", label)
		}
	case ChangeRemoveUserFromGroup:
		if !reIAMName.MatchString(c.Group) {
			v.addf(at(p, "group"), "%s: RemoveUserFromGroup needs group: the group's name (got %q)", label, c.Group)
		}
	case ChangeCreateRole:
		if _, _, ok := SplitRole(c.Role); !ok {
			v.addf(at(p, "role"), "%s: CreateRole needs role: a role name with an optional path, as IAMAuditRole or /security/IAMAuditRole (got %q)", label, c.Role)
		}
	case ChangeUseRole:
		if !reRoleName.MatchString(c.Role) {
			v.addf(at(p, "role"), "%s: UseRole needs role: the role's name (got %q)", label, c.Role)
		}
	}
	if c.Group != "" && c.Action != ChangeRemoveUserFromGroup {
		v.addf(at(p, "group"), "%s: group is for RemoveUserFromGroup only", label)
	}
	if c.Role != "" && !onRole {
		v.addf(at(p, "role"), "%s: role is for CreateRole and UseRole only", label)
	}
	switch {
	case c.Service != "" && c.Action != ChangeUseAccessKey:
		v.addf(at(p, "service"), "%s: service is for UseAccessKey only", label)
	case c.Region != "" && c.Action != ChangeUseAccessKey && c.Action != ChangeUseRole:
		v.addf(at(p, "region"), "%s: region is for UseAccessKey and UseRole only", label)
	}
	if c.Region != "" && !reRegion.MatchString(c.Region) {
		v.addf(at(p, "region"), "%s: region %q is not a region name such as eu-west-1", label, c.Region)
	}
	v.repeat(p, label, c)
	if c.KeyID != "" && !reKeyID.MatchString(c.KeyID) {
		v.addf(at(p, "key_id"), "%s: key_id %q must be AKIA followed by upper-case letters and digits", label, c.KeyID)
	}
	if c.KeyID != "" && c.Action == ChangeCreateAccessKey {
		if prev, dup := v.keyIDs[c.KeyID]; dup {
			v.addf(at(p, "key_id"), "%s: key_id %q is already used at %s", label, c.KeyID, pathString(prev))
		} else {
			v.keyIDs[c.KeyID] = p
		}
	}
	if c.Action == ChangeUpdateAccessKey && !slices.Contains(keyStatuses, c.Status) {
		v.addf(at(p, "status"), "%s: UpdateAccessKey needs status Active or Inactive, not %q", label, c.Status)
	}
	switch {
	case c.Action == ChangeEnableMFADevice && c.MFA == nil:
		v.addf(p, "%s: EnableMFADevice needs mfa: {type: virtual, hardware or fido}", label)
	case c.Action == ChangeEnableMFADevice && !slices.Contains(mfaTypes, c.MFA.Type):
		v.addf(at(p, "mfa", "type"), "%s: mfa type %q must be one of %s", label, c.MFA.Type, strings.Join(mfaTypes, ", "))
	case c.Action == ChangeEnableMFADevice && c.MFA.Serial != "":
		if msg := checkSerial(c.MFA.Type, c.MFA.Serial); msg != "" {
			v.addf(at(p, "mfa", "serial"), "%s: %s", label, msg)
		}
	}
}

var reRegion = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)

// repeat checks a change's every and until.
func (v *validator) repeat(p []any, label string, c *Change) {
	if c.Every.Duration == 0 {
		if c.Until != nil {
			v.addf(at(p, "until"), "%s: until ends the repetitions of every: set every too, or remove until", label)
		}
		return
	}
	if !slices.Contains(RepeatableActions, c.Action) {
		v.addf(at(p, "every"), "%s: every repeats a use (%s); %s is an IAM write, made once", label, strings.Join(RepeatableActions, ", "), c.Action)
		return
	}
	if c.Every.Duration < MinEvery {
		v.addf(at(p, "every"), "%s: every %s is shorter than %s", label, c.Every, MinEvery)
	}
	if u, t := c.Until, c.Time; u != nil && t != nil && u.IsRel == t.IsRel && (u.IsRel && u.Rel < t.Rel || !u.IsRel && u.Abs.Before(t.Abs)) {
		v.addf(at(p, "until"), "%s: until %s is before time %s", label, u, t)
	}
}

// SplitRole splits an audit role reference into its IAM path and name:
// "IAMAuditRole" is ("/", "IAMAuditRole"), "security/IAMAuditRole" and
// "/security/IAMAuditRole" are ("/security/", "IAMAuditRole"). ok is false when the
// name or the path breaks IAM's rules.
func SplitRole(ref string) (path, name string, ok bool) {
	i := strings.LastIndex(ref, "/")
	name, path = ref[i+1:], "/"
	if i >= 0 {
		path = ref[:i+1]
		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
	}
	return path, name, reRoleName.MatchString(name) && len(path) <= 512 && rePath.MatchString(path)
}

func (v *validator) root(p []any, label string, r *Root) {
	if r.MFA != "" && !slices.Contains(rootMFATypes, r.MFA) {
		v.addf(at(p, "mfa"), "%s: root: mfa %q must be one of %s", label, r.MFA, strings.Join(rootMFATypes, ", "))
	}
	if len(r.AccessKeys) > 2 {
		v.addf(at(p, "access_keys", 2), "%s: root: at most 2 access keys (IAM's limit), found %d", label, len(r.AccessKeys))
	}
	for i := range r.AccessKeys {
		v.key(at(p, "access_keys", i), fmt.Sprintf("%s: root: access key %d", label, i+1), &r.AccessKeys[i], r.CreatedAt)
	}
	v.slots(at(p, "access_keys"), label+": root", r.AccessKeys)
	if !r.HasPassword() && r.PasswordLastUsed != nil {
		v.addf(at(p, "password_last_used"), "%s: root: password_last_used needs a password (remove password: false or the date)", label)
	}
}

// slots checks that an owner's keys occupy distinct credential report slots, 1 or 2.
func (v *validator) slots(p []any, label string, keys []Key) {
	used := map[int]bool{}
	for i, k := range keys {
		switch {
		case k.Slot < 0 || k.Slot > 2:
			v.addf(at(p, i, "slot"), "%s: access key %d: slot %d must be 1 or 2", label, i+1, k.Slot)
		case k.Slot != 0 && used[k.Slot]:
			v.addf(at(p, i, "slot"), "%s: access key %d: slot %d is already taken", label, i+1, k.Slot)
		}
		used[k.Slot] = true
	}
}

func (v *validator) user(p []any, label string, u *User, groups map[string]bool, partition, acct string, custom map[string]bool) {
	if u.Path != "" && !rePath.MatchString(u.Path) {
		v.addf(at(p, "path"), "%s: path %q must start and end with /", label, u.Path)
	}
	for _, k := range sortedKeys(u.Tags) {
		if !reTagKey.MatchString(k) || strings.HasPrefix(strings.ToLower(k), "aws:") {
			v.addf(at(p, "tags", k), "%s: tag key %q is not valid", label, k)
		}
		if len(u.Tags[k]) > 256 {
			v.addf(at(p, "tags", k), "%s: tag %q: value longer than 256 characters", label, k)
		}
	}
	if len(u.Tags) > 50 {
		v.addf(at(p, "tags"), "%s: at most 50 tags", label)
	}
	seenGroups := map[string]bool{}
	for i, g := range u.Groups {
		if !groups[g] {
			v.addf(at(p, "groups", i), "%s: group %q is not defined in the account's groups", label, g)
		}
		if seenGroups[g] {
			v.addf(at(p, "groups", i), "%s: group %q listed twice", label, g)
		}
		seenGroups[g] = true
	}
	v.policies(p, label, u.AttachedPolicies, u.InlinePolicies, partition, acct, custom)
	if pw := u.Password; pw != nil {
		v.order(at(p, "password", "created_at"), label+": password", "created_at", u.CreatedAt, pw.CreatedAt)
		v.order(at(p, "password", "last_used"), label+": password", "last_used", firstNonNil(pw.CreatedAt, u.CreatedAt), pw.LastUsed)
	}
	if len(u.MFA) > 8 {
		v.addf(at(p, "mfa", 8), "%s: at most 8 MFA devices (IAM's limit), found %d", label, len(u.MFA))
	}
	serials := map[string]bool{}
	for i, d := range u.MFA {
		q := at(p, "mfa", i)
		if !slices.Contains(mfaTypes, d.Type) {
			v.addf(at(q, "type"), "%s: mfa %d: type %q must be one of %s", label, i+1, d.Type, strings.Join(mfaTypes, ", "))
			continue
		}
		if d.Serial != "" {
			if serials[d.Serial] {
				v.addf(at(q, "serial"), "%s: mfa serial %q used twice", label, d.Serial)
			}
			serials[d.Serial] = true
			if msg := checkSerial(d.Type, d.Serial); msg != "" {
				v.addf(at(q, "serial"), "%s: mfa %d: %s", label, i+1, msg)
			}
		}
		v.order(at(q, "enabled_at"), fmt.Sprintf("%s: mfa %d", label, i+1), "enabled_at", u.CreatedAt, d.EnabledAt)
	}
	if len(u.AccessKeys) > 2 {
		v.addf(at(p, "access_keys", 2), "%s: at most 2 access keys (IAM's limit), found %d", label, len(u.AccessKeys))
	}
	for i := range u.AccessKeys {
		v.key(at(p, "access_keys", i), fmt.Sprintf("%s: access key %d", label, i+1), &u.AccessKeys[i], u.CreatedAt)
	}
	v.slots(at(p, "access_keys"), label, u.AccessKeys)
}

// checkSerial returns what is wrong with an MFA serial of the given type, or "".
func checkSerial(typ, serial string) string {
	switch typ {
	case MFAVirtual:
		if !strings.HasPrefix(serial, "arn:") || !strings.Contains(serial, ":mfa/") {
			return fmt.Sprintf("virtual serial %q must be an ARN such as arn:aws:iam::123456789012:mfa/john.doe", serial)
		}
	case MFAFIDO:
		if !strings.HasPrefix(serial, "arn:") || !strings.Contains(serial, ":u2f/") {
			return fmt.Sprintf("fido serial %q must be an ARN such as arn:aws:iam::123456789012:u2f/user/john.doe/key-ABC", serial)
		}
	case MFAHardware:
		if strings.HasPrefix(serial, "arn:") || strings.ContainsAny(serial, " \t/") || len(serial) > 64 {
			return fmt.Sprintf("hardware serial %q must be a plain token serial such as GAHT12345678", serial)
		}
	}
	return ""
}

func (v *validator) key(p []any, label string, k *Key, owner *Date) {
	if k.ID != "" {
		if !reKeyID.MatchString(k.ID) {
			v.addf(at(p, "id"), "%s: id %q must be AKIA followed by upper-case letters and digits (20 characters, as AKIAIOSFODNN7EXAMPLE)", label, k.ID)
		} else if prev, dup := v.keyIDs[k.ID]; dup {
			v.addf(at(p, "id"), "%s: id %q is already used at %s", label, k.ID, pathString(prev))
		} else {
			v.keyIDs[k.ID] = p
		}
	}
	if k.Status != "" && !slices.Contains(keyStatuses, k.Status) {
		v.addf(at(p, "status"), "%s: status %q must be Active, Inactive or Expired", label, k.Status)
	}
	if k.ReportLastRotatedNA && (k.Status == "" || k.Status == KeyActive) {
		v.addf(at(p, "report_last_rotated_na"), "%s: report_last_rotated_na is for a key that is not Active (AWS shows an active key's last_rotated)", label)
	}
	if k.LastUsed == nil && (k.Service != "" || k.Region != "") {
		v.addf(at(p, "service"), "%s: service and region describe the last use: set last_used too (or remove them for a never-used key)", label)
	}
	v.order(at(p, "created_at"), label, "created_at", owner, k.CreatedAt)
	v.order(at(p, "last_used"), label, "last_used", firstNonNil(k.CreatedAt, owner), k.LastUsed)
}

// order reports a later date that is before an earlier one, when both are of the
// same kind (two relative or two absolute dates compare without a clock).
func (v *validator) order(p []any, label, field string, earlier, later *Date) {
	if earlier == nil || later == nil || earlier.IsRel != later.IsRel {
		return
	}
	if later.IsRel && later.Rel < earlier.Rel || !later.IsRel && later.Abs.Before(earlier.Abs) {
		v.addf(p, "%s: %s %s is before the creation (%s)", label, field, later, earlier)
	}
}

func (v *validator) policies(p []any, label string, attached []string, inline map[string]string, partition, acct string, custom map[string]bool) {
	seen := map[string]bool{}
	for i, ref := range attached {
		arn, err := policyARN(ref, partition, acct, custom)
		if err != nil {
			v.addf(at(p, "attached_policies", i), "%s: %v", label, err)
			continue
		}
		if seen[arn] {
			v.addf(at(p, "attached_policies", i), "%s: policy %q attached twice", label, ref)
		}
		seen[arn] = true
	}
	for _, name := range sortedKeys(inline) {
		if !reLongName.MatchString(name) {
			v.addf(at(p, "inline_policies", name), "%s: inline policy name %q is not valid", label, name)
		}
		v.document(at(p, "inline_policies", name), fmt.Sprintf("%s: inline policy %q", label, name), inline[name], true)
	}
}

// document checks that a policy document is a JSON object with a Statement.
func (v *validator) document(p []any, label, doc string, permissions bool) {
	var d struct {
		Statement json.RawMessage `json:"Statement"`
	}
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		v.addf(p, "%s: document is not valid JSON: %v", label, err)
		return
	}
	if len(d.Statement) == 0 && permissions {
		v.addf(p, "%s: document has no Statement", label)
	}
}

// policyARN resolves an attached policy reference: an ARN, the name of one of the
// account's customer managed policies, or the name of an AWS managed policy.
func policyARN(ref, partition, acct string, custom map[string]bool) (string, error) {
	if strings.HasPrefix(ref, "arn:") {
		prefix := "arn:" + partition + ":iam::"
		rest, ok := strings.CutPrefix(ref, prefix)
		if !ok {
			return "", fmt.Errorf("policy ARN %q must start with %s", ref, prefix)
		}
		owner, name, ok := strings.Cut(rest, ":policy/")
		if !ok || name == "" || !rePolicyRef.MatchString(name) {
			return "", fmt.Errorf("policy ARN %q must look like %saws:policy/ReadOnlyAccess", ref, prefix)
		}
		switch owner {
		case "aws":
			return ref, nil
		case acct:
			base := name[strings.LastIndexByte(name, '/')+1:]
			if !custom[base] {
				return "", fmt.Errorf("policy %q is not one of the account's policies: define it under policies", ref)
			}
			return ref, nil
		}
		return "", fmt.Errorf("policy ARN %q belongs to account %s: attach AWS managed policies or this account's own", ref, owner)
	}
	if !rePolicyRef.MatchString(ref) {
		return "", fmt.Errorf("policy %q is neither an ARN nor a policy name", ref)
	}
	if custom[ref] {
		return "arn:" + partition + ":iam::" + acct + ":policy/" + ref, nil
	}
	return "arn:" + partition + ":iam::aws:policy/" + ref, nil
}

func (v *validator) knobs(k *Knobs) {
	p := []any{"knobs"}
	for _, svc := range sortedKeys(k.Latency) {
		if svc != "*" && !slices.Contains(knobServices, svc) {
			v.addf(at(p, "latency", svc), "knobs: latency: service %q must be one of %s or *", svc, strings.Join(knobServices, ", "))
		}
	}
	for _, fam := range sortedKeys(k.RateLimits) {
		if !slices.Contains(knobServices, fam) {
			v.addf(at(p, "rate_limits", fam), "knobs: rate_limits: family %q must be one of %s", fam, strings.Join(knobServices, ", "))
		}
		if r := k.RateLimits[fam]; r < 0 || r != r {
			v.addf(at(p, "rate_limits", fam), "knobs: rate_limits: %s must be 0 (no limit) or more requests per second", fam)
		}
	}
	if k.PageCap < 0 {
		v.addf(at(p, "page_cap"), "knobs: page_cap %d must be 0 (no cap) or more", k.PageCap)
	}
	if k.CloudTrailDelay.Duration < 0 {
		v.addf(at(p, "cloudtrail_delay"), "knobs: cloudtrail_delay %s must be 0 (at once) or more", k.CloudTrailDelay.Duration)
	}
	for i, f := range k.Faults {
		q := at(p, "faults", i)
		label := fmt.Sprintf("knobs: fault %d", i+1)
		if f.Account != "" && !reAccountID.MatchString(f.Account) {
			v.addf(at(q, "account"), "%s: account %q must be 12 digits", label, f.Account)
		}
		if f.Service != "" && !slices.Contains(knobServices, f.Service) {
			v.addf(at(q, "service"), "%s: service %q must be one of %s", label, f.Service, strings.Join(knobServices, ", "))
		}
		switch {
		case f.Error == "":
			v.addf(q, "%s: error is required: an AWS error code (Throttling, AccessDenied…), drop, slow or %s", label, FaultRepeatToken)
		case f.Error == "slow" && f.Delay.Duration <= 0:
			v.addf(at(q, "delay"), "%s: a slow fault needs a delay such as \"5s\"", label)
		case !slices.Contains(faultErrors, f.Error) && !reErrorCode.MatchString(f.Error):
			v.addf(at(q, "error"), "%s: error %q is not an AWS error code", label, f.Error)
		}
		if f.Rate < 0 || f.Rate > 1 || f.Rate != f.Rate {
			v.addf(at(q, "rate"), "%s: rate %v must be between 0 and 1", label, f.Rate)
		}
		if f.Count < 0 {
			v.addf(at(q, "count"), "%s: count %d must be 0 (unlimited) or more", label, f.Count)
		}
	}
}

var reErrorCode = regexp.MustCompile(`^[A-Z][A-Za-z0-9.]{1,63}$`)

func (v *validator) generator(g *Generator) {
	p := []any{"generator"}
	for _, f := range []struct {
		name string
		n    int
	}{{"accounts", g.Accounts}, {"users_per_account", g.UsersPerAccount}, {"events_per_account", g.EventsPerAccount}, {"missing_role_every", g.MissingRoleEvery}} {
		if f.n < 0 {
			v.addf(at(p, f.name), "generator: %s %d must not be negative", f.name, f.n)
		}
	}
	if g.Accounts > maxGeneratedAccounts {
		v.addf(at(p, "accounts"), "generator: accounts %d is more than %d", g.Accounts, maxGeneratedAccounts)
	} else if g.Accounts > 0 && g.UsersPerAccount > maxGeneratedUsers/g.Accounts {
		v.addf(at(p, "users_per_account"), "generator: %d accounts × %d users is more than %d users", g.Accounts, g.UsersPerAccount, maxGeneratedUsers)
	} else if g.Accounts > 0 && g.EventsPerAccount > maxGeneratedEvents/g.Accounts {
		v.addf(at(p, "events_per_account"), "generator: %d accounts × %d events is more than %d events", g.Accounts, g.EventsPerAccount, maxGeneratedEvents)
	}
}

func pathString(p []any) string {
	var b strings.Builder
	for i, e := range p {
		switch x := e.(type) {
		case int:
			fmt.Fprintf(&b, "[%d]", x)
		default:
			if i > 0 {
				b.WriteByte('.')
			}
			fmt.Fprint(&b, x)
		}
	}
	return b.String()
}

func firstNonNil(ds ...*Date) *Date {
	for _, d := range ds {
		if d != nil {
			return d
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
