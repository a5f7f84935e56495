package audit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/iamaudit/iamaudit/internal/collect"
	"github.com/iamaudit/iamaudit/internal/history"
	"github.com/iamaudit/iamaudit/internal/inventory"
	"github.com/iamaudit/iamaudit/internal/outcome"
	"github.com/iamaudit/iamaudit/internal/outdir"
	"github.com/iamaudit/iamaudit/internal/publish"
	"github.com/iamaudit/iamaudit/internal/report"
)

// DefaultStreamAfterUsers is how many users a run keeps whole in memory before it
// streams (docs/streaming.md): below it, a run is evaluated and written whole at the
// end, as it always was; past it, each account is evaluated, written to the output
// files and recorded in the store as it finishes, and only its summary stays in
// memory. Streaming also overlaps writing the files and the store with collection.
const DefaultStreamAfterUsers = 5_000

// streamer is the Stream hook of a run's collection: it keeps accounts whole until
// they hold more than after users, then streams every account (those kept first,
// in the order they came). Accounts come as they finish, while enumeration goes on
// (collect.Options.Started): a stream that begins before the selection is known
// compares with the baseline of every account the history holds and narrows it to
// the selection at the end.
type streamer struct {
	ctx   context.Context
	opts  Options
	msgs  report.Messages
	now   time.Time
	after int
	head  *inventory.Inventory // set by startedHook, before the first account
	whole map[string]inventory.Account
	kept  []string // the ids of whole, in the order they came
	users int

	mu       sync.Mutex          // selectedHook runs on the run's goroutine
	selected []inventory.Account // nil until the selection is complete
	narrow   bool                // the baseline is every account's: narrowed by finish

	on       bool
	sinks    []*sink
	drained  bool
	ev       *outcome.Evaluator
	baseline *outcome.Baseline
	files    []*spool
	rec      history.Recording
	recErr   error
	// prepared is closed once the store's Prepare, started by commit, returned
	// (nil: not started).
	prepared chan struct{}
}

// spool is one streamed format's file while the run goes: a pending file of the
// output directory (owner-only, hidden, linked into place at the end: outdir.Pending).
type spool struct {
	format report.Format
	file   *outdir.Pending
	s      report.Streamer
	err    error // written by the sink's goroutine until drained
}

// sinkQueue is how many parts a file or the store may have waiting: each writes on
// its own goroutine, so the slowest sets the pace, not their sum, and memory holds
// at most this many parts more.
const sinkQueue = 2

// sink runs write for each part sent to it, on its own goroutine.
type sink struct {
	in   chan outcome.Part
	done chan struct{}
}

func startSink(write func(outcome.Part)) *sink {
	k := &sink{in: make(chan outcome.Part, sinkQueue), done: make(chan struct{})}
	go func() {
		defer close(k.done)
		for p := range k.in {
			write(p)
		}
	}()
	return k
}

func newStreamer(ctx context.Context, opts Options, msgs report.Messages, now time.Time) *streamer {
	after := opts.StreamAfterUsers
	if after == 0 {
		after = DefaultStreamAfterUsers
	}
	return &streamer{ctx: ctx, opts: opts, msgs: msgs, now: now, after: after, whole: map[string]inventory.Account{}}
}

// startedHook receives the run's head before enumeration.
func (s *streamer) startedHook(head *inventory.Inventory) {
	s.head = head
}

// selectedHook receives the accounts to audit once enumeration is done (the head's
// gaps of enumeration are the inventory's at the end: the stream does not need them).
func (s *streamer) selectedHook(_ *inventory.Inventory, accounts []inventory.Account) {
	s.mu.Lock()
	s.selected = accounts
	s.mu.Unlock()
}

// account is the Stream hook: it returns what the inventory keeps of a.
func (s *streamer) account(a inventory.Account) inventory.Account {
	if s.on {
		s.write(&a)
		return a.Summarised()
	}
	s.whole[a.ID] = a
	s.kept = append(s.kept, a.ID)
	s.users += len(a.Users)
	if s.after < 0 || s.users > s.after {
		s.begin()
	}
	return a.Summarised()
}

// begin switches the run to streaming: the baseline is read, the streamed formats'
// files and the store's recording are opened, and the accounts kept so far are
// written, in the order they came.
func (s *streamer) begin() {
	s.on = true
	head := *s.head
	head.Tool, head.Version = "iamaudit", s.opts.Version
	head.AuditRole = collect.RoleResource(s.opts.Collect.Role)
	b, err := s.readBaseline(&head)
	if err != nil {
		fmt.Fprintf(s.opts.Err, "iamaudit: %v; findings are compared with no earlier run\n", err)
	}
	s.baseline = b
	head.Accounts = nil
	s.head = &head
	settings := outcome.Settings{Checks: s.opts.Checks, Suppressions: s.opts.Suppressions, FailOn: s.opts.FailOn}
	s.ev = outcome.NewEvaluator(s.head, s.now, settings, b)
	if publish.NeedAllFindings(s.opts.Destinations) {
		s.ev.Kept = -1 // Security Hub imports every finding: they are kept (not the users)
	}
	// The formats' head says what the run id and the findings' time will be unless
	// something changes: the run id of this start (claimed …_2 at the end when it is
	// taken), evaluated at the start (the Evaluator's now).
	fhead := &outcome.Outcome{Inventory: new(*s.head), Now: s.now}
	fhead.Inventory.RunID = inventory.RunID(s.now)
	for _, f := range s.opts.Formats {
		if f.Stream == nil {
			continue
		}
		sp := &spool{format: f}
		sp.file, sp.err = outdir.Create(s.opts.OutputDir)
		if sp.err == nil {
			sp.s, sp.err = f.Stream(sp.file, fhead, s.msgs)
		}
		s.files = append(s.files, sp)
	}
	if st, ok := s.opts.History.(history.Streamer); ok {
		s.rec, s.recErr = st.Begin(context.WithoutCancel(s.ctx), s.head, settings)
	}
	for _, sp := range s.files {
		s.sinks = append(s.sinks, startSink(func(p outcome.Part) {
			if sp.err == nil {
				sp.err = sp.s.Account(p)
			}
		}))
	}
	if s.rec != nil && s.recErr == nil {
		s.sinks = append(s.sinks, startSink(func(p outcome.Part) {
			if s.recErr == nil {
				if s.recErr = s.rec.Account(context.WithoutCancel(s.ctx), p); s.recErr != nil {
					s.rec.Abort()
				}
			}
		}))
	}
	if s.after < 0 {
		fmt.Fprintf(s.opts.Err, "iamaudit: streaming each account to the outputs and the store as it finishes (docs/streaming.md)\n")
	} else {
		fmt.Fprintf(s.opts.Err, "iamaudit: more than %d users: streaming each account to the outputs and the store as it finishes (docs/streaming.md)\n", s.after)
	}
	for _, id := range s.kept {
		w := s.whole[id]
		s.write(&w)
	}
	s.whole, s.kept = nil, nil
}

// readBaseline reads the baseline of the run head: of its selection once known;
// before, of the accounts --accounts names when it does, else of every account the
// history holds, narrowed to the selection by finish.
func (s *streamer) readBaseline(head *inventory.Inventory) (*outcome.Baseline, error) {
	ctx := context.WithoutCancel(s.ctx)
	warn := func(w string) { fmt.Fprintf(s.opts.Err, "iamaudit: %s\n", w) }
	s.mu.Lock()
	head.Accounts = s.selected
	s.mu.Unlock()
	defer func() { head.Accounts = nil }()
	if head.Accounts != nil {
		return s.opts.History.Baseline(ctx, head, warn)
	}
	s.narrow = true
	if ids := s.opts.Collect.Accounts; len(ids) > 0 {
		for _, id := range ids {
			head.Accounts = append(head.Accounts, inventory.Account{ID: id})
		}
		return s.opts.History.Baseline(ctx, head, warn)
	}
	return s.opts.History.BaselineOfAll(ctx, head, warn)
}

// write evaluates one account and hands its part to every file and the store. A
// file that fails is written no further (it is named at the end); a store that fails
// records nothing of the run (it says so at the end).
func (s *streamer) write(a *inventory.Account) {
	p := s.ev.Account(a)
	for _, k := range s.sinks {
		k.in <- p // the writers only read the part
	}
}

// drain waits for every file and the store to have written the parts sent.
func (s *streamer) drain() {
	if s.drained {
		return
	}
	s.drained = true
	for _, k := range s.sinks {
		close(k.in)
	}
	for _, k := range s.sinks {
		<-k.done
	}
}

// restore gives a run that never streamed its whole accounts back.
func (s *streamer) restore(inv *inventory.Inventory) {
	for i, a := range inv.Accounts {
		if w, ok := s.whole[a.ID]; ok {
			inv.Accounts[i] = w
		}
	}
	s.whole = nil
}

// finish is the streamed run's summary outcome, compared with the baseline of its
// selection (inv's accounts).
func (s *streamer) finish(inv *inventory.Inventory) *outcome.Outcome {
	if s.narrow {
		ids := make([]string, len(inv.Accounts))
		for i, a := range inv.Accounts {
			ids[i] = a.ID
		}
		s.ev.NarrowBaseline(ids)
	}
	return s.ev.Finish(inv)
}

// commit writes the streamed run's files: a run id is reserved first (the JSON,
// OCSF, HTML and Markdown hold it), each streamed file is ended from the summary
// outcome and linked into place under it, and a format that does not stream is
// written whole from the summary. Like WriteOutputs, a file that fails does not stop
// the others: the *OutputsError names each.
func (s *streamer) commit(o *outcome.Outcome) error {
	s.drain()
	dir, inv := s.opts.OutputDir, o.Inventory
	res, err := outdir.Reserve(dir, inv.RunID, fileNames(s.opts.Formats))
	if err != nil {
		return &OutputsError{Failed: []string{dir}, Err: err}
	}
	defer res.Release()
	inv.RunID = res.RunID
	// The store's end needs no file: it runs while the files are ended, on a copy
	// of o (o.Files is set below).
	if s.rec != nil && s.recErr == nil {
		po := *o
		po.Files = nil
		s.prepared = make(chan struct{})
		go func() {
			defer close(s.prepared)
			if s.recErr = s.rec.Prepare(context.WithoutCancel(s.ctx), &po); s.recErr != nil {
				s.rec.Abort()
			}
		}()
	}
	spooled := map[string]*spool{}
	for _, sp := range s.files {
		spooled[sp.format.Name] = sp
	}
	o.Files = nil
	// Each file is ended on its own goroutine (the OCSF and JSON files copy their
	// spools): the run's end waits for the longest, not the sum. The formats only
	// read o. A format that lists the run's files (the HTML page, ListsFiles) is
	// ended after the others, from o.Files holding those written; one that can be
	// rendered apart (report.Renderer) is rendered, in memory, while the others are
	// ended, as if every file were written, and written as rendered when they were.
	errs := make([]error, len(s.opts.Formats))
	rendered := make([][]byte, len(s.opts.Formats))
	end := func(i int, f report.Format) {
		path := filepath.Join(dir, f.FileName(inv.RunID))
		sp, spooled := spooled[f.Name]
		if !spooled {
			errs[i] = outdir.WriteFile(path, func(w io.Writer) error { return f.Write(w, o, s.msgs) })
			return
		}
		err := sp.err
		switch {
		case err != nil:
		case rendered[i] != nil:
			_, err = sp.file.Write(rendered[i])
		default:
			err = sp.s.Close(o)
		}
		if err == nil {
			err = sp.file.Commit(filepath.Base(path))
		}
		if sp.file != nil { // nil: it could not be created (sp.err says why)
			sp.file.Discard()
			sp.file = nil
		}
		errs[i] = err
	}
	others := written(s.opts.Formats, errs, dir, inv.RunID, false) // as if each were written
	for _, last := range []bool{false, true} {
		var wg sync.WaitGroup
		for i, f := range s.opts.Formats {
			switch {
			case f.ListsFiles == last:
				wg.Go(func() { end(i, f) })
			case !last:
				if r, ok := spooled[f.Name].renderer(); ok {
					wg.Go(func() {
						po := *o
						po.Files = others
						var b bytes.Buffer
						if r.Render(&b, &po) == nil {
							rendered[i] = b.Bytes()
						}
					})
				}
			}
		}
		wg.Wait()
		o.Files = written(s.opts.Formats, errs, dir, inv.RunID, last)
		if !last && !slices.Equal(o.Files, others) {
			clear(rendered) // a file failed: the pages are rendered again, without it
		}
	}
	var failed []string
	var failures []error
	for i, f := range s.opts.Formats {
		if errs[i] != nil {
			failed, failures = append(failed, filepath.Join(dir, f.FileName(inv.RunID))), append(failures, errs[i])
		}
	}
	if len(failures) > 0 {
		return &OutputsError{Failed: failed, Err: errors.Join(failures...)}
	}
	return nil
}

// renderer is the spool's streamer when it can be rendered apart (report.Renderer)
// and nothing failed it yet.
func (sp *spool) renderer() (report.Renderer, bool) {
	if sp == nil || sp.err != nil {
		return nil, false
	}
	r, ok := sp.s.(report.Renderer)
	return r, ok
}

// written are the paths of the formats ended without an error, in their order: of
// those that do not list the run's files, or (all) of every format.
func written(formats []report.Format, errs []error, dir, runID string, all bool) []string {
	var out []string
	for i, f := range formats {
		if errs[i] == nil && (all || !f.ListsFiles) {
			out = append(out, filepath.Join(dir, f.FileName(runID)))
		}
	}
	return out
}

// cleanup discards the files of a run that did not reach commit.
func (s *streamer) cleanup() {
	s.drain()
	if s.prepared != nil {
		<-s.prepared
	}
	for _, sp := range s.files {
		if sp.file != nil {
			sp.file.Discard()
		}
	}
}

// record completes the store's recording of a streamed run.
func (s *streamer) record(o *outcome.Outcome) error {
	s.drain()
	if s.prepared != nil {
		<-s.prepared
	}
	if s.rec == nil {
		if s.recErr != nil {
			return s.recErr
		}
		if _, ok := s.opts.History.(history.Streamer); ok {
			return errors.New("the store's recording was never opened")
		}
		return s.opts.History.Record(context.WithoutCancel(s.ctx), o) // a directory history: nothing to stream
	}
	if s.recErr != nil {
		return s.recErr
	}
	return s.rec.Finish(context.WithoutCancel(s.ctx), o)
}
