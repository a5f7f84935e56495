package sandbox

import (
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/iamaudit/iamaudit/internal/scenario"
)

var (
	// A role ARN: partition, account, path (without its leading /, "" for /) and name.
	roleArnRe     = regexp.MustCompile(`^arn:([a-z-]+):iam::(\d{12}):role/((?:[\x21-\x7e]*/)?)([\w+=,.@-]+)$`)
	sessionNameRe = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)
)

func (c *call) serveSTS() *apiError {
	switch c.op {
	case "GetCallerIdentity":
		var b xw
		b.el("Arn", c.cred.Arn)
		b.el("UserId", c.userID())
		b.el("Account", c.cred.Account)
		c.okXML(&b)
		return nil
	case "AssumeRole":
		return c.assumeRole()
	case "GetAccessKeyInfo":
		return c.getAccessKeyInfo()
	}
	return errf(400, "InvalidAction", "Could not find operation %s for version 2011-06-15", c.op)
}

// userID is the caller's unique id as GetCallerIdentity reports it.
func (c *call) userID() string {
	switch c.cred.Kind {
	case principalSession:
		return stableID("AROA", 17, c.cred.Account, "role", c.cred.RoleName) + ":" + c.cred.Name
	default:
		return stableID("AIDA", 17, c.cred.Account, "user", c.cred.Name)
	}
}

// auditRole is the named audit role of the account (zero when none; a nil account
// has none). A change of the timeline may create one (CreateRole), hence the lock.
func (a *account) auditRole(name string) auditRole {
	if a == nil {
		return auditRole{}
	}
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.auditRoles[name]
}

func (c *call) assumeRole() *apiError {
	roleArn, sessionName := c.form.Get("RoleArn"), c.form.Get("RoleSessionName")
	if roleArn == "" || len(roleArn) < 20 {
		return errf(400, "ValidationError", "1 validation error detected: Value at 'roleArn' failed to satisfy constraint: Member must have length greater than or equal to 20")
	}
	if !sessionNameRe.MatchString(sessionName) {
		return errf(400, "ValidationError", "1 validation error detected: Value '%s' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*", sessionName)
	}
	dur := c.s.knobs.SessionDuration.Duration
	if ds := c.form.Get("DurationSeconds"); ds != "" {
		n, err := strconv.Atoi(ds)
		if err != nil || n < 900 {
			return errf(400, "ValidationError", "1 validation error detected: Value '%s' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900", ds)
		}
		if n > 43200 {
			return errf(400, "ValidationError", "1 validation error detected: Value '%s' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to 43200", ds)
		}
		dur = time.Duration(n) * time.Second
	}
	if c.cred.Kind == principalSession && dur > time.Hour {
		return errf(400, "ValidationError", "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.")
	}
	if limit := c.s.knobs.sessionCap; limit > 0 && dur > limit {
		dur = limit // the session_duration knob: sessions that expire during a run
	}
	denied := errf(403, "AccessDenied", "User: %s is not authorized to perform: sts:AssumeRole on resource: %s", c.cred.Arn, roleArn)
	m := roleArnRe.FindStringSubmatch(roleArn)
	if m == nil {
		return denied
	}
	// The audit roles trust the caller's account (management or delegated
	// administrator). A role ARN must carry the role's path: a role /security/X is
	// arn:…:role/security/X, and arn:…:role/X names no role (AccessDenied, as AWS
	// answers for a role it cannot find).
	partition, acctID, rolePath, roleName := m[1], m[2], "/"+m[3], m[4]
	target, ok := c.s.org.byID[acctID]
	ar := target.auditRole(roleName)
	if !ok || partition != c.s.org.partition || c.cred.Account != c.s.org.callerAccount ||
		ar.state != scenario.RolePresent || ar.path != rolePath {
		return denied
	}
	cred := &credential{
		AccessKeyID: "ASIA" + randomString(16, upperAlnum), Secret: randomString(40, secretChars), Token: randomToken(),
		Account: acctID, Kind: principalSession, Name: sessionName, RoleName: roleName,
		Arn:      fmt.Sprintf("arn:%s:sts::%s:assumed-role/%s/%s", partition, acctID, roleName, sessionName),
		Expires:  c.now.Add(dur).Truncate(time.Second),
		ReadOnly: c.s.org.readOnlyRoles[roleName],
	}
	c.s.creds.put(cred)
	var b xw
	b.open("AssumedRoleUser")
	b.el("AssumedRoleId", stableID("AROA", 17, acctID, "role", roleName)+":"+sessionName)
	b.el("Arn", cred.Arn)
	b.close("AssumedRoleUser")
	b.open("Credentials")
	b.el("AccessKeyId", cred.AccessKeyID)
	b.el("SecretAccessKey", cred.Secret)
	b.el("SessionToken", cred.Token)
	// The Expiration a client compares with its own clock: in the signer's time frame
	// when that is not the sandbox clock (a scenario or demo month in the past), so an
	// SDK credential cache refreshes the session as it would against AWS rather than
	// before every call. Expiry itself is judged on the sandbox clock (verify).
	shown := cred.Expires
	if d := c.signedAt.Sub(c.now); !c.signedAt.IsZero() && (d > maxSkew || d < -maxSkew) {
		shown = cred.Expires.Add(d).Truncate(time.Second)
	}
	b.elTime("Expiration", shown)
	b.close("Credentials")
	c.okXML(&b)
	return nil
}
