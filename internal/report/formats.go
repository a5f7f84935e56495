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
