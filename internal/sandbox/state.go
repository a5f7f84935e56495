package sandbox

import (
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/iamaudit/iamaudit/internal/scenario"
	"golang.org/x/time/rate"

	"github.com/iamaudit/iamaudit/internal/inventory"
)

// org is the whole Organization. Its structure (accounts, OUs) is fixed at build time
// and read without locks; each account guards its own IAM state with its own lock.
type org struct {
	id, partition, homeRegion string
	mgmtID                    string
	accessKeyID, secret       string
	callerName                string
	rootID                    string
	accounts                  []*account // scenario order
	byID                      map[string]*account
	ous                       []*ou
	ouByID                    map[string]*ou
	limiter                   *rate.Limiter // organizations family, per Organization
	readOnlyRoles             map[string]bool
	// callerAccount is the caller's account (the management account, or a delegated
	// administrator); the audit roles trust it.
	callerAccount string
	// delegated are the member accounts registered as delegated administrators.
	delegated map[string]bool
	// due is at most the earliest account's due time (catchUp).
	due atomic.Int64
}

type ou struct {
	id, name, parentID string
}

type account struct {
	id, name, email, state, parentID string
	joined                           time.Time
	auditRoles                       map[string]auditRole     // by role name; guarded by mu after build (CreateRole)
	limiters                         map[string]*rate.Limiter // per API family; read-only after build

	mu             sync.RWMutex
	seq            int64
	root           rootState
	passwordPolicy *scenario.PasswordPolicy
	users          map[string]*user
	groups         map[string]*group
	roles          []*role
	policies       []*policy
	certs          []*cert
	virtualMFA     map[string]*vmfa // serial -> device
	events         []*event         // ascending by (time, seq)
	report         *credReport
	// timeline are the scenario's changes not yet due, in time order; due is when
	// the first is (UnixNano, noneDue when none), read without the lock.
	timeline []pending
	due      atomic.Int64
}

type rootState struct {
	created          time.Time
	mfa              string
	mfaEnabled       time.Time
	passwordLastUsed *time.Time
	noPassword       bool // the root has no password (credential report: password_last_used N/A)
	keys             []*key
}

// auditRole is an audit role of an account: its IAM path and state (present, missing, untrusted).
type auditRole struct{ path, state string }

type user struct {
	name, path, id string
	created        time.Time
	tags           map[string]string
	groups         []string
	attached       []string // policy ARNs
	inline         map[string]string
	password       *password
	mfa            []*mfaDevice
	keys           []*key
	// iamcredentials.go: the user's other credentials and its permissions boundary.
	signingCerts []*signingCert
	sshKeys      []*sshKey
	serviceCreds []*serviceCred
	boundary     string
}

type password struct {
	created  time.Time
	changed  time.Time // last UpdateLoginProfile; zero: never since created
	lastUsed *time.Time
}

// lastChanged is when the password was last set (the report's password_last_changed).
func (p *password) lastChanged() time.Time {
	if p.changed.After(p.created) {
		return p.changed
	}
	return p.created
}

type mfaDevice struct {
	kind, serial string
	enabled      time.Time
}

type vmfa struct {
	serial  string
	user    string // empty: unassigned; "<root>" for the root user
	created time.Time
	enabled time.Time
}

type key struct {
	id, secret, status string
	created            time.Time
	lastUsed           *time.Time
	service, region    string
	// slot is the key's credential report slot (1 or 2), kept until the key is deleted.
	slot int
	// lastRotatedNA: the report shows last_rotated N/A for this (not active) key.
	lastRotatedNA bool
}

// freeSlot is the lowest credential report slot none of keys occupies (0: none free).
func freeSlot(keys []*key) int {
	for slot := 1; slot <= 2; slot++ {
		taken := false
		for _, k := range keys {
			taken = taken || k.slot == slot
		}
		if !taken {
			return slot
		}
	}
	return 0
}

// assignSlots gives the keys without a slot the free ones, oldest key first.
func assignSlots(keys []*key) {
	byAge := append([]*key(nil), keys...)
	sort.SliceStable(byAge, func(i, j int) bool { return byAge[i].created.Before(byAge[j].created) })
	for _, k := range byAge {
		if k.slot == 0 {
			k.slot = freeSlot(keys)
		}
	}
}

type group struct {
	name, id string
	created  time.Time
	attached []string
	inline   map[string]string
}

type role struct {
	name, path, id, trust string
	created               time.Time
	lastUsed              *time.Time
	lastUsedRegion        string
	attached              []string
	inline                map[string]string
}

type policy struct {
	name, id, document string
	created            time.Time
}

type cert struct {
	name, id          string
	uploaded, expires time.Time
}

type event struct {
	seq         int64
	id          string
	time        time.Time
	name        string
	source      string
	username    string
	userType    string // IAMUser, AssumedRole, Root
	userArn     string
	accessKeyID string
	readOnly    bool
	resources   []eventResource
	params      map[string]any
	response    map[string]any // responseElements, as AWS records them (nil: null)
	region      string
	// Sign-in records: eventType AwsConsoleSignIn, responseElements.ConsoleLogin,
	// additionalEventData.MFAUsed, errorMessage of a failure (docs/aws-facts.md).
	eventType    string // "" is AwsApiCall
	errorMessage string
	sourceIP     string // "" is 127.0.0.1
	additional   map[string]any
	// rendered is the event as LookupEvents returns it (cloudtrail.go eventBytes):
	// set on first use; an event is not changed once added.
	rendered atomic.Pointer[[]byte]
}

type eventResource struct{ Type, Name string }

// defaultAuditRoles are the roles a member account has when the scenario names none.
func defaultAuditRoles() map[string]string {
	return map[string]string{"IAMAuditRole": scenario.RolePresent, "OrganizationAccountAccessRole": scenario.RolePresent}
}

// auditRolesOf indexes the scenario's audit roles (name, or /path/name) by name.
func auditRolesOf(spec map[string]string) map[string]auditRole {
	out := make(map[string]auditRole, len(spec))
	for ref, st := range spec {
		path, name, ok := scenario.SplitRole(ref)
		if !ok {
			path, name = "/", ref
		}
		out[name] = auditRole{path: path, state: st}
	}
	return out
}

// stableID derives a deterministic AWS-style identifier (prefix + 16/ n uppercase chars).
func stableID(prefix string, n int, parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	s := base32.StdEncoding.EncodeToString(h[:])
	return prefix + s[:n]
}

func resolve(d *scenario.Date, now time.Time) *time.Time {
	if d == nil {
		return nil
	}
	t := d.Resolve(now)
	return &t
}

func resolveOr(d *scenario.Date, now, def time.Time) time.Time {
	if d == nil {
		return def
	}
	return d.Resolve(now)
}

func buildOrg(sc *scenario.Scenario, now time.Time, k knobs) (*org, error) {
	o := sc.Organization
	if len(sc.Accounts) == 0 {
		return nil, fmt.Errorf("sandbox: scenario %q has no accounts: add at least the management account", sc.Name)
	}
	partition := o.Partition
	if partition == "" {
		partition = "aws"
	}
	home := inventory.HomeRegion(partition)
	if !inventory.KnownPartition(partition) {
		return nil, fmt.Errorf("sandbox: unknown partition %q: use aws, aws-us-gov or aws-cn", partition)
	}
	g := &org{
		id: o.ID, partition: partition, homeRegion: home, mgmtID: o.ManagementAccountID,
		accessKeyID: o.AccessKeyID, secret: o.SecretAccessKey, callerName: o.CallerName,
		byID: map[string]*account{}, ouByID: map[string]*ou{},
	}
	if g.id == "" {
		g.id = "o-" + strings.ToLower(stableID("", 10, sc.Name))
	}
	g.readOnlyRoles = readOnlyRoleSet(o.ReadOnlyRoles)
	g.callerAccount = sc.CallerAccount()
	g.delegated = map[string]bool{}
	for _, id := range o.DelegatedAdministrators {
		g.delegated[id] = true
	}
	if g.callerName == "" {
		g.callerName = "iamaudit"
	}
	if g.accessKeyID == "" || g.secret == "" {
		return nil, fmt.Errorf("sandbox: scenario %q: organization.access_key_id and secret_access_key are required", sc.Name)
	}
	g.rootID = "r-" + strings.ToLower(stableID("", 4, g.id))
	ouByName := map[string]*ou{}
	for _, spec := range o.OUs {
		id := spec.ID
		if id == "" {
			id = "ou-" + g.rootID[2:] + "-" + strings.ToLower(stableID("", 8, g.id, spec.Name))
		}
		u := &ou{id: id, name: spec.Name}
		ouByName[spec.Name] = u
		g.ous = append(g.ous, u)
		g.ouByID[id] = u
	}
	for i, spec := range o.OUs {
		g.ous[i].parentID = g.rootID
		if spec.Parent != "" {
			p, ok := ouByName[spec.Parent]
			if !ok {
				return nil, fmt.Errorf("sandbox: OU %q: unknown parent OU %q", spec.Name, spec.Parent)
			}
			g.ous[i].parentID = p.id
		}
	}
	g.limiter = newLimiter(k.rate("organizations"))
	built, err := buildAccounts(sc.Accounts, g, ouByName, now, k)
	if err != nil {
		return nil, err
	}
	for _, a := range built {
		if _, dup := g.byID[a.id]; dup {
			return nil, fmt.Errorf("sandbox: account %s appears twice in the scenario", a.id)
		}
		g.accounts = append(g.accounts, a)
		g.byID[a.id] = a
	}
	if _, ok := g.byID[g.mgmtID]; !ok {
		return nil, fmt.Errorf("sandbox: management account %q is not among the scenario's accounts", g.mgmtID)
	}
	return g, nil
}

// buildAccounts builds every account, on every core (accounts are independent; at
// a million users this is most of a sandbox's start), in scenario order. The error is
// the first account's in that order.
func buildAccounts(specs []scenario.Account, g *org, ouByName map[string]*ou, now time.Time, k knobs) ([]*account, error) {
	out := make([]*account, len(specs))
	errs := make([]error, len(specs))
	workers := min(runtime.GOMAXPROCS(0), len(specs))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(specs); i += workers {
				out[i], errs[i] = buildAccount(&specs[i], g, ouByName, now, k)
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func buildAccount(spec *scenario.Account, g *org, ouByName map[string]*ou, now time.Time, k knobs) (*account, error) {
	if len(spec.ID) != 12 {
		return nil, fmt.Errorf("sandbox: account %q: id %q must have 12 digits", spec.Name, spec.ID)
	}
	a := &account{
		id: spec.ID, name: spec.Name, email: spec.Email, state: spec.State, parentID: g.rootID,
		auditRoles: auditRolesOf(spec.AuditRoles), users: map[string]*user{}, groups: map[string]*group{},
		virtualMFA: map[string]*vmfa{}, passwordPolicy: spec.PasswordPolicy,
		limiters: map[string]*rate.Limiter{},
	}
	a.due.Store(noneDue)
	if a.state == "" {
		a.state = "ACTIVE"
	}
	if a.email == "" {
		a.email = fmt.Sprintf("aws+%s@example.com", a.id)
	}
	if spec.AuditRoles == nil && a.id != g.mgmtID {
		a.auditRoles = auditRolesOf(defaultAuditRoles())
	}
	if spec.OU != "" {
		p, ok := ouByName[spec.OU]
		if !ok {
			return nil, fmt.Errorf("sandbox: account %s: unknown OU %q", a.id, spec.OU)
		}
		a.parentID = p.id
	}
	for _, fam := range []string{"iam", "cloudtrail", "sts"} {
		a.limiters[fam] = newLimiter(k.rate(fam))
	}
	accountCreated := now.AddDate(-3, 0, 0).Truncate(time.Second)
	a.root.created = resolveOr(spec.Root.CreatedAt, now, accountCreated)
	a.joined = a.root.created
	a.root.mfa = spec.Root.MFA
	a.root.mfaEnabled = a.root.created
	a.root.passwordLastUsed = resolve(spec.Root.PasswordLastUsed, now)
	a.root.noPassword = !spec.Root.HasPassword()
	if a.root.mfa == scenario.MFAVirtual {
		serial := fmt.Sprintf("arn:%s:iam::%s:mfa/root-account-mfa-device", g.partition, a.id)
		a.virtualMFA[serial] = &vmfa{serial: serial, user: rootUser, created: a.root.created, enabled: a.root.created}
	}
	for i, ks := range spec.Root.AccessKeys {
		a.root.keys = append(a.root.keys, buildKey(ks, g.homeRegion, a.id, "<root>", i, now, a.root.created))
	}
	assignSlots(a.root.keys)
	for _, gs := range spec.Groups {
		a.groups[gs.Name] = &group{name: gs.Name, id: stableID("AGPA", 17, a.id, "group", gs.Name), created: accountCreated,
			attached: policyARNs(g.partition, a.id, gs.AttachedPolicies), inline: copyMap(gs.InlinePolicies)}
	}
	for _, us := range spec.Users {
		if _, dup := a.users[us.Name]; dup {
			return nil, fmt.Errorf("sandbox: account %s: user %q appears twice", a.id, us.Name)
		}
		u := &user{
			name: us.Name, path: orDefault(us.Path, "/"), id: stableID("AIDA", 17, a.id, "user", us.Name),
			created: resolveOr(us.CreatedAt, now, accountCreated), tags: copyMap(us.Tags),
			groups: append([]string(nil), us.Groups...), attached: policyARNs(g.partition, a.id, us.AttachedPolicies),
			inline: copyMap(us.InlinePolicies),
		}
		for _, gn := range u.groups {
			if _, ok := a.groups[gn]; !ok {
				a.groups[gn] = &group{name: gn, id: stableID("AGPA", 17, a.id, "group", gn), created: accountCreated, inline: map[string]string{}}
			}
		}
		if us.Password != nil {
			u.password = &password{created: resolveOr(us.Password.CreatedAt, now, u.created), lastUsed: resolve(us.Password.LastUsed, now)}
		}
		for i, m := range us.MFA {
			d := &mfaDevice{kind: m.Type, serial: m.Serial, enabled: resolveOr(m.EnabledAt, now, u.created)}
			if d.serial == "" {
				d.serial = defaultSerial(g.partition, a.id, u.name, m.Type, i)
			}
			if d.kind == scenario.MFAVirtual {
				a.virtualMFA[d.serial] = &vmfa{serial: d.serial, user: u.name, created: d.enabled, enabled: d.enabled}
			}
			u.mfa = append(u.mfa, d)
		}
		for i, ks := range us.AccessKeys {
			u.keys = append(u.keys, buildKey(ks, g.homeRegion, a.id, u.name, i, now, u.created))
		}
		assignSlots(u.keys)
		a.users[u.name] = u
	}
	for name, ar := range a.auditRoles {
		if ar.state == scenario.RoleMissing {
			continue
		}
		// The audit roles trust the caller's account (the management account, or the
		// delegated administrator the audit runs from).
		a.roles = append(a.roles, &role{name: name, path: ar.path, id: stableID("AROA", 17, a.id, "role", name), created: accountCreated,
			trust:    fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:%s:iam::%s:root"},"Action":"sts:AssumeRole"}]}`, g.partition, g.callerAccount),
			attached: []string{fmt.Sprintf("arn:%s:iam::aws:policy/SecurityAudit", g.partition)}, inline: map[string]string{}})
	}
	for _, rs := range spec.Roles {
		r := &role{name: rs.Name, path: orDefault(rs.Path, "/"), id: stableID("AROA", 17, a.id, "role", rs.Name),
			created: resolveOr(rs.CreatedAt, now, accountCreated), lastUsed: resolve(rs.LastUsed, now), lastUsedRegion: rs.LastUsedRegion,
			attached: policyARNs(g.partition, a.id, rs.AttachedPolicies), inline: copyMap(rs.InlinePolicies), trust: rs.TrustPolicy}
		if r.trust == "" {
			r.trust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
		}
		a.roles = append(a.roles, r)
	}
	sort.Slice(a.roles, func(i, j int) bool { return a.roles[i].name < a.roles[j].name })
	for _, ps := range spec.Policies {
		a.policies = append(a.policies, &policy{name: ps.Name, id: stableID("ANPA", 17, a.id, "policy", ps.Name), document: ps.Document, created: accountCreated})
	}
	for _, cs := range spec.ServerCertificates {
		a.certs = append(a.certs, &cert{name: cs.Name, id: stableID("ASCA", 17, a.id, "cert", cs.Name),
			uploaded: resolveOr(cs.UploadedAt, now, accountCreated), expires: resolveOr(cs.Expiration, now, now.AddDate(1, 0, 0))})
	}
	for _, es := range spec.Events {
		a.addEvent(scenarioEvent(es, g, a.id, now))
	}
	return a, nil
}

const rootUser = "<root>"

func buildKey(ks scenario.Key, homeRegion, acct, owner string, i int, now, def time.Time) *key {
	k := &key{id: ks.ID, secret: ks.Secret, status: orDefault(ks.Status, "Active"),
		created: resolveOr(ks.CreatedAt, now, def), lastUsed: resolve(ks.LastUsed, now), service: ks.Service, region: ks.Region,
		slot: ks.Slot, lastRotatedNA: ks.ReportLastRotatedNA}
	if k.id == "" {
		k.id = stableID("AKIA", 16, acct, "key", owner, fmt.Sprint(i))
	}
	if k.secret == "" {
		k.secret = stableID("", 40, acct, "secret", k.id)
	}
	if k.lastUsed != nil {
		if k.service == "" {
			k.service = "iam"
		}
		if k.region == "" {
			k.region = homeRegion
		}
	}
	return k
}

func defaultSerial(partition, acct, userName, kind string, i int) string {
	switch kind {
	case scenario.MFAHardware:
		return "GAHT" + stableID("", 8, acct, userName, fmt.Sprint(i))[:8]
	case scenario.MFAFIDO:
		return fmt.Sprintf("arn:%s:iam::%s:u2f/user/%s/fido-%s", partition, acct, userName, strings.ToLower(stableID("", 12, acct, userName, fmt.Sprint(i))))
	default:
		if i == 0 {
			return fmt.Sprintf("arn:%s:iam::%s:mfa/%s", partition, acct, userName)
		}
		return fmt.Sprintf("arn:%s:iam::%s:mfa/%s-%d", partition, acct, userName, i+1)
	}
}

// policyARNs turns scenario policy references into ARNs: a bare name is an AWS managed policy.
func policyARNs(partition, acct string, refs []string) []string {
	out := make([]string, 0, len(refs))
	for _, r := range refs {
		out = append(out, policyARN(partition, r))
	}
	return out
}

func policyARN(partition, ref string) string {
	if strings.HasPrefix(ref, "arn:") {
		return ref
	}
	return fmt.Sprintf("arn:%s:iam::aws:policy/%s", partition, ref)
}

// copyMap copies m; nil when m is empty (a million users' empty maps cost more than
// their users: writers allocate on first write, see ensureMap).
func copyMap(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// ensureMap allocates *m on first write.
func ensureMap(m *map[string]string) map[string]string {
	if *m == nil {
		*m = map[string]string{}
	}
	return *m
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// sortedUsers returns the account's users by name (caller holds the lock).
func (a *account) sortedUsers() []*user {
	out := make([]*user, 0, len(a.users))
	for _, n := range sortedKeys(a.users) {
		out = append(out, a.users[n])
	}
	return out
}

func scenarioEvent(es scenario.Event, g *org, acct string, now time.Time) *event {
	e := &event{time: resolveOr(es.Time, now, now), name: es.Name, source: es.Source, username: es.Username, region: g.homeRegion}
	if e.source == "" {
		e.source = "iam.amazonaws.com"
		if es.Name == "ConsoleLogin" {
			e.source = "signin.amazonaws.com"
		}
	}
	switch {
	case e.username == "root":
		e.userType, e.userArn = "Root", fmt.Sprintf("arn:%s:iam::%s:root", g.partition, acct)
	case e.username == "":
		// Unknown performer: LookupEvents gives no Username (reports show N/A).
		e.userType = "Unknown"
	default:
		e.userType, e.userArn = "IAMUser", fmt.Sprintf("arn:%s:iam::%s:user/%s", g.partition, acct, e.username)
	}
	e.readOnly = isReadOnly(es.Name)
	e.params = map[string]any{}
	e.sourceIP = es.SourceIP
	if es.Name == "ConsoleLogin" {
		signIn(e, es)
	}
	for _, r := range es.Resources {
		switch {
		case strings.HasPrefix(r, "AKIA") || strings.HasPrefix(r, "ASIA"):
			e.resources = append(e.resources, eventResource{"AWS::IAM::AccessKey", r})
			e.params["accessKeyId"] = r
		default:
			e.resources = append(e.resources, eventResource{"AWS::IAM::User", r})
			e.params["userName"] = r
		}
	}
	return e
}

// signIn shapes a ConsoleLogin as CloudTrail records it (CloudTrail User Guide,
// "CloudTrail record contents for sign-in events"): eventType AwsConsoleSignIn,
// responseElements.ConsoleLogin Success or Failure, additionalEventData with MFAUsed;
// a failure has errorMessage "Failed authentication" and no errorCode.
func signIn(e *event, es scenario.Event) {
	result := orDefault(es.Result, scenario.LoginSuccess)
	mfa := "No"
	if es.MFAUsed {
		mfa = "Yes"
	}
	e.eventType = "AwsConsoleSignIn"
	e.response = map[string]any{"ConsoleLogin": result}
	e.additional = map[string]any{"LoginTo": "https://console.aws.amazon.com/console/home", "MobileVersion": "No", "MFAUsed": mfa}
	if result == scenario.LoginFailure {
		e.errorMessage = "Failed authentication"
	}
}

func isReadOnly(op string) bool {
	for _, p := range []string{"Get", "List", "Describe", "Lookup", "Generate"} {
		if strings.HasPrefix(op, p) {
			return true
		}
	}
	return false
}

// addEvent inserts an event keeping the history ordered (caller holds the write lock
// or is building the account).
func (a *account) addEvent(e *event) {
	a.seq++
	e.seq = a.seq
	e.id = fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", a.seq, e.time.Unix()&0xffff, a.seq&0xfff, 0, e.time.UnixNano()&0xffffffffffff)
	i := sort.Search(len(a.events), func(i int) bool { return a.events[i].time.After(e.time) })
	a.events = append(a.events, nil)
	copy(a.events[i+1:], a.events[i:])
	a.events[i] = e
}
