package outcome

import (
	"encoding/json"
	"sync"

	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/fix"
	"github.com/iamaudit/iamaudit/internal/inventory"
	"github.com/iamaudit/iamaudit/internal/score"
)

// Part is one account's share of a streamed run (docs/streaming.md): the account as
// collected, with its users and events, and what the evaluation found in it. A
// streamed run hands each Part to the output formats and the store as the account
// finishes, then keeps only the account's summary (inventory.Account.Summarised):
// memory is bounded by the accounts in flight, not by the Organization.
type Part struct {
	Account *inventory.Account
	// Findings are the account's findings, sorted (checks.Sort), with their states
	// and lifecycle against the baseline.
	Findings []checks.Finding
	// Resolved are the baseline's findings of this account no longer found.
	Resolved []checks.Finding
	// Score is the account's score (score.AccountScore).
	Score score.Score

	encoded  *encodedAccount // the account's JSON, encoded once for every writer
	commands *commandMemo    // the findings' rendered commands, likewise
}

// commandMemo holds the commands rendered of a part's findings, by the findings'
// actions (a finding's copies share its actions).
type commandMemo struct {
	mu sync.Mutex
	m  map[actionsKey][]string
}

type actionsKey struct {
	first *fix.Action
	n     int
}

// Commands is render(f), kept per finding of a Part the Evaluator made (each of its
// writers asks for the same findings' commands): rendered once, or twice when two
// writers ask at the same moment (the same text). render must depend on f's actions
// only when it has some. The result is shared: it must not be modified.
func (p Part) Commands(f checks.Finding, render func(checks.Finding) []string) []string {
	acts := f.Remediation.Actions
	if p.commands == nil || len(acts) == 0 {
		return render(f)
	}
	key := actionsKey{&acts[0], len(acts)}
	p.commands.mu.Lock()
	c, ok := p.commands.m[key]
	p.commands.mu.Unlock()
	if ok {
		return c
	}
	c = render(f)
	p.commands.mu.Lock()
	p.commands.m[key] = c
	p.commands.mu.Unlock()
	return c
}

// encodedAccount is an account's JSON text, encoded by the first writer that asks.
type encodedAccount struct {
	once sync.Once
	b    []byte
	err  error
}

// AccountJSON is json.Marshal(p.Account). A Part the Evaluator made encodes it
// once, whichever of the writers (each on its own goroutine) asks first, and gives
// every one the same bytes: they must not modify them.
func (p Part) AccountJSON() ([]byte, error) {
	if p.encoded == nil {
		return json.Marshal(p.Account)
	}
	p.encoded.once.Do(func() { p.encoded.b, p.encoded.err = json.Marshal(p.Account) })
	return p.encoded.b, p.encoded.err
}
