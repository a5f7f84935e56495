package remediate

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/collect"
	"github.com/iamaudit/iamaudit/internal/fix"
	"github.com/iamaudit/iamaudit/internal/mototest"
	"github.com/iamaudit/iamaudit/internal/outcome"
	"github.com/iamaudit/iamaudit/internal/sandbox"
	"github.com/iamaudit/iamaudit/internal/scenario"
	"github.com/iamaudit/iamaudit/internal/store"
)

// motoURL is the moto_server started by TestMain (the moto tests need it: they fail,
// not skip, without it).
var motoURL string

func TestMain(m *testing.M) {
	if mode := os.Getenv(childEnv); mode != "" {
		os.Exit(child(mode))
	}
	os.Exit(runWithMoto(m))
}

func runWithMoto(m *testing.M) int {
	moto, err := mototest.Start()
	if err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: the remediate tests need moto_server: %v\n", err)
		return 1
	}
	defer moto.Stop()
	motoURL = moto.URL
	return m.Run()
}

// fakeClock is a settable clock, shared by the sandbox and the code under test.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(t time.Time) *fakeClock { return &fakeClock{t: t.UTC().Truncate(time.Second)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// world is an endpoint (the sandbox or moto), a store and a clock: what a test
// audits, plans and remediates.
type world struct {
	t      *testing.T
	clock  *fakeClock
	store  *store.Store
	dbPath string
	base   aws.Config
	// admin returns a client with full rights in an account (to set up and to
	// assert the IAM state).
	admin func(account string) *iam.Client
	srv   *sandbox.Server
	// auditRole is the role the audit assumes.
	auditRole string
	// calls are every API call the connectors of the test made.
	calls map[string]int
	// tweak, when set, adjusts every Connector the world makes.
	tweak func(*Connector)
}

func ctxT(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	t.Cleanup(cancel)
	return c
}

// demoWorld serves the demo Organization from the sandbox, on a clock near now.
func demoWorld(t *testing.T, knobs *scenario.Knobs) *world {
	t.Helper()
	return sandboxWorld(t, scenario.Demo(), knobs)
}

func sandboxWorld(t *testing.T, sc *scenario.Scenario, knobs *scenario.Knobs) *world {
	t.Helper()
	clock := newClock(time.Now())
	if knobs == nil {
		knobs = &scenario.Knobs{}
	}
	knobs.RateLimits = map[string]float64{"iam": 0, "cloudtrail": 0, "organizations": 0, "sts": 0}
	knobs.ReportGeneration = scenario.Duration{Duration: -1}
	knobs.CloudTrailDelay = scenario.Duration{Duration: -1}
	srv, err := sandbox.Start(sc, sandbox.Options{Clock: clock.Now, Knobs: knobs}, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	ak, sk := srv.Credentials()
	base := aws.Config{Region: srv.Region(), BaseEndpoint: aws.String(srv.URL()),
		Credentials: credentials.NewStaticCredentialsProvider(ak, sk, "")}
	w := &world{t: t, clock: clock, srv: srv, base: base, auditRole: "IAMAuditRole", calls: map[string]int{}}
	caller := base
	w.admin = func(account string) *iam.Client {
		if account == sc.Organization.ManagementAccountID {
			return iam.NewFromConfig(caller)
		}
		return iam.NewFromConfig(w.assumed(account, "OrganizationAccountAccessRole"))
	}
	w.openStore()
	return w
}

// assumed is a config of a role session in an account.
func (w *world) assumed(account, role string) aws.Config {
	w.t.Helper()
	out, err := sts.NewFromConfig(w.base).AssumeRole(context.Background(), &sts.AssumeRoleInput{
		RoleArn: aws.String("arn:aws:iam::" + account + ":role/" + role), RoleSessionName: aws.String("test-admin")})
	if err != nil {
		w.t.Fatalf("assume %s in %s: %v", role, account, err)
	}
	c := w.base.Copy()
	c.Credentials = credentials.NewStaticCredentialsProvider(*out.Credentials.AccessKeyId, *out.Credentials.SecretAccessKey, *out.Credentials.SessionToken)
	return c
}

func (w *world) openStore() {
	w.dbPath = filepath.Join(w.t.TempDir(), "state", "iamaudit.db")
	s, err := store.Open(context.Background(), w.dbPath, store.Options{})
	if err != nil {
		w.t.Fatal(err)
	}
	s.Warn = func(string) {}
	w.t.Cleanup(func() { s.Close() })
	w.store = s
}

// audit collects the Organization, evaluates and records the run; it returns the
// stored run as a plan reads it.
func (w *world) audit() (string, *outcome.Outcome) {
	w.t.Helper()
	ctx := ctxT(w.t)
	inv, err := collect.Collect(ctx, w.base, collect.Options{Role: w.auditRole, Clock: w.clock.Now, Concurrency: 4,
		ReportPoll: 10 * time.Millisecond, MaxAttempts: 3, MaxBackoff: 50 * time.Millisecond, EventsRate: 1000, IAMRate: 1000, OrgRate: 1000})
	if err != nil {
		w.t.Fatal(err)
	}
	inv.Tool, inv.Version = "iamaudit", "test"
	now := w.clock.Now()
	base, err := w.store.Baseline(ctx, inv, nil)
	if err != nil {
		w.t.Fatal(err)
	}
	o := outcome.Evaluate(outcome.CommandRun, inv, now, outcome.Settings{Checks: checks.DefaultConfig()}, base)
	id, err := w.store.Write(ctx, o, store.WriteOptions{})
	if err != nil {
		w.t.Fatal(err)
	}
	stored, err := w.store.Load(ctx, id)
	if err != nil {
		w.t.Fatal(err)
	}
	w.clock.Advance(time.Minute)
	return id, stored
}

// plan audits and plans the selection.
func (w *world) plan(sel Selection, cfg Config) *Plan {
	w.t.Helper()
	id, o := w.audit()
	return w.planFrom(id, o, sel, cfg)
}

func (w *world) planFrom(id string, o *outcome.Outcome, sel Selection, cfg Config) *Plan {
	w.t.Helper()
	d, err := Deactivations(context.Background(), w.store)
	if err != nil {
		w.t.Fatal(err)
	}
	p, err := BuildPlan(PlanInput{Outcome: o, RunID: id, Deactivations: d, Selection: sel, Config: cfg, Now: w.clock.Now(),
		ID: NewPlanID(w.clock.Now()), ToolVersion: "test"})
	if err != nil {
		w.t.Fatal(err)
	}
	return p
}

func (w *world) connector() *Connector {
	c := &Connector{Base: w.base, Role: DefaultRole, SessionName: "iamaudit-remediate", Partition: "aws", Region: w.base.Region}
	if w.tweak != nil {
		w.tweak(c)
	}
	return c
}

// applyOpts are the options of an executed apply with --yes.
func (w *world) applyOpts(p *Plan, out *strings.Builder) ApplyOptions {
	var run *outcome.Outcome
	if p.RunID != "" {
		var err error
		if run, err = w.store.Load(context.Background(), p.RunID); err != nil {
			w.t.Fatal(err)
		}
	}
	return ApplyOptions{Journal: w.store, Connector: w.connector(), Config: DefaultConfig(), Clock: w.clock.Now, Execute: true,
		Confirm: Yes{}, Run: run, Out: out, JournalID: NewJournalID(w.clock.Now()), ToolVersion: "test"}
}

// apply executes a plan with --yes and returns the report; it fails the test on error.
func (w *world) apply(p *Plan, mod func(*ApplyOptions)) (*Report, string) {
	w.t.Helper()
	var out strings.Builder
	opts := w.applyOpts(p, &out)
	if mod != nil {
		mod(&opts)
	}
	rep, err := Apply(ctxT(w.t), p, opts)
	w.record(opts.Connector)
	if err != nil {
		w.t.Fatalf("apply: %v\n%s", err, out.String())
	}
	return rep, out.String()
}

func (w *world) record(c *Connector) {
	for k, v := range c.Calls() {
		w.calls[k] += v
	}
}

func (w *world) rollback(journalID string, execute bool) (*RollbackReport, string) {
	w.t.Helper()
	var out strings.Builder
	c := w.connector()
	rep, err := Rollback(ctxT(w.t), journalID, RollbackOptions{Journal: w.store, Connector: c, Config: DefaultConfig(),
		Clock: w.clock.Now, Execute: execute, Confirm: Yes{}, Out: &out})
	w.record(c)
	if err != nil {
		w.t.Fatalf("rollback: %v\n%s", err, out.String())
	}
	return rep, out.String()
}

func (w *world) verify(journalID string) (*VerifyReport, string) {
	w.t.Helper()
	var out strings.Builder
	c := w.connector()
	rep, err := Verify(ctxT(w.t), journalID, VerifyOptions{Journal: w.store, Connector: c, Clock: w.clock.Now, Out: &out})
	w.record(c)
	if err != nil {
		w.t.Fatalf("verify: %v\n%s", err, out.String())
	}
	return rep, out.String()
}

// keyStatus is the key's status as IAM says now ("" when the key does not exist).
func (w *world) keyStatus(account, user, keyID string) string {
	w.t.Helper()
	out, err := w.admin(account).ListAccessKeys(context.Background(), &iam.ListAccessKeysInput{UserName: aws.String(user)})
	if err != nil {
		w.t.Fatal(err)
	}
	for _, k := range out.AccessKeyMetadata {
		if aws.ToString(k.AccessKeyId) == keyID {
			return string(k.Status)
		}
	}
	return ""
}

// entries are the journal's entries as "phase/kind/item/action/status".
func (w *world) entries(journalID string) []string {
	w.t.Helper()
	es, err := w.store.Journal(context.Background(), journalID)
	if err != nil {
		w.t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, fmt.Sprintf("%s/%s/%d/%d/%s", e.Phase, e.Kind, e.Item, e.Action, e.Status))
	}
	return out
}

// checkCalls fails when a connector made a call that APIs does not list.
func (w *world) checkCalls() {
	w.t.Helper()
	allowed := map[string]bool{}
	for _, a := range APIs() {
		allowed[apiName(a)] = true
	}
	var bad []string
	for op := range w.calls {
		if !allowed[op] {
			bad = append(bad, op)
		}
	}
	sort.Strings(bad)
	if len(bad) > 0 {
		w.t.Errorf("calls not listed by APIs(): %v", bad)
	}
}

func itemsOf(p *Plan, wf Workflow) []Item {
	var out []Item
	for _, it := range p.Items {
		if it.Workflow == wf {
			out = append(out, it)
		}
	}
	return out
}

func apis(as []fix.Action) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.API.Name)
	}
	return out
}

func storeFilterAll() store.JournalFilter { return store.JournalFilter{} }

type testKey struct{ id, secret string }

// mustKey creates an access key for a user and returns it with its secret.
func mustKey(t *testing.T, c *iam.Client, user string) testKey {
	t.Helper()
	out, err := c.CreateAccessKey(context.Background(), &iam.CreateAccessKeyInput{UserName: aws.String(user)})
	if err != nil {
		t.Fatal(err)
	}
	return testKey{aws.ToString(out.AccessKey.AccessKeyId), aws.ToString(out.AccessKey.SecretAccessKey)}
}
