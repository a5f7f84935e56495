package report

import (
	"fmt"
	"time"
)

// Messages are every word iamaudit writes for people in one language: the CSV
// values, the console lines and (summary) the findings summary's words. English is
// the default; Spanish reproduces the seed's own words exactly
// (docs/seed-contract.md). MessagesFor is the one lookup: an unknown language is an
// error, never a silent fallback.
type Messages struct {
	Lang    string
	summary summaryWords
	html    htmlWords // the HTML report's words (html_words.go)

	// CSV values.
	PasswordConfigured    string
	PasswordNotConfigured string
	PasswordNever         string // password_last_used when never signed in
	KeyNeverUsed          string // last_used_date when never used
	Unknown               string // password_status / mfa_status when a failed call left it unknown

	// Console lines (fmt formats).
	AuditingAccount string // name, id
	QueryingTrail   string // name, id
	ErrorInAccount  string // name, error
	TotalKeys       string // count
	// TotalKeysUnknown replaces TotalKeys when some users' keys could not be listed:
	// count, number of users whose keys are unknown.
	TotalKeysUnknown string
	// TotalKeysUnknownAccounts is added when an account's whole user list (or all its
	// users' keys) is unknown: number of accounts.
	TotalKeysUnknownAccounts string
	NotWritten               string // file: an output file that could not be written
	// Waiting is a "still waiting" line: account name, id, what and for how long.
	Waiting string
	// WaitingOrg is Waiting for the Organization's own calls: what and for how long.
	WaitingOrg string
	// WaitingReport names a credential report wait in Waiting.
	WaitingReport     string
	ReportExported    string // file
	TotalEvents       string // count
	EventsExported    string // file
	InventoryExported string // file
	FindingsExported  string // file
	SummaryExported   string // file
	HTMLExported      string // file
	NotReachedHeader  string // count
	NotAuditedHeader  string // count
	// ResolvedElsewhere: a streamed run's summary written whole does not hold every
	// resolved finding (docs/streaming.md); the JSON file (named) does.
	ResolvedElsewhere string // file
	NotAuditedLine    string // name, id, reason
	SkippedHeader     string // count
	GapsHeader        string // count
	GapLine           string // account, section, " (subject)", "operation code: ", message
	StaleReport       string // account name, age (report.Age)
	// A reused credential report (docs/checks.md "Credential report staleness").
	ReusedReport                            string // account name, age
	ReusedChanged                           string // number of users, "user (sections), …"
	ReusedNoChange                          string
	ReusedComplete                          string // time (UTC)
	ReusedReread                            string // sections, reason
	ReusedUnknown                           string // users
	ReusedMoreUsers                         string // list, number left out
	Hour, Hours, Minute, Minutes, Day, Days string
	User, Users                             string
	DemoServed, DemoTook, DemoNext          string
	DemoHTML                                string // file:// URL of the HTML report
	// DemoPacing: the demo's LookupEvents rate, AWS's, the lookups per account and
	// the seconds they take per account on AWS.
	DemoPacing string
	// DemoHistory: where the demo's runs are kept (the store), how to list them and how
	// to start the dashboard on them (one argument, the store).
	DemoHistory string
	// The demo with a past (demo --months N): the months to come (count, first and
	// last date), one line per month (number, count, date, findings, new, resolved,
	// risk, run id), the header of the last month's full report (number, count,
	// date), and the risk in a month line (known score; lower bound when unknown).
	DemoMonths, DemoMonth, DemoToday string
	DemoRisk, DemoRiskUnknown        string
}

var english = Messages{
	Lang: "en", summary: summaryEN, html: htmlEN,
	Hour: "hour", Hours: "hours", Minute: "minute", Minutes: "minutes", Day: "day", Days: "days",
	User: "user", Users: "users",
	DemoServed:               "Demo Organization %q served by the sandbox at %s",
	DemoTook:                 "Demo audit took %s. Outputs are in %s",
	DemoPacing:               "CloudTrail LookupEvents paced at %g/s in this demo; AWS allows %g/s per account: the %d lookups take ≈%.1f s per account on AWS, all accounts in parallel",
	DemoNext:                 "To audit your own Organization: iamaudit run --profile <management-profile> --role <audit-role>",
	PasswordConfigured:       "Configured",
	PasswordNotConfigured:    "Not configured",
	PasswordNever:            "Never",
	KeyNeverUsed:             "Never used",
	Unknown:                  "Unknown",
	AuditingAccount:          "Auditing account: %s (%s)",
	QueryingTrail:            "  Querying CloudTrail in account: %s (%s)",
	ErrorInAccount:           "Error in account %s: %s",
	TotalKeys:                "Total Access Keys found: %d",
	TotalKeysUnknown:         "Total Access Keys found: at least %d; keys of %s unknown",
	TotalKeysUnknownAccounts: "every user of %s",
	NotWritten:               "Not written: %s",
	Waiting:                  "  Still waiting in account %s (%s): %s",
	WaitingOrg:               "  Still waiting for the Organization: %s",
	WaitingReport:            "the credential report being generated",
	ReportExported:           "Report exported: %s",
	TotalEvents:              "Total CloudTrail events found: %d",
	EventsExported:           "CloudTrail events report exported: %s",
	InventoryExported:        "Inventory exported: %s",
	FindingsExported:         "Findings exported: %s",
	SummaryExported:          "Summary exported: %s",
	NotReachedHeader:         "Accounts not reached (the run was interrupted first): %d",
	NotAuditedHeader:         "Accounts not audited: %d",
	ResolvedElsewhere:        "The findings resolved since the previous run are in %s.",
	NotAuditedLine:           "  - %s (%s): %s",
	SkippedHeader:            "Accounts skipped (not ACTIVE): %d",
	GapsHeader:               "Incomplete data (%d gaps; details in the JSON file):",
	GapLine:                  "  - %s: %s%s: %s%s",
	StaleReport:              "Note: %s: key last-use data comes from a credential report generated %s ago (AWS reuses a report for up to 4 hours); use --fresh-key-usage for live data.",
	ReusedReport:             "Note: %s: reused a credential report generated %s ago (AWS reuses a report for up to 4 hours).",
	ReusedChanged:            "  CloudTrail shows changes since then for %d users, re-read: %s.",
	ReusedNoChange:           "  CloudTrail shows no change to users' credentials since then.",
	ReusedComplete:           "  CloudTrail is complete up to %s UTC (it shows events up to 15 minutes late): a change made after that may show only in a later run.",
	ReusedReread:             "  Re-read for every user (%s): %s.",
	ReusedUnknown:            "  Left unknown (the re-read failed; see the gaps): %s.",
	ReusedMoreUsers:          "%s and %d more (see the JSON file)",
	DemoHTML:                 "Open the HTML report in a browser (it needs no network): %s",
	DemoHistory:              "The demo's runs are kept in %[1]s: iamaudit history --db %[1]s; the dashboard: iamaudit serve --db %[1]s",
	DemoMonths:               "Auditing %d simulated months, from %s to %s; the scenario's timeline changes the Organization between audits (the sandbox's rate limits are off: a month takes about a second)",
	DemoMonth:                "Month %d/%d, %s: %d findings (%d new, %d resolved), risk %s; run %s",
	DemoToday:                "Month %d/%d, %s (today):",
	DemoRisk:                 "%d/100",
	DemoRiskUnknown:          "unknown (at least %d/100)",
	HTMLExported:             "HTML report exported: %s",
}

var spanish = Messages{
	Lang: "es", summary: summaryES, html: htmlES,
	Hour: "hora", Hours: "horas", Minute: "minuto", Minutes: "minutos", Day: "día", Days: "días",
	User: "usuario", Users: "usuarios",
	DemoServed:               "Organización de demostración %q servida por el sandbox en %s",
	DemoTook:                 "La auditoría de demostración tardó %s. Los resultados están en %s",
	DemoPacing:               "CloudTrail LookupEvents a %g/s en esta demostración; AWS permite %g/s por cuenta: las %d consultas tardan ≈%.1f s por cuenta en AWS, todas las cuentas en paralelo",
	DemoNext:                 "Para auditar su propia Organización: iamaudit run --profile <perfil-de-administración> --role <rol-de-auditoría>",
	PasswordConfigured:       "Configurada",
	PasswordNotConfigured:    "No configurada",
	PasswordNever:            "Nunca",
	KeyNeverUsed:             "Nunca utilizada",
	Unknown:                  "Desconocido",
	AuditingAccount:          "Auditando cuenta: %s (%s)",
	QueryingTrail:            "  Consultando CloudTrail en cuenta: %s (%s)",
	ErrorInAccount:           "Error en cuenta %s: %s",
	TotalKeys:                "Total de Access Keys encontradas: %d",
	TotalKeysUnknown:         "Total de Access Keys encontradas: al menos %d; se desconocen las claves de %s",
	TotalKeysUnknownAccounts: "todos los usuarios de %s",
	NotWritten:               "No escrito: %s",
	Waiting:                  "  Aún esperando en la cuenta %s (%s): %s",
	WaitingOrg:               "  Aún esperando a la organización: %s",
	WaitingReport:            "el reporte de credenciales en generación",
	ReportExported:           "Reporte exportado: %s",
	TotalEvents:              "Total de eventos CloudTrail encontrados: %d",
	EventsExported:           "Reporte de eventos CloudTrail exportado: %s",
	InventoryExported:        "Inventario exportado: %s",
	FindingsExported:         "Hallazgos exportados: %s",
	SummaryExported:          "Resumen exportado: %s",
	NotReachedHeader:         "Cuentas no alcanzadas (la ejecución se interrumpió antes): %d",
	NotAuditedHeader:         "Cuentas no auditadas: %d",
	ResolvedElsewhere:        "Los hallazgos resueltos desde la ejecución anterior están en %s.",
	NotAuditedLine:           "  - %s (%s): %s",
	SkippedHeader:            "Cuentas omitidas (no ACTIVE): %d",
	GapsHeader:               "Datos incompletos (%d vacíos; detalles en el archivo JSON):",
	GapLine:                  "  - %s: %s%s: %s%s",
	StaleReport:              "Nota: %s: el último uso de las claves viene de un reporte de credenciales generado hace %s (AWS reutiliza un reporte hasta 4 horas); use --fresh-key-usage para datos en vivo.",
	ReusedReport:             "Nota: %s: se reutilizó un reporte de credenciales generado hace %s (AWS reutiliza un reporte hasta 4 horas).",
	ReusedChanged:            "  CloudTrail muestra cambios desde entonces en %d usuarios, releídos: %s.",
	ReusedNoChange:           "  CloudTrail no muestra cambios en las credenciales de los usuarios desde entonces.",
	ReusedComplete:           "  CloudTrail está completo hasta %s UTC (muestra los eventos hasta 15 minutos tarde): un cambio posterior puede verse solo en una ejecución siguiente.",
	ReusedReread:             "  Releído para cada usuario (%s): %s.",
	ReusedUnknown:            "  Quedan desconocidos (la relectura falló; vea los vacíos): %s.",
	ReusedMoreUsers:          "%s y %d más (vea el archivo JSON)",
	DemoHTML:                 "Abra el informe HTML en un navegador (no necesita red): %s",
	DemoHistory:              "Las ejecuciones de la demostración se guardan en %[1]s: iamaudit history --db %[1]s; el panel: iamaudit serve --db %[1]s",
	DemoMonths:               "Auditando %d meses simulados, del %s al %s; la línea de tiempo del escenario cambia la Organización entre auditorías (sin los límites de tasa del sandbox: un mes tarda alrededor de un segundo)",
	DemoMonth:                "Mes %d/%d, %s: %d hallazgos (%d nuevos, %d resueltos), riesgo %s; ejecución %s",
	DemoToday:                "Mes %d/%d, %s (hoy):",
	DemoRisk:                 "%d/100",
	DemoRiskUnknown:          "desconocido (al menos %d/100)",
	HTMLExported:             "Reporte HTML exportado: %s",
}

// Langs are the supported languages.
var Langs = []string{"en", "es"}

// MessagesFor returns the messages of a language ("en" or "es").
func MessagesFor(lang string) (Messages, error) {
	switch lang {
	case "", "en":
		return english, nil
	case "es":
		return spanish, nil
	}
	return Messages{}, fmt.Errorf("unknown language %q: use en or es", lang)
}

// Age writes a duration for people: "3 days", "5 hours", "20 minutes".
func Age(d time.Duration, m Messages) string {
	unit := func(n int64, one, many string) string {
		if n == 1 {
			return "1 " + one
		}
		return fmt.Sprintf("%d %s", n, many)
	}
	switch {
	case d >= 48*time.Hour:
		return unit(int64(d/(24*time.Hour)), m.Day, m.Days)
	case d >= 2*time.Hour:
		return unit(int64(d/time.Hour), m.Hour, m.Hours)
	}
	return unit(int64(d/time.Minute), m.Minute, m.Minutes)
}
