package cli

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/inventory"
	"github.com/iamaudit/iamaudit/internal/report"
)

// What the fault suite compares (issue 13): a run under a fault with a clean run of
// the same Organization at the same clock. Everything the clean run has must be in the
// faulted run, or be explained by what the faulted run itself says is missing: an
// account it names as not audited or not reached, a gap that leaves the data unknown
// (by the checks' own rules: checks.UserGap, checks.Unevaluated), or a cell that says
// Unknown. Anything else missing is lost silently; anything the faulted run has that the
// clean one does not was invented. Both are failures.

// runData is what one run produced, as the outputs hold it.
type runData struct {
	inv      *inventory.Inventory
	findings []checks.Finding
}

// comparison counts what a faulted run lacks against a clean one, and why.
type comparison struct {
	newGaps        []inventory.Gap // gaps the clean run does not have
	unknownCells   int             // report cells Unknown in the faulted run, known in the clean one
	rowsExplained  int             // report rows missing, explained by a gap or an account's status
	findingsGone   int             // findings missing, explained
	goneChecks     map[string]int  // their checks
	findingsLess   int             // findings kept with less (severity, evidence) because of a gap
	eventsExplaind int             // events missing, explained by an events gap or an account's status
	accountsLost   []string        // accounts not audited / not reached that the clean run audited
	silent         []string        // what was lost without being named (must stay empty)
	invented       []string        // what the faulted run has that the clean one does not (must stay empty)
}

// same: nothing differs at all.
func (c comparison) same() bool {
	return len(c.newGaps) == 0 && c.unknownCells == 0 && c.rowsExplained == 0 && c.findingsGone == 0 && c.findingsLess == 0 &&
		c.eventsExplaind == 0 && len(c.accountsLost) == 0 && len(c.silent) == 0 && len(c.invented) == 0
}

// lost says what was lost, for the suite's table.
func (c comparison) lost() string {
	if len(c.silent) > 0 || len(c.invented) > 0 {
		return fmt.Sprintf("LOST SILENTLY: %s; INVENTED: %s", strings.Join(c.silent, "; "), strings.Join(c.invented, "; "))
	}
	if c.same() {
		return "nothing"
	}
	var named []string
	if n := len(c.accountsLost); n > 0 {
		named = append(named, fmt.Sprintf("%d accounts named not audited/reached (%s)", n, strings.Join(c.accountsLost, ", ")))
	}
	if n := len(c.newGaps); n > 0 {
		named = append(named, fmt.Sprintf("%d gaps named (%s)", n, gapSummary(c.newGaps)))
	}
	var unknown []string
	if c.unknownCells > 0 {
		unknown = append(unknown, fmt.Sprintf("%d report cells Unknown", c.unknownCells))
	}
	if c.rowsExplained > 0 {
		unknown = append(unknown, fmt.Sprintf("%d rows under those", c.rowsExplained))
	}
	if c.findingsGone > 0 {
		unknown = append(unknown, fmt.Sprintf("%d findings not evaluable%s", c.findingsGone, countsOf(c.goneChecks)))
	}
	if c.findingsLess > 0 {
		unknown = append(unknown, fmt.Sprintf("%d findings kept on less data (a lower severity, a key named by its slot)", c.findingsLess))
	}
	if c.eventsExplaind > 0 {
		unknown = append(unknown, fmt.Sprintf("%d events not looked up", c.eventsExplaind))
	}
	out := "nothing silently; " + strings.Join(named, "; ")
	if len(unknown) > 0 {
		out += "; unknown and said so: " + strings.Join(unknown, ", ")
	}
	return out
}

// countsOf is " (a ×2, b ×1)" for the accounts' own checks ("" when none).
func countsOf(n map[string]int) string {
	if len(n) == 0 {
		return ""
	}
	keys := make([]string, 0, len(n))
	for k := range n {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s ×%d", k, n[k])
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// gapSummary names the gaps by operation and error code, counted.
func gapSummary(gaps []inventory.Gap) string {
	n := map[string]int{}
	for _, g := range gaps {
		k := g.Operation
		if k == "" {
			k = string(g.Section)
		}
		if g.ErrorCode != "" {
			k += " " + g.ErrorCode
		}
		n[k]++
	}
	keys := make([]string, 0, len(n))
	for k := range n {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s ×%d", k, n[k])
	}
	return strings.Join(parts, ", ")
}

func accountOf(inv *inventory.Inventory, id string) *inventory.Account {
	for i := range inv.Accounts {
		if inv.Accounts[i].ID == id {
			return &inv.Accounts[i]
		}
	}
	return nil
}

// lostAccount: the faulted run names the account as not audited or not reached (or
// does not have it, with a gap on the account list).
func lostAccount(inv *inventory.Inventory, id string) bool {
	a := accountOf(inv, id)
	if a == nil {
		return slices.ContainsFunc(inv.Gaps, func(g inventory.Gap) bool { return g.Leaves(inventory.FieldAccounts) })
	}
	return a.Status == inventory.StatusNotAudited || a.Status == inventory.StatusNotReached
}

// eventsUnknown: a gap of the account leaves the events of that name unknown.
func eventsUnknown(a *inventory.Account, name string) bool {
	for _, g := range a.Gaps {
		if !g.Leaves(inventory.FieldEvents) {
			continue
		}
		if g.Subject == "" || slices.Contains(strings.Split(g.Subject, ","), name) {
			return true
		}
	}
	return false
}

// eventChecks are the checks that read CloudTrail events, and the event name each reads.
var eventChecks = map[string]string{
	"inactive_key_not_deleted": "UpdateAccessKey",
	"root_failed_signin":       "ConsoleLogin",
	"root_used_recently":       "ConsoleLogin",
}

// gapNames: a gap of the account names the user (or every user).
func gapNames(a *inventory.Account, user string) bool {
	for _, g := range a.Gaps {
		if g.Subject == user || g.Subject == "" {
			return true
		}
	}
	return false
}

func gapKey(g inventory.Gap) string {
	return strings.Join([]string{g.AccountID, string(g.Section), g.Subject, g.Operation, g.ErrorCode}, "|")
}

// alsoReads are per-user fields a check reads besides its UserNeeds, for some of its
// findings only: a finding that rests on one of them being known is absent, not
// wrong, when a gap leaves them unknown (user_without_owner needs a known active
// credential; inactive_key_not_deleted matches an Inactive key's UpdateAccessKey
// events by its id, an Expired key needs none).
var alsoReads = map[string][]inventory.Field{
	"user_without_owner":       {inventory.FieldPassword, inventory.FieldAccessKeys},
	"inactive_key_not_deleted": {inventory.FieldKeyIDs},
}

// Columns of the seed report (report.IAMReportHeader).
const (
	colKeyID    = 5
	colLastUsed = 8
	colService  = 9
)

// compareRuns compares a faulted run f with the clean run c. ownKey is the caller's
// own access key: the audit itself uses it, so its last use (date and service) is
// the run's own, not the Organization's.
func compareRuns(c, f runData, cfg checks.Config, ownKey string) comparison {
	var out comparison
	m, _ := report.MessagesFor("en")

	// Gaps: those of the faulted run the clean one does not have.
	cleanGaps := map[string]bool{}
	for _, g := range allGaps(c.inv) {
		cleanGaps[gapKey(g)] = true
	}
	for _, g := range allGaps(f.inv) {
		if !cleanGaps[gapKey(g)] {
			out.newGaps = append(out.newGaps, g)
		}
	}
	for _, a := range c.inv.Accounts {
		if a.Status != inventory.StatusNotAudited && a.Status != inventory.StatusSkipped && lostAccount(f.inv, a.ID) {
			out.accountsLost = append(out.accountsLost, a.Name)
		}
	}

	// The seed report's rows, by account and user: every clean row has a faulted row
	// whose cells are equal or Unknown; every faulted row has such a clean row.
	type who struct{ acct, user string }
	group := func(inv *inventory.Inventory) map[who][][]string {
		g := map[who][][]string{}
		for _, r := range report.IAMReportRows(inv, m) {
			g[who{r[0], r[2]}] = append(g[who{r[0], r[2]}], r)
		}
		return g
	}
	compatible := func(cr, fr []string) (bool, int) {
		unknown := 0
		for i := range cr {
			switch {
			case cr[i] == fr[i]:
			case cr[colKeyID] == ownKey && (i == colLastUsed || i == colService):
			case fr[i] == m.Unknown:
				unknown++
			default:
				return false, 0
			}
		}
		return true, unknown
	}
	cg, fg := group(c.inv), group(f.inv)
	for k, crs := range cg {
		frs, ok := fg[k]
		if !ok {
			a := accountOf(f.inv, k.acct)
			if lostAccount(f.inv, k.acct) || (a != nil && hasUserGap(a, k.user, inventory.FieldUsers)) {
				out.rowsExplained += len(crs)
				continue
			}
			out.silent = append(out.silent, fmt.Sprintf("user %s/%s: no report row, and no gap says why", k.acct, k.user))
			continue
		}
		for _, cr := range crs {
			best := -1
			for _, fr := range frs {
				if ok, n := compatible(cr, fr); ok && (best < 0 || n < best) {
					best = n
				}
			}
			if best < 0 {
				out.silent = append(out.silent, fmt.Sprintf("row %s changed: clean %q, faulted %q", k.user, strings.Join(cr, ","), joinRows(frs)))
				continue
			}
			out.unknownCells += best
		}
		for _, fr := range frs {
			if !slices.ContainsFunc(crs, func(cr []string) bool { ok, _ := compatible(cr, fr); return ok }) {
				out.invented = append(out.invented, fmt.Sprintf("row %q", strings.Join(fr, ",")))
			}
		}
	}
	for k, frs := range fg {
		if _, ok := cg[k]; !ok {
			out.invented = append(out.invented, fmt.Sprintf("rows of user %s/%s: %q", k.acct, k.user, joinRows(frs)))
		}
	}

	// Findings, by id.
	fByID := map[string]checks.Finding{}
	for _, x := range f.findings {
		fByID[x.ID] = x
	}
	cByID := map[string]checks.Finding{}
	for _, x := range c.findings {
		cByID[x.ID] = x
	}
	for _, cf := range c.findings {
		a := accountOf(f.inv, cf.AccountID)
		ff, ok := fByID[cf.ID]
		switch {
		case ok && ff.Severity == cf.Severity:
		case ok && a != nil && gapNames(a, cf.User):
			out.findingsLess++
		case !ok && a != nil && keyIDUnknown(a, f.findings, cf):
			out.findingsLess++ // the same finding, on the key's report slot: its id is unknown
		case !ok && a != nil && slices.Contains(checks.Unevaluated(a, cfg), cf.CheckID) && slices.ContainsFunc(f.findings, func(x checks.Finding) bool {
			return x.CheckID == cf.CheckID && x.AccountID == cf.AccountID && x.User == cf.User
		}):
			out.findingsLess++ // the check's fallback found it, with less detail (a root key's slot)
		case ok:
			out.silent = append(out.silent, fmt.Sprintf("finding %s %s/%s: severity %s, clean %s, and no gap says why", cf.CheckID, cf.AccountName, cf.User, ff.Severity, cf.Severity))
		case lostAccount(f.inv, cf.AccountID):
			out.findingsGone++
		case a != nil && findingUnknown(a, cf, cfg):
			out.findingsGone++
			if out.goneChecks == nil {
				out.goneChecks = map[string]int{}
			}
			out.goneChecks[cf.CheckID]++
		default:
			out.silent = append(out.silent, fmt.Sprintf("finding %s %s/%s (%s) missing, and no gap leaves its data unknown", cf.CheckID, cf.AccountName, cf.User, cf.Resource))
		}
	}
	for _, ff := range f.findings {
		if _, ok := cByID[ff.ID]; ok {
			continue
		}
		a := accountOf(f.inv, ff.AccountID)
		switch {
		case ff.CheckID == "account_not_audited" && lostAccount(f.inv, ff.AccountID):
		case a != nil && keyIDUnknown(a, c.findings, ff):
		case a != nil && slices.Contains(checks.Unevaluated(a, cfg), ff.CheckID) && slices.ContainsFunc(c.findings, func(x checks.Finding) bool {
			return x.CheckID == ff.CheckID && x.AccountID == ff.AccountID && x.User == ff.User
		}):
			// The check's fallback answered from what was collected, with less detail
			// (a root key whose slot is unknown): the same finding, named differently.
		default:
			out.invented = append(out.invented, fmt.Sprintf("finding %s %s/%s: %s", ff.CheckID, ff.AccountName, ff.User, ff.Message))
		}
	}

	// Events (the seed's events report rows).
	type ev struct{ acct, row string }
	count := func(inv *inventory.Inventory) map[ev]int {
		n := map[ev]int{}
		for _, r := range report.EventRows(inv) {
			n[ev{r[3], strings.Join(r, ",")}]++
		}
		return n
	}
	ce, fe := count(c.inv), count(f.inv)
	for k, n := range ce {
		missing := n - fe[k]
		if missing <= 0 {
			continue
		}
		name := strings.Split(k.row, ",")[1]
		a := accountOf(f.inv, k.acct)
		if lostAccount(f.inv, k.acct) || (a != nil && eventsUnknown(a, name)) {
			out.eventsExplaind += missing
			continue
		}
		out.silent = append(out.silent, fmt.Sprintf("event %s missing, and no gap says why", k.row))
	}
	for k, n := range fe {
		if n > ce[k] {
			out.invented = append(out.invented, "event "+k.row)
		}
	}
	return out
}

// findingUnknown: the faulted run left the finding's deciding data unknown, by the
// checks' own rules.
func findingUnknown(a *inventory.Account, f checks.Finding, cfg checks.Config) bool {
	if slices.Contains(checks.Unevaluated(a, cfg), f.CheckID) {
		return true
	}
	if name, ok := eventChecks[f.CheckID]; ok && eventsUnknown(a, name) {
		return true
	}
	c, ok := checks.Lookup(f.CheckID)
	if !ok || f.User == "" {
		return false
	}
	return hasUserGap(a, f.User, append(append([]inventory.Field{inventory.FieldUsers}, c.UserNeeds...), alsoReads[f.CheckID]...)...)
}

// keyIDUnknown: a finding about an access key whose id a gap left unknown in a (the
// credential report's slot was kept), and the other run has the same check about the
// same user: the same finding, named by the key's slot instead of its id.
func keyIDUnknown(a *inventory.Account, other []checks.Finding, x checks.Finding) bool {
	if x.ResourceType != checks.ResourceAccessKey || !hasUserGap(a, x.User, inventory.FieldKeyIDs) {
		return false
	}
	return slices.ContainsFunc(other, func(o checks.Finding) bool {
		return o.CheckID == x.CheckID && o.AccountID == x.AccountID && o.User == x.User
	})
}

func hasUserGap(a *inventory.Account, user string, fields ...inventory.Field) bool {
	_, ok := checks.UserGap(a, user, fields...)
	return ok
}

func allGaps(inv *inventory.Inventory) []inventory.Gap {
	gaps := append([]inventory.Gap(nil), inv.Gaps...)
	for _, a := range inv.Accounts {
		gaps = append(gaps, a.Gaps...)
	}
	return gaps
}

func joinRows(rows [][]string) string {
	parts := make([]string, len(rows))
	for i, r := range rows {
		parts[i] = strings.Join(r, ",")
	}
	return strings.Join(parts, " | ")
}
