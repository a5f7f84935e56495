package remediate

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/iamaudit/iamaudit/internal/fix"
	"github.com/iamaudit/iamaudit/internal/fix/awscli"
	"github.com/iamaudit/iamaudit/internal/inventory"
	"github.com/iamaudit/iamaudit/internal/outcome"
	"github.com/iamaudit/iamaudit/internal/store"
)

// AccessKeyIDRe is the shape of an access key id: AKIA (long-term) or ASIA
// (temporary) and 16 more characters.
var AccessKeyIDRe = regexp.MustCompile(`^(AKIA|ASIA)[A-Z0-9]{16}$`)

// Runs is what whois reads of the store.
type Runs interface {
	Runs(ctx context.Context, f store.RunFilter) ([]store.RunSummary, error)
	Load(ctx context.Context, runID string) (*outcome.Outcome, error)
	JournalEntries(ctx context.Context, f store.JournalFilter) ([]store.JournalEntry, error)
}

// WhoisOptions configure Whois.
type WhoisOptions struct {
	// Store is nil when there is none: whois then answers live only.
	Store     Runs
	Connector *Connector
	Clock     func() time.Time
	// Days of CloudTrail activity to show (default 7).
	Days int
	// Runs is how many of the newest stored runs are searched (default 10).
	Runs int
}

// WhoisReport is what is known of an access key (incident response: a key found in a
// repository or a log).
type WhoisReport struct {
	KeyID string `json:"access_key_id"`
	// Known: a stored run had the key (RunID, the newest that did).
	Known bool   `json:"known"`
	RunID string `json:"run_id,omitempty"`
	// AccountBy says how the account is known: "sts:GetAccessKeyInfo" and/or the run.
	AccountID   string   `json:"account_id,omitempty"`
	AccountName string   `json:"account_name,omitempty"`
	AccountBy   []string `json:"account_by,omitempty"`
	// InOrganization: the account is one of the stored run's Organization.
	InOrganization bool   `json:"in_organization"`
	User           string `json:"user,omitempty"`
	UserARN        string `json:"user_arn,omitempty"`
	Owner          []Tag  `json:"owner"`
	// Key is the live read when it could be made (Live), else the run's.
	Key  *KeyEvidence `json:"key,omitempty"`
	Live bool         `json:"live"`
	// Events are the key's CloudTrail activity in the last Days days (EventsKnown
	// false: CloudTrail could not be read, see Notes).
	Days        int         `json:"days"`
	Events      []KeyEvent  `json:"events"`
	EventsKnown bool        `json:"events_known"`
	Journal     []JournalOn `json:"journal"`
	Notes       []string    `json:"notes"`
}

// KeyEvent is one CloudTrail event made with the key.
type KeyEvent struct {
	Time      time.Time `json:"time"`
	Name      string    `json:"name"`
	Source    string    `json:"source"`
	Region    string    `json:"region,omitempty"`
	SourceIP  string    `json:"source_ip,omitempty"`
	ErrorCode string    `json:"error_code,omitempty"`
}

// JournalOn is one of this tool's journaled actions on the key.
type JournalOn struct {
	JournalID string    `json:"journal_id"`
	At        time.Time `json:"at"`
	API       string    `json:"api"`
	Status    string    `json:"status"`
	Phase     string    `json:"phase"`
}

// Whois finds a key: from the store when a run had it, and live: its account
// (sts:GetAccessKeyInfo), then in that account through the remediation role its user
// (GetAccessKeyLastUsed names it), status and age (ListAccessKeys), owner tags and
// recent CloudTrail activity. What cannot be read is said in Notes, never left blank.
func Whois(ctx context.Context, keyID string, opts WhoisOptions) (*WhoisReport, error) {
	if !AccessKeyIDRe.MatchString(keyID) {
		return nil, fmt.Errorf("%q is not an access key id (AKIA… or ASIA… and 16 letters or digits)", keyID)
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.Days <= 0 {
		opts.Days = 7
	}
	if opts.Runs <= 0 {
		opts.Runs = 10
	}
	r := &WhoisReport{KeyID: keyID, Owner: []Tag{}, Events: []KeyEvent{}, Journal: []JournalOn{}, Notes: []string{}, Days: opts.Days}
	var org map[string]string // account id → name, from the newest run
	if opts.Store != nil {
		org = r.fromStore(ctx, opts)
	}
	c := opts.Connector
	if c == nil {
		return r, nil
	}
	caller, err := c.Caller(ctx)
	if err != nil {
		r.Notes = append(r.Notes, "no live read: "+err.Error())
		return r, nil
	}
	if c.Partition == "" {
		c.Partition = "aws"
		if a, err := arn.Parse(caller.ARN); err == nil && a.Partition != "" {
			c.Partition = a.Partition
		}
	}
	if c.Region == "" {
		c.Region = inventory.HomeRegion(c.Partition)
	}
	info, err := c.sts(c.Base).GetAccessKeyInfo(ctx, &sts.GetAccessKeyInfoInput{AccessKeyId: aws.String(keyID)})
	switch {
	case err != nil:
		r.Notes = append(r.Notes, "sts:GetAccessKeyInfo: "+shortError(err))
	case r.AccountID != "" && r.AccountID != aws.ToString(info.Account):
		r.Notes = append(r.Notes, fmt.Sprintf("STS says account %s, the run said %s", aws.ToString(info.Account), r.AccountID))
		r.AccountID, r.AccountBy = aws.ToString(info.Account), []string{"sts:GetAccessKeyInfo"}
	default:
		r.AccountID = aws.ToString(info.Account)
		r.AccountBy = append(r.AccountBy, "sts:GetAccessKeyInfo")
	}
	if r.AccountID == "" {
		if !r.Known {
			r.Notes = append(r.Notes, "unknown key: no stored run has it, and STS does not say whose it is (it may be deleted, or not a real key)")
		}
		return r, nil
	}
	if name, ok := org[r.AccountID]; ok {
		r.InOrganization, r.AccountName = true, name
	} else if org != nil && r.AccountID != caller.AccountID {
		r.Notes = append(r.Notes, "account "+r.AccountID+" is not in the audited Organization: its owner must act")
		return r, nil
	}
	s, err := c.Account(ctx, r.AccountID, caller)
	if err != nil {
		r.Notes = append(r.Notes, "no live read in the account: "+err.Error())
		return r, nil
	}
	r.live(ctx, s, opts)
	return r, nil
}

// fromStore finds the key in the newest stored runs, and this tool's journal on it.
func (r *WhoisReport) fromStore(ctx context.Context, opts WhoisOptions) map[string]string {
	runs, err := opts.Store.Runs(ctx, store.RunFilter{})
	if err != nil {
		r.Notes = append(r.Notes, "the store could not be read: "+err.Error())
		return nil
	}
	var org map[string]string
	for i, n := len(runs)-1, 0; i >= 0 && n < opts.Runs; i, n = i-1, n+1 {
		o, err := opts.Store.Load(ctx, runs[i].RunID)
		if err != nil {
			r.Notes = append(r.Notes, "run "+runs[i].RunID+" could not be read: "+err.Error())
			continue
		}
		if org == nil {
			org = map[string]string{}
			for _, a := range o.Inventory.Accounts {
				org[a.ID] = a.Name
			}
		}
		for ai := range o.Inventory.Accounts {
			acct := &o.Inventory.Accounts[ai]
			for ui := range acct.Users {
				u := &acct.Users[ui]
				for _, k := range u.AccessKeys {
					if k.ID != r.KeyID {
						continue
					}
					ke := keyEvidence(acct, u, k)
					r.Known, r.RunID, r.AccountID, r.AccountName, r.User, r.UserARN, r.Key = true, runs[i].RunID, acct.ID, acct.Name, u.Name, u.ARN, &ke
					r.AccountBy = []string{"run " + runs[i].RunID}
					r.Owner = ownerOf(u, ownerKeys(o))
				}
			}
		}
		if r.Known {
			break
		}
	}
	if es, err := opts.Store.JournalEntries(ctx, store.JournalFilter{AccessKeyID: r.KeyID, Kind: KindAfter}); err == nil {
		for _, e := range es {
			r.Journal = append(r.Journal, JournalOn{JournalID: e.JournalID, At: e.RecordedAt, API: e.API, Status: e.Status, Phase: e.Phase})
		}
	}
	return org
}

func ownerKeys(o *outcome.Outcome) []string {
	if len(o.Settings.Checks.OwnerTags) > 0 {
		return o.Settings.Checks.OwnerTags
	}
	return []string{"Owner", "Team", "Email"}
}

// live reads the key in its account.
func (r *WhoisReport) live(ctx context.Context, s *Session, opts WhoisOptions) {
	lu, err := s.read.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(r.KeyID)})
	if err != nil {
		r.Notes = append(r.Notes, "iam:GetAccessKeyLastUsed: "+shortError(err)+" (the key may be deleted, or not an IAM user's)")
	} else if u := aws.ToString(lu.UserName); u != "" {
		r.User = u
	}
	if r.User != "" && r.User != "root" {
		if k, found, err := s.liveKey(ctx, r.User, r.KeyID); err != nil {
			r.Notes = append(r.Notes, err.Error())
		} else if found {
			r.Key, r.Live = &k, true
		} else {
			r.Notes = append(r.Notes, "the user has no such key any more: it was deleted")
		}
		if tags, err := s.liveTags(ctx, r.User); err == nil {
			r.Owner = ownerOf(&inventory.User{Tags: tags}, []string{"Owner", "Team", "Email"})
		} else {
			r.Notes = append(r.Notes, err.Error())
		}
	}
	since := opts.Clock().Add(-time.Duration(opts.Days) * 24 * time.Hour)
	p := cloudtrail.NewLookupEventsPaginator(s.trail, &cloudtrail.LookupEventsInput{StartTime: aws.Time(since),
		LookupAttributes: []cttypes.LookupAttribute{{AttributeKey: cttypes.LookupAttributeKeyAccessKeyId, AttributeValue: aws.String(r.KeyID)}}})
	r.EventsKnown = true
	for p.HasMorePages() && len(r.Events) < 1000 {
		page, err := p.NextPage(ctx)
		if err != nil {
			r.EventsKnown = false
			r.Notes = append(r.Notes, "CloudTrail could not be read: "+shortError(err))
			break
		}
		for _, e := range page.Events {
			ev := KeyEvent{Name: aws.ToString(e.EventName), Source: aws.ToString(e.EventSource)}
			if e.EventTime != nil {
				ev.Time = e.EventTime.UTC()
			}
			var rec struct {
				Region    string `json:"awsRegion"`
				SourceIP  string `json:"sourceIPAddress"`
				ErrorCode string `json:"errorCode"`
			}
			if json.Unmarshal([]byte(aws.ToString(e.CloudTrailEvent)), &rec) == nil {
				ev.Region, ev.SourceIP, ev.ErrorCode = rec.Region, rec.SourceIP, rec.ErrorCode
			}
			r.Events = append(r.Events, ev)
		}
	}
}

// Print writes the report for a person.
func (r *WhoisReport) Print(w io.Writer, now time.Time) {
	fmt.Fprintf(w, "Access key %s\n", r.KeyID)
	unknown := func(s string) string {
		if s == "" {
			return "unknown"
		}
		return s
	}
	acct := unknown(r.AccountID)
	if r.AccountName != "" {
		acct += " (" + r.AccountName + ")"
	}
	if len(r.AccountBy) > 0 {
		acct += "  [" + strings.Join(r.AccountBy, ", ") + "]"
	}
	fmt.Fprintf(w, "  account:   %s\n", acct)
	fmt.Fprintf(w, "  user:      %s\n", unknown(r.User))
	var owners []string
	for _, t := range r.Owner {
		owners = append(owners, t.Key+"="+t.Value)
	}
	if len(owners) == 0 {
		owners = []string{"unknown (no Owner, Team or Email tag)"}
	}
	fmt.Fprintf(w, "  owner:     %s\n", strings.Join(owners, " "))
	if k := r.Key; k != nil {
		src := "live"
		if !r.Live {
			src = "as run " + r.RunID + " saw it"
		}
		age := "unknown"
		if k.Created != nil {
			age = fmt.Sprintf("created %s, %d days ago", k.Created.Format("2006-01-02"), int(now.Sub(*k.Created).Hours()/24))
		}
		fmt.Fprintf(w, "  status:    %s, %s (%s)\n", unknown(k.Status), age, src)
		fmt.Fprintf(w, "  last used: %s\n", fmtUse(*k))
	} else {
		fmt.Fprintln(w, "  status:    unknown")
		fmt.Fprintln(w, "  last used: unknown")
	}
	if r.Known {
		fmt.Fprintf(w, "  known:     from stored run %s\n", r.RunID)
	} else {
		fmt.Fprintln(w, "  known:     in no stored run")
	}
	switch {
	case !r.EventsKnown:
		fmt.Fprintf(w, "  CloudTrail (last %d days): unknown\n", r.Days)
	default:
		fmt.Fprintf(w, "  CloudTrail (last %d days): %d event(s) made with the key\n", r.Days, len(r.Events))
		for i, e := range r.Events {
			if i == 20 {
				fmt.Fprintf(w, "    … and %d more\n", len(r.Events)-20)
				break
			}
			line := fmt.Sprintf("    %s  %s  %s", e.Time.Format(time.RFC3339), e.Name, e.Source)
			if e.SourceIP != "" {
				line += "  from " + e.SourceIP
			}
			if e.ErrorCode != "" {
				line += "  (" + e.ErrorCode + ")"
			}
			fmt.Fprintln(w, line)
		}
	}
	for _, j := range r.Journal {
		fmt.Fprintf(w, "  iamaudit:  %s %s %s (%s, journal %s)\n", j.At.Format(time.RFC3339), j.API, j.Status, j.Phase, j.JournalID)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "  note:      %s\n", n)
	}
}

// WhoisSource is the Plan.Source of a plan made by whois --deactivate.
const WhoisSource = "whois"

// DeactivatePlan is whois --deactivate's plan: one deactivate-key item for the key,
// with the live read as its evidence, applied by Apply like any other plan.
func (r *WhoisReport) DeactivatePlan(id string, now time.Time, partition, region string) (*Plan, error) {
	if r.AccountID == "" || r.User == "" || r.User == "root" || r.Key == nil || !r.Live {
		return nil, fmt.Errorf("the key %s could not be read live in its account (%s): it cannot be deactivated from here", r.KeyID, strings.Join(r.Notes, "; "))
	}
	if partition == "" {
		partition = "aws"
	}
	if region == "" {
		region = inventory.HomeRegion(partition)
	}
	t := fix.Target{Partition: partition, Region: region}
	it := Item{N: 1, Workflow: DeactivateKey, Reason: "incident response: iamaudit whois " + r.KeyID + " --deactivate",
		AccountID: r.AccountID, AccountName: r.AccountName, User: r.User, AccessKeyID: r.KeyID, Owner: r.Owner,
		Evidence: Evidence{Key: r.Key}}
	it.Actions = actionsFor(DeactivateKey, t, UserConfig{AccountID: r.AccountID, Name: r.User}, r.KeyID)
	p := &Plan{Schema: PlanSchema, ID: id, Source: WhoisSource, CreatedAt: now.UTC(), RunEvaluatedAt: now.UTC(), Partition: partition, Region: region,
		Workflows: []Workflow{DeactivateKey}, Items: []Item{it}, Skipped: []Skip{}}
	p.Items[0].Commands = awscli.Commands(it.Actions)
	return p, nil
}
