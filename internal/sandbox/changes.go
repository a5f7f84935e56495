package sandbox

import (
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/iamaudit/iamaudit/internal/scenario"
)

// applyHistory gives an account its scenario history: the changes, applied in time
// order through the same handlers as the API's writes (so state and CloudTrail
// records are what the API would make), and the existing credential report, a
// snapshot taken between the changes made before its generation and those made
// after.
func (s *Server) applyHistory(a *account, spec *scenario.Account, now time.Time) error {
	type timed struct {
		i int
		t time.Time
	}
	order := make([]timed, 0, len(spec.Changes))
	for i, ch := range spec.Changes {
		order = append(order, timed{i, resolveOr(ch.Time, now, now)})
	}
	sort.SliceStable(order, func(i, j int) bool { return order[i].t.Before(order[j].t) })
	var reportAt *time.Time
	if spec.CredentialReport != nil {
		reportAt = resolve(spec.CredentialReport.GeneratedAt, now)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	snapshot := func() {
		if reportAt != nil {
			// Generated at reportAt: reused until 4 hours later, as AWS does.
			a.report = &credReport{started: *reportAt, ready: *reportAt, content: buildCredentialReport(a, s.org.partition, *reportAt)}
			reportAt = nil
		}
	}
	for _, o := range order {
		if reportAt != nil && o.t.After(*reportAt) {
			snapshot()
		}
		ch := spec.Changes[o.i]
		if err := s.applyChange(a, ch, o.t); err != nil {
			return fmt.Errorf("sandbox: account %s: change %d (%s of %s at %s): %s", a.id, o.i+1, ch.Action, ch.User, o.t.Format(time.RFC3339), err.message)
		}
	}
	snapshot()
	return nil
}

// applyChange makes one change as an IAM call by ch.By at t (caller holds a's lock).
func (s *Server) applyChange(a *account, ch scenario.Change, t time.Time) *apiError {
	by := orDefault(ch.By, scenario.DefaultChangeBy)
	c := &call{s: s, service: "iam", region: s.org.homeRegion, op: ch.Action, proto: protoQuery, acct: a, now: t,
		reqID: newRequestID(), form: url.Values{},
		cred: &credential{Account: a.id, Kind: principalUser, Name: by, Arn: a.arn(s.org.partition, "user", "/", by),
			AccessKeyID: stableID("AKIA", 16, a.id, "change-by", by)}}
	c.form.Set("Action", ch.Action)
	c.form.Set("UserName", ch.User)
	switch ch.Action {
	case scenario.ChangeDeleteUser, scenario.ChangeDeleteLoginProfile:
		// UserName is all they take.
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
