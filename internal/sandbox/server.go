// Package sandbox serves a local, AWS-compatible Organization built from a scenario:
// Organizations and CloudTrail (JSON 1.1), STS and IAM (Query/XML), with real SigV4
// verification, AWS's error codes and shapes, and realism knobs (latency, per-account
// token buckets, page caps, credential report timing, faults). Any AWS client (the SDK
// for Go v2, the AWS CLI, boto3) works against it with only the endpoint URL changed.
package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/iamaudit/iamaudit/internal/scenario"
)

// Options configure a Server.
type Options struct {
	// Clock is the sandbox clock (relative scenario dates, report timing, session
	// expiry, event times). Nil: the scenario's Now (advancing with real time) when set,
	// else time.Now.
	Clock func() time.Time
	// Sleep waits for a call's latency or a slow fault's delay, returning early when
	// ctx ends (the client went away). Nil: a real timer. Tests replace it to see
	// the delays without waiting for them.
	Sleep func(ctx context.Context, d time.Duration)
	// Knobs override the scenario's knobs; see mergeKnobs for the rules. Nil: the
	// scenario's knobs as they are.
	Knobs *scenario.Knobs
	// Logger receives diagnostics. Nil: discard.
	Logger *slog.Logger
	// RoleActions are the actions ("service:Operation") a session of a read-only role
	// may call. Nil: the audit role's policy (internal/permissions.AuditRead).
	RoleActions []string
	// CallerActions, when not nil, hold the caller's own credentials (the scenario's
	// management user) to these actions, as its IAM policy would.
	CallerActions []string
	// Destinations are the S3 buckets, SNS topics and Security Hub accounts served
	// (destinations.go).
	Destinations Destinations
}

// maxBody bounds a request body (IAM's largest documents are far smaller).
const maxBody = 8 << 20

// Server is the sandbox endpoint. It is an http.Handler; Start also listens.
type Server struct {
	org    *org
	knobs  knobs
	clock  func() time.Time
	wall   func() time.Time
	sleep  func(ctx context.Context, d time.Duration)
	log    *slog.Logger
	creds  *credStore
	stats  *counters
	faults []*faultRule
	// tokenFaults repeat pagination tokens (scenario.FaultRepeatToken).
	tokenFaults []*faultRule
	// roleActions and callerActions are the enforced policies (readonly.go).
	roleActions, callerActions map[string]bool
	// dest holds the destinations and what they received (destinations.go).
	dest *destinations

	httpSrv  *http.Server
	listener net.Listener
	url      string
	done     chan struct{}
	// fresh are the connections that have not sent a request yet (see Close).
	freshMu sync.Mutex
	fresh   map[net.Conn]struct{}
}

// New builds a Server serving the scenario's Organization.
func New(sc *scenario.Scenario, opts Options) (*Server, error) {
	if sc == nil {
		return nil, errors.New("sandbox: nil scenario")
	}
	if !scenario.GeneratorApplied(sc) {
		// Built as Go values: generate and normalise as Parse would, on a copy of the
		// account list (the listed accounts' own defaults are filled in place).
		cp := *sc
		cp.Accounts = slices.Clone(sc.Accounts)
		if err := scenario.Normalize(&cp); err != nil {
			return nil, fmt.Errorf("sandbox: %w", err)
		}
		sc = &cp
	}
	wall := time.Now
	clock := opts.Clock
	if clock == nil {
		clock = time.Now
		if sc.Now != nil {
			base := sc.Now.Resolve(time.Now())
			start := time.Now()
			clock = func() time.Time { return base.Add(time.Since(start)) }
		}
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	k, err := mergeKnobs(sc.Knobs, opts.Knobs)
	if err != nil {
		return nil, err
	}
	s := &Server{knobs: k, clock: clock, wall: wall, sleep: opts.Sleep, log: log, creds: newCredStore(), stats: newCounters()}
	if s.sleep == nil {
		s.sleep = sleep
	}
	roleActions := opts.RoleActions
	if roleActions == nil {
		roleActions = defaultRoleActions()
	}
	s.roleActions, s.callerActions = actionSet(roleActions), actionSet(opts.CallerActions)
	built := clock() // relative scenario dates count from here
	s.org, err = buildOrg(sc, built, k)
	if err != nil {
		return nil, err
	}
	s.faults, s.tokenFaults = buildFaults(k.Faults)
	if s.dest, err = newDestinations(opts.Destinations, s.org); err != nil {
		return nil, err
	}
	// The caller: a user of the management account, or of the delegated
	// administrator account the scenario names (organization.caller_account_id).
	s.creds.put(&credential{
		AccessKeyID: s.org.accessKeyID, Secret: s.org.secret, Account: s.org.callerAccount,
		Kind: principalMgmtUser, Name: s.org.callerName,
		Arn: fmt.Sprintf("arn:%s:iam::%s:user/%s", s.org.partition, s.org.callerAccount, s.org.callerName),
	})
	for _, a := range s.org.accounts {
		for _, u := range a.users {
			for _, key := range u.keys {
				s.registerUserKey(a, u, key)
			}
		}
	}
	for i := range sc.Accounts {
		if err := s.applyHistory(s.org.byID[sc.Accounts[i].ID], &sc.Accounts[i], built); err != nil {
			return nil, err
		}
	}
	s.org.due.Store(math.MinInt64) // the first request's catchUp walks the accounts and sets it
	return s, nil
}

// Start builds a Server and serves it on addr ("127.0.0.1:0" picks a free port) in the background.
func Start(sc *scenario.Scenario, opts Options, addr string) (*Server, error) {
	s, err := New(sc, opts)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("sandbox: listen on %s: %w", addr, err)
	}
	s.listener = ln
	s.url = "http://" + ln.Addr().String()
	s.fresh = map[net.Conn]struct{}{}
	s.httpSrv = &http.Server{Handler: s, ReadHeaderTimeout: 30 * time.Second, ConnState: s.connState}
	s.done = make(chan struct{})
	go func() {
		defer close(s.done)
		if err := s.httpSrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("sandbox stopped serving", "err", err)
		}
	}()
	return s, nil
}

// URL is the endpoint (http://127.0.0.1:PORT); empty when the Server was not started.
func (s *Server) URL() string { return s.url }

// Credentials are the caller's access key id and secret (a user of the management
// account, or of the delegated administrator account the scenario names).
func (s *Server) Credentials() (accessKeyID, secretAccessKey string) {
	return s.org.accessKeyID, s.org.secret
}

// Region is the partition's home region.
func (s *Server) Region() string { return s.org.homeRegion }

// Stats returns a snapshot of the call statistics.
func (s *Server) Stats() Stats { return s.stats.snapshot() }

// connState keeps the set of connections that have not sent a request yet.
func (s *Server) connState(c net.Conn, st http.ConnState) {
	s.freshMu.Lock()
	defer s.freshMu.Unlock()
	if st == http.StateNew {
		s.fresh[c] = struct{}{}
	} else {
		delete(s.fresh, c)
	}
}

// Close stops a started server (in-flight requests get 5 s to finish).
func (s *Server) Close() error {
	if s.httpSrv == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// Shutdown closes idle connections at once but waits 5 s for one that has not
	// sent a request yet (net/http treats it as idle only after 5 s), and HTTP
	// clients such as the SDK's often leave one: a spare dial that lost the race to
	// a reused connection. It holds no work: close it at once. (Only time tells this
	// from net/http's own closing, so no test asserts it; most test sandboxes took
	// 5 s to stop before.)
	go func() {
		<-s.done // Serve has returned: the listener is closed, no connection comes any more
		s.freshMu.Lock()
		defer s.freshMu.Unlock()
		for c := range s.fresh {
			_ = c.Close()
		}
	}()
	err := s.httpSrv.Shutdown(ctx)
	if err != nil {
		err = s.httpSrv.Close()
	}
	<-s.done
	return err
}
