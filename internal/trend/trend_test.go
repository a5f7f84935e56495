package trend

import (
	"strings"
	"testing"
	"time"

	"github.com/iamaudit/iamaudit/internal/inventory"
	"github.com/iamaudit/iamaudit/internal/score"
	"github.com/iamaudit/iamaudit/internal/store"
)

func at(s string) time.Time {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return t.Add(9 * time.Hour)
}

// metrics is a run of one account whose figures are known unless unknown lists
// fields.
func metrics(runID string, when time.Time, formula string, keys int, unknown ...inventory.Field) store.RunMetrics {
	risk := 40
	s := score.Score{AccountID: "111111111111", AccountName: "Production", Audited: true, Known: len(unknown) == 0,
		UnknownSections: unknown, LongTermKeys: keys, ActiveKeys: keys, KeyAges: score.KeyAges{Days0To90: keys},
		RiskFormula: formula, Risk: &risk, RiskAtLeast: risk, RiskLabel: "medium"}
	cov := 50.0
	s.MFACoverage = &cov
	org := s
	org.AccountID, org.AccountName = "", ""
	med := 30.0
	return store.RunMetrics{Run: store.RunSummary{RunID: runID, EvaluatedAt: when, Command: "run"},
		Organization: store.Metrics{Score: org, MedianActiveKeyAgeDays: &med},
		Accounts:     []store.Metrics{{Score: s, MedianActiveKeyAgeDays: &med}}}
}

func window(runID string, start, end time.Time, failed ...string) store.EventWindow {
	return store.EventWindow{RunID: runID, Start: start, End: end, Names: EventNames,
		Accounts: map[string][]string{"111111111111": failed}}
}

func TestBuild(t *testing.T) {
	runs := []store.RunMetrics{
		metrics("20260105_090000", at("2026-01-05"), score.SeedRiskFormula, 10),
		metrics("20260120_090000", at("2026-01-20"), score.SeedRiskFormula, 9),
		metrics("20260205_090000", at("2026-02-05"), score.RiskFormula, 8, inventory.FieldAccessKeys),
		metrics("20260305_090000", at("2026-03-05"), score.RiskFormula, 7),
	}
	windows := []store.EventWindow{
		window("20260105_090000", at("2025-10-07"), at("2026-01-05")),
		window("20260120_090000", at("2025-10-22"), at("2026-01-20")),
		// February's lookup of DeleteUser failed; March's window is unknown (an
		// imported seed report without --cloudtrail-since).
		window("20260205_090000", at("2025-11-07"), at("2026-02-05"), "DeleteUser"),
		window("20260305_090000", time.Time{}, at("2026-03-05")),
	}
	tr := Build(runs, windows, Query{By: ByMonth})
	var periods []string
	for _, r := range tr.Rows {
		periods = append(periods, r.Period+"="+r.RunID)
	}
	if got := strings.Join(periods, " "); got != "2026-01=20260120_090000 2026-02=20260205_090000 2026-03=20260305_090000" {
		t.Errorf("by month: the last run of each month, got %s", got)
	}
	if len(tr.FormulaChanges) != 1 || tr.FormulaChanges[0].Period != "2026-02" || tr.FormulaChanges[0].From != score.SeedRiskFormula {
		t.Errorf("formula changes %+v", tr.FormulaChanges)
	}
	jan, feb, mar := tr.Rows[0], tr.Rows[1], tr.Rows[2]
	if jan.Keys.Text("") != "9" || feb.Keys.Text("") != "unknown (at least 8)" || feb.MedianKeyAgeDays.Text("") != "unknown" || feb.MFACoverage.Text("%") != "50%" {
		t.Errorf("figures: jan %s, feb %s median %s coverage %s", jan.Keys.Text(""), feb.Keys.Text(""), feb.MedianKeyAgeDays.Text(""), feb.MFACoverage.Text("%"))
	}
	// January's CreateAccessKey is covered by the windows up to February's; its
	// DeleteUser only up to January 20 (February's lookup of it failed); March's
	// window is unknown, so nothing covers February after the 5th, nor March.
	for _, c := range []struct {
		r       Row
		name    string
		unknown bool
	}{
		{jan, "CreateAccessKey", false}, {jan, "DeleteUser", true},
		{feb, "CreateAccessKey", true}, {feb, "DeleteUser", true},
		{mar, "CreateAccessKey", true},
	} {
		if c.r.Events[c.name].Unknown != c.unknown {
			t.Errorf("%s %s: unknown %v, want %v", c.r.Period, c.name, c.r.Events[c.name].Unknown, c.unknown)
		}
	}
	// February's CreateAccessKey: covered only up to February 5 (the newest known
	// window); the month goes on to March 5 (the newest window's end).
	if !feb.EventsTo.Equal(at("2026-02-28").Add(15*time.Hour - time.Microsecond)) {
		t.Errorf("February's events end at %s", feb.EventsTo)
	}

	byRun := Build(runs, windows, Query{By: ByRun, Accounts: []string{"111111111111"}})
	if len(byRun.Rows) != 4 || !byRun.Rows[1].EventsFrom.Equal(at("2026-01-05").Add(time.Microsecond)) || !byRun.Rows[1].EventsTo.Equal(at("2026-01-20")) {
		t.Fatalf("by run: %+v", byRun.Rows)
	}
	if byRun.Rows[0].Events["CreateAccessKey"].Unknown || byRun.Rows[1].Events["CreateAccessKey"].Unknown || !byRun.Rows[3].Events["CreateAccessKey"].Unknown {
		t.Errorf("by run: the first run's window and the period between the first two are covered, March's (no window) is not")
	}
	if byRun.Rows[0].AccountName != "Production" || byRun.Rows[0].Scope != "111111111111" {
		t.Errorf("account row %+v", byRun.Rows[0])
	}
}

func TestFigureText(t *testing.T) {
	for _, c := range []struct {
		f    Figure
		want string
	}{
		{known(245), "245"}, {known(65.5), "65.5"}, {unknown(0), "unknown"}, {unknown(245), "unknown (at least 245)"}, {Figure{}, "-"},
	} {
		if got := c.f.Text(""); got != c.want {
			t.Errorf("%+v: %q, want %q", c.f, got, c.want)
		}
	}
}

func TestIncreases(t *testing.T) {
	tr := &Trend{Rows: []Row{
		{Scope: Organization, Period: "2026-01", Events: map[string]Figure{"CreateAccessKey": known(3)}},
		{Scope: Organization, Period: "2026-02", Events: map[string]Figure{"CreateAccessKey": known(5)}},
		{Scope: Organization, Period: "2026-03", Events: map[string]Figure{"CreateAccessKey": unknown(9)}},
	}}
	inc := tr.Increases("CreateAccessKey")
	if len(inc) != 1 || inc[0].From != 3 || inc[0].To != 5 || inc[0].ToPeriod != "2026-02" {
		t.Errorf("%+v: an unknown count is not an increase; the last two known are", inc)
	}
}
