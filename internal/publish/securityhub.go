package publish

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"
	"golang.org/x/sync/errgroup"
	"golang.org/x/time/rate"

	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/inventory"
	"github.com/iamaudit/iamaudit/internal/outcome"
)

// Security Hub's limits (docs/aws-facts.md "Security Hub", from the Security Hub
// partner guide "Guidelines for using the BatchImportFindings API" and the ASFF
// reference): 100 findings and 6 MB per call, 240 KB per finding, 10 calls per second
// per account and Region (burst 30); Title 256 and Description 1,024 characters;
// Remediation.Recommendation.Text 512; ProductFields 50 pairs, keys 128 and values
// 2,048 characters; 32 resources.
const (
	batchFindings        = 100
	batchBytes           = 5 << 20 // under the 6 MB cap, leaving room for the request's own framing
	maxFindingBytes      = 240 << 10
	maxTitle             = 256
	maxDescription       = 1024
	maxRecommendation    = 512
	maxProductFields     = 50
	maxProductFieldKey   = 128
	maxProductFieldValue = 2048
	// importRate is our pace per account: half the documented 10/s, because other
	// finding providers of the account share that quota.
	importRate = 5
	// findingRetries are the extra rounds for findings a call answered with a
	// transient per-finding error.
	findingRetries = 3
	// accountsInParallel bounds the accounts importing at once.
	accountsInParallel = 8
	schemaVersion      = "2018-10-08"
)

// SecurityHub imports the run's findings into Security Hub as ASFF. Security Hub
// accepts a finding imported with the default product ARN only from the account the
// finding names (AwsAccountId), so each account's findings are imported with that
// account's credentials: the audit role's session (which then needs
// securityhub:BatchImportFindings, docs/permissions.md), or the caller's own where
// the run audited the account with them. Findings about accounts the run could not
// enter (account_not_audited) are imported into the caller's account, naming the
// account as their resource.
type SecurityHub struct {
	Config aws.Config // the caller's
	Role   AuditRole
	// Region is where findings are imported (default: Config.Region).
	Region string
	Retry  Retry
	// Sleep waits between rounds of per-finding retries (nil: a timer).
	Sleep func(context.Context, time.Duration) error
	// Backoff is the wait before the first per-finding retry round, doubled each round
	// (default 1 s).
	Backoff time.Duration
}

// Name implements Destination.
func (s *SecurityHub) Name() string { return "Security Hub (" + s.region() + ")" }

// AllFindings implements FindingsConsumer: every finding is imported, so a streamed
// run keeps them all in memory for it (docs/streaming.md).
func (s *SecurityHub) AllFindings() bool { return true }

func (s *SecurityHub) region() string {
	if s.Region != "" {
		return s.Region
	}
	return s.Config.Region
}

// importGroup is one account's findings and how to reach it.
type importGroup struct {
	account  string
	own      bool // the caller's credentials, not the audit role's
	findings []types.AwsSecurityFinding
}

// Publish implements Destination.
func (s *SecurityHub) Publish(ctx context.Context, run Run) Result {
	o := run.Outcome
	grps := groups(o, run, s.region())
	results := make([]Result, len(grps))
	var g errgroup.Group
	g.SetLimit(accountsInParallel)
	for i, grp := range grps {
		g.Go(func() error {
			results[i] = s.importAccount(ctx, o.Inventory.Partition, grp)
			return nil
		})
	}
	_ = g.Wait()
	var out Result
	archived := 0
	for _, grp := range grps {
		for _, f := range grp.findings {
			if f.RecordState == types.RecordStateArchived {
				archived++
			}
		}
	}
	for _, r := range results {
		out.Sent += r.Sent
		out.Failures = append(out.Failures, r.Failures...)
	}
	out.Summary = fmt.Sprintf("%d findings imported into %d accounts (%d archived: resolved or suppressed)", out.Sent, len(grps), archived)
	if len(out.Failures) > 0 {
		out.Summary += fmt.Sprintf("; %d not imported", len(out.Failures))
	}
	return out
}

// groups are the ASFF findings of the run by the account that imports them, in
// account order.
func groups(o *outcome.Outcome, run Run, region string) []importGroup {
	inv := o.Inventory
	caller := ""
	callerARN := ""
	if inv.Caller != nil {
		caller, callerARN = inv.Caller.AccountID, inv.Caller.ARN
	}
	reachable := map[string]bool{}
	own := map[string]bool{}
	for _, a := range inv.Accounts {
		if a.Status == inventory.StatusAudited || a.Status == inventory.StatusPartial {
			reachable[a.ID] = true
			own[a.ID] = a.AuditedAs != "" && a.AuditedAs == callerARN
		}
	}
	by := map[string]*importGroup{}
	add := func(f checks.Finding) {
		acct := f.AccountID
		if !reachable[acct] {
			acct = caller
		}
		grp := by[acct]
		if grp == nil {
			grp = &importGroup{account: acct, own: own[acct] || !reachable[acct]}
			by[acct] = grp
		}
		grp.findings = append(grp.findings, ASFF(o, run, f, acct, region))
	}
	for _, f := range o.Findings {
		add(f)
	}
	for _, f := range o.Resolved {
		add(f)
	}
	out := make([]importGroup, 0, len(by))
	for _, g := range by {
		out = append(out, *g)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].account < out[j].account })
	return out
}

// FindingID is a finding's Id in Security Hub: stable across runs (the finding's own
// id), so a re-run updates the finding instead of adding another.
func FindingID(f checks.Finding) string { return "iamaudit/" + f.ID }

// ASFF maps a finding to the AWS Security Finding Format, imported by account acct
// in region. Open findings are ACTIVE and FAILED; resolved ones ARCHIVED and PASSED;
// suppressed ones ARCHIVED and still FAILED. Workflow is never set: it belongs to the
// people triaging in Security Hub (BatchUpdateFindings).
func ASFF(o *outcome.Outcome, run Run, f checks.Finding, acct, region string) types.AwsSecurityFinding {
	inv := o.Inventory
	first, last := run.observed(f)
	updated := inv.StartedAt.UTC()
	if last.After(updated) {
		updated = last
	}
	// Second precision: a run is known by its run id, which has no more.
	ts := func(t time.Time) *string {
		return aws.String(t.UTC().Truncate(time.Second).Format("2006-01-02T15:04:05.000Z"))
	}
	partition := inv.Partition
	if partition == "" {
		partition = "aws"
	}
	label := map[checks.Severity]types.SeverityLabel{checks.Critical: types.SeverityLabelCritical, checks.High: types.SeverityLabelHigh,
		checks.Medium: types.SeverityLabelMedium, checks.Low: types.SeverityLabelLow}[f.Severity]
	if label == "" {
		label = types.SeverityLabelInformational
	}
	typ := "Software and Configuration Checks/AWS Security Best Practices"
	if len(f.CIS) > 0 {
		typ = "Software and Configuration Checks/Industry and Regulatory Standards/CIS AWS Foundations Benchmark"
	}
	status, record := types.ComplianceStatusFailed, types.RecordStateActive
	switch {
	case f.State == checks.StateResolved:
		status, record = types.ComplianceStatusPassed, types.RecordStateArchived
	case f.Suppressed:
		record = types.RecordStateArchived
	}
	var reqs []string
	for _, c := range f.CIS {
		reqs = append(reqs, "CIS AWS Foundations Benchmark "+c)
	}
	comp := &types.Compliance{Status: status, RelatedRequirements: reqs}
	if len(f.SecurityHub) > 0 {
		comp.SecurityControlId = aws.String(f.SecurityHub[0])
	}
	desc := f.Message
	if acct != f.AccountID {
		desc = "Account " + f.AccountID + ": " + desc
	}
	asff := types.AwsSecurityFinding{
		SchemaVersion: aws.String(schemaVersion),
		Id:            aws.String(FindingID(f)),
		ProductArn:    aws.String(fmt.Sprintf("arn:%s:securityhub:%s:%s:product/%s/default", partition, region, acct, acct)),
		ProductName:   aws.String("iamaudit"),
		CompanyName:   aws.String("iamaudit"),
		GeneratorId:   aws.String("iamaudit/" + f.CheckID),
		AwsAccountId:  aws.String(acct),
		Types:         []string{typ},
		CreatedAt:     ts(first), FirstObservedAt: ts(first), LastObservedAt: ts(last), UpdatedAt: ts(updated),
		Severity:              &types.Severity{Label: label, Original: aws.String(f.Severity.String())},
		FindingProviderFields: &types.FindingProviderFields{Severity: &types.FindingProviderSeverity{Label: label, Original: aws.String(f.Severity.String())}, Types: []string{typ}},
		Title:                 aws.String(cut(f.Title, maxTitle)),
		Description:           aws.String(cut(desc, maxDescription)),
		Resources:             []types.Resource{resource(f, partition, inv.Region)},
		Compliance:            comp,
		RecordState:           record,
		ProductFields:         productFields(inv, f),
	}
	if text := recommendation(f); text != "" {
		asff.Remediation = &types.Remediation{Recommendation: &types.Recommendation{Text: aws.String(text)}}
	}
	if a := accountName(inv, f.AccountID); a != "" && acct == f.AccountID {
		asff.AwsAccountName = aws.String(a)
	}
	return asff
}

func accountName(inv *inventory.Inventory, id string) string {
	for _, a := range inv.Accounts {
		if a.ID == id {
			return a.Name
		}
	}
	return ""
}

// resource is the ASFF resource of a finding, with Security Hub's resource types.
func resource(f checks.Finding, partition, region string) types.Resource {
	typ := map[string]string{
		checks.ResourceUser: "AwsIamUser", checks.ResourceAccessKey: "AwsIamAccessKey", checks.ResourceRole: "AwsIamRole",
		checks.ResourceGroup: "AwsIamGroup", checks.ResourceAccount: "AwsAccount", checks.ResourceRoot: "AwsAccount",
		checks.ResourceRootAccessKey: "AwsIamAccessKey", checks.ResourceServerCertificate: "Other",
	}[f.ResourceType]
	if typ == "" {
		typ = "Other"
	}
	id := f.Resource
	if id == "" {
		id = f.AccountID
	}
	r := types.Resource{Type: aws.String(typ), Id: aws.String(id), Partition: types.Partition(partition)}
	if region != "" {
		r.Region = aws.String(region)
	}
	return r
}

// productFields are the finding's facts for filtering in Security Hub: check, state,
// user and evidence, within Security Hub's 50 pairs and their lengths.
func productFields(inv *inventory.Inventory, f checks.Finding) map[string]string {
	m := map[string]string{
		"iamaudit/CheckId": f.CheckID,
		"iamaudit/State":   f.State,
		"iamaudit/RunId":   inv.RunID,
	}
	if f.User != "" {
		m["iamaudit/User"] = f.User
	}
	if f.SuppressionReason != "" {
		m["iamaudit/SuppressionReason"] = f.SuppressionReason
	}
	keys := make([]string, 0, len(f.Evidence))
	for k := range f.Evidence {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if len(m) >= maxProductFields {
			break
		}
		m[cut("iamaudit/evidence/"+k, maxProductFieldKey)] = cut(f.Evidence[k], maxProductFieldValue)
	}
	return m
}

// recommendation is the remediation workflow and the first commands, within 512 characters.
func recommendation(f checks.Finding) string {
	text := f.Remediation.Workflow
	for _, c := range f.Remediation.Commands {
		text += "; " + c
	}
	return cut(text, maxRecommendation)
}

// cut shortens s to n characters, marking the cut with "…".
func cut(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// importAccount imports one account's findings in batches.
func (s *SecurityHub) importAccount(ctx context.Context, partition string, grp importGroup) Result {
	var res Result
	failAll := func(fs []types.AwsSecurityFinding, code, msg string) {
		for _, f := range fs {
			res.Failures = append(res.Failures, Failure{Item: aws.ToString(f.Id), Account: grp.account, Code: code, Message: msg})
		}
	}
	cfg := s.Config.Copy()
	cfg.Region = s.region()
	if !grp.own {
		acfg, err := s.Role.accountConfig(ctx, cfg, partition, grp.account, s.Retry)
		if err != nil {
			failAll(grp.findings, errorCode(err), errorMessage(err))
			return res
		}
		acfg.Region = s.region()
		cfg = acfg
	}
	lim := rate.NewLimiter(importRate, importRate)
	client := securityhub.NewFromConfig(cfg, func(o *securityhub.Options) {
		o.Retryer, o.RetryMaxAttempts = s.Retry.retryer(), 0
		o.APIOptions = append(o.APIOptions, pace(lim))
	})
	var sendable []types.AwsSecurityFinding
	for _, f := range grp.findings {
		if n := findingSize(f); n > maxFindingBytes {
			failAll([]types.AwsSecurityFinding{f}, "FindingTooLarge", fmt.Sprintf("the finding is %d bytes in ASFF, over Security Hub's 240 KB", n))
			continue
		}
		sendable = append(sendable, f)
	}
	for _, batch := range batches(sendable) {
		pending := batch
		backoff := s.Backoff
		if backoff <= 0 {
			backoff = time.Second
		}
		for round := 0; len(pending) > 0; round++ {
			out, err := client.BatchImportFindings(ctx, &securityhub.BatchImportFindingsInput{Findings: pending})
			if err != nil {
				failAll(pending, errorCode(err), errorMessage(err))
				break
			}
			failed := map[string]types.ImportFindingsError{}
			for _, fe := range out.FailedFindings {
				failed[aws.ToString(fe.Id)] = fe
			}
			var retry []types.AwsSecurityFinding
			for _, f := range pending {
				fe, bad := failed[aws.ToString(f.Id)]
				switch {
				case !bad:
					res.Sent++
				case transient(aws.ToString(fe.ErrorCode)) && round < findingRetries:
					retry = append(retry, f)
				default:
					res.Failures = append(res.Failures, Failure{Item: aws.ToString(f.Id), Account: grp.account,
						Code: aws.ToString(fe.ErrorCode), Message: aws.ToString(fe.ErrorMessage)})
				}
			}
			pending = retry
			if len(pending) > 0 {
				if err := s.sleep(ctx, backoff); err != nil {
					failAll(pending, "", "not retried: "+err.Error())
					break
				}
				backoff *= 2
			}
		}
	}
	return res
}

func (s *SecurityHub) sleep(ctx context.Context, d time.Duration) error {
	if s.Sleep != nil {
		return s.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// transient tells a per-finding error worth retrying (Security Hub's own failure,
// throttling) from one that would fail again (invalid input, access).
func transient(code string) bool {
	switch code {
	case "InternalException", "InternalFailure", "ServiceUnavailable", "LimitExceededException", "ThrottlingException", "TooManyRequestsException":
		return true
	}
	return false
}

func findingSize(f types.AwsSecurityFinding) int {
	b, err := json.Marshal(f)
	if err != nil {
		return 0
	}
	return len(b)
}

// batches splits findings into calls of at most 100 findings and batchBytes.
func batches(fs []types.AwsSecurityFinding) [][]types.AwsSecurityFinding {
	var out [][]types.AwsSecurityFinding
	var cur []types.AwsSecurityFinding
	size := 0
	for _, f := range fs {
		n := findingSize(f)
		if len(cur) == batchFindings || (len(cur) > 0 && size+n > batchBytes) {
			out = append(out, cur)
			cur, size = nil, 0
		}
		cur = append(cur, f)
		size += n
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}
