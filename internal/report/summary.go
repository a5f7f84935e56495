package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/score"
	"github.com/iamaudit/iamaudit/internal/suppress"
)

// summaryWords are the summary's headings in one language. Severity tags
// ([CRITICAL] …) and the checks' messages stay in English in every language, so that
// scripts that grep them work whatever --lang says.
type summaryWords struct {
	Findings, NoFindings, Suppressed, SuppressedMark, BySeverity, ByAccount, NotAudited string
	Risk, OrgRisk, Maturity, Phase1, Phase2, Complete, NotComplete, Advanced, Expired   string
	Coverage, OldKeys, LongTerm, Critical, High, Medium, Low, SuppressedCount, Unknown  string
}

var summaryEN = summaryWords{
	Findings: "Findings: %d (%d suppressed)", NoFindings: "No findings.",
	Suppressed: "Suppressed findings:", SuppressedMark: "(suppressed: %s)",
	BySeverity: "By severity:", ByAccount: "By account:", NotAudited: "not audited",
	Risk: "risk %d/100 (%s)", OrgRisk: "Organization risk score: %d/100 (%s)",
	Maturity: "Security maturity:", Phase1: `Phase 1 "MFA"`, Phase2: `Phase 2 "Use temporary credentials"`,
	Complete: "complete", NotComplete: "not complete", Advanced: "advanced",
	Expired:  "Expired suppression rules (they no longer suppress; renew or remove them):",
	Coverage: "%.0f%% of %d console users have MFA", OldKeys: "%d active keys older than %d days", LongTerm: "%d long-term keys remain",
	Critical: "critical", High: "high", Medium: "medium", Low: "low", SuppressedCount: "suppressed", Unknown: "unknown",
}

var summaryES = summaryWords{
	Findings: "Hallazgos: %d (%d suprimidos)", NoFindings: "Sin hallazgos.",
	Suppressed: "Hallazgos suprimidos:", SuppressedMark: "(suprimido: %s)",
	BySeverity: "Por severidad:", ByAccount: "Por cuenta:", NotAudited: "no auditada",
	Risk: "riesgo %d/100 (%s)", OrgRisk: "Puntuación de riesgo de la organización: %d/100 (%s)",
	Maturity: "Madurez de seguridad:", Phase1: `Fase 1 "MFA"`, Phase2: `Fase 2 "Credenciales temporales"`,
	Complete: "completa", NotComplete: "incompleta", Advanced: "avanzada",
	Expired:  "Reglas de supresión caducadas (ya no suprimen; renuévelas o elimínelas):",
	Coverage: "%.0f%% de %d usuarios de consola tienen MFA", OldKeys: "%d access keys activas con más de %d días", LongTerm: "quedan %d access keys de larga duración",
	Critical: "crítico", High: "alto", Medium: "medio", Low: "bajo", SuppressedCount: "suprimidos", Unknown: "desconocido",
}

func wordsFor(lang string) summaryWords {
	if lang == "es" {
		return summaryES
	}
	return summaryEN
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

// findingLine is "[CRITICAL] Production/alice: message".
func findingLine(f checks.Finding) string {
	return fmt.Sprintf("[%s] %s: %s", strings.ToUpper(f.Severity.String()), who(f), f.Message)
}

// WriteSummary prints the console summary: every open finding as
// "[SEVERITY] account/user: message", highest severity first, then the suppressed ones
// marked with their reason, the counts per severity and per account, the risk score,
// the maturity phases and the expired suppression rules. lang is "en" or "es".
func WriteSummary(w io.Writer, findings []checks.Finding, scores score.Scores, expired []suppress.Rule, lang string) error {
	wd := wordsFor(lang)
	var b strings.Builder
	open, sup := split(findings)
	p := func(format string, a ...any) { fmt.Fprintf(&b, format+"\n", a...) }

	if len(findings) == 0 {
		p("%s", wd.NoFindings)
	} else {
		p(wd.Findings, len(open), len(sup))
		for _, f := range open {
			p("%s", findingLine(f))
		}
		if len(sup) > 0 {
			p("")
			p("%s", wd.Suppressed)
			for _, f := range sup {
				p("%s %s", findingLine(f), fmt.Sprintf(wd.SuppressedMark, f.SuppressionReason))
			}
		}
	}
	org := scores.Organization
	p("")
	p("%s %s", wd.BySeverity, countsLine(wd, org.Findings))
	if len(scores.Accounts) > 0 {
		p("%s", wd.ByAccount)
		for _, a := range scores.Accounts {
			if !a.Audited {
				p("  %s (%s): %s; %s", a.AccountName, a.AccountID, wd.NotAudited, countsLine(wd, a.Findings))
				continue
			}
			p("  %s (%s): %s; %s", a.AccountName, a.AccountID, countsLine(wd, a.Findings), fmt.Sprintf(wd.Risk, a.Risk, wd.label(a.RiskLabel)))
		}
	}
	p("")
	p(wd.OrgRisk, org.Risk, wd.label(org.RiskLabel))
	p("%s", wd.Maturity)
	p("  %s: %s (%s)", wd.Phase1, state(wd, org.Phase1), fmt.Sprintf(wd.Coverage, org.MFACoverage, org.ConsoleUsers))
	detail := fmt.Sprintf(wd.OldKeys, org.KeysOverRotation, scores.KeyRotationDays)
	if org.Phase2.Complete && !org.Phase2.Advanced {
		detail = fmt.Sprintf(wd.LongTerm, org.LongTermKeys)
	}
	p("  %s: %s (%s)", wd.Phase2, state(wd, org.Phase2), detail)
	if len(expired) > 0 {
		p("")
		p("%s", wd.Expired)
		for _, r := range expired {
			p("  - line %d: %s", r.Line, r.String())
		}
	}
	_, err := io.WriteString(w, b.String())
	if err != nil {
		return fmt.Errorf("write summary: %w", err)
	}
	return nil
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
	case ph.Advanced && ph.Complete:
		return wd.Advanced
	case ph.Complete:
		return wd.Complete
	}
	return wd.NotComplete
}
