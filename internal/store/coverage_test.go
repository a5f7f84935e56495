package store

import (
	"context"
	"slices"
	"testing"

	"github.com/iamaudit/iamaudit/internal/inventory"
)

// EventWindows reads back each run's CloudTrail window, the accounts whose events
// it looked up and the event names a gap left unknown there, and whether the run's
// account list was complete.
func TestEventWindows(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		t.Parallel()
		s := open(t, b.target(t))
		ctx := context.Background()
		inv := world{accounts: 3, users: 2}.inventory("20260105_090000", t0)
		g := inventory.NewGap(acctID(1), inventory.SectionEvents, []inventory.Field{inventory.FieldEvents}, "throttled")
		g.Subject, g.Operation = "DeleteUser,CreateAccessKey", "cloudtrail:LookupEvents"
		inv.Accounts[1].Gaps = append(inv.Accounts[1].Gaps, g)
		inv.Accounts[1].Status = inventory.StatusPartial
		inv.Accounts[2].Status, inv.Accounts[2].Users = inventory.StatusNotAudited, nil
		list := inventory.NewGap("", inventory.SectionOrganization, []inventory.Field{inventory.FieldAccounts}, "ListAccounts failed")
		list.Operation = "organizations:ListAccounts"
		inv.Gaps = append(inv.Gaps, list)
		if _, err := s.Write(ctx, evaluate(inv, t0, nil), WriteOptions{}); err != nil {
			t.Fatal(err)
		}
		ws, err := s.EventWindows(ctx, RunFilter{})
		if err != nil || len(ws) != 1 {
			t.Fatalf("%v %v", ws, err)
		}
		w := ws[0]
		if !w.Start.Equal(inv.EventWindowStart) || !w.End.Equal(inv.EventWindowEnd) || !slices.Equal(w.Names, inv.EventNames) || !w.AccountListIncomplete {
			t.Errorf("window %+v", w)
		}
		if len(w.Accounts) != 2 || !slices.Equal(w.Accounts[acctID(1)], []string{"DeleteUser", "CreateAccessKey"}) {
			t.Errorf("accounts %v", w.Accounts)
		}
		for _, c := range []struct {
			acct, name string
			want       bool
		}{
			{acctID(0), "DeleteUser", true}, {acctID(1), "DeleteUser", false}, {acctID(1), "DeleteAccessKey", true},
			{acctID(2), "DeleteAccessKey", false}, {acctID(0), "EnableMFADevice", false}, // not looked up by that run
		} {
			if got := w.Covers(c.acct, c.name); got != c.want {
				t.Errorf("covers %s %s: %v", c.acct, c.name, got)
			}
		}
	})
}
