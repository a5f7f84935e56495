package report

import "strings"

// safeCell neutralises spreadsheet formula injection (OWASP "CSV Injection"): a cell
// that starts with = + - @ TAB or CR is prefixed with a single quote, so Excel,
// LibreOffice and Google Sheets show it as text instead of evaluating it. IAM user
// names may legally start with + = - or @, and CloudTrail resources are attacker
// influenced, so every free-text cell of every CSV goes through here. Shared by all
// CSV writers of this package. Line breaks become spaces, so every CSV keeps one
// line per row for line-based tools (grep, awk, wc -l), and the other control and
// bidirectional characters become visible escapes (csvText).
func safeCell(s string) string {
	if s == "" {
		return s
	}
	s = csvText(s)
	if strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// csvText is a cell's text with line breaks as spaces and every other character
// Printable escapes escaped: a CSV is read in terminals (cat, less) and spreadsheets,
// where ESC, BEL, NUL or U+202E would act instead of showing. WriteCSV applies it to
// every cell.
func csvText(s string) string {
	if strings.ContainsAny(s, "\r\n") {
		s = lineBreaks.Replace(s)
	}
	return Printable(s)
}

// lineBreaks turns line breaks into spaces.
var lineBreaks = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ")
