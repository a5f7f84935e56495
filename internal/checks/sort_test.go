package checks

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestSort: severity first (highest), then account, resource and check; findings
// equal in all four keep their order; Sorted says whether a list is in that order.
func TestSort(t *testing.T) {
	var fs []Finding
	n := 0
	for _, sev := range []Severity{Low, Critical, Medium, High} {
		for _, acct := range []string{"222222222222", "111111111111"} {
			for _, res := range []string{"bob", "alice"} {
				for _, check := range []string{"mfa", "key"} {
					for range 2 { // two equal in every key: their order must hold
						n++
						fs = append(fs, Finding{Severity: sev, AccountID: acct, Resource: res, CheckID: check, ID: fmt.Sprintf("f%03d", n)})
					}
				}
			}
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	rng.Shuffle(len(fs), func(i, j int) { fs[i], fs[j] = fs[j], fs[i] })
	want := slices.Clone(fs)
	slices.SortStableFunc(want, func(a, b Finding) int {
		switch {
		case a.Severity != b.Severity:
			return int(b.Severity) - int(a.Severity)
		case a.AccountID != b.AccountID:
			return cmp.Compare(a.AccountID, b.AccountID)
		case a.Resource != b.Resource:
			return cmp.Compare(a.Resource, b.Resource)
		}
		return cmp.Compare(a.CheckID, b.CheckID)
	})
	if Sorted(fs) {
		t.Fatal("Sorted says a shuffled list is sorted")
	}
	Sort(fs)
	if !Sorted(fs) {
		t.Fatal("Sorted says Sort's result is not sorted")
	}
	for i := range fs {
		if fs[i].ID != want[i].ID {
			t.Fatalf("position %d: %s %s %s %s (%s), want %s %s %s %s (%s)", i,
				fs[i].Severity, fs[i].AccountID, fs[i].Resource, fs[i].CheckID, fs[i].ID,
				want[i].Severity, want[i].AccountID, want[i].Resource, want[i].CheckID, want[i].ID)
		}
	}
	if fs[0].Severity != Critical || fs[len(fs)-1].Severity != Low {
		t.Errorf("first %s, last %s: want critical first, low last", fs[0].Severity, fs[len(fs)-1].Severity)
	}
	if !Sorted(nil) || !Sorted(fs[:1]) {
		t.Error("an empty or one-finding list is sorted")
	}
}
