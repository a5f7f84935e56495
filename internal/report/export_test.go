package report

// Update tells the external tests (package report_test) whether -update was given.
func Update() bool { return *update }

// UserAnchor and AccountAnchor are the element ids of a user's detail and an
// account's section, for the browser tests.
var (
	UserAnchor    = userAnchor
	AccountAnchor = accountAnchor
)

// The fixtures of the internal tests, for the external ones.
var (
	HTMLOutcome     = htmlOutcome
	MarkdownOutcome = markdownOutcome
)
