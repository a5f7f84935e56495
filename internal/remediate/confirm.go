package remediate

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// ErrNotConfirmed is returned when the operator does not confirm.
var ErrNotConfirmed = errors.New("not confirmed: nothing was changed")

// Prompt asks on a terminal: for each account, its name or an alias typed in full;
// for a rotated key, the new key's id typed in full once it works.
type Prompt struct {
	In  io.Reader
	Out io.Writer
	r   *bufio.Reader
}

func (p *Prompt) line() (string, error) {
	if p.r == nil {
		p.r = bufio.NewReader(p.In)
	}
	s, err := p.r.ReadString('\n')
	if err != nil && (s == "" || !errors.Is(err, io.EOF)) {
		return "", err
	}
	return strings.TrimSpace(s), nil
}

// Accounts asks for each account's name (or alias).
func (p *Prompt) Accounts(ctx context.Context, accounts []AccountRef) error {
	for _, a := range accounts {
		names := append([]string{a.Name}, a.Aliases...)
		fmt.Fprintf(p.Out, "Type the name of account %s (%s) to act in it: ", a.ID, strings.Join(names, " or "))
		got, err := p.line()
		if err != nil {
			return fmt.Errorf("%w (%v)", ErrNotConfirmed, err)
		}
		if got == "" || !slices.Contains(names, got) {
			return fmt.Errorf("%q is not the name of account %s: %w", got, a.ID, ErrNotConfirmed)
		}
	}
	return nil
}

// NewKey asks the operator to deploy the new key and type its id once it works.
func (p *Prompt) NewKey(ctx context.Context, it *Item, newKeyID string) (bool, error) {
	fmt.Fprintf(p.Out, "Deploy the new key %s of %s (its secret is in the secret file), check the application works with it,\n"+
		"then type the new key's id to deactivate the old key %s (anything else leaves both Active): ", newKeyID, it.User, it.AccessKeyID)
	got, err := p.line()
	if err != nil {
		return false, nil
	}
	return got == newKeyID, nil
}

// Yes is `--yes`: the accounts are confirmed by the flag; a rotated key's new key is
// not (the owner has not deployed it yet), so rotate-key stops there and `--resume`
// later is the confirmation.
type Yes struct{}

// Accounts confirms.
func (Yes) Accounts(context.Context, []AccountRef) error { return nil }

// NewKey does not confirm.
func (Yes) NewKey(context.Context, *Item, string) (bool, error) { return false, nil }
