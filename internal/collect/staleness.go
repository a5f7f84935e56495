package collect

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/iamaudit/iamaudit/internal/inventory"
)

// What a reused credential report can be trusted for (docs/checks.md "Credential
// report staleness"). AWS reuses a report for up to 4 hours (IAM User Guide, "Getting
// credential reports"), so what its rows say about a user is used only when nothing
// since GeneratedTime can have changed it: the CloudTrail events the audit reads name
// the users changed since then, and those parts of them are read again. CloudTrail
// event history shows a call minutes late, so a report generated less than
// cloudTrailDeliveryLag before the audit cannot be vouched for by CloudTrail at all:
// then every user's report-only parts are read again.

// cloudTrailDeliveryLag bounds how late CloudTrail shows an IAM call: AWS delivers
// events "typically within an average of about 5 minutes", without a guarantee, and
// long quoted 15 minutes (docs/aws-facts.md). It also widens the event window
// before GeneratedTime, which covers the report's generation (AWS takes seconds,
// more when many accounts generate at once) and clock skew.
const cloudTrailDeliveryLag = 15 * time.Minute

// reportPart is a part of what a credential report row says about a user.
type reportPart uint8

const (
	partPassword reportPart = 1 << iota // password_enabled, password_last_changed
	partKeys                            // the two access key slots
	partMFA                             // mfa_active
	partUser                            // the row itself: the user was created or deleted since
	// partsCredentials are the parts a per-user call can read again.
	partsCredentials = partPassword | partKeys | partMFA
	partsAll         = partsCredentials | partUser
)

// sections names the parts as inventory gap sections, in a fixed order.
func (p reportPart) sections() []string {
	var out []string
	for _, s := range []struct {
		part reportPart
		name string
	}{{partUser, string(inventory.SectionUsers)}, {partPassword, string(inventory.SectionPassword)}, {partKeys, string(inventory.SectionAccessKeys)}, {partMFA, string(inventory.SectionMFA)}} {
		if p&s.part != 0 {
			out = append(out, s.name)
		}
	}
	return out
}

// partsByEvent are the report parts each CloudTrail event changes. UpdateLoginProfile
// changes only password_last_changed; CreateUser and DeleteUser make a row under the
// same name another user's.
var partsByEvent = map[string]reportPart{
	"CreateUser": partsAll, "DeleteUser": partsAll,
	"CreateAccessKey": partKeys, "DeleteAccessKey": partKeys, "UpdateAccessKey": partKeys,
	"CreateLoginProfile": partPassword, "DeleteLoginProfile": partPassword, "UpdateLoginProfile": partPassword,
	"EnableMFADevice": partMFA, "DeactivateMFADevice": partMFA,
}

// eventsFor lists, in a fixed order, the event names that can change part.
func eventsFor(part reportPart) []string {
	var out []string
	for name, p := range partsByEvent {
		if p&part != 0 {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// reportTrust is what of a credential report collection may use as it is.
type reportTrust struct {
	check string // inventory.Report*
	// all are the parts read again for every user, and why.
	all    reportPart
	allWhy string
	// users are the parts read again per user, with the events that named them.
	users  map[string]reportPart
	events map[string][]string
	// passwordSet is each user's last CreateLoginProfile / UpdateLoginProfile time.
	passwordSet map[string]time.Time
	// rootKeys names the events that changed the root user's own access keys.
	rootKeys []string
	// since and completeUntil bound the CloudTrail events used (ReportCheckedCloudTrail).
	since, completeUntil time.Time
}

// reread is what of user's row must be read again.
func (t reportTrust) reread(user string) reportPart { return t.all | t.users[user] }

// trustBeforeEvents decides what can be decided before CloudTrail is read: a report
// generated for this audit is used as it is; a reused one generated less than the
// delivery lag before now, or before the event window (from windowStart), is re-read
// for every user. needEvents is true when the decision waits for the events.
func trustBeforeEvents(info *inventory.CredentialReport, now, windowStart time.Time) (t reportTrust, needEvents bool) {
	t.users, t.events = map[string]reportPart{}, map[string][]string{}
	switch {
	case info == nil || !info.Reused:
		t.check = inventory.ReportGenerated
		return t, false
	case now.Sub(info.GeneratedAt) < cloudTrailDeliveryLag:
		t.check, t.all = inventory.ReportReread, partsCredentials
		t.allWhy = fmt.Sprintf("the reused report was generated %s before the audit, less than CloudTrail's delivery delay (%s): CloudTrail cannot tell what changed since",
			roundAge(now.Sub(info.GeneratedAt)), cloudTrailDeliveryLag)
		return t, false
	case info.GeneratedAt.Add(-cloudTrailDeliveryLag).Before(windowStart):
		t.check, t.all = inventory.ReportReread, partsCredentials
		t.allWhy = fmt.Sprintf("the reused report was generated at %s, before the CloudTrail window (from %s)",
			info.GeneratedAt.UTC().Format(time.RFC3339), windowStart.UTC().Format(time.RFC3339))
		return t, false
	}
	t.check = inventory.ReportCheckedCloudTrail
	t.since = info.GeneratedAt.Add(-cloudTrailDeliveryLag)
	t.completeUntil = now.Add(-cloudTrailDeliveryLag)
	return t, true
}

// trustFromEvents completes a ReportCheckedCloudTrail decision with the events: every
// successful event since t.since that can change a part names the user whose part is
// read again. A part whose event names were not all looked up, or whose lookup
// failed, is read again for every user; so is a part changed by an event that names
// no user.
func (t reportTrust) trustFromEvents(events []inventory.Event, lookedUp []string, failed map[string]bool) reportTrust {
	out := t
	out.users, out.events, out.passwordSet = map[string]reportPart{}, map[string][]string{}, map[string]time.Time{}
	read := map[string]bool{}
	for _, n := range lookedUp {
		read[n] = true
	}
	var why []string
	for _, part := range []reportPart{partPassword, partKeys, partMFA} {
		var missing []string
		for _, name := range eventsFor(part) {
			if !read[name] || failed[name] {
				missing = append(missing, name)
			}
		}
		if len(missing) > 0 {
			out.all |= part
			why = append(why, fmt.Sprintf("%s (CloudTrail %s not read)", part.sections()[0], strings.Join(missing, ", ")))
		}
	}
	for _, e := range events {
		part, ok := partsByEvent[e.Name]
		if !ok || e.ErrorCode != "" || e.Time.Before(t.since) {
			continue
		}
		user, named := eventUser(e)
		switch {
		case user == rootTarget:
			// The root user's own credentials: the account summary answers for its MFA;
			// its key slots are not used (buildRoot).
			if part&partKeys != 0 {
				out.rootKeys = append(out.rootKeys, e.Name+" at "+e.Time.UTC().Format(time.RFC3339))
			}
			continue
		case !named:
			out.all |= part & partsCredentials
			why = append(why, fmt.Sprintf("%s (%s at %s names no user)", strings.Join((part&partsCredentials).sections(), ", "), e.Name, e.Time.UTC().Format(time.RFC3339)))
			continue
		}
		out.users[user] |= part
		out.events[user] = append(out.events[user], e.Name+" at "+e.Time.UTC().Format(time.RFC3339))
		if e.Name == "CreateLoginProfile" || e.Name == "UpdateLoginProfile" {
			if prev, ok := out.passwordSet[user]; !ok || e.Time.After(prev) {
				out.passwordSet[user] = e.Time.UTC()
			}
		}
	}
	if out.all != 0 {
		slices.Sort(why)
		out.allWhy = "re-read for every user: " + strings.Join(slices.Compact(why), "; ")
	}
	return out
}

// rootTarget is eventUser's answer for a call the root user made on its own
// credentials.
const rootTarget = "<root_account>"

// eventUser is the IAM user an event changed: its userName request parameter, else
// the AWS::IAM::User resource, else, for the calls a user can make on itself
// (CreateAccessKey without UserName…), who made it (rootTarget for the root user).
// named is false when the event names no user: every user is then re-read for what
// it changes.
func eventUser(e inventory.Event) (user string, named bool) {
	if s, ok := e.RequestParameters["userName"].(string); ok && s != "" {
		return s, true
	}
	for _, r := range e.Resources {
		if r.Type == "AWS::IAM::User" && r.Name != "" {
			return r.Name, true
		}
	}
	if e.Name == "CreateUser" || e.Name == "DeleteUser" {
		return "", false
	}
	switch e.Username {
	case "":
		return "", false
	case "root", rootTarget:
		return rootTarget, true
	}
	return e.Username, true
}

// failedEventNames are the event names whose lookup failed, from the account's
// "events" gaps (Subject: one name, or the comma-separated names not looked up).
func failedEventNames(gaps []inventory.Gap) map[string]bool {
	out := map[string]bool{}
	for _, g := range gaps {
		if g.Section != inventory.SectionEvents {
			continue
		}
		for _, n := range strings.Split(g.Subject, ",") {
			if n = strings.TrimSpace(n); n != "" {
				out[n] = true
			}
		}
	}
	return out
}

// describe fills the report's description of the check: how its rows were checked,
// which users were re-read and which were left unknown (users with a gap in a
// re-read section).
func (t reportTrust) describe(info *inventory.CredentialReport, users []inventory.User, gaps []inventory.Gap) {
	if info == nil {
		return
	}
	info.Check = t.check
	if t.check == inventory.ReportCheckedCloudTrail {
		since, until := t.since, t.completeUntil
		info.ChangesSince, info.CloudTrailCompleteUntil = &since, &until
	}
	info.RereadSections = t.all.sections()
	info.RereadReason = t.allWhy
	names := make([]string, 0, len(t.users))
	for n := range t.users {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		info.RereadUsers = append(info.RereadUsers, inventory.RereadUser{User: n, Sections: t.users[n].sections(), Events: t.events[n]})
	}
	unknown := map[string]bool{}
	for _, u := range users {
		parts := t.reread(u.Name) & partsCredentials
		if t.users[u.Name]&partUser != 0 {
			parts = partsCredentials
		}
		for _, g := range gaps {
			if g.Subject != u.Name || onlyKeyLastUse(g) {
				continue
			}
			for _, s := range parts.sections() {
				if string(g.Section) == s {
					unknown[u.Name] = true
				}
			}
		}
	}
	for n := range unknown {
		info.UnknownUsers = append(info.UnknownUsers, n)
	}
	sort.Strings(info.UnknownUsers)
}

// roundAge is a duration to the second, for messages.
func roundAge(d time.Duration) time.Duration { return d.Round(time.Second) }

// onlyKeyLastUse: the gap leaves only keys' last use unknown (the keys themselves,
// and what the report said of them, stand).
func onlyKeyLastUse(g inventory.Gap) bool {
	for _, f := range g.Unknown {
		if f != inventory.FieldKeyLastUse {
			return false
		}
	}
	return len(g.Unknown) > 0
}
