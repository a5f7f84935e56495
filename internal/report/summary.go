package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/inventory"
	"github.com/iamaudit/iamaudit/internal/score"
	"github.com/iamaudit/iamaudit/internal/suppress"
)

// DefaultMaxFindings is how many finding lines the console summary prints when
// SummaryOptions.MaxFindings is 0; the rest are in the findings CSV.
const DefaultMaxFindings = 50

// maxResolved is how many resolved findings the summary names.
const maxResolved = 10

// SummaryOptions tune the console summary.
type SummaryOptions struct {
	// Lang is "en" (default) or "es". Every word of the summary is translated,
	// severity tags included ([CRÍTICO], [ALTO], [MEDIO], [BAJO]); the checks'
	// messages stay in English.
	Lang string
	// MaxFindings is the most open (and, apart, suppressed) finding lines printed,
	// most severe first: 0 means DefaultMaxFindings, a negative number means all.
	MaxFindings int
	// FindingsFile is the findings CSV named in "… and K more findings: see <file>".
	FindingsFile string
	// Resolved are the previous run's findings no longer found (checks.CompareRuns):
	// their count and up to 10 of them are printed.
	Resolved []checks.Finding
	// ResolvedCount, when larger than len(Resolved), is how many findings were
	// resolved: a streamed run's summary outcome holds only the first of them.
	ResolvedCount int
	// Inventory, when set, adds what the findings cannot show to each account's line:
	// a root user without credentials ("root: no root credentials": no finding says
	// so), or whose credentials are unknown.
	Inventory *inventory.Inventory
}

// summaryWords are the summary's words in one language. Formats that take a count
// have a singular (…1) and a plural form.
type summaryWords struct {
	Findings, NoFindings, Suppressed, SuppressedMark, BySeverity, ByAccount, NotAudited string
	Risk, RiskUnknown, OrgRisk, OrgRiskUnknown, Maturity, Phase1, Phase2                string
	SeedRisk, SeedRiskUnknown, OrgSeedRisk, OrgSeedRiskUnknown, Formula, Unevaluated    string
	Unevaluated1                                                                        string
	Complete, NotComplete, Advanced, PhaseUnknown, Expired, ExpiredLine                 string
	Coverage, Coverage1, CoverageUnknown, OldKeys, OldKeys1, LongTerm, LongTerm1        string
	KeysUnknown, More, MoreSuppressed, MoreNoFile, Resolved, MoreResolved, Incomplete   string
	Critical, High, Medium, Low, SuppressedCount, Unknown                               string
	RootNone, RootUnknown                                                               string
	Tags                                                                                map[checks.Severity]string
}

var summaryEN = summaryWords{
	Findings: "Findings: %d (%d suppressed)", NoFindings: "No findings.",
	Suppressed: "Suppressed findings:", SuppressedMark: "(suppressed: %s)",
	BySeverity: "By severity:", ByAccount: "By account:", NotAudited: "not audited",
	Risk: "risk %d/100 (%s)", RiskUnknown: "risk unknown (at least %d/100: data is incomplete)",
	OrgRisk: "Organization risk score: %d/100 (%s)", OrgRiskUnknown: "Organization risk score: unknown (at least %d/100: data is incomplete)",
	SeedRisk: "original dashboard's risk %d/100 (%s)", SeedRiskUnknown: "original dashboard's risk unknown (at least %d/100)",
	OrgSeedRisk:        "Original dashboard's risk score, for comparison: %d/100 (%s)",
	OrgSeedRiskUnknown: "Original dashboard's risk score, for comparison: unknown (at least %d/100: data is incomplete)",
	Formula:            "Risk formula: %s, every open finding by severity (docs/checks.md); the original dashboard's: %s",
	Unevaluated:        "%d checks could not look at everything (risk_unevaluated_checks in the JSON)",
	Unevaluated1:       "1 check could not look at everything (risk_unevaluated_checks in the JSON)",
	Maturity:           "Security maturity:", Phase1: `Phase 1 "MFA"`, Phase2: `Phase 2 "Use temporary credentials"`,
	Complete: "complete", NotComplete: "not complete", Advanced: "advanced", PhaseUnknown: "unknown",
	Expired:     "Expired suppression rules (they no longer suppress; renew or remove them):",
	ExpiredLine: "  - line %d: %s",
	Coverage:    "%.0f%% of %d console users have MFA", Coverage1: "%.0f%% of 1 console user has MFA",
	CoverageUnknown: "MFA coverage unknown: incomplete data (%s)",
	OldKeys:         "%d active keys older than %d days", OldKeys1: "1 active key older than %d days",
	LongTerm: "%d long-term keys remain", LongTerm1: "1 long-term key remains",
	KeysUnknown: "access key data unknown: incomplete data (%s)",
	More:        "… and %d more findings: see %s", MoreNoFile: "… and %d more findings: see the findings CSV",
	MoreSuppressed: "… and %d more suppressed findings",
	Resolved:       "Resolved since the previous run: %d", MoreResolved: "  … and %d more",
	Incomplete: "incomplete data: %s",
	Critical:   "critical", High: "high", Medium: "medium", Low: "low", SuppressedCount: "suppressed", Unknown: "unknown",
	RootNone: "root: no root credentials", RootUnknown: "root: root credentials unknown",
	Tags: map[checks.Severity]string{checks.Critical: "CRITICAL", checks.High: "HIGH", checks.Medium: "MEDIUM", checks.Low: "LOW"},
}

var summaryES = summaryWords{
	Findings: "Hallazgos: %d (%d suprimidos)", NoFindings: "Sin hallazgos.",
	Suppressed: "Hallazgos suprimidos:", SuppressedMark: "(suprimido: %s)",
	BySeverity: "Por severidad:", ByAccount: "Por cuenta:", NotAudited: "no auditada",
	Risk: "riesgo %d/100 (%s)", RiskUnknown: "riesgo desconocido (al menos %d/100: datos incompletos)",
	OrgRisk: "Puntuación de riesgo de la organización: %d/100 (%s)", OrgRiskUnknown: "Puntuación de riesgo de la organización: desconocida (al menos %d/100: datos incompletos)",
	SeedRisk: "riesgo del panel original %d/100 (%s)", SeedRiskUnknown: "riesgo del panel original desconocido (al menos %d/100)",
	OrgSeedRisk:        "Puntuación de riesgo del panel original, para comparar: %d/100 (%s)",
	OrgSeedRiskUnknown: "Puntuación de riesgo del panel original, para comparar: desconocida (al menos %d/100: datos incompletos)",
	Formula:            "Fórmula de riesgo: %s, todos los hallazgos abiertos por severidad (docs/checks.md); la del panel original: %s",
	Unevaluated:        "%d comprobaciones no pudieron verlo todo (risk_unevaluated_checks en el JSON)",
	Unevaluated1:       "1 comprobación no pudo verlo todo (risk_unevaluated_checks en el JSON)",
	Maturity:           "Madurez de seguridad:", Phase1: `Fase 1 "MFA"`, Phase2: `Fase 2 "Credenciales temporales"`,
	Complete: "completa", NotComplete: "incompleta", Advanced: "avanzada", PhaseUnknown: "desconocida",
	Expired:     "Reglas de supresión caducadas (ya no suprimen; renuévelas o elimínelas):",
	ExpiredLine: "  - línea %d: %s",
	Coverage:    "%.0f%% de %d usuarios de consola tienen MFA", Coverage1: "%.0f%% de 1 usuario de consola tiene MFA",
	CoverageUnknown: "cobertura de MFA desconocida: datos incompletos (%s)",
	OldKeys:         "%d access keys activas con más de %d días", OldKeys1: "1 access key activa con más de %d días",
	LongTerm: "quedan %d access keys de larga duración", LongTerm1: "queda 1 access key de larga duración",
	KeysUnknown: "datos de access keys desconocidos: datos incompletos (%s)",
	More:        "… y %d hallazgos más: vea %s", MoreNoFile: "… y %d hallazgos más: vea el CSV de hallazgos",
	MoreSuppressed: "… y %d hallazgos suprimidos más",
	Resolved:       "Resueltos desde la ejecución anterior: %d", MoreResolved: "  … y %d más",
	Incomplete: "datos incompletos: %s",
	Critical:   "crítico", High: "alto", Medium: "medio", Low: "bajo", SuppressedCount: "suprimidos", Unknown: "desconocido",
	RootNone: "root: sin credenciales de root", RootUnknown: "root: credenciales de root desconocidas",
	Tags: map[checks.Severity]string{checks.Critical: "CRÍTICO", checks.High: "ALTO", checks.Medium: "MEDIO", checks.Low: "BAJO"},
}

func (w summaryWords) label(l string) string {
	switch l {
	case "critical":
		return w.Critical
	case "high":
		return w.High
	case "medium":
		return w.Medium
	case "low":
		return w.Low
	}
	return w.Unknown
}

// tag is a severity's tag without brackets, in the summary's language.
func (w summaryWords) tag(s checks.Severity) string {
	if t, ok := w.Tags[s]; ok {
		return t
	}
	return strings.ToUpper(s.String())
}

// who names the subject of a finding as seed 003 does ("user"), prefixed with the
// account: "Production/alice", "Production/role/Deploy", "Production/account".
func who(f checks.Finding) string {
	acct := f.AccountName
	if acct == "" {
		acct = f.AccountID
	}
	switch {
	case f.User != "":
		return acct + "/" + f.User
	case f.ResourceType == checks.ResourceAccount:
		return acct
	default:
		return acct + "/" + f.ResourceType + "/" + f.Resource[strings.LastIndex(f.Resource, "/")+1:]
	}
}

// findingLine is "[CRITICAL] Production/alice: message" ("[CRÍTICO] …" in Spanish).
func findingLine(wd summaryWords, f checks.Finding) string {
	return fmt.Sprintf("[%s] %s: %s", wd.tag(f.Severity), who(f), f.Message)
}

// WriteSummary prints the console summary with the default options in language lang
// ("en" or "es"); see WriteSummaryWith.
func WriteSummary(w io.Writer, findings []checks.Finding, scores score.Scores, expired []suppress.Rule, lang string) error {
	return WriteSummaryWith(w, findings, scores, expired, SummaryOptions{Lang: lang})
}

// WriteSummaryWith prints the console summary: the open findings as
// "[SEVERITY] account/user: message", highest severity first, at most
// opts.MaxFindings of them and then "… and K more findings: see <file>"; the
// suppressed ones marked with their reason (same limit); the findings resolved since
// the previous run; the counts per severity and per account, the risk score
// (iamaudit-risk/2, named on its own line) beside the original dashboard's, the
// maturity phases ("unknown" when their data is incomplete) and the expired
// suppression rules.
func WriteSummaryWith(w io.Writer, findings []checks.Finding, scores score.Scores, expired []suppress.Rule, opts SummaryOptions) error {
	m, err := MessagesFor(opts.Lang)
	if err != nil {
		return err
	}
	wd := m.summary
	limit := opts.MaxFindings
	if limit == 0 {
		limit = DefaultMaxFindings
	}
	var b strings.Builder
	open, sup := split(findings)
	// Each line is made Printable: a value from AWS cannot act on the terminal, nor
	// split a line (a newline in an account name would forge a summary line).
	p := func(format string, a ...any) {
		b.WriteString(Printable(fmt.Sprintf(format, a...)))
		b.WriteByte('\n')
	}

	// A streamed run's summary holds only the most severe findings; the scores count
	// them all (the same numbers for a whole run).
	countedOpen, countedSup := 0, 0
	for _, a := range scores.Accounts {
		countedOpen, countedSup = countedOpen+a.Findings.Total(), countedSup+a.Findings.Suppressed
	}
	nOpen, nSup := max(len(open), countedOpen), max(len(sup), countedSup)
	if nOpen+nSup == 0 {
		p("%s", wd.NoFindings)
	} else {
		p(wd.Findings, nOpen, nSup)
		shown, _ := capped(open, limit)
		rest := nOpen - len(shown)
		for _, f := range shown {
			p("%s", findingLine(wd, f))
		}
		if rest > 0 {
			if opts.FindingsFile != "" {
				p(wd.More, rest, opts.FindingsFile)
			} else {
				p(wd.MoreNoFile, rest)
			}
		}
		if nSup > 0 {
			p("")
			p("%s", wd.Suppressed)
			shown, _ := capped(sup, limit)
			rest := nSup - len(shown)
			for _, f := range shown {
				p("%s %s", findingLine(wd, f), fmt.Sprintf(wd.SuppressedMark, f.SuppressionReason))
			}
			if rest > 0 {
				p(wd.MoreSuppressed, rest)
			}
		}
	}
	if nRes := max(len(opts.Resolved), opts.ResolvedCount); nRes > 0 {
		resolved := append([]checks.Finding(nil), opts.Resolved...)
		checks.Sort(resolved)
		p("")
		p(wd.Resolved, nRes)
		shown, _ := capped(resolved, maxResolved)
		rest := nRes - len(shown)
		for _, f := range shown {
			p("  %s", findingLine(wd, f))
		}
		if rest > 0 {
			p(wd.MoreResolved, rest)
		}
	}
	org := scores.Organization
	p("")
	p("%s %s", wd.BySeverity, countsLine(wd, org.Findings))
	if len(scores.Accounts) > 0 {
		p("%s", wd.ByAccount)
		for _, a := range scores.Accounts {
			if !a.Audited {
				p("  %s: %s; %s", accountLabel(a.AccountName, a.AccountID), wd.NotAudited, countsLine(wd, a.Findings))
				continue
			}
			line := fmt.Sprintf("  %s: %s; %s; %s", accountLabel(a.AccountName, a.AccountID), countsLine(wd, a.Findings),
				riskText(wd, wd.Risk, wd.RiskUnknown, a), seedRiskText(wd, wd.SeedRisk, wd.SeedRiskUnknown, a.SeedRisk))
			if len(a.UnknownSections) > 0 {
				line += "; " + fmt.Sprintf(wd.Incomplete, joinFields(a.UnknownSections))
			}
			switch n := len(a.RiskUnevaluated); {
			case n == 1:
				line += "; " + wd.Unevaluated1
			case n > 1:
				line += "; " + fmt.Sprintf(wd.Unevaluated, n)
			}
			if r := rootState(wd, opts.Inventory, a.AccountID); r != "" {
				line += "; " + r
			}
			p("%s", line)
		}
	}
	p("")
	p("%s", riskText(wd, wd.OrgRisk, wd.OrgRiskUnknown, org))
	p("%s", seedRiskText(wd, wd.OrgSeedRisk, wd.OrgSeedRiskUnknown, org.SeedRisk))
	p(wd.Formula, org.RiskFormula, org.SeedRisk.Formula)
	p("%s", wd.Maturity)
	p("  %s: %s (%s)", wd.Phase1, state(wd, org.Phase1), coverageText(wd, org))
	p("  %s: %s (%s)", wd.Phase2, state(wd, org.Phase2), keysText(wd, org, scores.KeyRotationDays))
	if len(expired) > 0 {
		p("")
		p("%s", wd.Expired)
		for _, r := range expired {
			p(wd.ExpiredLine, r.Line, r.String())
		}
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write summary: %w", err)
	}
	return nil
}

// rootState is what the account line says of the root user's credentials: "" when
// it has some (its findings speak for it) or the inventory is not given.
func rootState(wd summaryWords, inv *inventory.Inventory, accountID string) string {
	if inv == nil {
		return ""
	}
	for _, a := range inv.Accounts {
		if a.ID != accountID || a.Root == nil {
			continue
		}
		switch a.Root.Credentials {
		case inventory.RootCredentialsNone:
			return wd.RootNone
		case inventory.RootCredentialsUnknown:
			return wd.RootUnknown
		}
	}
	return ""
}

// capped returns at most n findings (all when n < 0) and how many were left out.
func capped(fs []checks.Finding, n int) ([]checks.Finding, int) {
	if n < 0 || len(fs) <= n {
		return fs, 0
	}
	return fs[:n], len(fs) - n
}

func riskText(wd summaryWords, known, unknown string, s score.Score) string {
	if s.Risk == nil {
		return fmt.Sprintf(unknown, s.RiskAtLeast)
	}
	return fmt.Sprintf(known, *s.Risk, wd.label(s.RiskLabel))
}

func seedRiskText(wd summaryWords, known, unknown string, s score.SeedRisk) string {
	if s.Score == nil {
		return fmt.Sprintf(unknown, s.AtLeast)
	}
	return fmt.Sprintf(known, *s.Score, wd.label(s.Label))
}

func coverageText(wd summaryWords, s score.Score) string {
	switch {
	case s.MFACoverage == nil:
		return fmt.Sprintf(wd.CoverageUnknown, joinFields(s.UnknownSections))
	case s.ConsoleUsers == 1:
		return fmt.Sprintf(wd.Coverage1, *s.MFACoverage)
	}
	return fmt.Sprintf(wd.Coverage, *s.MFACoverage, s.ConsoleUsers)
}

func keysText(wd summaryWords, s score.Score, rotationDays int) string {
	switch {
	case !s.Phase2.Known:
		return fmt.Sprintf(wd.KeysUnknown, joinFields(s.UnknownSections))
	case s.Phase2.Complete && !s.Phase2.Advanced && s.LongTermKeys == 1:
		return wd.LongTerm1
	case s.Phase2.Complete && !s.Phase2.Advanced:
		return fmt.Sprintf(wd.LongTerm, s.LongTermKeys)
	case s.KeysOverRotation == 1:
		return fmt.Sprintf(wd.OldKeys1, rotationDays)
	}
	return fmt.Sprintf(wd.OldKeys, s.KeysOverRotation, rotationDays)
}

func split(fs []checks.Finding) (open, sup []checks.Finding) {
	for _, f := range fs {
		if f.Suppressed {
			sup = append(sup, f)
		} else {
			open = append(open, f)
		}
	}
	checks.Sort(open)
	checks.Sort(sup)
	return open, sup
}

func countsLine(wd summaryWords, c score.Counts) string {
	return fmt.Sprintf("%s %d, %s %d, %s %d, %s %d, %s %d", wd.Critical, c.Critical, wd.High, c.High, wd.Medium, c.Medium, wd.Low, c.Low, wd.SuppressedCount, c.Suppressed)
}

func state(wd summaryWords, ph score.Phase) string {
	switch {
	case !ph.Known:
		return wd.PhaseUnknown
	case ph.Advanced && ph.Complete:
		return wd.Advanced
	case ph.Complete:
		return wd.Complete
	}
	return wd.NotComplete
}

// accountLabel is "Name (id)", or the id alone when the account has no other name
// (a credential report analysed offline).
func accountLabel(name, id string) string {
	if name == "" || name == id {
		return id
	}
	return name + " (" + id + ")"
}

// joinFields lists unknown fields for the console ("mfa, password").
func joinFields(fs []inventory.Field) string {
	parts := make([]string, len(fs))
	for i, f := range fs {
		parts[i] = string(f)
	}
	return strings.Join(parts, ", ")
}
