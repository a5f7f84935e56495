package report

import (
	"encoding/csv"
	"io"
)

// The cell rules of this package, for outputs written elsewhere (iamaudit diff and
// trend): the same CSV-injection and Markdown escaping as the run's own files.

// SafeCell is a CSV cell as every CSV of this package writes it: a cell a
// spreadsheet would evaluate as a formula (= + - @ TAB CR first) is prefixed with
// "'", and line breaks become spaces.
func SafeCell(s string) string { return safeCell(s) }

// MarkdownCell is text made safe for a Markdown table cell, as the Markdown
// summary writes values from AWS: HTML neutralised, Markdown syntax escaped, no line
// breaks or control characters.
func MarkdownCell(s string) string { return md(s) }

// WriteSafeCSV writes a header and rows, every cell through SafeCell, with "\n"
// line ends and no byte-order mark (as WriteCSV).
func WriteSafeCSV(w io.Writer, header []string, rows [][]string) error {
	cw := csv.NewWriter(w)
	safe := func(r []string) []string {
		out := make([]string, len(r))
		for i, c := range r {
			out[i] = safeCell(c)
		}
		return out
	}
	if err := cw.Write(safe(header)); err != nil {
		return err
	}
	for _, r := range rows {
		if err := cw.Write(safe(r)); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
