package remediate

import (
	"context"
	"fmt"
)

// loadResume reads the journal a resumed apply continues: it must be this plan's, and
// the actions it records as done are not done again. An action begun without an
// answer (the process was killed during the call) is checked again like any other:
// its evidence says whether it is still to do.
func (a *applier) loadResume(ctx context.Context) error {
	r, err := readRecord(ctx, a.opts.Journal, a.opts.JournalID)
	if err != nil {
		return err
	}
	if r.begin.PlanDigest != a.plan.Digest() {
		return fmt.Errorf("journal %s applied another plan (%s): resume it with that plan file", r.id, r.begin.Plan.ID)
	}
	a.resumed = r
	for _, s := range r.steps(PhaseApply) {
		if s.state() == StatusOK {
			a.done[[2]int{s.item, s.action}] = true
		}
	}
	// delete-user's chain is expanded again from what is left of the user: what the
	// first run removed is not in it.
	for _, it := range a.plan.Items {
		if it.Workflow != DeleteUser {
			continue
		}
		for k := range a.done {
			if k[0] == it.N {
				delete(a.done, k)
			}
		}
	}
	return nil
}
