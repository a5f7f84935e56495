package collect

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/organizations"

	"github.com/iamaudit/iamaudit/internal/inventory"
)

// gatedOrg serves testOrg's pages (two accounts each), but holds the page whose
// NextToken is a key of gates until the account named by its value has started
// (AccountStarted): the run can only finish listing if it audits accounts of the
// earlier pages while it lists. It also records when listing ended.
type gatedOrg struct {
	*fakeOrg
	gates   map[string]string // NextToken of a page → account that must start first
	started func(id string) <-chan struct{}
	mu      sync.Mutex
	log     *[]string
}

func (g *gatedOrg) ListAccounts(ctx context.Context, in *organizations.ListAccountsInput, o ...func(*organizations.Options)) (*organizations.ListAccountsOutput, error) {
	if id, ok := g.gates[aws.ToString(in.NextToken)]; ok {
		select {
		case <-g.started(id):
		case <-time.After(5 * time.Second):
			return nil, fmt.Errorf("page %s asked before account %s started: enumeration did not overlap auditing", aws.ToString(in.NextToken), id)
		}
	}
	out, err := g.fakeOrg.ListAccounts(ctx, in, o...)
	if err == nil && out.NextToken == nil {
		g.record("listed")
	}
	return out, err
}

func (g *gatedOrg) record(s string) {
	g.mu.Lock()
	*g.log = append(*g.log, s)
	g.mu.Unlock()
}

func TestAccountsStartWhileListing(t *testing.T) {
	all := []string{"111111111111", "222222222222", "333333333333", "444444444444", "555555555555"}
	// testOrg's pages: [111 222] [333 444] [555]; 444 is SUSPENDED (never started).
	tests := []struct {
		name        string
		opts        Options
		gates       map[string]string
		want        []string
		listedFirst bool // --ou: the whole list (and the tree) before any account
	}{
		{name: "all accounts", gates: map[string]string{"333333333333": "111111111111", "555555555555": "333333333333"}, want: all},
		{name: "one at a time", opts: Options{Concurrency: 1},
			gates: map[string]string{"333333333333": "111111111111", "555555555555": "333333333333"}, want: all},
		{name: "excluded per page", opts: Options{ExcludeAccounts: []string{"111111111111", "444444444444"}},
			gates: map[string]string{"333333333333": "222222222222", "555555555555": "333333333333"},
			want:  []string{"222222222222", "333333333333", "555555555555"}},
		{name: "only some, per page", opts: Options{Accounts: []string{"555555555555", "333333333333"}},
			gates: map[string]string{"555555555555": "333333333333"}, want: []string{"333333333333", "555555555555"}},
		{name: "ou needs the whole tree", opts: Options{OUs: []string{"ou-w"}, ExcludeAccounts: []string{"555555555555"}},
			want: []string{"222222222222", "333333333333", "444444444444"}, listedFirst: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			var log []string
			starts := map[string]chan struct{}{}
			startedCh := func(id string) chan struct{} {
				mu.Lock()
				defer mu.Unlock()
				if starts[id] == nil {
					starts[id] = make(chan struct{})
				}
				return starts[id]
			}
			org := &gatedOrg{fakeOrg: testOrg(), gates: tt.gates, log: &log,
				started: func(id string) <-chan struct{} { return startedCh(id) }}
			d := fakeDeps(fakeAccount(), &fakeTrail{})
			d.org = org
			opts := unitOptions()
			opts.Concurrency = Concurrency(tt.opts.Concurrency)
			opts.Accounts, opts.ExcludeAccounts, opts.OUs = tt.opts.Accounts, tt.opts.ExcludeAccounts, tt.opts.OUs
			var selected []string
			opts.Progress = func(e ProgressEvent) {
				switch e.Kind {
				case AccountStarted:
					org.record("started " + e.Account.ID)
					close(startedCh(e.Account.ID))
				case AccountDone:
					if e.Total != len(tt.want) {
						t.Errorf("AccountDone of %s: total %d, want %d", e.Account.ID, e.Total, len(tt.want))
					}
				}
			}
			opts.Selected = func(head *inventory.Inventory, accounts []inventory.Account) {
				org.record("selected")
				for _, a := range accounts {
					selected = append(selected, a.ID)
				}
				if len(head.Accounts) != 0 {
					t.Errorf("head has %d accounts", len(head.Accounts))
				}
			}
			opts.Stream = func(a inventory.Account) inventory.Account {
				org.record("stream " + a.ID)
				a.Name += " (streamed)"
				return a
			}
			inv, err := run(context.Background(), d, opts, t0)
			if err != nil {
				t.Fatal(err)
			}
			for _, g := range inv.Gaps {
				t.Errorf("gap: %s", g.Message)
			}
			var got []string
			for _, a := range inv.Accounts {
				got = append(got, a.ID)
				if !strings.HasSuffix(a.Name, "(streamed)") {
					t.Errorf("%s is not the account Stream returned", a.ID)
				}
				if a.IsManagement != (a.ID == "111111111111") {
					t.Errorf("%s: IsManagement %v", a.ID, a.IsManagement)
				}
			}
			if !slices.Equal(got, tt.want) || !slices.Equal(selected, tt.want) {
				t.Errorf("accounts %v, selected %v, want %v (the Organization's order)", got, selected, tt.want)
			}
			sel, listed := slices.Index(log, "selected"), slices.Index(log, "listed")
			if sel < 0 || listed < 0 || sel < listed {
				t.Fatalf("Selected not called after listing: %v", log)
			}
			for i, e := range log {
				if strings.HasPrefix(e, "stream ") && i < sel {
					t.Errorf("%s before Selected: %v", e, log)
				}
				if strings.HasPrefix(e, "started ") && tt.listedFirst && i < listed {
					t.Errorf("%s before the list was complete, with --ou: %v", e, log)
				}
			}
			if n := len(slices.DeleteFunc(slices.Clone(log), func(e string) bool { return !strings.HasPrefix(e, "stream ") })); n != len(tt.want) {
				t.Errorf("%d accounts streamed, want %d: %v", n, len(tt.want), log)
			}
		})
	}
}

// The default concurrency is every account of a large Organization at once, as
// far as the open-files limit allows.
func TestDefaultConcurrency(t *testing.T) {
	tests := []struct {
		nofile uint64
		want   int
	}{
		{1 << 20, ConcurrencyCap},
		{20000, ConcurrencyCap},
		{1024, (1024 - reservedFiles) / socketsPerAccount},
		{256, 1},
	}
	for _, tt := range tests {
		if got := concurrencyFor(tt.nofile); got != tt.want {
			t.Errorf("concurrencyFor(%d) = %d, want %d", tt.nofile, got, tt.want)
		}
	}
	if Concurrency(0) != DefaultConcurrency() || Concurrency(7) != 7 {
		t.Error("Concurrency")
	}
	if o := (Options{}).withDefaults(); o.Concurrency != DefaultConcurrency() {
		t.Errorf("withDefaults concurrency %d", o.Concurrency)
	}
}

// Every client of a run shares one HTTP transport, with an idle pool sized for the
// accounts in flight; a client the caller configured is kept.
func TestSharedHTTPClient(t *testing.T) {
	if tr := pooled(awshttp.NewBuildableClient(), 500).GetTransport(); tr.MaxIdleConnsPerHost != 1000 || tr.MaxIdleConns != 4000 {
		t.Fatalf("idle pool %d per host, %d in all", tr.MaxIdleConnsPerHost, tr.MaxIdleConns)
	}
	shared := sharedHTTPClient(nil, 500)
	if _, buildable := shared.(*awshttp.BuildableClient); buildable {
		t.Fatal("the shared client is buildable: each service client would build its own transport")
	}
	cfg := aws.Config{Region: "us-east-1", HTTPClient: shared}
	opts := Options{}.withDefaults()
	a := newClients(cfg, opts, accountLimiters(opts), newCallCounter(), nil)
	b := newClients(cfg, opts, accountLimiters(opts), newCallCounter(), nil)
	for _, c := range []aws.HTTPClient{a.iam.Options().HTTPClient, a.trail.Options().HTTPClient, b.iam.Options().HTTPClient,
		newSTS(cfg, opts, nil, nil).Options().HTTPClient} {
		if c != shared {
			t.Errorf("a client has its own HTTP client %T", c)
		}
	}
	own := &http.Client{}
	if sharedHTTPClient(own, 500) != aws.HTTPClient(own) {
		t.Error("the caller's HTTP client was replaced")
	}
}

// forEach visits every index once, on at most the workers asked for.
func TestForEach(t *testing.T) {
	for _, c := range []struct{ n, workers int }{{0, 4}, {1, 4}, {3, 4}, {100, 4}, {7, 1}} {
		var mu sync.Mutex
		seen := map[int]int{}
		running, most := 0, 0
		forEach(c.n, c.workers, func(i int) {
			mu.Lock()
			seen[i]++
			running++
			most = max(most, running)
			mu.Unlock()
			time.Sleep(time.Millisecond)
			mu.Lock()
			running--
			mu.Unlock()
		})
		if len(seen) != c.n {
			t.Errorf("n %d: %d indices visited", c.n, len(seen))
		}
		for i, k := range seen {
			if k != 1 || i < 0 || i >= c.n {
				t.Errorf("n %d: index %d visited %d times", c.n, i, k)
			}
		}
		if most > c.workers {
			t.Errorf("n %d: %d at once, more than %d workers", c.n, most, c.workers)
		}
	}
}

// With Started, accounts are handed to Stream as they finish, while enumeration
// goes on: the last page is served only once the first account was streamed.
func TestStreamedWhileListing(t *testing.T) {
	var log []string
	first := make(chan struct{})
	org := &gatedOrg{fakeOrg: testOrg(), gates: map[string]string{"555555555555": "111111111111"}, log: &log,
		started: func(string) <-chan struct{} { return first }}
	d := fakeDeps(fakeAccount(), &fakeTrail{})
	d.org = org
	opts := unitOptions()
	opts.Concurrency = Concurrency(0)
	opts.Started = func(head *inventory.Inventory) {
		org.record("started")
		if len(head.Accounts) != 0 || head.RunID == "" || head.Organization == nil {
			t.Errorf("head: %d accounts, run id %q, organization %v", len(head.Accounts), head.RunID, head.Organization)
		}
	}
	opts.Selected = func(*inventory.Inventory, []inventory.Account) { org.record("selected") }
	var once sync.Once
	opts.Stream = func(a inventory.Account) inventory.Account {
		org.record("stream " + a.ID)
		if a.ID == "111111111111" {
			once.Do(func() { close(first) })
		}
		return a
	}
	inv, err := run(context.Background(), d, opts, t0)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range inv.Gaps {
		t.Errorf("gap: %s", g.Message)
	}
	if len(inv.Accounts) != 5 {
		t.Errorf("%d accounts", len(inv.Accounts))
	}
	org.mu.Lock()
	defer org.mu.Unlock()
	at := func(e string) int { return slices.Index(log, e) }
	if at("started") != 0 || at("stream 111111111111") < 0 || at("stream 111111111111") > at("listed") || at("selected") < at("listed") {
		t.Errorf("order: %v", log)
	}
}
