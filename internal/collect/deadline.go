package collect

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"
	"golang.org/x/time/rate"

	"github.com/iamaudit/iamaudit/internal/inventory"
)

// Deadlines. Every AWS call has two (docs/aws-facts.md "Deadlines"): each attempt
// (one HTTP request and its response) must be answered within
// Options.AttemptTimeout, or it is abandoned and retried like a dropped connection;
// the call as a whole, retries and their backoff included, within
// Options.CallTimeout, or it fails and becomes a gap. An account's whole audit is
// bounded by Options.AccountTimeout: past it, what is still missing is a gap of the
// account, and the other accounts' outputs are written as usual. No endpoint, however
// it misbehaves (answering slowly, never answering, accepting a connection and staying
// silent), can hold a run longer than these bounds.
const (
	// An IAM, STS, Organizations or CloudTrail request is answered in well under a
	// second; the largest (GetAccountAuthorizationDetails with 1000 items, a credential
	// report of thousands of users) in a few seconds. 30 s is an endpoint that is not
	// answering.
	defaultAttemptTimeout = 30 * time.Second
	// Ten attempts with the standard backoff (capped at 20 s) spend about a minute
	// waiting between attempts in a throttling storm: 3 minutes leave room for that
	// and for slow answers, and stop a call that will not succeed.
	defaultCallTimeout = 3 * time.Minute
	// An account is audited in seconds with the credential report; the per-user
	// fallback for 5,000 users (15,000 calls at 15/s) takes about 17 minutes. An hour
	// bounds an account whose endpoint answers every call just under the deadlines.
	defaultAccountTimeout = time.Hour
	// A call or a credential report wait is shown as "waiting" once it has lasted this
	// long (the progress line, and a console line when stderr is not a terminal).
	defaultWaitNotice = 10 * time.Second
)

// CodeTimeout is the Gap.ErrorCode of a call that was not answered in time (not an
// AWS error code: AWS, or whatever stands in its place, did not answer).
const CodeTimeout = "Timeout"

// timeoutError is a deadline that passed: an attempt's (retried), a call's or an
// account's.
type timeoutError struct {
	what  string // "attempt", "call", "account", "report"
	op    string // "iam:GetAccountPasswordPolicy"; empty for an account
	limit time.Duration
	flag  string // the flag that sets limit
}

func (e *timeoutError) Error() string {
	switch e.what {
	case "attempt":
		return fmt.Sprintf("no answer within %s (%s)", e.limit, e.flag)
	case "account":
		return fmt.Sprintf("the account's audit did not finish within %s (%s)", e.limit, e.flag)
	case "report":
		return fmt.Sprintf("the credential report was not ready within %s (%s)", e.limit, e.flag)
	}
	return fmt.Sprintf("no answer within %s, retries included (%s)", e.limit, e.flag)
}

// Unwrap: a deadline passed.
func (e *timeoutError) Unwrap() error { return context.DeadlineExceeded }

// RetryableError tells the SDK's retryer that an attempt which timed out is retried
// (like a dropped connection); a whole call that timed out is not.
func (e *timeoutError) RetryableError() bool { return e.what == "attempt" }

// Timeout is true (net.Error's convention).
func (e *timeoutError) Timeout() bool { return true }

// isTimeout: err is a deadline of ours that passed.
func isTimeout(err error) bool {
	var te *timeoutError
	return errors.As(err, &te)
}

// errAccountTimeout is the cause of an account's context when its deadline passes.
func errAccountTimeout(limit time.Duration) error {
	return &timeoutError{what: "account", limit: limit, flag: "--account-timeout"}
}

// stopReason says why ctx is done, for gap messages: the account's deadline, or the
// run's interruption.
func stopReason(ctx context.Context) string {
	if cause := context.Cause(ctx); isTimeout(cause) {
		return "not collected: " + cause.Error()
	}
	return "not collected: the run was interrupted"
}

// ---- calls in flight ----

// watch knows which calls (and credential report waits) are in flight, in which
// account and since when, so that the progress can say what a run is waiting for.
type watch struct {
	mu     sync.Mutex
	next   int
	flight map[int]Waiting
}

func newWatch() *watch { return &watch{flight: map[int]Waiting{}} }

// begin records that what started in the account now; the returned function ends it.
// A nil watch records nothing.
func (w *watch) begin(accountID, what string) func() {
	if w == nil {
		return func() {}
	}
	w.mu.Lock()
	w.next++
	id := w.next
	w.flight[id] = Waiting{ID: id, AccountID: accountID, What: what, Since: time.Now()}
	w.mu.Unlock()
	return func() {
		w.mu.Lock()
		delete(w.flight, id)
		w.mu.Unlock()
	}
}

// longest returns, per account, its longest-running flight that began at least
// notice ago, oldest first.
func (w *watch) longest(notice time.Duration) []Waiting {
	if w == nil {
		return nil
	}
	now := time.Now()
	w.mu.Lock()
	byAccount := map[string]Waiting{}
	for _, f := range w.flight {
		if now.Sub(f.Since) < notice {
			continue
		}
		if cur, ok := byAccount[f.AccountID]; !ok || f.Since.Before(cur.Since) {
			byAccount[f.AccountID] = f
		}
	}
	w.mu.Unlock()
	out := make([]Waiting, 0, len(byAccount))
	for _, f := range byAccount {
		f.For = now.Sub(f.Since).Truncate(time.Second)
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Since.Before(out[j].Since) })
	return out
}

// Waiting is a call (or a credential report wait) that has lasted long enough to be
// shown: ProgressEvent.Waiting.
type Waiting struct {
	ID        int    // the same for every report of one call
	AccountID string // empty for the Organization's own calls
	What      string // "iam:GetAccountPasswordPolicy", "the credential report"
	// Limit is when the audit stops waiting for it ("--call-timeout 3m0s").
	Limit string
	Since time.Time
	For   time.Duration // how long it has lasted so far
}

// watchCalls reports, every tick until stop is closed, the accounts' calls that have
// lasted opts.WaitNotice or longer: a CallWaiting progress event each, whose Account
// has only its id (empty for the Organization's own calls).
func watchCalls(w *watch, opts Options, stop <-chan struct{}) {
	tick := min(opts.WaitNotice/2, time.Second)
	t := time.NewTicker(max(tick, 10*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		for _, f := range w.longest(opts.WaitNotice) {
			f.Limit = limitOf(f.What, opts)
			opts.progress(ProgressEvent{Kind: CallWaiting, Account: inventory.Account{ID: f.AccountID}, Waiting: &f})
		}
	}
}

// limitOf names the deadline that ends a wait.
func limitOf(what string, opts Options) string {
	if what == ReportWait {
		return fmt.Sprintf("--report-timeout %s", opts.ReportTimeout)
	}
	return fmt.Sprintf("--call-timeout %s", opts.CallTimeout)
}

// ReportWait is the Waiting.What of a credential report wait (generation and polls).
const ReportWait = "the credential report"

// ---- the middlewares ----

// deadlines returns the SDK stack mutator that gives every call of a client its
// deadlines, pace and count:
//   - before the retry loop (Initialize), the call's deadline (Options.CallTimeout),
//     and the call recorded in the watch while it lasts, retries included;
//   - on every attempt (Finalize, after the retry middleware): wait for the limiter
//     (lim, nil: none) and count the attempt as "<prefix>:<Operation>" (retries cost
//     the same quota at AWS), then the attempt's deadline (Options.AttemptTimeout);
//   - an ExpiredToken answer (a session that expired between signing and arrival, or
//     a transient one) makes refresh, when set, drop the cached credentials, and the
//     attempt is retried with fresh ones.
func deadlines(prefix string, lim *rate.Limiter, calls *callCounter, opts Options, refresh func()) func(*middleware.Stack) error {
	return func(s *middleware.Stack) error {
		if err := s.Initialize.Add(middleware.InitializeMiddlewareFunc("iamaudit.CallTimeout",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				if calls != nil {
					defer calls.watch.begin(calls.account, prefix+":"+awsmiddleware.GetOperationName(ctx))()
				}
				if opts.CallTimeout <= 0 {
					return next.HandleInitialize(ctx, in)
				}
				cctx, cancel := context.WithTimeout(ctx, opts.CallTimeout)
				defer cancel()
				out, md, err := next.HandleInitialize(cctx, in)
				if err != nil && cctx.Err() != nil && ctx.Err() == nil {
					err = &timeoutError{what: "call", op: prefix + ":" + awsmiddleware.GetOperationName(ctx), limit: opts.CallTimeout, flag: "--call-timeout"}
				}
				return out, md, err
			}), middleware.Before); err != nil {
			return err
		}
		return s.Finalize.Insert(middleware.FinalizeMiddlewareFunc("iamaudit.PaceAndCount",
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				if lim != nil {
					if err := lim.Wait(ctx); err != nil {
						return middleware.FinalizeOutput{}, middleware.Metadata{}, err
					}
				}
				op := prefix + ":" + awsmiddleware.GetOperationName(ctx)
				if calls != nil {
					calls.add(op)
				}
				actx, cancel := ctx, context.CancelFunc(func() {})
				if opts.AttemptTimeout > 0 {
					actx, cancel = context.WithTimeout(ctx, opts.AttemptTimeout)
				}
				defer cancel()
				out, md, err := next.HandleFinalize(actx, in)
				switch {
				case err == nil:
				case actx.Err() != nil && ctx.Err() == nil:
					err = &timeoutError{what: "attempt", op: op, limit: opts.AttemptTimeout, flag: "--attempt-timeout"}
				case refresh != nil && isExpiredToken(err):
					refresh()
					err = &refreshedError{err}
				}
				return out, md, err
			}), "Retry", middleware.After)
	}
}

// refreshedError is an ExpiredToken answer after which the credentials were dropped
// from their cache: the retryer tries again, with credentials assumed anew.
type refreshedError struct{ err error }

func (e *refreshedError) Error() string        { return e.err.Error() }
func (e *refreshedError) Unwrap() error        { return e.err }
func (e *refreshedError) RetryableError() bool { return true }

// isExpiredToken: the session's credentials expired (IAM and STS say ExpiredToken,
// the JSON services ExpiredTokenException).
func isExpiredToken(err error) bool {
	switch errorCode(err) {
	case "ExpiredToken", "ExpiredTokenException":
		return true
	}
	return false
}
