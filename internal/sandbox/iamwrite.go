package sandbox

import (
	"encoding/base32"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/iamaudit/iamaudit/internal/scenario"
)

var iamWrites = map[string]func(c *call, a *account, b *xw) *apiError{
	"CreateUser":             (*call).createUser,
	"DeleteUser":             userWrite((*call).deleteUser),
	"TagUser":                userWrite((*call).tagUser),
	"CreateLoginProfile":     userWrite((*call).createLoginProfile),
	"UpdateLoginProfile":     userWrite((*call).updateLoginProfile),
	"DeleteLoginProfile":     userWrite((*call).deleteLoginProfile),
	"CreateAccessKey":        (*call).createAccessKey,
	"UpdateAccessKey":        (*call).updateAccessKey,
	"DeleteAccessKey":        (*call).deleteAccessKey,
	"CreateVirtualMFADevice": (*call).createVirtualMFADevice,
	"EnableMFADevice":        userWrite((*call).enableMFADevice),
	"DeactivateMFADevice":    userWrite((*call).deactivateMFADevice),
	"DeleteVirtualMFADevice": (*call).deleteVirtualMFADevice,
	"PutUserPolicy":          userWrite((*call).putUserPolicy),
	"DeleteUserPolicy":       userWrite((*call).deleteUserPolicy),
	"AttachUserPolicy":       userWrite((*call).attachUserPolicy),
	"DetachUserPolicy":       userWrite((*call).detachUserPolicy),
	"AddUserToGroup":         userWrite((*call).addUserToGroup),
	"RemoveUserFromGroup":    userWrite((*call).removeUserFromGroup),
	"CreateGroup":            (*call).createGroup,
	"CreateRole":             (*call).createRole,
}

// userWrite is the handler of a write on the user that UserName names: it finds the
// user (ValidationError without UserName, NoSuchEntity when absent), applies fn, and
// records the CloudTrail event when fn succeeds.
func userWrite(fn func(c *call, a *account, u *user, b *xw) *apiError) func(c *call, a *account, b *xw) *apiError {
	return func(c *call, a *account, b *xw) *apiError {
		u, err := c.namedUser(a)
		if err != nil {
			return err
		}
		if err := fn(c, a, u, b); err != nil {
			return err
		}
		c.recordWrite(a)
		return nil
	}
}

// without returns list without its first item that match selects (a new slice: the
// old one may be shared), and whether there was one.
func without[T any](list []T, match func(T) bool) ([]T, bool) {
	for i, x := range list {
		if match(x) {
			return append(list[:i:i], list[i+1:]...), true
		}
	}
	return list, false
}

func equal[T comparable](v T) func(T) bool { return func(x T) bool { return x == v } }

var userNameRe = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)

// recordWrite adds the CloudTrail event of a successful IAM write (caller holds the
// account's write lock). Resources come from the request's parameters plus extra.
func (c *call) recordWrite(a *account, extra ...eventResource) {
	e := &event{time: c.now, name: c.op, source: "iam.amazonaws.com", username: c.cred.Name,
		userArn: c.cred.Arn, accessKeyID: c.cred.AccessKeyID, region: c.s.org.homeRegion, params: map[string]any{},
		response: c.respElems}
	switch c.cred.Kind {
	case principalSession:
		e.userType = "AssumedRole"
	default:
		e.userType = "IAMUser"
	}
	for _, k := range sortedKeys(c.form) {
		switch k {
		case "Action", "Version", "Password", "AuthenticationCode1", "AuthenticationCode2":
			continue
		}
		e.params[lowerFirst(k)] = c.form.Get(k)
	}
	resParams := []struct{ param, typ string }{
		{"UserName", "AWS::IAM::User"}, {"AccessKeyId", "AWS::IAM::AccessKey"}, {"GroupName", "AWS::IAM::Group"},
		{"PolicyArn", "AWS::IAM::Policy"}, {"SerialNumber", "AWS::IAM::MFADevice"}, {"PolicyName", "AWS::IAM::Policy"},
	}
	for _, rp := range resParams {
		if v := c.form.Get(rp.param); v != "" {
			e.resources = append(e.resources, eventResource{rp.typ, v})
		}
	}
	e.resources = append(e.resources, extra...)
	a.addEvent(e)
}

// trailDate is how CloudTrail writes dates inside IAM responseElements
// ("Jul 28, 2020 3:47:26 AM"), not RFC 3339.
func trailDate(t time.Time) string { return t.UTC().Format("Jan 2, 2006 3:04:05 PM") }

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	r := []rune(s)
	r[0] = unicode.ToLower(r[0])
	return string(r)
}

func (c *call) createUser(a *account, b *xw) *apiError {
	name := c.form.Get("UserName")
	if !userNameRe.MatchString(name) {
		return errf(400, "ValidationError", "1 validation error detected: Value '%s' at 'userName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+", name)
	}
	if _, ok := a.users[name]; ok {
		return errf(409, "EntityAlreadyExists", "User with name %s already exists.", name)
	}
	u := &user{name: name, path: orDefault(c.form.Get("Path"), "/"), id: stableID("AIDA", 17, a.id, "user", name, c.now.String()),
		created: c.now, tags: c.formTags(), inline: map[string]string{}}
	a.users[name] = u
	b.open("User")
	c.userXML(b, a, u, true)
	b.close("User")
	c.respElems = map[string]any{"user": map[string]any{"path": u.path, "userName": u.name, "userId": u.id,
		"arn": a.arn(c.partition(), "user", u.path, u.name), "createDate": trailDate(u.created)}}
	c.recordWrite(a)
	return nil
}

// formTags reads Tags.member.N.Key/Value.
func (c *call) formTags() map[string]string {
	tags := map[string]string{}
	for i := 1; ; i++ {
		k := c.form.Get(fmt.Sprintf("Tags.member.%d.Key", i))
		if k == "" {
			return tags
		}
		tags[k] = c.form.Get(fmt.Sprintf("Tags.member.%d.Value", i))
	}
}

func (c *call) deleteUser(a *account, u *user, b *xw) *apiError {
	switch {
	case len(u.keys) > 0:
		return errf(409, "DeleteConflict", "Cannot delete entity, must delete access keys first.")
	case u.password != nil:
		return errf(409, "DeleteConflict", "Cannot delete entity, must delete login profile first.")
	case len(u.mfa) > 0:
		return errf(409, "DeleteConflict", "Cannot delete entity, must delete MFA device first.")
	case len(u.inline) > 0:
		return errf(409, "DeleteConflict", "Cannot delete entity, must delete policies first.")
	case len(u.attached) > 0:
		return errf(409, "DeleteConflict", "Cannot delete entity, must detach all policies first.")
	case len(u.groups) > 0:
		return errf(409, "DeleteConflict", "Cannot delete entity, must remove users from group first.")
	}
	if err := otherCredentialsConflict(u); err != nil {
		return err
	}
	delete(a.users, u.name)
	return nil
}

// namedUser is the user the UserName parameter names (required for writes).
func (c *call) namedUser(a *account) (*user, *apiError) {
	name := c.form.Get("UserName")
	if name == "" {
		return nil, errf(400, "ValidationError", "1 validation error detected: Value null at 'userName' failed to satisfy constraint: Member must not be null")
	}
	return c.targetUser(a)
}

func (c *call) tagUser(a *account, u *user, b *xw) *apiError {
	tags := c.formTags()
	if len(u.tags)+len(tags) > 50 {
		return errf(409, "LimitExceeded", "The number of tags has reached the maximum limit.")
	}
	for k, v := range tags {
		ensureMap(&u.tags)[k] = v
	}
	return nil
}

func (c *call) createLoginProfile(a *account, u *user, b *xw) *apiError {
	if u.password != nil {
		return errf(409, "EntityAlreadyExists", "Login Profile for user %s already exists.", u.name)
	}
	if c.form.Get("Password") == "" {
		return errf(400, "ValidationError", "1 validation error detected: Value null at 'password' failed to satisfy constraint: Member must not be null")
	}
	u.password = &password{created: c.now}
	reset := c.form.Get("PasswordResetRequired") == "true"
	loginProfileXML(b, u.name, c.now, reset)
	c.respElems = map[string]any{"loginProfile": map[string]any{"userName": u.name, "createDate": trailDate(c.now), "passwordResetRequired": reset}}
	return nil
}

// updateLoginProfile sets a new password (password_last_changed moves; the login
// profile's CreateDate does not).
func (c *call) updateLoginProfile(a *account, u *user, b *xw) *apiError {
	if u.password == nil {
		return errf(404, "NoSuchEntity", "Login Profile for User %s cannot be found.", u.name)
	}
	if c.form.Get("Password") != "" {
		u.password.changed = c.now
	}
	return nil
}

func (c *call) deleteLoginProfile(a *account, u *user, b *xw) *apiError {
	if u.password == nil {
		return errf(404, "NoSuchEntity", "Login Profile for User %s cannot be found.", u.name)
	}
	u.password = nil
	return nil
}

func (c *call) createAccessKey(a *account, b *xw) *apiError {
	u, err := c.targetUser(a)
	if err != nil {
		return err
	}
	if len(u.keys) >= 2 {
		return errf(409, "LimitExceeded", "Cannot exceed quota for AccessKeysPerUser: 2")
	}
	k := &key{id: c.keyID, secret: randomString(40, secretChars), status: "Active", created: c.now, slot: freeSlot(u.keys)}
	if k.id == "" {
		k.id = "AKIA" + randomString(16, upperAlnum)
	}
	u.keys = append(u.keys, k)
	c.s.registerUserKey(a, u, k)
	// CloudTrail records the new key without its secret.
	c.respElems = map[string]any{"accessKey": map[string]any{"userName": u.name, "accessKeyId": k.id, "status": k.status, "createDate": trailDate(k.created)}}
	b.open("AccessKey")
	b.el("UserName", u.name)
	b.el("AccessKeyId", k.id)
	b.el("Status", k.status)
	b.el("SecretAccessKey", k.secret)
	b.elTime("CreateDate", k.created)
	b.close("AccessKey")
	if c.form.Get("UserName") == "" {
		c.recordWrite(a, eventResource{"AWS::IAM::User", u.name}, eventResource{"AWS::IAM::AccessKey", k.id})
	} else {
		c.recordWrite(a, eventResource{"AWS::IAM::AccessKey", k.id})
	}
	return nil
}

// userKey finds AccessKeyId among the keys of UserName (or of the caller).
func (c *call) userKey(a *account) (*user, int, *apiError) {
	u, err := c.targetUser(a)
	if err != nil {
		return nil, 0, err
	}
	id := c.form.Get("AccessKeyId")
	for i, k := range u.keys {
		if k.id == id {
			return u, i, nil
		}
	}
	return nil, 0, errf(404, "NoSuchEntity", "The Access Key with id %s cannot be found.", id)
}

func (c *call) updateAccessKey(a *account, b *xw) *apiError {
	status := c.form.Get("Status")
	if status != "Active" && status != "Inactive" {
		return errf(400, "ValidationError", "1 validation error detected: Value '%s' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]", status)
	}
	u, i, err := c.userKey(a)
	if err != nil {
		return err
	}
	u.keys[i].status = status
	c.recordWrite(a)
	return nil
}

func (c *call) deleteAccessKey(a *account, b *xw) *apiError {
	u, i, err := c.userKey(a)
	if err != nil {
		return err
	}
	c.s.creds.remove(u.keys[i].id)
	u.keys = append(u.keys[:i:i], u.keys[i+1:]...)
	c.recordWrite(a)
	return nil
}

func (c *call) createVirtualMFADevice(a *account, b *xw) *apiError {
	name := c.form.Get("VirtualMFADeviceName")
	if !userNameRe.MatchString(name) {
		return errf(400, "ValidationError", "1 validation error detected: Value '%s' at 'virtualMFADeviceName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+", name)
	}
	path := orDefault(c.form.Get("Path"), "/")
	serial := a.arn(c.partition(), "mfa", path, name)
	if _, ok := a.virtualMFA[serial]; ok {
		return errf(409, "EntityAlreadyExists", "MFADevice entity at the same path and name already exists.")
	}
	a.virtualMFA[serial] = &vmfa{serial: serial, created: c.now}
	c.respElems = map[string]any{"virtualMFADevice": map[string]any{"serialNumber": serial}}
	seed := base32.StdEncoding.EncodeToString([]byte(randomString(40, secretChars)))[:64]
	b.open("VirtualMFADevice")
	b.el("SerialNumber", serial)
	b.el("Base32StringSeed", seed)
	b.el("QRCodePNG", "iVBORw0KGgo=")
	b.close("VirtualMFADevice")
	c.recordWrite(a, eventResource{"AWS::IAM::MFADevice", serial})
	return nil
}

var totpRe = regexp.MustCompile(`^\d{6}$`)

func (c *call) enableMFADevice(a *account, u *user, b *xw) *apiError {
	serial := c.form.Get("SerialNumber")
	if len(serial) < 9 {
		return errf(400, "ValidationError", "1 validation error detected: Value '%s' at 'serialNumber' failed to satisfy constraint: Member must have length greater than or equal to 9", serial)
	}
	if !totpRe.MatchString(c.form.Get("AuthenticationCode1")) || !totpRe.MatchString(c.form.Get("AuthenticationCode2")) {
		return errf(403, "InvalidAuthenticationCode", "Authentication code for device is not valid.")
	}
	for _, d := range u.mfa {
		if d.serial == serial {
			return errf(409, "EntityAlreadyExists", "MFA Device is already in use.")
		}
	}
	if len(u.mfa) >= 8 {
		return errf(409, "LimitExceeded", "Cannot exceed quota for MFADevicesPerUser: 8")
	}
	kind := "hardware"
	switch {
	case strings.Contains(serial, ":mfa/"):
		d, ok := a.virtualMFA[serial]
		if !ok {
			return errf(404, "NoSuchEntity", "VirtualMFADevice with serial number %s doesn't exist.", serial)
		}
		if d.user != "" {
			return errf(409, "EntityAlreadyExists", "MFA Device is already in use.")
		}
		d.user, d.enabled, kind = u.name, c.now, "virtual"
	case strings.Contains(serial, ":u2f/"):
		kind = "fido"
	}
	u.mfa = append(u.mfa, &mfaDevice{kind: kind, serial: serial, enabled: c.now})
	return nil
}

func (c *call) deactivateMFADevice(a *account, u *user, b *xw) *apiError {
	serial := c.form.Get("SerialNumber")
	var found bool
	if u.mfa, found = without(u.mfa, func(d *mfaDevice) bool { return d.serial == serial }); !found {
		return errf(404, "NoSuchEntity", "MFA Device with serial number %s does not exist.", serial)
	}
	if v, ok := a.virtualMFA[serial]; ok {
		v.user, v.enabled = "", time.Time{}
	}
	return nil
}

func (c *call) deleteVirtualMFADevice(a *account, b *xw) *apiError {
	serial := c.form.Get("SerialNumber")
	d, ok := a.virtualMFA[serial]
	if !ok {
		return errf(404, "NoSuchEntity", "VirtualMFADevice with serial number %s doesn't exist.", serial)
	}
	if d.user != "" {
		return errf(409, "DeleteConflict", "MFA VirtualDevice in use. Must deactivate first.")
	}
	delete(a.virtualMFA, serial)
	c.recordWrite(a)
	return nil
}

func (c *call) putUserPolicy(a *account, u *user, b *xw) *apiError {
	name, doc := c.form.Get("PolicyName"), c.form.Get("PolicyDocument")
	if name == "" || doc == "" {
		return errf(400, "ValidationError", "PolicyName and PolicyDocument are required.")
	}
	if !strings.HasPrefix(strings.TrimSpace(doc), "{") {
		return errf(400, "MalformedPolicyDocument", "Syntax errors in policy.")
	}
	ensureMap(&u.inline)[name] = doc
	return nil
}

func (c *call) deleteUserPolicy(a *account, u *user, b *xw) *apiError {
	name := c.form.Get("PolicyName")
	if _, ok := u.inline[name]; !ok {
		return errf(404, "NoSuchEntity", "The user policy with name %s cannot be found.", name)
	}
	delete(u.inline, name)
	return nil
}

var policyArnRe = regexp.MustCompile(`^arn:[a-z-]+:iam::(aws|\d{12}):policy/.+$`)

func (c *call) attachUserPolicy(a *account, u *user, b *xw) *apiError {
	arn := c.form.Get("PolicyArn")
	if !policyArnRe.MatchString(arn) {
		return errf(400, "InvalidInput", "ARN %s is not valid.", arn)
	}
	if !strings.Contains(arn, ":iam::aws:") && !a.hasPolicy(arn, c.partition()) {
		return errf(404, "NoSuchEntity", "Policy %s does not exist or is not attachable.", arn)
	}
	if count(u.attached, arn) == 0 {
		if len(u.attached) >= 10 {
			return errf(409, "LimitExceeded", "Cannot exceed quota for PoliciesPerUser: 10")
		}
		u.attached = append(u.attached, arn)
	}
	return nil
}

func (a *account) hasPolicy(arn, partition string) bool {
	for _, p := range a.policies {
		if a.arn(partition, "policy", "/", p.name) == arn {
			return true
		}
	}
	return false
}

func (c *call) detachUserPolicy(a *account, u *user, b *xw) *apiError {
	arn := c.form.Get("PolicyArn")
	var found bool
	if u.attached, found = without(u.attached, equal(arn)); !found {
		return errf(404, "NoSuchEntity", "Policy %s was not found.", arn)
	}
	return nil
}

func (c *call) addUserToGroup(a *account, u *user, b *xw) *apiError {
	gn, err := c.namedGroup(a)
	if err != nil {
		return err
	}
	if count(u.groups, gn) == 0 {
		u.groups = append(u.groups, gn)
	}
	return nil
}

func (c *call) removeUserFromGroup(a *account, u *user, b *xw) *apiError {
	gn, err := c.namedGroup(a)
	if err != nil {
		return err
	}
	var found bool
	if u.groups, found = without(u.groups, equal(gn)); !found {
		return errf(404, "NoSuchEntity", "The user with name %s cannot be found in group %s.", u.name, gn)
	}
	return nil
}

// namedGroup is the GroupName parameter, a group of the account.
func (c *call) namedGroup(a *account) (string, *apiError) {
	gn := c.form.Get("GroupName")
	if _, ok := a.groups[gn]; !ok {
		return "", errf(404, "NoSuchEntity", "The group with name %s cannot be found.", gn)
	}
	return gn, nil
}

func (c *call) createGroup(a *account, b *xw) *apiError {
	name := c.form.Get("GroupName")
	if !userNameRe.MatchString(name) {
		return errf(400, "ValidationError", "1 validation error detected: Value '%s' at 'groupName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+", name)
	}
	if _, ok := a.groups[name]; ok {
		return errf(409, "EntityAlreadyExists", "Group with name %s already exists.", name)
	}
	g := &group{name: name, id: stableID("AGPA", 17, a.id, "group", name), created: c.now, inline: map[string]string{}}
	a.groups[name] = g
	b.open("Group")
	c.groupXML(b, a, g)
	b.close("Group")
	c.recordWrite(a)
	return nil
}

var roleNameRe = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)

// createRole creates a role. One whose trust policy allows the caller's account
// (the management account, or the delegated administrator) is an audit role from
// then on: the caller may assume it, as once a StackSet deployed
// deploy/iamaudit-role.yaml there.
func (c *call) createRole(a *account, b *xw) *apiError {
	name, path, doc := c.form.Get("RoleName"), orDefault(c.form.Get("Path"), "/"), c.form.Get("AssumeRolePolicyDocument")
	switch {
	case !roleNameRe.MatchString(name):
		return errf(400, "ValidationError", "1 validation error detected: Value '%s' at 'roleName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+", name)
	case !strings.HasPrefix(path, "/") || !strings.HasSuffix(path, "/"):
		return errf(400, "ValidationError", "The specified value for path is invalid. It must begin and end with / and contain only alphanumeric characters and/or / characters.")
	case doc == "":
		return errf(400, "ValidationError", "1 validation error detected: Value null at 'assumeRolePolicyDocument' failed to satisfy constraint: Member must not be null")
	}
	for _, r := range a.roles {
		if r.name == name {
			return errf(409, "EntityAlreadyExists", "Role with name %s already exists.", name)
		}
	}
	r := &role{name: name, path: path, id: stableID("AROA", 17, a.id, "role", name), created: c.now, trust: doc, inline: map[string]string{}}
	a.roles = append(a.roles, r)
	sort.Slice(a.roles, func(i, j int) bool { return a.roles[i].name < a.roles[j].name })
	if trusts(doc, c.partition(), c.s.org.callerAccount) {
		a.auditRoles[name] = auditRole{path: path, state: scenario.RolePresent}
	}
	b.open("Role")
	c.roleXML(b, a, r)
	b.close("Role")
	c.respElems = map[string]any{"role": map[string]any{"path": r.path, "roleName": r.name, "roleId": r.id,
		"arn": a.arn(c.partition(), "role", r.path, r.name), "createDate": trailDate(r.created)}}
	c.recordWrite(a, eventResource{"AWS::IAM::Role", name})
	return nil
}

// trusts tells whether a trust policy allows account acct (its root ARN or its
// id as the AWS principal) to call sts:AssumeRole, without a Deny.
func trusts(doc, partition, acct string) bool {
	var d struct {
		Statement json.RawMessage
	}
	if json.Unmarshal([]byte(doc), &d) != nil {
		return false
	}
	var list []struct {
		Effect    string
		Principal json.RawMessage
		Action    json.RawMessage
	}
	if json.Unmarshal(d.Statement, &list) != nil {
		var one struct {
			Effect    string
			Principal json.RawMessage
			Action    json.RawMessage
		}
		if json.Unmarshal(d.Statement, &one) != nil {
			return false
		}
		list = append(list, one)
	}
	strs := func(raw json.RawMessage) []string {
		var one string
		if json.Unmarshal(raw, &one) == nil {
			return []string{one}
		}
		var many []string
		_ = json.Unmarshal(raw, &many)
		return many
	}
	allowed := false
	for _, st := range list {
		var p struct{ AWS json.RawMessage }
		if json.Unmarshal(st.Principal, &p) != nil {
			continue
		}
		names := slices.ContainsFunc(strs(p.AWS), func(s string) bool {
			return s == acct || s == "arn:"+partition+":iam::"+acct+":root"
		})
		acts := slices.ContainsFunc(strs(st.Action), func(s string) bool { return s == "sts:AssumeRole" || s == "sts:*" || s == "*" })
		if names && acts {
			if st.Effect == "Deny" {
				return false
			}
			allowed = allowed || st.Effect == "Allow"
		}
	}
	return allowed
}

// registerUserKey lets an IAM user's access key sign requests, served as that user.
func (s *Server) registerUserKey(a *account, u *user, k *key) {
	s.creds.put(&credential{AccessKeyID: k.id, Secret: k.secret, Account: a.id, Kind: principalUser, Name: u.name,
		Arn: a.arn(s.org.partition, "user", u.path, u.name), userKey: k})
}

// touchKey records a user key's use (as AccessKeyLastUsed reports it) and tells
// whether the key is active (an inactive key is refused, as on AWS).
func (a *account) touchKey(k *key, now time.Time, service, region string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if k.status != "Active" {
		return false
	}
	t := now.UTC().Truncate(time.Second)
	k.lastUsed, k.service, k.region = &t, service, region
	return true
}
