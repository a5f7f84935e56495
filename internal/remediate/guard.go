package remediate

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"

	"github.com/iamaudit/iamaudit/internal/fix"
	"github.com/iamaudit/iamaudit/internal/inventory"
	"github.com/iamaudit/iamaudit/internal/outcome"
	"github.com/iamaudit/iamaudit/internal/store"
)

// The guard rails (docs/remediation.md, "Guard rails"), each named in the journal
// and the console when it refuses.
const (
	GuardProtected       = "protected"           // a protected account, user or tag (config)
	GuardOwnPrincipal    = "own-principal"       // the principal or key the tool is signed in with
	GuardAuditRole       = "audit-role"          // the audit role: never used to remediate, never acted on
	GuardPlanAge         = "plan-age"            // the plan is older than max_plan_age
	GuardPlanEdited      = "plan-edited"         // the plan's actions are not what its run plans
	GuardEvidenceChanged = "evidence-changed"    // what the plan saw changed since
	GuardRecentUse       = "recent-use"          // the key was used in the last recent_use_days
	GuardInactiveTooNew  = "inactive-too-new"    // delete-key: not Inactive for inactive_hours yet, or since when is unknown
	GuardLastUsableKey   = "last-usable-key"     // the plan's other action on the user failed: keep its last usable key
	GuardNotOurs         = "not-ours"            // an inline policy of that name that is not the shipped document
	GuardNewKeyUnconfirm = "new-key-unconfirmed" // rotate-key: the owner has not confirmed the new key works
)

// Refusal is a guard rail's refusal.
type Refusal struct {
	Guard  string
	Reason string
}

func (r *Refusal) Error() string { return r.Guard + ": " + r.Reason }

func refuse(guard, format string, args ...any) *Refusal {
	return &Refusal{Guard: guard, Reason: fmt.Sprintf(format, args...)}
}

// checkPlanAge refuses a plan older than the configured age (or made in the future).
func checkPlanAge(p *Plan, cfg Config, now time.Time) *Refusal {
	maxAge, err := cfg.PlanAge()
	if err != nil {
		return refuse(GuardPlanAge, "%v", err)
	}
	age := now.Sub(p.CreatedAt)
	if age > maxAge {
		return refuse(GuardPlanAge, "the plan was made %s ago (%s), more than max_plan_age %s: make a new one with `iamaudit remediate plan`",
			age.Round(time.Minute), p.CreatedAt.Format(time.RFC3339), maxAge)
	}
	if age < -5*time.Minute {
		return refuse(GuardPlanAge, "the plan is dated %s, in the future: check the clock, or make a new plan", p.CreatedAt.Format(time.RFC3339))
	}
	return nil
}

// checkIntegrity refuses a plan whose actions are not those its run plans for the same
// items (an edited file), or that acts on anything but its item's user.
func checkIntegrity(p *Plan, run *outcome.Outcome) *Refusal {
	if p.Source == WhoisSource {
		return checkWhoisPlan(p)
	}
	if run == nil || run.Inventory == nil {
		return refuse(GuardPlanEdited, "the run %s the plan was made from is not in the store: make a new plan", p.RunID)
	}
	inv := run.Inventory
	if partitionOf(inv) != p.Partition || regionOf(inv) != p.Region {
		return refuse(GuardPlanEdited, "the plan's partition and region (%s, %s) are not its run's", p.Partition, p.Region)
	}
	t := fix.Target{Partition: p.Partition, Region: p.Region, AuditRole: p.AuditRole}
	for i := range p.Items {
		it := &p.Items[i]
		if it.N != i+1 {
			return refuse(GuardPlanEdited, "item %d is numbered %d", i+1, it.N)
		}
		var acct *inventory.Account
		for ai := range inv.Accounts {
			if inv.Accounts[ai].ID == it.AccountID {
				acct = &inv.Accounts[ai]
			}
		}
		if acct == nil {
			return refuse(GuardPlanEdited, "item %d: account %s is not in run %s", it.N, it.AccountID, p.RunID)
		}
		u := findUser(acct, it.User)
		if u == nil {
			return refuse(GuardPlanEdited, "item %d: user %s is not in run %s", it.N, it.User, p.RunID)
		}
		want := actionsFor(it.Workflow, t, userConfigOf(acct, u), it.AccessKeyID)
		if !sameActions(want, it.Actions) {
			return refuse(GuardPlanEdited, "item %d (%s %s): its actions are not what run %s plans: was the plan file edited? make a new one",
				it.N, it.Workflow, it.User, p.RunID)
		}
		for _, a := range it.Actions {
			if !slices.Contains(changes[it.Workflow], a.API) || a.Resource.AccountID != it.AccountID || a.Resource.RoleName != "" ||
				(a.Resource.UserName != it.User && a.API != fix.IAMDeleteVirtualMFADevice) {
				return refuse(GuardPlanEdited, "item %d: action %s is not one of %s on %s", it.N, apiName(a.API), it.Workflow, it.User)
			}
		}
	}
	return nil
}

// checkWhoisPlan: a whois plan deactivates one key, and nothing else.
func checkWhoisPlan(p *Plan) *Refusal {
	if p.RunID != "" || len(p.Items) != 1 || p.Items[0].Workflow != DeactivateKey || p.Items[0].N != 1 {
		return refuse(GuardPlanEdited, "a whois plan deactivates one key")
	}
	it := p.Items[0]
	t := fix.Target{Partition: p.Partition, Region: p.Region}
	if !sameActions(actionsFor(DeactivateKey, t, UserConfig{AccountID: it.AccountID, Name: it.User}, it.AccessKeyID), it.Actions) {
		return refuse(GuardPlanEdited, "the whois plan's action is not the deactivation of %s", it.AccessKeyID)
	}
	return nil
}

func sameActions(a, b []fix.Action) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

// protectedNow names the config rule or identity that protects the item's user now
// (tags read live), nil when none.
func protectedNow(cfg Config, caller Caller, it *Item, tags map[string]string) *Refusal {
	if r := cfg.accountProtected(it.AccountID, it.AccountName); r != "" {
		return refuse(GuardProtected, "%s", r)
	}
	if r := cfg.userProtected(it.User); r != "" {
		return refuse(GuardProtected, "%s", r)
	}
	if r := cfg.tagsProtected(tags); r != "" {
		return refuse(GuardProtected, "%s", r)
	}
	if caller.UserName != "" && caller.AccountID == it.AccountID && caller.UserName == it.User {
		return refuse(GuardOwnPrincipal, "%s is the principal iamaudit is signed in with", caller.ARN)
	}
	if caller.AccessKeyID != "" && it.AccessKeyID == caller.AccessKeyID {
		return refuse(GuardOwnPrincipal, "%s is the key iamaudit is signed in with", caller.AccessKeyID)
	}
	return nil
}

// shippedMFAPolicy is RequireMFAPolicy's document, compact.
func shippedMFAPolicy() string {
	doc, err := fix.Document{Name: fix.RequireMFAPolicy}.Text()
	if err != nil {
		panic(err) // the document is embedded in the binary
	}
	return doc
}

// samePolicy compares two policy documents as JSON values.
func samePolicy(a, b string) bool {
	var va, vb any
	if json.Unmarshal([]byte(a), &va) != nil || json.Unmarshal([]byte(b), &vb) != nil {
		return strings.TrimSpace(a) == strings.TrimSpace(b)
	}
	return reflect.DeepEqual(va, vb)
}

// usedSince tells whether a fresh last use is later than what the plan saw: a use the
// plan did not know about.
func usedSince(plan *KeyEvidence, live KeyEvidence, runAt time.Time) (bool, string) {
	if live.LastUsed == nil {
		return false, ""
	}
	switch {
	case plan == nil || !plan.LastUseKnown:
		if live.LastUsed.After(runAt) {
			return true, fmt.Sprintf("used at %s, after the run the plan was made from", fmtUse(live))
		}
	case plan.LastUsed == nil:
		return true, fmt.Sprintf("used at %s; the plan saw it never used", fmtUse(live))
	case live.LastUsed.After(*plan.LastUsed):
		return true, fmt.Sprintf("used at %s; the plan saw its last use at %s", fmtUse(live), fmtTime(plan.LastUsed))
	}
	return false, ""
}

// inactiveSince is when a key was last set Inactive with no reactivation after, from
// this tool's journal and from CloudTrail (seed 004: "Inactive for 48 hours"). The
// notes say which source answered and which could not.
func inactiveSince(ctx context.Context, j Journal, s *Session, keyID string) (at *time.Time, source string, notes []string) {
	type change struct {
		t        time.Time
		inactive bool
		src      string
	}
	var all []change
	if j != nil {
		if entries, err := j.JournalEntries(ctx, storeFilterKey(keyID)); err == nil {
			for _, e := range entries {
				var d actionDetail
				if json.Unmarshal(e.Detail, &d) == nil && d.Action.API == fix.IAMUpdateAccessKey {
					all = append(all, change{e.RecordedAt, strings.EqualFold(d.Action.Params.Status, "Inactive"), "journal " + e.JournalID})
				}
			}
		} else {
			notes = append(notes, "the journal could not be read: "+err.Error())
		}
	}
	p := cloudtrail.NewLookupEventsPaginator(s.trail, &cloudtrail.LookupEventsInput{LookupAttributes: []cttypes.LookupAttribute{
		{AttributeKey: cttypes.LookupAttributeKeyResourceName, AttributeValue: aws.String(keyID)}}})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			notes = append(notes, "CloudTrail could not be read ("+shortError(err)+"): only the journal vouches")
			break
		}
		for _, e := range page.Events {
			if aws.ToString(e.EventName) != "UpdateAccessKey" || e.EventTime == nil {
				continue
			}
			var rec struct {
				ErrorCode         string         `json:"errorCode"`
				RequestParameters map[string]any `json:"requestParameters"`
			}
			_ = json.Unmarshal([]byte(aws.ToString(e.CloudTrailEvent)), &rec)
			if rec.ErrorCode != "" {
				continue
			}
			inactive := true // an event without its status (older records) counts as a deactivation of a key that is Inactive now
			if st, ok := rec.RequestParameters["status"].(string); ok {
				inactive = strings.EqualFold(st, "Inactive")
			}
			all = append(all, change{e.EventTime.UTC(), inactive, "CloudTrail event " + aws.ToString(e.EventId)})
		}
	}
	slices.SortStableFunc(all, func(a, b change) int { return a.t.Compare(b.t) })
	if len(all) == 0 {
		return nil, "", notes
	}
	last := len(all) - 1
	if !all[last].inactive {
		return nil, "", append(notes, "reactivated at "+all[last].t.Format(time.RFC3339)+" ("+all[last].src+")")
	}
	// Inactive since the oldest deactivation after the newest reactivation.
	first := last
	for first > 0 && all[first-1].inactive {
		first--
	}
	t := all[first].t
	return &t, all[first].src, notes
}

// storeFilterKey selects the journal's completed calls on one key.
func storeFilterKey(keyID string) store.JournalFilter {
	return store.JournalFilter{AccessKeyID: keyID, Kind: KindAfter, Status: StatusOK}
}
