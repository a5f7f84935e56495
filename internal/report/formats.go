package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/iamaudit/iamaudit/internal/outcome"
)

// Format is one output file of a run: its name (for --format and messages), the
// file it writes for a run id, and the writer. Each format lives in a file of its
// own; adding one is that file plus one line in formats below.
type Format struct {
	Name        string
	Description string
	FileName    func(runID string) string
	Write       func(w io.Writer, o *outcome.Outcome, m Messages) error
	// Analyze: the format is also written by `iamaudit analyze` (which has no
	// per-key rows of a live run).
	Analyze bool
	// Stream, when set, writes the format account by account in a streamed run
	// (docs/streaming.md): it starts the file from the run's head (the inventory
	// without accounts); the Streamer takes each account's part as it finishes and
	// ends the file from the run's summary outcome. The seed CSVs, the JSON, the
	// findings CSV and OCSF write byte for byte Write's file for the same run,
	// whatever order the accounts finish in (each part is spooled on disk in the
	// output directory and the file assembled at Close: spool.go); the HTML page and
	// the Markdown summary keep every finding's counts and the most severe ones
	// (view.go) and show the summary's accounts, whose users and events they say are
	// in the JSON and CSV files. Formats without Stream are written by Write from the
	// summary outcome at the end (a summary's bounded findings are then counted from
	// its scores).
	//
	// head.Inventory is the run's head (without accounts) and head.Now the time its
	// findings are evaluated at, as known at the start: the run id may still change
	// (claimed at the end, outdir.Reserve), and Close gets the summary that says.
	Stream func(w io.Writer, head *outcome.Outcome, m Messages) (Streamer, error)
	// ListsFiles: the file names the run's other files (the outcome's Files): a
	// streamed run ends it after them.
	ListsFiles bool
}

// Streamer writes one format's file of a streamed run.
type Streamer interface {
	// Account writes one account's part (called in the order accounts finish).
	Account(p outcome.Part) error
	// Close ends the file from the run's summary outcome (its accounts summarised).
	Close(o *outcome.Outcome) error
}

// Renderer is a Streamer whose end may be rendered elsewhere than its file, more
// than once, and instead of Close (it holds nothing Close would release): a streamed
// run renders the page that lists the run's files (ListsFiles) while those are
// ended, as if all were written, and again only when one was not.
type Renderer interface {
	Render(w io.Writer, o *outcome.Outcome) error
}

// formats is the registry, in the order the files are written and listed. The first
// one claims the run id (its file name must be new in the output directory).
var formats = []Format{
	seedIAMFormat,
	seedEventsFormat,
	jsonFormat,
	findingsCSVFormat,
	markdownFormat,
	htmlFormat,
	ocsfFormat,
}

// Formats returns every registered format, in order.
func Formats() []Format { return append([]Format(nil), formats...) }

// FormatNames lists the registered formats' names.
func FormatNames() []string {
	out := make([]string, len(formats))
	for i, f := range formats {
		out[i] = f.Name
	}
	return out
}

// SelectFormats returns the formats named (all when names is empty), in registry order.
func SelectFormats(names []string) ([]Format, error) {
	if len(names) == 0 {
		return Formats(), nil
	}
	want := map[string]bool{}
	for _, n := range names {
		found := false
		for _, f := range formats {
			if f.Name == n {
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("unknown format %q: use one of %s", n, strings.Join(FormatNames(), ", "))
		}
		want[n] = true
	}
	var out []Format
	for _, f := range formats {
		if want[f.Name] {
			out = append(out, f)
		}
	}
	return out, nil
}
