package collect

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/iamaudit/iamaudit/internal/inventory"
)

// Every account is queried over the CloudTrail window the inventory records, even
// when accounts are collected minutes after the run started (issue 7, defect 9).
func TestEventWindowIsTheRecordedOne(t *testing.T) {
	trail := &fakeTrail{}
	d := fakeDeps(fakeAccount(), trail)
	d.org = testOrg()
	opts := unitOptions()
	var ticks atomic.Int64
	opts.Clock = func() time.Time { return t0.Add(time.Duration(ticks.Add(1)) * time.Minute) } // time moves on every read
	opts.Concurrency = 1
	inv, err := run(context.Background(), d, opts, t0)
	if err != nil {
		t.Fatal(err)
	}
	if !inv.EventWindowEnd.Equal(t0) || !inv.EventWindowStart.Equal(t0.Add(-90*24*time.Hour)) {
		t.Fatalf("recorded window %v – %v", inv.EventWindowStart, inv.EventWindowEnd)
	}
	if len(trail.windows) == 0 {
		t.Fatal("no lookups")
	}
	for _, w := range trail.windows {
		if !w[0].Equal(inv.EventWindowStart) || !w[1].Equal(inv.EventWindowEnd) {
			t.Errorf("queried %v – %v, recorded %v – %v", w[0], w[1], inv.EventWindowStart, inv.EventWindowEnd)
		}
	}
}

// Accounts not yet started when the run is interrupted are "not reached": no role
// advice, not "not audited" (issue 7, defect 3).
func TestInterruptedAccountsAreNotReached(t *testing.T) {
	d := fakeDeps(fakeAccount(), &fakeTrail{})
	d.org = testOrg()
	opts := unitOptions()
	ctx, cancel := context.WithCancel(context.Background())
	opts.Concurrency = 1
	var started []string
	opts.Progress = func(e ProgressEvent) {
		if e.Kind == AccountStarted {
			started = append(started, e.Account.ID)
			cancel() // Ctrl-C while the first account is being audited
		}
	}
	inv, err := run(ctx, d, opts, t0)
	if err != nil {
		t.Fatal(err)
	}
	if len(started) != 1 {
		t.Errorf("accounts started after the interruption: %v", started)
	}
	reached := 0
	for _, a := range inv.Accounts {
		switch a.Status {
		case inventory.StatusNotReached:
			if !strings.Contains(a.Reason, "interrupted") || strings.Contains(a.Reason, "deploy") || strings.Contains(a.Reason, "role") {
				t.Errorf("%s: reason %q", a.ID, a.Reason)
			}
		case inventory.StatusNotAudited:
			t.Errorf("%s is not_audited (%s): an interrupted run says nothing about its role", a.ID, a.Reason)
		case inventory.StatusSkipped:
		default:
			reached++
		}
	}
	// The first account was cut short as it started; the three others never began.
	if reached+len(inv.NotReached()) != 4 || len(inv.NotReached()) < 3 || inv.Complete() {
		t.Errorf("reached %d, not reached %d, complete %v", reached, len(inv.NotReached()), inv.Complete())
	}
}
