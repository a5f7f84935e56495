package sandbox

import (
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// IAM list operations: MaxItems default 100, at most 1000.
const (
	iamDefaultItems = 100
	iamMaxItems     = 1000
)

type iamHandler struct {
	write bool
	fn    func(c *call, a *account, b *xw) *apiError
}

var iamOps map[string]iamHandler

func init() {
	iamOps = map[string]iamHandler{
		"ListUsers":                      {fn: (*call).listUsers},
		"GetUser":                        {fn: (*call).getUser},
		"ListAccessKeys":                 {fn: onUser((*call).listAccessKeys)},
		"GetAccessKeyLastUsed":           {fn: (*call).getAccessKeyLastUsed},
		"ListMFADevices":                 {fn: onUser((*call).listMFADevices)},
		"ListVirtualMFADevices":          {fn: (*call).listVirtualMFADevices},
		"GetLoginProfile":                {fn: onUser((*call).getLoginProfile)},
		"GenerateCredentialReport":       {write: true, fn: (*call).generateCredentialReport},
		"GetCredentialReport":            {fn: (*call).getCredentialReport},
		"GetAccountSummary":              {fn: (*call).getAccountSummary},
		"GetAccountPasswordPolicy":       {fn: (*call).getAccountPasswordPolicy},
		"GetAccountAuthorizationDetails": {fn: (*call).getAccountAuthorizationDetails},
		"ListUserTags":                   {fn: onUser((*call).listUserTags)},
		"ListGroupsForUser":              {fn: onUser((*call).listGroupsForUser)},
		"ListAttachedUserPolicies":       {fn: onUser((*call).listAttachedUserPolicies)},
		"ListUserPolicies":               {fn: onUser((*call).listUserPolicies)},
		"ListServerCertificates":         {fn: (*call).listServerCertificates},
		"ListEntitiesForPolicy":          {fn: (*call).listEntitiesForPolicy},
		"ListRoles":                      {fn: (*call).listRoles},
		"ListGroups":                     {fn: (*call).listGroups},
	}
	for op, fn := range iamWrites {
		iamOps[op] = iamHandler{write: true, fn: fn}
	}
	for op, h := range userCredentialOps {
		iamOps[op] = h
	}
}

func (c *call) serveIAM() *apiError {
	h, ok := iamOps[c.op]
	if !ok {
		return errf(400, "InvalidAction", "Could not find operation %s for version 2010-05-08", c.op)
	}
	a := c.acct
	var b xw
	var err *apiError
	if h.write {
		a.mu.Lock()
		err = h.fn(c, a, &b)
		a.mu.Unlock()
	} else {
		a.mu.RLock()
		err = h.fn(c, a, &b)
		a.mu.RUnlock()
	}
	if err != nil {
		return err
	}
	c.okXML(&b)
	return nil
}

// onUser is the handler of a read on the user that UserName names, or on the calling
// IAM user when UserName is absent (NoSuchEntity when there is no such user).
func onUser(fn func(c *call, a *account, u *user, b *xw) *apiError) func(c *call, a *account, b *xw) *apiError {
	return func(c *call, a *account, b *xw) *apiError {
		u, err := c.targetUser(a)
		if err != nil {
			return err
		}
		return fn(c, a, u, b)
	}
}

// iamPage reads Marker and MaxItems and returns the bounds of the page over n items.
func (c *call) iamPage(n int) (start, end int, next string, err *apiError) {
	asked := 0
	if s := c.form.Get("MaxItems"); s != "" {
		v, perr := strconv.Atoi(s)
		if perr != nil || v < 1 {
			return 0, 0, "", errf(400, "ValidationError", "1 validation error detected: Value '%s' at 'maxItems' failed to satisfy constraint: Member must have value greater than or equal to 1", s)
		}
		if v > iamMaxItems {
			return 0, 0, "", errf(400, "ValidationError", "1 validation error detected: Value '%s' at 'maxItems' failed to satisfy constraint: Member must have value less than or equal to 1000", s)
		}
		asked = v
	}
	start, end, next, ok := page(c.form.Get("Marker"), n, c.s.knobs.pageSize(asked, iamDefaultItems, iamMaxItems))
	if !ok {
		return 0, 0, "", errf(400, "ValidationError", "Invalid Marker.")
	}
	return start, end, next, nil
}

// listPage writes the page of items that Marker and MaxItems select: the element list
// with one <member> per item (member writes its content), then IsTruncated and Marker.
func listPage[T any](c *call, b *xw, list string, items []T, member func(T)) *apiError {
	start, end, next, err := c.iamPage(len(items))
	if err != nil {
		return err
	}
	b.open(list)
	for _, it := range items[start:end] {
		b.open("member")
		member(it)
		b.close("member")
	}
	b.close(list)
	writeTruncation(b, c.nextToken(c.form.Get("Marker"), next))
	return nil
}

func writeTruncation(b *xw, next string) {
	b.elBool("IsTruncated", next != "")
	if next != "" {
		b.el("Marker", next)
	}
}

func (a *account) arn(partition, kind, path, name string) string {
	return fmt.Sprintf("arn:%s:iam::%s:%s%s%s", partition, a.id, kind, path, name)
}

func (c *call) partition() string { return c.s.org.partition }

// targetUser is the UserName parameter, or the calling IAM user when absent.
func (c *call) targetUser(a *account) (*user, *apiError) {
	name := c.form.Get("UserName")
	if name == "" {
		if c.cred.Kind == principalSession {
			return nil, errf(400, "ValidationError", "Must specify userName when calling with non-User credentials")
		}
		name = c.cred.Name
	}
	u, ok := a.users[name]
	if !ok {
		return nil, errf(404, "NoSuchEntity", "The user with name %s cannot be found.", name)
	}
	return u, nil
}

func (c *call) userXML(b *xw, a *account, u *user, withTags bool) {
	b.el("Path", u.path)
	b.el("UserName", u.name)
	b.el("UserId", u.id)
	b.el("Arn", a.arn(c.partition(), "user", u.path, u.name))
	b.elTime("CreateDate", u.created)
	if u.password != nil && u.password.lastUsed != nil {
		b.elTime("PasswordLastUsed", *u.password.lastUsed)
	}
	if withTags && len(u.tags) > 0 {
		tagsXML(b, u.tags)
	}
}

func tagsXML(b *xw, tags map[string]string) {
	b.open("Tags")
	for _, k := range sortedKeys(tags) {
		b.open("member")
		b.el("Key", k)
		b.el("Value", tags[k])
		b.close("member")
	}
	b.close("Tags")
}

func (c *call) listUsers(a *account, b *xw) *apiError {
	prefix := c.form.Get("PathPrefix")
	var users []*user
	for _, u := range a.sortedUsers() {
		if strings.HasPrefix(u.path, prefix) {
			users = append(users, u)
		}
	}
	return listPage(c, b, "Users", users, func(u *user) { c.userXML(b, a, u, false) })
}

func (c *call) getUser(a *account, b *xw) *apiError {
	if c.form.Get("UserName") == "" && c.cred.Kind == principalMgmtUser {
		if _, ok := a.users[c.cred.Name]; !ok {
			// The scenario's caller need not be listed among the users.
			b.open("User")
			b.el("Path", "/")
			b.el("UserName", c.cred.Name)
			b.el("UserId", c.userID())
			b.el("Arn", c.cred.Arn)
			b.elTime("CreateDate", a.root.created)
			b.close("User")
			return nil
		}
	}
	u, err := c.targetUser(a)
	if err != nil {
		return err
	}
	b.open("User")
	c.userXML(b, a, u, true)
	boundaryXML(b, u)
	b.close("User")
	return nil
}

func (c *call) listAccessKeys(a *account, u *user, b *xw) *apiError {
	return listPage(c, b, "AccessKeyMetadata", u.keys, func(k *key) {
		b.el("UserName", u.name)
		b.el("AccessKeyId", k.id)
		b.el("Status", k.status)
		b.elTime("CreateDate", k.created)
	})
}

// findKey finds an access key of the account (a user's or the root's).
func (a *account) findKey(id string) (owner string, u *user, k *key) {
	for _, u := range a.users {
		for _, k := range u.keys {
			if k.id == id {
				return u.name, u, k
			}
		}
	}
	for _, k := range a.root.keys {
		if k.id == id {
			return "root", nil, k
		}
	}
	return "", nil, nil
}

func (c *call) getAccessKeyLastUsed(a *account, b *xw) *apiError {
	id := c.form.Get("AccessKeyId")
	owner, _, k := a.findKey(id)
	if k == nil {
		return errf(403, "AccessDenied", "User: %s is not authorized to perform: iam:GetAccessKeyLastUsed on resource: access key %s", c.cred.Arn, id)
	}
	b.el("UserName", owner)
	b.open("AccessKeyLastUsed")
	if k.lastUsed != nil {
		b.elTime("LastUsedDate", *k.lastUsed)
		b.el("ServiceName", k.service)
		b.el("Region", k.region)
	} else {
		b.el("ServiceName", "N/A")
		b.el("Region", "N/A")
	}
	b.close("AccessKeyLastUsed")
	return nil
}

func (c *call) listMFADevices(a *account, u *user, b *xw) *apiError {
	return listPage(c, b, "MFADevices", u.mfa, func(d *mfaDevice) {
		b.el("UserName", u.name)
		b.el("SerialNumber", d.serial)
		b.elTime("EnableDate", d.enabled)
	})
}

func (c *call) listVirtualMFADevices(a *account, b *xw) *apiError {
	status := c.form.Get("AssignmentStatus")
	switch status {
	case "", "Any", "Assigned", "Unassigned":
	default:
		return errf(400, "ValidationError", "1 validation error detected: Value '%s' at 'assignmentStatus' failed to satisfy constraint: Member must satisfy enum value set: [Unassigned, Any, Assigned]", status)
	}
	var devs []*vmfa
	for _, serial := range sortedKeys(a.virtualMFA) {
		d := a.virtualMFA[serial]
		if (status == "Assigned" && d.user == "") || (status == "Unassigned" && d.user != "") {
			continue
		}
		devs = append(devs, d)
	}
	return listPage(c, b, "VirtualMFADevices", devs, func(d *vmfa) {
		b.el("SerialNumber", d.serial)
		switch {
		case d.user == rootUser:
			b.open("User")
			b.el("UserId", a.id)
			b.el("Arn", fmt.Sprintf("arn:%s:iam::%s:root", c.partition(), a.id))
			b.elTime("CreateDate", a.root.created)
			if a.root.passwordLastUsed != nil {
				b.elTime("PasswordLastUsed", *a.root.passwordLastUsed)
			}
			b.close("User")
		case d.user != "":
			if u, ok := a.users[d.user]; ok {
				b.open("User")
				c.userXML(b, a, u, false)
				b.close("User")
			}
		}
		if d.user != "" {
			b.elTime("EnableDate", d.enabled)
		}
	})
}

func (c *call) getLoginProfile(a *account, u *user, b *xw) *apiError {
	if u.password == nil {
		return errf(404, "NoSuchEntity", "Login Profile for User %s cannot be found.", u.name)
	}
	loginProfileXML(b, u.name, u.password.created, false)
	return nil
}

func loginProfileXML(b *xw, userName string, created time.Time, resetRequired bool) {
	b.open("LoginProfile")
	b.el("UserName", userName)
	b.elTime("CreateDate", created)
	b.elBool("PasswordResetRequired", resetRequired)
	b.close("LoginProfile")
}

func (c *call) getAccountSummary(a *account, b *xw) *apiError {
	mfaInUse := 0
	for _, u := range a.users {
		mfaInUse += len(u.mfa)
	}
	rootMFA := a.root.mfa != "" && a.root.mfa != "none"
	if rootMFA {
		mfaInUse++
	}
	devices := mfaInUse
	for _, d := range a.virtualMFA {
		if d.user == "" {
			devices++
		}
	}
	rootKeys := 0
	if len(a.root.keys) > 0 {
		rootKeys = 1
	}
	groupPolicies := 0
	for _, g := range a.groups {
		groupPolicies += len(g.inline)
	}
	entries := []struct {
		k string
		v int
	}{
		{"GroupPolicySizeQuota", 5120}, {"InstanceProfilesQuota", 1000}, {"Policies", len(a.policies)},
		{"GroupsPerUserQuota", 10}, {"InstanceProfiles", 0}, {"AttachedPoliciesPerUserQuota", 10},
		{"Users", len(a.users)}, {"PoliciesQuota", 1500}, {"Providers", 0}, {"AccountMFAEnabled", b2i(rootMFA)},
		{"AccessKeysPerUserQuota", 2}, {"AssumeRolePolicySizeQuota", 2048}, {"PolicyVersionsInUseQuota", 10000},
		{"GlobalEndpointTokenVersion", 1}, {"VersionsPerPolicyQuota", 5}, {"AttachedPoliciesPerGroupQuota", 10},
		{"PolicySizeQuota", 6144}, {"Groups", len(a.groups)}, {"AccountSigningCertificatesPresent", 0},
		{"UsersQuota", 5000}, {"ServerCertificatesQuota", 20}, {"MFADevices", devices},
		{"UserPolicySizeQuota", 2048}, {"PolicyVersionsInUse", len(a.policies)}, {"ServerCertificates", len(a.certs)},
		{"Roles", len(a.roles)}, {"RolesQuota", 1000}, {"SigningCertificatesPerUserQuota", 2},
		{"MFADevicesInUse", mfaInUse}, {"RolePolicySizeQuota", 10240}, {"AttachedPoliciesPerRoleQuota", 10},
		{"AccountAccessKeysPresent", rootKeys}, {"GroupsQuota", 300},
	}
	b.open("SummaryMap")
	for _, e := range entries {
		b.open("entry")
		b.el("key", e.k)
		b.elInt("value", e.v)
		b.close("entry")
	}
	b.close("SummaryMap")
	return nil
}

func b2i(v bool) int {
	if v {
		return 1
	}
	return 0
}

func (c *call) getAccountPasswordPolicy(a *account, b *xw) *apiError {
	p := a.passwordPolicy
	if p == nil {
		return errf(404, "NoSuchEntity", "The Password Policy with domain name %s cannot be found.", a.id)
	}
	b.open("PasswordPolicy")
	b.elInt("MinimumPasswordLength", p.MinimumPasswordLength)
	b.elBool("RequireSymbols", p.RequireSymbols)
	b.elBool("RequireNumbers", p.RequireNumbers)
	b.elBool("RequireUppercaseCharacters", p.RequireUppercaseCharacters)
	b.elBool("RequireLowercaseCharacters", p.RequireLowercaseCharacters)
	b.elBool("AllowUsersToChangePassword", p.AllowUsersToChangePassword)
	b.elBool("ExpirePasswords", p.MaxPasswordAge > 0)
	if p.MaxPasswordAge > 0 {
		b.elInt("MaxPasswordAge", p.MaxPasswordAge)
	}
	if p.PasswordReusePrevention > 0 {
		b.elInt("PasswordReusePrevention", p.PasswordReusePrevention)
	}
	b.elBool("HardExpiry", p.HardExpiry)
	b.close("PasswordPolicy")
	return nil
}

// policyDoc URL-encodes a policy document, as IAM returns them.
func policyDoc(doc string) string {
	return strings.ReplaceAll(url.QueryEscape(doc), "+", "%20")
}

func attachedXML(b *xw, arns []string) {
	b.open("AttachedManagedPolicies")
	for _, arn := range arns {
		b.open("member")
		attachedPolicyXML(b, arn)
		b.close("member")
	}
	b.close("AttachedManagedPolicies")
}

func attachedPolicyXML(b *xw, arn string) {
	b.el("PolicyName", arn[strings.LastIndex(arn, "/")+1:])
	b.el("PolicyArn", arn)
}

func inlineXML(b *xw, list string, m map[string]string) {
	b.open(list)
	for _, n := range sortedKeys(m) {
		b.open("member")
		b.el("PolicyName", n)
		b.el("PolicyDocument", policyDoc(m[n]))
		b.close("member")
	}
	b.close(list)
}

// authEntry is one item of GetAccountAuthorizationDetails' combined, paginated list.
type authEntry struct {
	kind string // User, Group, Role, LocalManagedPolicy, AWSManagedPolicy
	u    *user
	g    *group
	r    *role
	p    *policy
	arn  string // AWS managed policy
}

func (c *call) getAccountAuthorizationDetails(a *account, b *xw) *apiError {
	filters := map[string]bool{}
	for i := 1; ; i++ {
		f := c.form.Get(fmt.Sprintf("Filter.member.%d", i))
		if f == "" {
			break
		}
		switch f {
		case "User", "Role", "Group", "LocalManagedPolicy", "AWSManagedPolicy":
			filters[f] = true
		default:
			return errf(400, "ValidationError", "1 validation error detected: Value '[%s]' at 'filter' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [User, Role, LocalManagedPolicy, Group, AWSManagedPolicy]]", f)
		}
	}
	all := len(filters) == 0
	var entries []authEntry
	if all || filters["User"] {
		for _, u := range a.sortedUsers() {
			entries = append(entries, authEntry{kind: "User", u: u})
		}
	}
	if all || filters["Group"] {
		for _, n := range sortedKeys(a.groups) {
			entries = append(entries, authEntry{kind: "Group", g: a.groups[n]})
		}
	}
	if all || filters["Role"] {
		for _, r := range a.roles {
			entries = append(entries, authEntry{kind: "Role", r: r})
		}
	}
	if all || filters["LocalManagedPolicy"] {
		for _, p := range a.policies {
			entries = append(entries, authEntry{kind: "LocalManagedPolicy", p: p})
		}
	}
	if all || filters["AWSManagedPolicy"] {
		for _, arn := range a.awsManagedInUse() {
			entries = append(entries, authEntry{kind: "AWSManagedPolicy", arn: arn})
		}
	}
	start, end, next, err := c.iamPage(len(entries))
	if err != nil {
		return err
	}
	page := entries[start:end]
	kindList(b, "UserDetailList", "User", page, func(e authEntry) {
		u := e.u
		b.el("Path", u.path)
		b.el("UserName", u.name)
		b.el("UserId", u.id)
		b.el("Arn", a.arn(c.partition(), "user", u.path, u.name))
		b.elTime("CreateDate", u.created)
		inlineXML(b, "UserPolicyList", u.inline)
		b.open("GroupList")
		for _, g := range u.groups {
			b.el("member", g)
		}
		b.close("GroupList")
		attachedXML(b, u.attached)
		boundaryXML(b, u)
		if len(u.tags) > 0 {
			tagsXML(b, u.tags)
		}
	})
	kindList(b, "GroupDetailList", "Group", page, func(e authEntry) {
		c.groupXML(b, a, e.g)
		inlineXML(b, "GroupPolicyList", e.g.inline)
		attachedXML(b, e.g.attached)
	})
	kindList(b, "RoleDetailList", "Role", page, func(e authEntry) {
		r := e.r
		c.roleXML(b, a, r)
		b.raw("<InstanceProfileList></InstanceProfileList>")
		inlineXML(b, "RolePolicyList", r.inline)
		attachedXML(b, r.attached)
		b.open("RoleLastUsed")
		if r.lastUsed != nil {
			b.elTime("LastUsedDate", *r.lastUsed)
			b.el("Region", orDefault(r.lastUsedRegion, c.s.org.homeRegion))
		}
		b.close("RoleLastUsed")
	})
	b.open("Policies")
	for _, e := range page {
		switch e.kind {
		case "LocalManagedPolicy":
			p := e.p
			arn := a.arn(c.partition(), "policy", "/", p.name)
			c.policyDetailXML(b, p.name, p.id, arn, p.document, p.created, a.attachmentCount(arn))
		case "AWSManagedPolicy":
			name := e.arn[strings.LastIndex(e.arn, "/")+1:]
			c.policyDetailXML(b, name, stableID("ANPA", 17, "aws", name), e.arn,
				`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`,
				time.Date(2015, 2, 6, 18, 39, 46, 0, time.UTC), a.attachmentCount(e.arn))
		}
	}
	b.close("Policies")
	writeTruncation(b, c.nextToken(c.form.Get("Marker"), next))
	return nil
}

// kindList writes the entries of one kind as the element list, one <member> each.
func kindList(b *xw, list, kind string, entries []authEntry, member func(authEntry)) {
	b.open(list)
	for _, e := range entries {
		if e.kind == kind {
			b.open("member")
			member(e)
			b.close("member")
		}
	}
	b.close(list)
}

func (c *call) roleXML(b *xw, a *account, r *role) {
	b.el("Path", r.path)
	b.el("RoleName", r.name)
	b.el("RoleId", r.id)
	b.el("Arn", a.arn(c.partition(), "role", r.path, r.name))
	b.elTime("CreateDate", r.created)
	b.el("AssumeRolePolicyDocument", policyDoc(r.trust))
}

func (c *call) policyDetailXML(b *xw, name, id, arn, doc string, created time.Time, attachments int) {
	b.open("member")
	b.el("PolicyName", name)
	b.el("PolicyId", id)
	b.el("Arn", arn)
	b.el("Path", "/")
	b.el("DefaultVersionId", "v1")
	b.elInt("AttachmentCount", attachments)
	b.elInt("PermissionsBoundaryUsageCount", 0)
	b.elBool("IsAttachable", true)
	b.elTime("CreateDate", created)
	b.elTime("UpdateDate", created)
	b.open("PolicyVersionList")
	b.open("member")
	b.el("Document", policyDoc(doc))
	b.el("VersionId", "v1")
	b.elBool("IsDefaultVersion", true)
	b.elTime("CreateDate", created)
	b.close("member")
	b.close("PolicyVersionList")
	b.close("member")
}

// awsManagedInUse lists the AWS managed policies attached to something in the account.
func (a *account) awsManagedInUse() []string {
	seen := map[string]bool{}
	add := func(arns []string) {
		for _, arn := range arns {
			if strings.Contains(arn, ":iam::aws:policy/") {
				seen[arn] = true
			}
		}
	}
	for _, u := range a.users {
		add(u.attached)
	}
	for _, g := range a.groups {
		add(g.attached)
	}
	for _, r := range a.roles {
		add(r.attached)
	}
	return sortedKeys(seen)
}

func (a *account) attachmentCount(arn string) int {
	n := 0
	for _, u := range a.users {
		n += count(u.attached, arn)
	}
	for _, g := range a.groups {
		n += count(g.attached, arn)
	}
	for _, r := range a.roles {
		n += count(r.attached, arn)
	}
	return n
}

func count(list []string, v string) int {
	n := 0
	for _, x := range list {
		if x == v {
			n++
		}
	}
	return n
}

func (c *call) listUserTags(a *account, u *user, b *xw) *apiError {
	return listPage(c, b, "Tags", sortedKeys(u.tags), func(k string) {
		b.el("Key", k)
		b.el("Value", u.tags[k])
	})
}

func (c *call) listGroupsForUser(a *account, u *user, b *xw) *apiError {
	return listPage(c, b, "Groups", u.groups, func(gn string) { c.groupXML(b, a, a.groups[gn]) })
}

func (c *call) groupXML(b *xw, a *account, g *group) {
	b.el("Path", "/")
	b.el("GroupName", g.name)
	b.el("GroupId", g.id)
	b.el("Arn", a.arn(c.partition(), "group", "/", g.name))
	b.elTime("CreateDate", g.created)
}

func (c *call) listAttachedUserPolicies(a *account, u *user, b *xw) *apiError {
	return listPage(c, b, "AttachedPolicies", u.attached, func(arn string) { attachedPolicyXML(b, arn) })
}

func (c *call) listUserPolicies(a *account, u *user, b *xw) *apiError {
	return listPage(c, b, "PolicyNames", sortedKeys(u.inline), b.text)
}

func (c *call) listServerCertificates(a *account, b *xw) *apiError {
	certs := append([]*cert(nil), a.certs...)
	sort.Slice(certs, func(i, j int) bool { return certs[i].name < certs[j].name })
	return listPage(c, b, "ServerCertificateMetadataList", certs, func(ct *cert) {
		b.el("Path", "/")
		b.el("ServerCertificateName", ct.name)
		b.el("ServerCertificateId", ct.id)
		b.el("Arn", a.arn(c.partition(), "server-certificate", "/", ct.name))
		b.elTime("UploadDate", ct.uploaded)
		b.elTime("Expiration", ct.expires)
	})
}

func (c *call) listEntitiesForPolicy(a *account, b *xw) *apiError {
	arn := c.form.Get("PolicyArn")
	if arn == "" {
		return errf(400, "ValidationError", "1 validation error detected: Value null at 'policyArn' failed to satisfy constraint: Member must not be null")
	}
	filter := c.form.Get("EntityFilter")
	type ent struct{ kind, name, id string }
	var ents []ent
	if filter == "" || filter == "Group" {
		for _, n := range sortedKeys(a.groups) {
			if count(a.groups[n].attached, arn) > 0 {
				ents = append(ents, ent{"Group", n, a.groups[n].id})
			}
		}
	}
	if filter == "" || filter == "User" {
		for _, u := range a.sortedUsers() {
			if count(u.attached, arn) > 0 {
				ents = append(ents, ent{"User", u.name, u.id})
			}
		}
	}
	if filter == "" || filter == "Role" {
		for _, r := range a.roles {
			if count(r.attached, arn) > 0 {
				ents = append(ents, ent{"Role", r.name, r.id})
			}
		}
	}
	start, end, next, err := c.iamPage(len(ents))
	if err != nil {
		return err
	}
	for _, kind := range []string{"Group", "User", "Role"} {
		b.open("Policy" + kind + "s")
		for _, e := range ents[start:end] {
			if e.kind == kind {
				b.open("member")
				b.el(kind+"Name", e.name)
				b.el(kind+"Id", e.id)
				b.close("member")
			}
		}
		b.close("Policy" + kind + "s")
	}
	writeTruncation(b, c.nextToken(c.form.Get("Marker"), next))
	return nil
}

func (c *call) listRoles(a *account, b *xw) *apiError {
	return listPage(c, b, "Roles", a.roles, func(r *role) {
		c.roleXML(b, a, r)
		b.elInt("MaxSessionDuration", 3600)
	})
}

func (c *call) listGroups(a *account, b *xw) *apiError {
	return listPage(c, b, "Groups", sortedKeys(a.groups), func(n string) { c.groupXML(b, a, a.groups[n]) })
}
