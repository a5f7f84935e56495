package remediate

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/iamaudit/iamaudit/internal/fix"
	"github.com/iamaudit/iamaudit/internal/store"
)

// Journal is where the entries go: the store (docs/remediation.md, "The journal").
type Journal interface {
	AppendJournal(ctx context.Context, e store.JournalEntry) (store.JournalEntry, error)
	Journal(ctx context.Context, id string) ([]store.JournalEntry, error)
	JournalEntries(ctx context.Context, f store.JournalFilter) ([]store.JournalEntry, error)
}

// Entry kinds.
const (
	// KindBegin opens a journal: the whole plan, who is signed in, the options.
	KindBegin = "begin"
	// KindSession: the session an account is acted on with (role ARN, its key id).
	KindSession = "session"
	// KindSnapshot: what is saved before a destructive step (a user's whole
	// configuration, a policy document about to be replaced or removed).
	KindSnapshot = "snapshot"
	// KindRefused: a guard rail refused an item or action, and why.
	KindRefused = "refused"
	// KindNothing: the action has nothing to do (the key is already Inactive).
	KindNothing = "nothing-to-do"
	// KindBefore is written just before a call, with the evidence read just before.
	KindBefore = "before"
	// KindAfter is written when the call returned: ok, or failed with the error.
	KindAfter = "after"
	// KindGate: rotate-key waits for the owner to confirm the new key works.
	KindGate = "gate"
	// KindManual: what a rollback cannot do (deleted keys and passwords).
	KindManual = "manual"
	// KindVerify: what verify found for an action.
	KindVerify = "verify"
	// KindStopped: the apply stopped at an unexpected error.
	KindStopped = "stopped"
	// KindEnd closes an apply or rollback with its counts.
	KindEnd = "end"
)

// Phases.
const (
	PhaseApply    = "apply"
	PhaseRollback = "rollback"
	PhaseVerify   = "verify"
)

// Statuses of an after entry.
const (
	StatusOK     = "ok"
	StatusFailed = "failed"
	// StatusPending: a gate that is not passed yet.
	StatusPending = "pending"
	// StatusConfirmed: a gate passed.
	StatusConfirmed = "confirmed"
)

// NewJournalID is a journal id: the UTC time and 6 random hex digits
// (20260301T120000Z-3fa9c1).
func NewJournalID(now time.Time) string {
	b := make([]byte, 3)
	_, _ = rand.Read(b) // crypto/rand never fails on supported platforms
	return now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b)
}

// NewPlanID is a plan id, made like a journal id.
func NewPlanID(now time.Time) string { return "plan-" + NewJournalID(now) }

// beginDetail is a begin entry's detail.
type beginDetail struct {
	Plan        *Plan  `json:"plan,omitempty"`
	PlanDigest  string `json:"plan_digest,omitempty"`
	Caller      Caller `json:"caller"`
	Role        string `json:"role"`
	Force       bool   `json:"force,omitempty"`
	Config      Config `json:"config"`
	Resumes     bool   `json:"resumes,omitempty"`
	SecretFile  string `json:"secret_file,omitempty"`
	ToolVersion string `json:"tool_version,omitempty"`
}

// sessionDetail is a session entry's detail.
type sessionDetail struct {
	ARN         string `json:"arn"`
	AccessKeyID string `json:"access_key_id"`
	Own         bool   `json:"own_credentials,omitempty"`
}

// actionDetail is a before or after entry's detail.
type actionDetail struct {
	Workflow Workflow   `json:"workflow"`
	Action   fix.Action `json:"action"`
	Command  string     `json:"command,omitempty"`
	// Evidence is what was read just before the call.
	Evidence any         `json:"evidence,omitempty"`
	Result   *callResult `json:"result,omitempty"`
	Error    string      `json:"error,omitempty"`
	// ErrorCode is the AWS error code; empty for an error that is not AWS's answer
	// (a timeout, a lost connection), after which the call may or may not have run.
	ErrorCode string `json:"error_code,omitempty"`
	// Undoes names the apply entry (item, action) a rollback action undoes.
	Undoes *actionRef `json:"undoes,omitempty"`
}

type actionRef struct {
	Item   int `json:"item"`
	Action int `json:"action"`
}

// snapshotDetail is a snapshot entry's detail.
type snapshotDetail struct {
	Workflow Workflow    `json:"workflow"`
	User     *UserConfig `json:"user,omitempty"`
	// Policy is an inline policy's document before the change (found false: none).
	PolicyName  string `json:"policy_name,omitempty"`
	Policy      string `json:"policy,omitempty"`
	PolicyFound bool   `json:"policy_found,omitempty"`
	// Actions are the steps expanded from the user's live configuration (delete-user).
	Actions []fix.Action `json:"actions,omitempty"`
}

// writer appends entries of one journal, each committed before the next step.
type writer struct {
	j     Journal
	id    string
	phase string
	clock func() time.Time
}

func (w *writer) add(ctx context.Context, e store.JournalEntry, detail any) error {
	e.JournalID, e.Phase, e.RecordedAt = w.id, w.phase, w.clock()
	if detail != nil {
		b, err := json.Marshal(detail)
		if err != nil {
			return err
		}
		e.Detail = b
	}
	if _, err := w.j.AppendJournal(ctx, e); err != nil {
		return fmt.Errorf("the journal could not be written, so nothing more is done: %w", err)
	}
	return nil
}

// entryFor is the journal entry of an action of an item.
func entryFor(kind string, it *Item, n int, a *fix.Action) store.JournalEntry {
	e := store.JournalEntry{Kind: kind}
	if it != nil {
		e.Item, e.AccountID, e.UserName, e.AccessKeyID = it.N, it.AccountID, it.User, it.AccessKeyID
	}
	e.Action = n
	if a != nil {
		e.API = apiName(a.API)
		if a.Resource.AccountID != "" {
			e.AccountID = a.Resource.AccountID
		}
		if a.Resource.UserName != "" {
			e.UserName = a.Resource.UserName
		}
		if a.Resource.AccessKeyID != "" {
			e.AccessKeyID = a.Resource.AccessKeyID
		}
	}
	return e
}

// record is one journal read back: its entries decoded.
type record struct {
	id      string
	entries []store.JournalEntry
	begin   *beginDetail
	// sessions by account
	sessions map[string]sessionDetail
}

func readRecord(ctx context.Context, j Journal, id string) (*record, error) {
	entries, err := j.Journal(ctx, id)
	if err != nil {
		return nil, err
	}
	r := &record{id: id, entries: entries, sessions: map[string]sessionDetail{}}
	for _, e := range entries {
		switch e.Kind {
		case KindBegin:
			if r.begin == nil {
				var b beginDetail
				if err := json.Unmarshal(e.Detail, &b); err != nil {
					return nil, fmt.Errorf("journal %s entry %d: %w", id, e.Seq, err)
				}
				r.begin = &b
			}
		case KindSession:
			var s sessionDetail
			if err := json.Unmarshal(e.Detail, &s); err == nil {
				r.sessions[e.AccountID] = s
			}
		}
	}
	if r.begin == nil {
		return nil, fmt.Errorf("journal %s has no begin entry", id)
	}
	return r, nil
}

// step is one action of a journal as the entries tell it.
type step struct {
	phase        string
	item, action int
	before       *store.JournalEntry
	after        *store.JournalEntry
	detail       actionDetail // from before (or after)
	result       actionDetail // from after
}

// state says what is known of the step: done, failed, or uncertain (begun, no answer).
func (s *step) state() string {
	switch {
	case s.after == nil:
		return "uncertain"
	case s.after.Status == StatusOK:
		return StatusOK
	case s.result.ErrorCode == "":
		return "uncertain" // an error that is not AWS's answer: it may have run
	}
	return StatusFailed
}

// steps are the journal's actions of a phase, in order.
func (r *record) steps(phase string) []*step {
	var out []*step
	index := map[[2]int]*step{}
	for i := range r.entries {
		e := &r.entries[i]
		if e.Phase != phase || (e.Kind != KindBefore && e.Kind != KindAfter) {
			continue
		}
		k := [2]int{e.Item, e.Action}
		s, ok := index[k]
		if !ok || (e.Kind == KindBefore && s.after != nil) {
			s = &step{phase: phase, item: e.Item, action: e.Action}
			index[k] = s
			out = append(out, s)
		}
		var d actionDetail
		_ = json.Unmarshal(e.Detail, &d)
		if e.Kind == KindBefore {
			s.before, s.detail = e, d
		} else {
			s.after, s.result = e, d
			if s.before == nil {
				s.detail = d
			}
		}
	}
	return out
}

// snapshot is the first snapshot of an item (a resumed apply may save a smaller one
// later: the first is the configuration before anything was done).
func (r *record) snapshot(item int) *snapshotDetail {
	for _, e := range r.entries {
		if e.Kind == KindSnapshot && e.Item == item && e.Phase == PhaseApply {
			var s snapshotDetail
			if json.Unmarshal(e.Detail, &s) == nil {
				return &s
			}
		}
	}
	return nil
}

// deactivations are the keys this tool's journals deactivated and did not reactivate
// since (delete-key's "Inactive for 48 hours according to our journal").
func Deactivations(ctx context.Context, j Journal) ([]Deactivation, error) {
	entries, err := j.JournalEntries(ctx, store.JournalFilter{Kind: KindAfter, API: apiName(fix.IAMUpdateAccessKey), Status: StatusOK})
	if err != nil {
		return nil, err
	}
	deleted, err := j.JournalEntries(ctx, store.JournalFilter{Kind: KindAfter, API: apiName(fix.IAMDeleteAccessKey), Status: StatusOK})
	if err != nil {
		return nil, err
	}
	gone := map[string]bool{}
	for _, e := range deleted {
		gone[e.AccessKeyID] = true
	}
	latest := map[string]Deactivation{}
	var order []string
	for _, e := range entries {
		var d actionDetail
		if json.Unmarshal(e.Detail, &d) != nil {
			continue
		}
		id := d.Action.Resource.AccessKeyID
		if id == "" || gone[id] {
			continue
		}
		if _, seen := latest[id]; !seen {
			order = append(order, id)
		}
		if strings.EqualFold(d.Action.Params.Status, "Inactive") {
			latest[id] = Deactivation{JournalID: e.JournalID, At: e.RecordedAt, AccountID: e.AccountID, User: d.Action.Resource.UserName, KeyID: id}
		} else {
			latest[id] = Deactivation{} // reactivated since
		}
	}
	var out []Deactivation
	for _, id := range order {
		if d := latest[id]; d.KeyID != "" {
			out = append(out, d)
		}
	}
	return out, nil
}
