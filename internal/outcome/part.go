package outcome

import (
	"encoding/json"
	"sync"

	"github.com/iamaudit/iamaudit/internal/checks"
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

	encoded *encodedAccount // the account's JSON, encoded once for every writer
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
