package dashboard

import (
	"context"
	"slices"
	"sync"

	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/inventory"
	"github.com/iamaudit/iamaudit/internal/outcome"
	"github.com/iamaudit/iamaudit/internal/report"
)

// runData is a loaded run and what its pages look things up by. A stored run
// never changes once written (one transaction), so it is kept as loaded; a run
// pruned meanwhile is noticed by the summary every run page reads first.
type runData struct {
	o *outcome.Outcome
	// all are the findings and the resolved findings, most severe first.
	all      []checks.Finding
	accounts map[string]int // account id → index in o.Inventory.Accounts
	users    map[userKey]int
	byID     map[string]int // finding id → index in all

	reportOnce sync.Once
	report     *report.HTMLReport
	reportErr  error
}

type userKey struct{ account, user string }

func newRunData(o *outcome.Outcome) *runData {
	d := &runData{o: o, accounts: map[string]int{}, users: map[userKey]int{}, byID: map[string]int{}}
	d.all = slices.Concat(o.Findings, o.Resolved)
	slices.SortStableFunc(d.all, func(a, b checks.Finding) int {
		if a.Severity != b.Severity {
			return int(b.Severity) - int(a.Severity)
		}
		if c := rankState(a.State) - rankState(b.State); c != 0 {
			return c
		}
		for _, p := range [][2]string{{a.AccountID, b.AccountID}, {a.CheckID, b.CheckID}, {a.Resource, b.Resource}} {
			if p[0] != p[1] {
				if p[0] < p[1] {
					return -1
				}
				return 1
			}
		}
		return 0
	})
	for i, f := range d.all {
		d.byID[f.ID] = i
	}
	for i := range o.Inventory.Accounts {
		a := &o.Inventory.Accounts[i]
		d.accounts[a.ID] = i
		for j, u := range a.Users {
			d.users[userKey{a.ID, u.Name}] = j
		}
	}
	return d
}

// rankState orders findings open first, resolved last.
func rankState(s string) int {
	switch s {
	case checks.StateNew:
		return 0
	case checks.StateOpen:
		return 1
	case checks.StateSuppressed:
		return 2
	}
	return 3
}

func (d *runData) account(id string) (*inventory.Account, bool) {
	i, ok := d.accounts[id]
	if !ok {
		return nil, false
	}
	return &d.o.Inventory.Accounts[i], true
}

func (d *runData) user(account, name string) (*inventory.Account, *inventory.User, bool) {
	a, ok := d.account(account)
	if !ok {
		return nil, nil, false
	}
	j, ok := d.users[userKey{account, name}]
	if !ok {
		return a, nil, false
	}
	return a, &a.Users[j], true
}

// htmlReport is the run arranged by the HTML report (its summary and account
// cards), built once.
func (d *runData) htmlReport(m report.Messages) (*report.HTMLReport, error) {
	d.reportOnce.Do(func() {
		d.report, d.reportErr = report.NewHTMLReport(d.o, m, report.HTMLOptions{MaxFindings: 1, MaxUserDetails: 1, MaxEvents: 1, MaxGaps: 1000})
	})
	return d.report, d.reportErr
}

// runCache keeps the last n runs loaded, least recently used out first. Loads of
// the same run at once share one load; a failed load is not kept.
type runCache struct {
	mu    sync.Mutex
	n     int
	order []string // most recent last
	items map[string]*cacheItem
	load  func(ctx context.Context, id string) (*runData, error)
}

type cacheItem struct {
	done chan struct{}
	data *runData
	err  error
}

func newRunCache(n int, load func(context.Context, string) (*runData, error)) *runCache {
	return &runCache{n: n, items: map[string]*cacheItem{}, load: load}
}

func (c *runCache) get(ctx context.Context, id string) (*runData, error) {
	c.mu.Lock()
	it, ok := c.items[id]
	if !ok {
		it = &cacheItem{done: make(chan struct{})}
		c.items[id] = it
		c.mu.Unlock()
		// The load is not the request's: a request that goes away does not fail
		// the others waiting for the same run.
		it.data, it.err = c.load(context.WithoutCancel(ctx), id)
		close(it.done)
		c.mu.Lock()
		if it.err != nil {
			delete(c.items, id)
		} else {
			c.touch(id)
		}
		c.mu.Unlock()
		return it.data, it.err
	}
	select {
	case <-it.done:
		if it.err == nil {
			c.touch(id)
		}
	default: // being loaded
	}
	c.mu.Unlock()
	select {
	case <-it.done:
		return it.data, it.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// touch marks id most recently used and evicts beyond n (caller holds mu).
func (c *runCache) touch(id string) {
	if i := slices.Index(c.order, id); i >= 0 {
		c.order = slices.Delete(c.order, i, i+1)
	}
	c.order = append(c.order, id)
	for len(c.order) > c.n {
		delete(c.items, c.order[0])
		c.order = c.order[1:]
	}
}

// forget drops a run (pruned from the store).
func (c *runCache) forget(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if it, ok := c.items[id]; ok {
		select {
		case <-it.done:
			delete(c.items, id)
			if i := slices.Index(c.order, id); i >= 0 {
				c.order = slices.Delete(c.order, i, i+1)
			}
		default:
		}
	}
}
