package collect

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"golang.org/x/sync/errgroup"

	"github.com/iamaudit/iamaudit/internal/inventory"
)

// How many accounts run at once by default (--concurrency 0 or omitted).
//
// Accounts are independent and AWS's limits that pace an audit are the audited
// account's own (IAM's buckets, LookupEvents' 2/s per account and Region:
// docs/aws-facts.md), so accounts in parallel do not slow one another at AWS: a
// run takes about enumeration plus its slowest account when every selected account
// runs at once, and (accounts ÷ concurrency) × an account's floor when they queue.
// What they do share:
//
//   - Organizations, whose limits are the organization's: one limiter for the whole
//     run (OrgRate), whatever the concurrency; the audit itself makes no
//     Organizations call per account (--ou's ListParents happen during selection).
//   - STS AssumeRole, once per account, counted against the caller's account (the
//     credentials that call it; STS publishes no number: docs/aws-facts.md): one
//     limiter for the run (stsRate).
//   - This process: sockets and memory. All clients share one HTTP transport
//     (sharedHTTPClient), so sockets follow the requests in flight, at most
//     socketsPerAccount per account; the bound keeps them under RLIMIT_NOFILE
//     (Go raises the soft limit to the hard one at start) with reservedFiles left for
//     the store, the outputs and the spool. Memory is bounded by the accounts in
//     flight when the run streams (docs/streaming.md).
//
// ConcurrencyCap caps the default: past 1000 accounts in flight the goroutines,
// the memory of the accounts' users and the local CPU that parses their answers
// cost more than they save; larger Organizations queue (and --concurrency can say
// more).
const (
	// ConcurrencyCap caps the default (see above).
	ConcurrencyCap = 1000
	// An account has at most this many requests in flight: the IAM bulk phase (the
	// credential report, GetAccountAuthorizationDetails, ListVirtualMFADevices,
	// GetAccountSummary, GetAccountPasswordPolicy, ListServerCertificates), one
	// LookupEvents, and AssumeRole first.
	socketsPerAccount = 8
	reservedFiles     = 256
	// MaxConcurrency is the largest --concurrency accepted.
	MaxConcurrency = 10000
	// stsRate paces AssumeRole for the whole run (requests per second): STS publishes
	// no rate, but its quota is the caller account's, shared with everything else it
	// runs. 100/s never slows a run that starts accounts as ListAccounts pages arrive
	// (20 accounts a page at OrgRate 4 pages/s = 80 accounts/s), and spreads the start
	// of an --ou run of 1000 accounts over 10 s instead of one burst.
	stsRate = 100
)

// DefaultConcurrency is the number of accounts audited at once when --concurrency
// is not given: ConcurrencyCap, or fewer when the process may not open enough files.
func DefaultConcurrency() int { return defaultConcurrency() }

var defaultConcurrency = sync.OnceValue(func() int {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return ConcurrencyCap
	}
	return concurrencyFor(lim.Cur)
})

// concurrencyFor is the default concurrency under an open-files limit.
func concurrencyFor(nofile uint64) int {
	if nofile <= reservedFiles+socketsPerAccount {
		return 1
	}
	return int(min(uint64(ConcurrencyCap), (nofile-reservedFiles)/socketsPerAccount))
}

// Concurrency is the concurrency a run with this --concurrency uses (0: derived).
func Concurrency(n int) int {
	if n <= 0 {
		return DefaultConcurrency()
	}
	return n
}

// sharedHTTPClient makes every client of the run (every account's IAM, CloudTrail
// and STS clients, and Organizations) share one HTTP transport. The SDK otherwise
// builds a transport per client from a BuildableClient (each service client copies
// it), so each account would dial its own connections and keep its own idle pool;
// the SDK's default pool keeps 10 idle connections per host, too few for hundreds of
// accounts calling the same IAM endpoint. A client that is not the SDK's own
// (aws.Config.HTTPClient set by the caller) is kept as it is.
func sharedHTTPClient(c aws.HTTPClient, concurrency int) aws.HTTPClient {
	var b *awshttp.BuildableClient
	switch c := c.(type) {
	case nil:
		b = awshttp.NewBuildableClient()
	case *awshttp.BuildableClient:
		b = c
	default:
		return c
	}
	return pooled(b, concurrency).Freeze()
}

// pooled keeps up to two idle connections per account in flight for each endpoint.
func pooled(b *awshttp.BuildableClient, concurrency int) *awshttp.BuildableClient {
	idle := max(awshttp.DefaultHTTPTransportMaxIdleConnsPerHost, 2*concurrency)
	return b.WithTransportOptions(func(tr *http.Transport) {
		tr.MaxIdleConnsPerHost = idle
		tr.MaxIdleConns = 4 * idle // IAM, CloudTrail, STS, Organizations
	})
}

// scheduler audits accounts as they are selected, while enumeration goes on, with
// at most opts.Concurrency at once, and hands the results over once the run is
// ready for them (Options.Started or Options.Selected called).
type scheduler struct {
	mu     sync.Mutex
	cond   *sync.Cond
	queued []inventory.Account // selected so far, in the Organization's order
	closed bool                // the selection is complete
	ready  chan struct{}       // closed once Selected was called (or the run gave up)
	out    chan []inventory.Account
}

type result struct {
	i    int
	acct inventory.Account
	// release gives the account's users in flight back (usersBudget), once it is
	// handed over (and, in a streamed run, summarised).
	release func()
}

// startScheduler starts the workers; add gives them accounts, finish says the
// selection is complete and the results may be handed over, wait returns them.
func startScheduler(ctx context.Context, d *deps, opts Options) *scheduler {
	s := &scheduler{ready: make(chan struct{}), out: make(chan []inventory.Account, 1)}
	s.cond = sync.NewCond(&s.mu)
	results := make(chan result)
	go func() {
		var g errgroup.Group
		g.SetLimit(opts.Concurrency)
		for i := 0; ; i++ {
			a, ok := s.next(i)
			if !ok {
				break
			}
			g.Go(func() error {
				if a.State == "ACTIVE" && a.Status != inventory.StatusNotAudited && ctx.Err() == nil {
					opts.progress(ProgressEvent{Kind: AccountStarted, Account: a, Total: s.total()})
				}
				acct, release := auditAccountHeld(ctx, d, opts, a)
				results <- result{i, acct, release}
				return nil
			})
		}
		_ = g.Wait()
		close(results)
	}()
	go func() { s.out <- s.gather(opts, results) }()
	return s
}

// add queues accounts to audit, in order.
func (s *scheduler) add(accounts ...inventory.Account) {
	if len(accounts) == 0 {
		return
	}
	s.mu.Lock()
	s.queued = append(s.queued, accounts...)
	s.mu.Unlock()
	s.cond.Broadcast()
}

// selection closes the selection and returns it (a copy).
func (s *scheduler) selection() []inventory.Account {
	s.mu.Lock()
	s.closed = true
	out := append([]inventory.Account{}, s.queued...)
	s.mu.Unlock()
	s.cond.Broadcast()
	return out
}

// next is the i-th account to audit, waiting for it; false once there is none.
func (s *scheduler) next(i int) (inventory.Account, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i >= len(s.queued) && !s.closed {
		s.cond.Wait()
	}
	if i < len(s.queued) {
		return s.queued[i], true
	}
	return inventory.Account{}, false
}

// total is the number of accounts to audit, 0 while enumeration goes on.
func (s *scheduler) total() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		return 0
	}
	return len(s.queued)
}

// wait lets the results be handed over (after Selected) and returns the accounts in
// the selection's order once all are done.
func (s *scheduler) wait() []inventory.Account {
	close(s.ready)
	return <-s.out
}

// gather receives the results on one goroutine; until the run is ready for them
// (Selected called, or at once when Started was) it keeps them, then sends each its
// AccountDone event and hands it to Stream.
func (s *scheduler) gather(opts Options, results <-chan result) []inventory.Account {
	var pending, done []result
	handOver := func(r result) {
		var err error
		if r.acct.Status == inventory.StatusNotAudited || r.acct.Status == inventory.StatusNotReached {
			err = errors.New(r.acct.Reason)
		}
		done = append(done, r)
		opts.progress(ProgressEvent{Kind: AccountDone, Account: r.acct, Err: err, Done: len(done), Total: s.total()})
		slog.Debug("account collected", "account", r.acct.ID, "status", r.acct.Status, "gaps", len(r.acct.Gaps))
		if opts.Stream != nil {
			done[len(done)-1].acct = opts.Stream(r.acct)
		}
		if r.release != nil {
			r.release()
		}
	}
	ready := s.ready
	if opts.Started != nil {
		ready = nil
	}
	for results != nil || ready != nil {
		select {
		case r, ok := <-results:
			switch {
			case !ok:
				results = nil
			case ready != nil:
				pending = append(pending, r)
			default:
				handOver(r)
			}
		case <-ready:
			ready = nil
			for _, r := range pending {
				handOver(r)
			}
			pending = nil
		}
	}
	out := make([]inventory.Account, len(done))
	for _, r := range done {
		out[r.i] = r.acct
	}
	return out
}
