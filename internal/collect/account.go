package collect

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go"
	"golang.org/x/sync/errgroup"
	"golang.org/x/sync/semaphore"

	"github.com/iamaudit/iamaudit/internal/inventory"
)

// gapList collects gaps from several goroutines.
type gapList struct {
	mu   sync.Mutex
	acct string
	gaps []inventory.Gap
	// ctx is the run's context: once it is done, failures are the interruption's, and
	// each section gets one gap for the whole account (interrupted) instead of one per
	// user or key.
	ctx         context.Context
	interrupted map[inventory.Section]int // section → index in gaps of its interruption gap
}

func newGapList(ctx context.Context, accountID string) *gapList {
	return &gapList{ctx: ctx, acct: accountID}
}

func (g *gapList) add(f failure, subject string, err error, note string) {
	if g.ctx != nil && g.ctx.Err() != nil {
		g.addInterrupted(f, err)
		return
	}
	g.addGap(gapFrom(g.acct, f, subject, err, note))
}

// addInterrupted records that f's section was cut short by the interruption, once per
// section, without Subject: what the failures left unknown is unknown for the whole
// account. Each later failure in the section adds its fields to that one gap.
func (g *gapList) addInterrupted(f failure, err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if i, ok := g.interrupted[f.section]; ok {
		g.gaps[i].Unknown = union(g.gaps[i].Unknown, f.unknown)
		return
	}
	if g.interrupted == nil {
		g.interrupted = map[inventory.Section]int{}
	}
	g.interrupted[f.section] = len(g.gaps)
	g.gaps = append(g.gaps, gapFrom(g.acct, f, "", err, stopReason(g.ctx)))
}

func (g *gapList) addGap(gap inventory.Gap) {
	g.mu.Lock()
	g.gaps = append(g.gaps, gap)
	g.mu.Unlock()
}

// drop removes the gaps of section about subject: a part read again replaces them
// with its own outcome.
func (g *gapList) drop(section inventory.Section, subject string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	kept := g.gaps[:0]
	for _, gap := range g.gaps {
		if gap.Section != section || gap.Subject != subject {
			kept = append(kept, gap)
		}
	}
	g.gaps = kept
}

func (g *gapList) list() []inventory.Gap {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := append([]inventory.Gap{}, g.gaps...)
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Section != out[j].Section {
			return out[i].Section < out[j].Section
		}
		return out[i].Subject < out[j].Subject
	})
	return out
}

func emptyAccount(a inventory.Account) inventory.Account {
	a.Users = []inventory.User{}
	a.Groups = []inventory.Group{}
	a.Roles = []inventory.Role{}
	a.Policies = []inventory.ManagedPolicy{}
	a.ServerCertificates = []inventory.ServerCertificate{}
	a.Events = []inventory.Event{}
	a.Gaps = []inventory.Gap{}
	return a
}

// auditAccount collects one account; it never fails: what cannot be collected is
// recorded in Status/Reason and Gaps.
func auditAccount(ctx context.Context, d *deps, opts Options, a inventory.Account) inventory.Account {
	a, release := auditAccountHeld(ctx, d, opts, a)
	release()
	return a
}

// auditAccountHeld is auditAccount, holding the account's share of the users in
// flight (usersBudget) until release is called: once the account is handed over and
// summarised (the scheduler's gather), not when its calls end.
func auditAccountHeld(ctx context.Context, d *deps, opts Options, a inventory.Account) (_ inventory.Account, release func()) {
	release = func() {}
	a = emptyAccount(a)
	a.CollectedAt = opts.Clock().UTC()
	if a.Status == inventory.StatusNotAudited { // decided during selection
		return a, release
	}
	if a.State != "ACTIVE" {
		a.Status = inventory.StatusSkipped
		a.Reason = fmt.Sprintf("account state is %s (only ACTIVE accounts are audited)", a.State)
		return a, release
	}
	if ctx.Err() != nil {
		return notReached(a, ctx), release
	}
	runCtx := ctx
	// The account's own deadline: past it, what is still missing is a gap of this
	// account (stopReason), and the run goes on with the others.
	ctx, cancel := context.WithTimeoutCause(ctx, opts.AccountTimeout, errAccountTimeout(opts.AccountTimeout))
	defer cancel()
	calls := newAccountCalls(a.ID, d.watch)

	cl, err := assumeOrFallback(ctx, d, opts, a, calls)
	if err != nil && runCtx.Err() != nil {
		a = notReached(a, runCtx) // the role was not refused: the run stopped first
		a.APICalls = calls.snapshot()
		return a, release
	}
	if err != nil {
		a.Status = inventory.StatusNotAudited
		a.Reason = err.Error()
		a.APICalls = calls.snapshot()
		return a, release
	}
	a.AuditedAs = cl.auditedAs

	// GetAccountSummary first: its Users count is the account's weight in the users
	// in flight (usersBudget), taken before the calls that bring the users in; its
	// answer is the bulk calls' (collectIAM asks it no second time).
	sumOut, sumErr := cl.iam.GetAccountSummary(ctx, &iam.GetAccountSummaryInput{})
	release = d.budget.acquire(ctx, summaryUsers(sumOut, sumErr))
	summary := func() (*iam.GetAccountSummaryOutput, error) { return sumOut, sumErr }

	gaps := newGapList(ctx, a.ID)
	var iamRes iamResult
	var events []inventory.Event
	eventsDone := make(chan struct{})
	// CloudTrail runs beside IAM: the two have separate limits at AWS. Only a reused
	// credential report makes IAM wait for the events (which users changed since it
	// was generated), after its bulk calls and what needs no events (collectUsers).
	var g errgroup.Group
	g.Go(func() error {
		opts.progress(ProgressEvent{Kind: PhaseStarted, Account: a, Phase: "iam"})
		iamRes = collectIAM(ctx, d, opts, cl.iam, a.ID, gaps, func() accountEvents {
			<-eventsDone
			return accountEvents{events: events, failed: failedEventNames(gaps.list())}
		}, summary)
		return nil
	})
	g.Go(func() error {
		defer close(eventsDone)
		opts.progress(ProgressEvent{Kind: PhaseStarted, Account: a, Phase: "cloudtrail"})
		events = collectEvents(ctx, cl.trail, opts, gaps)
		return nil
	})
	_ = g.Wait()

	iamRes.apply(&a)
	a.Events = events
	a.Gaps = gaps.list()
	a.APICalls = calls.snapshot()
	a.Status = inventory.StatusAudited
	if len(a.Gaps) > 0 {
		a.Status = inventory.StatusPartial
	}
	return a, release
}

// notReached marks an ACTIVE account the run was interrupted before auditing: not a
// finding about the account (nothing says its role is missing), but a gap of the run.
func notReached(a inventory.Account, ctx context.Context) inventory.Account {
	a.Status = inventory.StatusNotReached
	a.Reason = "not reached: the run was interrupted (" + ctx.Err().Error() + ") before this account was audited; run again to audit it"
	return a
}

// assumeOrFallback assumes the audit role once. When that fails in the caller's own
// account (usually the management account, where e.g. AWSControlTowerExecution does
// not exist), the caller's credentials are used instead (defect 7).
func assumeOrFallback(ctx context.Context, d *deps, opts Options, a inventory.Account, calls *callCounter) (accountClients, error) {
	own := a.ID == d.caller.AccountID
	if opts.Role == "" {
		if own {
			return d.own(a, calls), nil
		}
		return accountClients{}, fmt.Errorf("no role to assume in account %s: give the audit role's name with --role", a.ID)
	}
	cl, err := d.assume(ctx, a, calls)
	if err == nil {
		return cl, nil
	}
	if own {
		return d.own(a, calls), nil
	}
	return accountClients{}, fmt.Errorf("cannot assume %s: %s; deploy the role %s to account %s, trusting the account iamaudit runs from, %s (docs/permissions.md, deploy/iamaudit-role.yaml)",
		roleARN(d.partition, a.ID, opts.Role), shortAPIError(err), opts.Role, a.ID, d.caller.AccountID)
}

// shortAPIError gives "Code: message" for an AWS API error, without the SDK's
// wrapping (operation, request id, credential cache), for messages people read.
func shortAPIError(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode() + ": " + ae.ErrorMessage()
	}
	return err.Error()
}

// usersBudget bounds the users of the accounts in flight (Options.UsersInFlight):
// memory grows with the users collected and not yet handed over, so that many
// accounts run at once (the default concurrency) and large ones take turns. An
// account heavier than the whole budget runs alone.
type usersBudget struct {
	sem *semaphore.Weighted
	max int64
}

func newUsersBudget(n int) *usersBudget {
	return &usersBudget{sem: semaphore.NewWeighted(int64(n)), max: int64(n)}
}

// acquire takes users (at least 1, at most the budget) and returns their release; a
// nil budget, or a run that stops while waiting, takes nothing.
func (b *usersBudget) acquire(ctx context.Context, users int) func() {
	if b == nil {
		return func() {}
	}
	n := min(max(int64(users), 1), b.max)
	if err := b.sem.Acquire(ctx, n); err != nil {
		return func() {}
	}
	var once sync.Once
	return func() { once.Do(func() { b.sem.Release(n) }) }
}

// unknownUsers is an account's weight when GetAccountSummary fails.
const unknownUsers = 1000

// summaryUsers is GetAccountSummary's Users count (unknownUsers when it failed).
func summaryUsers(out *iam.GetAccountSummaryOutput, err error) int {
	if err != nil || out == nil {
		return unknownUsers
	}
	if n, ok := out.SummaryMap["Users"]; ok {
		return int(n)
	}
	return unknownUsers
}
