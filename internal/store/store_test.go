package store

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/iamaudit/iamaudit/internal/report"
)

var t0 = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

// A run read back is the run that was written: its JSON file from the loaded
// outcome is the same, byte for byte; the stored inventory document is the
// inventory.
func TestRoundTrip(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		t.Parallel()
		s := open(t, b.target(t))
		ctx := context.Background()
		w := world{accounts: 3, users: 7, partial: acctID(2)}
		inv := w.inventory("20260105_090000", t0)
		o := evaluate(inv, t0, nil)
		if _, err := s.Write(ctx, o, WriteOptions{}); err != nil {
			t.Fatal(err)
		}
		got, err := s.Load(ctx, "20260105_090000")
		if err != nil {
			t.Fatal(err)
		}
		var want, have bytes.Buffer
		report.WriteJSON(&want, report.DocumentOf(o))
		report.WriteJSON(&have, report.DocumentOf(got))
		if want.String() != have.String() {
			t.Errorf("loaded run differs:\n%s", firstDiff(want.String(), have.String()))
		}
		stored, err := s.Inventory(ctx, "20260105_090000")
		if err != nil {
			t.Fatal(err)
		}
		a, _ := json.Marshal(inv)
		c, _ := json.Marshal(stored)
		if !bytes.Equal(a, c) {
			t.Errorf("stored inventory differs:\n%s", firstDiff(string(a), string(c)))
		}
		if len(got.Inventory.Accounts[0].Roles) == 0 || got.Inventory.Accounts[0].Users[0].InlinePolicies[0].Document == "" {
			t.Error("roles or policy documents not loaded")
		}
	})
}

func firstDiff(a, b string) string {
	la, lb := bytes.Split([]byte(a), []byte("\n")), bytes.Split([]byte(b), []byte("\n"))
	for i := 0; i < len(la) && i < len(lb); i++ {
		if !bytes.Equal(la[i], lb[i]) {
			from := max(0, i-3)
			return "line " + strconv.Itoa(i+1) + ":\nwant: " + string(bytes.Join(la[from:min(i+3, len(la))], []byte("\n"))) +
				"\nhave: " + string(bytes.Join(lb[from:min(i+3, len(lb))], []byte("\n")))
		}
	}
	return "lengths differ"
}
