package report

// htmlWords are the HTML report's own words in one language; the severity names,
// risk labels and maturity phases come from the summary's words (summaryWords), so
// the page and the console say the same thing.
type htmlWords struct {
	Title, RunLabel, Organization, Partition, Started, Finished, Tool, Window, Files                  string
	Contents, Summary, NotAuditedTitle, FindingsTitle, AccountsTitle, TimelineTitle, GapsTitle        string
	RiskScore, AtLeast, SeedRiskTitle, FormulaNote, MaturityTitle, MFATitle, FindingsTile             string
	MFAOf, MFAOfOne, MFANoConsole, WithMFA, WithoutMFA, KeyAgesTitle, KeyAgesUnknown                  string
	Age0To90, Age91To180, Age181To365, AgeOver365, KeysTotal, SeverityChart, RiskChart, RiskChartMore string
	UnknownNote, Unevaluated, MFAKnown                                                                string
	NotAuditedNone, Account, AccountID, Status, Reason, State                                         string
	StatusAudited, StatusPartial, StatusNotAudited, StatusSkipped, StatusNotReached                   string
	FindingsCounts, FilterSeverity, FilterAccount, FilterCheck, FilterState, FilterSearch, All        string
	Shown, NoScript, Severity, Subject, Check, Finding, EvidenceFix, Commands, SuppressedBecause      string
	Expires, More, StateNew, StateOpen, StateSuppressed, StateResolved                                string
	Users, ConsoleUsers, ActiveKeys, KeysOverRotation, Events, AuditedAs, OU, NoUsers, UsersCapped    string
	UserFindings, UserNoFindings, ARN, Created, Console, LastSignIn, MFA, Groups, Policies, Tags      string
	Keys, KeyID, KeyStatus, KeyAge, LastUsed, Service, Region, NoKeys, UserEvents, NoEvents           string
	Yes, No, Never, NeverUsed, NotApplicable, None, MFAOnTypeUnknown, IDUnknown, DaysN                string
	EventTime, EventName, EventBy, EventSource, EventResources, EventError, EventsCapped, EventsNone  string
	EventsUnknown, TimelineChart, GapSection, GapSubject, GapOperation, GapError, GapMessage          string
	RootMFA, RootKeys, GapsNone, GapsCapped, Organizationwide, Footer                                 string
	// A streamed run's page (docs/streaming.md): the users and events were written to
	// the JSON and CSV files as each account finished, not kept for the page.
	UsersElsewhere, EventsElsewhere, FindingsCountsSummary string
}

var htmlEN = htmlWords{
	Title: "IAM audit report", RunLabel: "Run", Organization: "Organization", Partition: "partition",
	Started: "started", Finished: "finished", Tool: "tool", Window: "CloudTrail window",
	Files:    "Files of this run, beside this page:",
	Contents: "Contents", Summary: "Organization summary", NotAuditedTitle: "Accounts not audited",
	FindingsTitle: "Findings", AccountsTitle: "Accounts", TimelineTitle: "CloudTrail timeline", GapsTitle: "Data that could not be collected",
	RiskScore: "Risk score", AtLeast: "at least %d/100: data is incomplete",
	SeedRiskTitle: "Original dashboard's risk score", FormulaNote: "Formula %s: every open finding by severity (docs/checks.md); the original dashboard's: %s.",
	MaturityTitle: "Security maturity", MFATitle: "MFA coverage", FindingsTile: "Open findings",
	MFAOf: "of %d console users have MFA", MFAOfOne: "of 1 console user has MFA", MFANoConsole: "no console users",
	WithMFA: "with MFA", WithoutMFA: "without MFA",
	KeyAgesTitle: "Active access keys by age", KeyAgesUnknown: "Access key data is incomplete (%s): the counts are of the keys that could be read.",
	Age0To90: "0–90 days", Age91To180: "91–180 days", Age181To365: "181–365 days", AgeOver365: "over 365 days",
	KeysTotal: "%d active keys", SeverityChart: "Open findings by severity", RiskChart: "Risk by account",
	RiskChartMore: "The %d accounts with the highest risk of %d; every account has a card below.",
	UnknownNote:   "Incomplete data: %s.", Unevaluated: "Checks that could not look at everything: %s.",
	MFAKnown:       "As far as known, in the %d accounts audited: %d of %d console users have MFA.",
	NotAuditedNone: "Every ACTIVE account was audited.", Account: "Account", AccountID: "Account id", Status: "Status", Reason: "Why", State: "State",
	StatusAudited: "audited", StatusPartial: "audited, with gaps", StatusNotAudited: "not audited", StatusSkipped: "skipped (not ACTIVE)",
	StatusNotReached: "not reached (the run was interrupted first)",
	FindingsCounts:   "%d open findings (%d new), %d suppressed, %d resolved since the previous run.",
	FilterSeverity:   "Severity", FilterAccount: "Account", FilterCheck: "Check", FilterState: "State", FilterSearch: "Search", All: "all",
	Shown:    "{n} of {total} findings shown",
	NoScript: "Scripts are off: the table lists every finding, most severe first; filtering and sorting need scripts.",
	Severity: "Severity", Subject: "Subject", Check: "Check", Finding: "Finding", EvidenceFix: "evidence and fix",
	Commands: "AWS CLI", SuppressedBecause: "suppressed: %s", Expires: "expires %s",
	More:     "… and %d more findings, less severe: every finding is in %s.",
	StateNew: "new", StateOpen: "open", StateSuppressed: "suppressed", StateResolved: "resolved",
	Users: "IAM users", ConsoleUsers: "console users", ActiveKeys: "active keys", KeysOverRotation: "keys older than %d days",
	Events: "CloudTrail events", AuditedAs: "audited as", OU: "OU", NoUsers: "No IAM users.",
	UsersCapped:           "Detail is shown for %d of the %d users of this account (those with the most severe findings); every user is in %s.",
	UsersElsewhere:        "This run wrote the %d users of this account to %s and %s as the account finished; their detail is there, not on this page.",
	EventsElsewhere:       "This run wrote its %d events to %s as each account finished; they are there, not on this page.",
	FindingsCountsSummary: "%d open findings, %d suppressed; which are new and which were resolved since the previous run is in %s.",
	UserFindings:          "%d findings", UserNoFindings: "no findings", ARN: "ARN", Created: "Created", Console: "Console password",
	LastSignIn: "Last console sign-in", MFA: "MFA", Groups: "Groups", Policies: "Attached policies", Tags: "Tags (owner)",
	Keys: "Access keys", KeyID: "Key", KeyStatus: "Status", KeyAge: "Age", LastUsed: "Last used", Service: "Service", Region: "Region",
	NoKeys: "no access keys", UserEvents: "CloudTrail events naming this user", NoEvents: "none in the window",
	Yes: "yes", No: "no", Never: "never", NeverUsed: "never used", NotApplicable: "not applicable (no console password)", None: "none",
	MFAOnTypeUnknown: "on (device type unknown)", IDUnknown: "id unknown", DaysN: "%d days",
	EventTime: "Time (UTC)", EventName: "Event", EventBy: "By", EventSource: "Source", EventResources: "Resources", EventError: "Error",
	EventsCapped:  "The %d most recent of %d events; every event is in %s.",
	EventsNone:    "No events in the window.",
	EventsUnknown: "CloudTrail events could not be read in %d accounts (see the gaps): the timeline shows the others.",
	TimelineChart: "IAM events per day",
	GapSection:    "Section", GapSubject: "Subject", GapOperation: "Operation", GapError: "Error", GapMessage: "Message",
	GapsNone: "Nothing is missing.", GapsCapped: "The first %d of %d gaps; every gap is in %s.",
	RootMFA: "root MFA", RootKeys: "root access keys",
	Organizationwide: "Organization", Footer: "Written by %s %s. This page needs no network: everything it shows is in this one file.",
}

var htmlES = htmlWords{
	Title: "Informe de auditoría de IAM", RunLabel: "Ejecución", Organization: "Organización", Partition: "partición",
	Started: "inicio", Finished: "fin", Tool: "herramienta", Window: "ventana de CloudTrail",
	Files:    "Archivos de esta ejecución, junto a esta página:",
	Contents: "Contenido", Summary: "Resumen de la organización", NotAuditedTitle: "Cuentas no auditadas",
	FindingsTitle: "Hallazgos", AccountsTitle: "Cuentas", TimelineTitle: "Cronología de CloudTrail", GapsTitle: "Datos que no se pudieron recopilar",
	RiskScore: "Puntuación de riesgo", AtLeast: "al menos %d/100: datos incompletos",
	SeedRiskTitle: "Puntuación de riesgo del panel original", FormulaNote: "Fórmula %s: todos los hallazgos abiertos por severidad (docs/checks.md); la del panel original: %s.",
	MaturityTitle: "Madurez de seguridad", MFATitle: "Cobertura de MFA", FindingsTile: "Hallazgos abiertos",
	MFAOf: "de %d usuarios de consola tienen MFA", MFAOfOne: "de 1 usuario de consola tiene MFA", MFANoConsole: "sin usuarios de consola",
	WithMFA: "con MFA", WithoutMFA: "sin MFA",
	KeyAgesTitle: "Access keys activas por antigüedad", KeyAgesUnknown: "Datos de access keys incompletos (%s): se cuentan las claves que se pudieron leer.",
	Age0To90: "0–90 días", Age91To180: "91–180 días", Age181To365: "181–365 días", AgeOver365: "más de 365 días",
	KeysTotal: "%d access keys activas", SeverityChart: "Hallazgos abiertos por severidad", RiskChart: "Riesgo por cuenta",
	RiskChartMore: "Las %d cuentas de mayor riesgo de %d; cada cuenta tiene su ficha abajo.",
	UnknownNote:   "Datos incompletos: %s.", Unevaluated: "Comprobaciones que no pudieron verlo todo: %s.",
	MFAKnown:       "Hasta donde se sabe, en las %d cuentas auditadas: %d de %d usuarios de consola tienen MFA.",
	NotAuditedNone: "Todas las cuentas ACTIVE fueron auditadas.", Account: "Cuenta", AccountID: "Id de cuenta", Status: "Estado", Reason: "Motivo", State: "Estado",
	StatusAudited: "auditada", StatusPartial: "auditada, con vacíos", StatusNotAudited: "no auditada", StatusSkipped: "omitida (no ACTIVE)",
	StatusNotReached: "no alcanzada (la ejecución se interrumpió antes)",
	FindingsCounts:   "%d hallazgos abiertos (%d nuevos), %d suprimidos, %d resueltos desde la ejecución anterior.",
	FilterSeverity:   "Severidad", FilterAccount: "Cuenta", FilterCheck: "Comprobación", FilterState: "Estado", FilterSearch: "Buscar", All: "todos",
	Shown:    "{n} de {total} hallazgos mostrados",
	NoScript: "Los scripts están desactivados: la tabla lista todos los hallazgos, los más graves primero; filtrar y ordenar necesita scripts.",
	Severity: "Severidad", Subject: "Sujeto", Check: "Comprobación", Finding: "Hallazgo", EvidenceFix: "evidencia y corrección",
	Commands: "AWS CLI", SuppressedBecause: "suprimido: %s", Expires: "caduca el %s",
	More:     "… y %d hallazgos más, menos graves: todos están en %s.",
	StateNew: "nuevo", StateOpen: "abierto", StateSuppressed: "suprimido", StateResolved: "resuelto",
	Users: "usuarios IAM", ConsoleUsers: "usuarios de consola", ActiveKeys: "access keys activas", KeysOverRotation: "claves con más de %d días",
	Events: "eventos de CloudTrail", AuditedAs: "auditada como", OU: "OU", NoUsers: "Sin usuarios IAM.",
	UsersCapped:           "Se muestra el detalle de %d de los %d usuarios de esta cuenta (los de hallazgos más graves); todos están en %s.",
	UsersElsewhere:        "Esta ejecución escribió los %d usuarios de esta cuenta en %s y %s al terminar la cuenta; su detalle está allí, no en esta página.",
	EventsElsewhere:       "Esta ejecución escribió sus %d eventos en %s al terminar cada cuenta; están allí, no en esta página.",
	FindingsCountsSummary: "%d hallazgos abiertos, %d suprimidos; cuáles son nuevos y cuáles se resolvieron desde la ejecución anterior está en %s.",
	UserFindings:          "%d hallazgos", UserNoFindings: "sin hallazgos", ARN: "ARN", Created: "Creado", Console: "Contraseña de consola",
	LastSignIn: "Último inicio de sesión", MFA: "MFA", Groups: "Grupos", Policies: "Políticas adjuntas", Tags: "Etiquetas (responsable)",
	Keys: "Access keys", KeyID: "Clave", KeyStatus: "Estado", KeyAge: "Antigüedad", LastUsed: "Último uso", Service: "Servicio", Region: "Región",
	NoKeys: "sin access keys", UserEvents: "Eventos de CloudTrail que nombran a este usuario", NoEvents: "ninguno en la ventana",
	Yes: "sí", No: "no", Never: "nunca", NeverUsed: "nunca utilizada", NotApplicable: "no aplica (sin contraseña de consola)", None: "ninguno",
	MFAOnTypeUnknown: "activado (tipo de dispositivo desconocido)", IDUnknown: "id desconocido", DaysN: "%d días",
	EventTime: "Hora (UTC)", EventName: "Evento", EventBy: "Por", EventSource: "Origen", EventResources: "Recursos", EventError: "Error",
	EventsCapped:  "Los %d eventos más recientes de %d; todos están en %s.",
	EventsNone:    "Sin eventos en la ventana.",
	EventsUnknown: "No se pudieron leer los eventos de CloudTrail de %d cuentas (vea los vacíos): la cronología muestra las demás.",
	TimelineChart: "Eventos de IAM por día",
	GapSection:    "Sección", GapSubject: "Sujeto", GapOperation: "Operación", GapError: "Error", GapMessage: "Mensaje",
	GapsNone: "No falta nada.", GapsCapped: "Los primeros %d de %d vacíos; todos están en %s.",
	RootMFA: "MFA de root", RootKeys: "access keys de root",
	Organizationwide: "Organización", Footer: "Escrito por %s %s. Esta página no necesita red: todo lo que muestra está en este único archivo.",
}
