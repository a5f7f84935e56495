package sandbox

import (
	"fmt"
	"math"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/iamaudit/iamaudit/internal/scenario"
)

// pending is a change not yet made: the i-th of the account's scenario changes,
// due at t, its n-th occurrence (0: the first; a repeated use has more).
type pending struct {
	t     time.Time
	i, n  int
	ch    scenario.Change
	until *time.Time // last time a repeated use may happen (nil: no bound)
}

// noneDue is the account's due time when nothing is pending.
const noneDue = math.MaxInt64

// applyHistory gives an account its scenario history and timeline: the changes
// dated up to now are applied in time order through the same handlers as the API's
// writes (so state and CloudTrail records are what the API would make), with the
// existing credential report a snapshot taken between the changes made before its
// generation and those made after; the later ones wait for the clock (catchUp).
func (s *Server) applyHistory(a *account, spec *scenario.Account, now time.Time) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	for i, ch := range spec.Changes {
		a.schedule(pending{t: resolveOr(ch.Time, now, now), i: i, ch: ch, until: resolve(ch.Until, now)})
	}
	var reportAt *time.Time
	if spec.CredentialReport != nil {
		reportAt = resolve(spec.CredentialReport.GeneratedAt, now)
	}
	snapshot := func() {
		if reportAt != nil {
			// Generated at reportAt: reused until 4 hours later, as AWS does.
			a.report = newCredReport(*reportAt, *reportAt, buildCredentialReport(a, s.org.partition, *reportAt))
			reportAt = nil
		}
	}
	for len(a.timeline) > 0 && !a.timeline[0].t.After(now) {
		if reportAt != nil && a.timeline[0].t.After(*reportAt) {
			snapshot()
		}
		p := a.pop()
		if err := s.make(a, p); err != nil {
			return fmt.Errorf("sandbox: %s", changeFailure(a, p, err))
		}
	}
	snapshot()
	a.setDue()
	return nil
}

// catchUp makes the changes of every account that are due at now (the timeline: a
// scenario's changes dated after the sandbox's start), before a request is served.
// A change that fails is reported (TimelineErrors, the log) and passed over.
//
// Every request calls it: s.org.due (the earliest account's due time, a lower bound)
// spares the walk over every account when nothing is due. Due times only rise (a
// change popped; a repeat rescheduled after now), so a bound from a walk stays one.
func (s *Server) catchUp(now time.Time) {
	if s.org.due.Load() > now.UnixNano() {
		return
	}
	next := int64(noneDue)
	defer func() { s.org.due.Store(next) }()
	for _, a := range s.org.accounts {
		if d := a.due.Load(); d > now.UnixNano() {
			next = min(next, d)
			continue
		}
		a.mu.Lock()
		for len(a.timeline) > 0 && !a.timeline[0].t.After(now) {
			p := a.pop()
			if err := s.make(a, p); err != nil {
				msg := changeFailure(a, p, err)
				s.stats.timelineFailed(msg)
				s.log.Error("sandbox: a change of the scenario's timeline failed", "change", msg)
			}
		}
		a.setDue()
		next = min(next, a.due.Load())
		a.mu.Unlock()
	}
}

func changeFailure(a *account, p pending, err *apiError) string {
	what := p.ch.User
	if p.ch.Role != "" {
		what = p.ch.Role
	}
	occurrence := ""
	if p.n > 0 {
		occurrence = fmt.Sprintf(", repetition %d", p.n+1)
	}
	return fmt.Sprintf("account %s: change %d (%s of %s at %s%s): %s", a.id, p.i+1, p.ch.Action, what, p.t.Format(time.RFC3339), occurrence, err.message)
}

// make applies one pending change (caller holds a's lock) and schedules the next
// repetition of a repeated use. A repetition that finds its credential gone (the
// user, password or key deleted, the key inactive) ends the repetitions: the person
// stopped using it. Only a first occurrence that fails is an error.
func (s *Server) make(a *account, p pending) *apiError {
	if err := s.applyChange(a, p.ch, p.t); err != nil {
		if p.n > 0 {
			return nil
		}
		return err
	}
	if every := p.ch.Every.Duration; every > 0 && p.n+1 < scenario.MaxRepetitions {
		next := p.t.Add(every)
		if p.until == nil || !next.After(*p.until) {
			a.schedule(pending{t: next, i: p.i, n: p.n + 1, ch: p.ch, until: p.until})
		}
	}
	return nil
}

// schedule inserts a pending change in time order (ties in scenario order).
func (a *account) schedule(p pending) {
	i := sort.Search(len(a.timeline), func(i int) bool {
		q := a.timeline[i]
		return q.t.After(p.t) || q.t.Equal(p.t) && q.i > p.i
	})
	a.timeline = append(a.timeline, pending{})
	copy(a.timeline[i+1:], a.timeline[i:])
	a.timeline[i] = p
}

// pop removes and returns the earliest pending change.
func (a *account) pop() pending {
	p := a.timeline[0]
	a.timeline = a.timeline[1:]
	return p
}

// setDue publishes when the next pending change is due, read without the lock.
func (a *account) setDue() {
	if len(a.timeline) == 0 {
		a.due.Store(noneDue)
		return
	}
	a.due.Store(a.timeline[0].t.UnixNano())
}

// applyChange makes one change as an IAM call by ch.By at t (caller holds a's lock).
func (s *Server) applyChange(a *account, ch scenario.Change, t time.Time) *apiError {
	by := orDefault(ch.By, scenario.DefaultChangeBy)
	c := &call{s: s, service: "iam", region: s.org.homeRegion, op: ch.Action, proto: protoQuery, acct: a, now: t,
		reqID: newRequestID(), form: url.Values{},
		cred: &credential{Account: a.id, Kind: principalUser, Name: by, Arn: a.arn(s.org.partition, "user", "/", by),
			AccessKeyID: stableID("AKIA", 16, a.id, "change-by", by)}}
	c.form.Set("Action", ch.Action)
	if ch.User != "" {
		c.form.Set("UserName", ch.User)
	}
	switch ch.Action {
	case scenario.ChangeConsoleLogin:
		return s.consoleLogin(a, ch, t)
	case scenario.ChangeUseAccessKey:
		return useKey(a, ch, t)
	case scenario.ChangeUseRole:
		return useRole(a, ch, t)
	case scenario.ChangeDeleteUser, scenario.ChangeDeleteLoginProfile:
		// UserName is all they take.
	case scenario.ChangeRemoveUserFromGroup:
		c.form.Set("GroupName", ch.Group)
	case scenario.ChangeCreateRole:
		// As deploy/iamaudit-role.yaml creates the audit role: trusting the caller's
		// account (the management account or the delegated administrator).
		path, name, _ := scenario.SplitRole(ch.Role)
		c.form.Set("RoleName", name)
		c.form.Set("Path", path)
		c.form.Set("AssumeRolePolicyDocument", fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:%s:iam::%s:root"},"Action":"sts:AssumeRole"}]}`,
			s.org.partition, s.org.callerAccount))
	case scenario.ChangeCreateUser:
		c.form.Set("Path", "/")
	case scenario.ChangeCreateAccessKey:
		c.keyID = ch.KeyID
	case scenario.ChangeDeleteAccessKey, scenario.ChangeUpdateAccessKey:
		c.form.Set("AccessKeyId", ch.KeyID)
		if ch.Action == scenario.ChangeUpdateAccessKey {
			c.form.Set("Status", ch.Status)
		}
	case scenario.ChangeCreateLoginProfile, scenario.ChangeUpdateLoginProfile:
		c.form.Set("Password", "scenario-Passw0rd!") // not recorded: CloudTrail leaves passwords out
		if ch.Action == scenario.ChangeCreateLoginProfile {
			c.form.Set("PasswordResetRequired", "false")
		}
	case scenario.ChangeEnableMFADevice:
		if ch.MFA == nil {
			return errf(400, "ValidationError", "EnableMFADevice needs mfa")
		}
		serial := ch.MFA.Serial
		if serial == "" {
			serial = defaultSerial(s.org.partition, a.id, ch.User, ch.MFA.Type, 0)
		}
		if ch.MFA.Type == scenario.MFAVirtual {
			if _, ok := a.virtualMFA[serial]; !ok {
				if err := s.createVirtualDevice(a, c, serial, t); err != nil {
					return err
				}
			}
		}
		c.form.Set("SerialNumber", serial)
		c.form.Set("AuthenticationCode1", "123456") // not recorded
		c.form.Set("AuthenticationCode2", "654321")
	case scenario.ChangeDeactivateMFADevice:
		serial := ""
		if ch.MFA != nil {
			serial = ch.MFA.Serial
		}
		if serial == "" {
			u, ok := a.users[ch.User]
			if !ok || len(u.mfa) != 1 {
				return errf(400, "ValidationError", "DeactivateMFADevice of %s needs mfa.serial: the user does not have exactly one device", ch.User)
			}
			serial = u.mfa[0].serial
		}
		c.form.Set("SerialNumber", serial)
	default:
		return errf(400, "InvalidAction", "the sandbox does not apply %s as a change", ch.Action)
	}
	fn, ok := iamWrites[ch.Action]
	if !ok {
		return errf(400, "InvalidAction", "the sandbox does not apply %s as a change", ch.Action)
	}
	var b xw
	return fn(c, a, &b)
}

// createVirtualDevice creates the virtual MFA device serial names, as
// CreateVirtualMFADevice would (its own CloudTrail record), for a change enabling it.
func (s *Server) createVirtualDevice(a *account, enable *call, serial string, t time.Time) *apiError {
	_, rest, ok := strings.Cut(serial, ":mfa/")
	if !ok || rest == "" {
		return errf(400, "ValidationError", "virtual MFA serial %s is not an arn:…:mfa/<name> ARN", serial)
	}
	path, name := "/", rest
	if i := strings.LastIndexByte(rest, '/'); i >= 0 {
		path, name = "/"+rest[:i+1], rest[i+1:]
	}
	c := &call{s: s, service: "iam", region: enable.region, op: "CreateVirtualMFADevice", proto: protoQuery, acct: a, now: t,
		reqID: newRequestID(), form: url.Values{}, cred: enable.cred}
	c.form.Set("Action", c.op)
	c.form.Set("VirtualMFADeviceName", name)
	c.form.Set("Path", path)
	var b xw
	return c.createVirtualMFADevice(a, &b)
}

// consoleLogin is a console sign-in of ch.User at t (caller holds a's lock): the
// password's last use moves to t, and CloudTrail records the ConsoleLogin (with
// MFAUsed when the user has a device), as a sign-in of the scenario's events.
func (s *Server) consoleLogin(a *account, ch scenario.Change, t time.Time) *apiError {
	u, ok := a.users[ch.User]
	switch {
	case !ok:
		return errf(404, "NoSuchEntity", "The user with name %s cannot be found.", ch.User)
	case u.password == nil:
		return errf(400, "ValidationError", "user %s has no console password to sign in with", ch.User)
	}
	if u.password.lastUsed == nil || u.password.lastUsed.Before(t) {
		u.password.lastUsed = &t
	}
	a.addEvent(scenarioEvent(scenario.Event{Time: scenario.At(t), Name: "ConsoleLogin", Username: u.name, MFAUsed: len(u.mfa) > 0}, s.org, a.id, t))
	return nil
}

// useKey is a call signed with ch.User's key ch.KeyID at t (caller holds a's
// lock): its last use, service and region, as AccessKeyLastUsed reports them. An
// inactive key is refused, as AWS refuses the call.
func useKey(a *account, ch scenario.Change, t time.Time) *apiError {
	u, ok := a.users[ch.User]
	if !ok {
		return errf(404, "NoSuchEntity", "The user with name %s cannot be found.", ch.User)
	}
	for _, k := range u.keys {
		if k.id != ch.KeyID {
			continue
		}
		if k.status != "Active" {
			return errf(403, "InvalidClientTokenId", "key %s of %s is %s: a call signed with it is refused", k.id, u.name, k.status)
		}
		if k.lastUsed == nil || k.lastUsed.Before(t) {
			k.lastUsed, k.service, k.region = &t, ch.Service, ch.Region
		}
		return nil
	}
	return errf(404, "NoSuchEntity", "The Access Key with id %s cannot be found.", ch.KeyID)
}

// useRole is a session of the role ch.Role at t (caller holds a's lock): its last
// use and region, as RoleLastUsed reports them.
func useRole(a *account, ch scenario.Change, t time.Time) *apiError {
	for _, r := range a.roles {
		if r.name != ch.Role {
			continue
		}
		if r.lastUsed == nil || r.lastUsed.Before(t) {
			r.lastUsed, r.lastUsedRegion = &t, ch.Region
		}
		return nil
	}
	return errf(404, "NoSuchEntity", "The role with name %s cannot be found.", ch.Role)
}
