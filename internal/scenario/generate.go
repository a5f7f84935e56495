package scenario

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"
)

// Word lists of the generator.
var (
	genFirst = []string{"john", "maria", "wei", "aisha", "carlos", "emma", "li", "olga", "james", "sofia",
		"ahmed", "lucia", "noah", "priya", "david", "elena", "kenji", "fatima", "lucas", "anna",
		"omar", "chloe", "mateo", "yuki", "ivan", "sara", "diego", "nina", "pablo", "grace"}
	genLast = []string{"doe", "garcia", "chen", "khan", "lopez", "smith", "wang", "petrova", "brown", "rossi",
		"hassan", "fernandez", "martin", "patel", "miller", "popescu", "tanaka", "ali", "silva", "novak",
		"haddad", "dubois", "torres", "sato", "ivanov", "berg", "ramos", "kowalski", "ruiz", "kim"}
	genServiceUsers = []string{"ci-deploy", "legacy-etl", "backup-agent", "terraform", "monitoring", "jenkins",
		"data-sync", "log-shipper", "reporting", "batch-runner", "github-actions", "s3-uploader"}
	genTeams    = []string{"payments", "platform", "data", "identity", "search", "mobile", "billing", "analytics", "core", "growth"}
	genEnvs     = []string{"prod", "staging", "dev", "sandbox", "shared"}
	genServices = []string{"s3", "s3", "s3", "ec2", "sts", "sts", "lambda", "dynamodb", "iam", "cloudwatch", "sqs", "kms", "secretsmanager", "ecr"}
	genRegions  = map[string][]string{
		"aws":        {"us-east-1", "us-east-1", "us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-2", "sa-east-1"},
		"aws-us-gov": {"us-gov-west-1", "us-gov-west-1", "us-gov-east-1"},
		"aws-cn":     {"cn-north-1", "cn-north-1", "cn-northwest-1"},
	}
	genEvents = []string{"CreateAccessKey", "CreateAccessKey", "DeleteAccessKey", "DeleteAccessKey", "UpdateAccessKey",
		"CreateUser", "DeleteUser", "DeleteLoginProfile", "CreateLoginProfile", "EnableMFADevice", "DeactivateMFADevice",
		"PutUserPolicy", "DeleteUserPolicy", "ConsoleLogin"}
)

// Generate builds g.Accounts accounts of g.UsersPerAccount users each, reproducibly
// from g.Seed: the same generator always gives the same accounts. Account ids avoid
// the reserved ones. The mix: about 60% console users, 70% of them with MFA (mostly
// virtual, some hardware or FIDO); 0, 1 or 2 keys, some inactive, created from days
// to 8 years ago, some never used; Owner/Team tags on most users; a few roles per
// account (support, workloads, service-linked); a password policy on most accounts;
// g.EventsPerAccount CloudTrail events over the last 90 days; every
// g.MissingRoleEvery-th account without its audit roles. All dates are relative.
// The accounts are not normalised (Parse does that).
func Generate(g Generator, partition string, reserved []string) []Account {
	if g.Accounts <= 0 {
		return nil
	}
	if partition == "" {
		partition = defaultPartition
	}
	rng := rand.New(rand.NewPCG(uint64(g.Seed), uint64(g.Seed)^0x9e3779b97f4a7c15))
	taken := make(map[string]bool, len(reserved)+g.Accounts)
	for _, id := range reserved {
		taken[id] = true
	}
	accounts := make([]Account, g.Accounts)
	for i := range accounts {
		id := ""
		for id == "" || taken[id] {
			id = strconv.FormatInt(100_000_000_000+rng.Int64N(900_000_000_000), 10)
		}
		taken[id] = true
		gen := accountGen{rng: rng, partition: partition}
		accounts[i] = gen.account(i, id, g)
	}
	return accounts
}

type accountGen struct {
	rng       *rand.Rand
	partition string
}

func (ag accountGen) chance(p float64) bool { return ag.rng.Float64() < p }

func (ag accountGen) pick(list []string) string { return list[ag.rng.IntN(len(list))] }

// daysAgo is a relative date between lo and hi days ago, with a random time of day.
func (ag accountGen) daysAgo(lo, hi int) *Date {
	if hi < lo {
		hi = lo
	}
	d := time.Duration(lo+ag.rng.IntN(hi-lo+1))*Day + time.Duration(ag.rng.IntN(86400))*time.Second
	return Ago(d)
}

// span is a relative date between maxAgo and minAgo days ago, never before from.
func (ag accountGen) span(from *Date, minAgo, maxAgo int) *Date {
	lo := -time.Duration(maxAgo) * Day
	if from != nil && from.Rel > lo {
		lo = from.Rel
	}
	hi := -time.Duration(minAgo) * Day
	if hi < lo {
		hi = lo
	}
	secs := int64((hi - lo) / time.Second)
	return &Date{Rel: lo + time.Duration(ag.rng.Int64N(secs+1))*time.Second, IsRel: true}
}

// forever is a day count beyond any generated age.
const forever = 100 * 365

func (ag accountGen) account(i int, id string, g Generator) Account {
	a := Account{
		ID:   id,
		Name: fmt.Sprintf("%s-%s-%04d", ag.pick(genTeams), ag.pick(genEnvs), i+1),
	}
	if ag.chance(0.02) {
		a.State = StateSuspended
	}
	if g.MissingRoleEvery > 0 && (i+1)%g.MissingRoleEvery == 0 {
		a.AuditRoles = map[string]string{"IAMAuditRole": RoleMissing, "OrganizationAccountAccessRole": RoleMissing}
	}
	a.Root = ag.root(id)
	switch r := ag.rng.Float64(); {
	case r < 0.5:
		a.PasswordPolicy = &PasswordPolicy{MinimumPasswordLength: 14, RequireSymbols: true, RequireNumbers: true,
			RequireUppercaseCharacters: true, RequireLowercaseCharacters: true, AllowUsersToChangePassword: true,
			MaxPasswordAge: 90, PasswordReusePrevention: 24}
	case r < 0.75:
		a.PasswordPolicy = &PasswordPolicy{MinimumPasswordLength: 8, AllowUsersToChangePassword: true}
	}
	a.Groups = []Group{
		{Name: "Admins", AttachedPolicies: []string{"AdministratorAccess"}},
		{Name: "Developers", AttachedPolicies: []string{"PowerUserAccess"}},
		{Name: "ReadOnly", AttachedPolicies: []string{"ReadOnlyAccess"}},
	}
	names := nameSet{taken: make(map[string]bool, g.UsersPerAccount), last: map[string]int{}}
	a.Users = make([]User, g.UsersPerAccount)
	var console []string
	for j := range a.Users {
		a.Users[j] = ag.user(j, id, names)
		if a.Users[j].Password != nil {
			console = append(console, a.Users[j].Name)
		}
	}
	a.Roles = ag.roles()
	if g.EventsPerAccount > 0 {
		a.Events = ag.events(g.EventsPerAccount, a.Users, console)
	}
	return a
}

func (ag accountGen) root(acct string) Root {
	r := Root{CreatedAt: ag.daysAgo(1500, 3000)}
	switch x := ag.rng.Float64(); {
	case x < 0.5:
		r.MFA = MFAHardware
	case x < 0.85:
		r.MFA = MFAVirtual
	default:
		r.MFA = MFANone
	}
	switch x := ag.rng.Float64(); {
	case x < 0.15:
		r.PasswordLastUsed = ag.daysAgo(0, 29)
	case x < 0.7:
		r.PasswordLastUsed = ag.daysAgo(30, 900)
	}
	if ag.chance(0.05) {
		k := Key{ID: keyID(acct, "root", 0), CreatedAt: ag.span(r.CreatedAt, 400, 2000)}
		if ag.chance(0.5) {
			k.LastUsed = ag.span(k.CreatedAt, 0, 300)
			k.Service, k.Region = ag.pick(genServices), ag.pick(genRegions[ag.partition])
		}
		r.AccessKeys = []Key{k}
	}
	return r
}

// nameSet holds an account's user names, and per base name the last suffix given.
type nameSet struct {
	taken map[string]bool
	last  map[string]int
}

// uniqueName is base, else base2, base3, …: the first not taken. Names are only ever
// added, so the next free suffix of a base is past the last one given for it (the
// search starts there: linear, not quadratic, in the users sharing a base).
func (ag accountGen) uniqueName(base string, names nameSet) string {
	name := base
	n := max(names.last[base]+1, 2)
	for ; names.taken[name]; n++ {
		name = base + strconv.Itoa(n)
	}
	if name != base {
		names.last[base] = n - 1
	}
	names.taken[name] = true
	return name
}

func (ag accountGen) user(j int, acct string, names nameSet) User {
	isConsole := ag.chance(0.6)
	var u User
	if isConsole {
		first, last := ag.pick(genFirst), ag.pick(genLast)
		u.Name = ag.uniqueName(first+"."+last, names)
		u.Groups = []string{ag.pick([]string{"Developers", "Developers", "ReadOnly"})}
		if ag.chance(0.05) {
			u.Groups = append(u.Groups, "Admins")
		}
	} else {
		u.Name = ag.uniqueName(ag.pick(genServiceUsers), names)
		u.Path = "/service/"
	}
	u.CreatedAt = ag.daysAgo(3, 2920)
	if ag.chance(0.8) {
		u.Tags = map[string]string{"Owner": ag.pick(genFirst) + "." + ag.pick(genLast) + "@example.com", "Team": ag.pick(genTeams)}
	}
	if ag.chance(0.05) {
		u.AttachedPolicies = []string{"AdministratorAccess"}
	} else if !isConsole && ag.chance(0.3) {
		u.AttachedPolicies = []string{ag.pick([]string{"AmazonS3FullAccess", "AmazonEC2ReadOnlyAccess", "AmazonDynamoDBFullAccess"})}
	}
	if ag.chance(0.05) {
		u.InlinePolicies = map[string]string{"inline-" + ag.pick(genServices): fmt.Sprintf(
			`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"%s:*","Resource":"*"}]}`, ag.pick(genServices))}
	}
	nKeys := 0
	if isConsole {
		u.Password = &Password{CreatedAt: ag.span(u.CreatedAt, 0, forever)}
		switch x := ag.rng.Float64(); {
		case x < 0.8:
			u.Password.LastUsed = ag.span(u.Password.CreatedAt, 0, 120)
		case x < 0.9:
			u.Password.LastUsed = ag.span(u.Password.CreatedAt, 121, forever)
		}
		if ag.chance(0.7) {
			typ := MFAVirtual
			switch x := ag.rng.Float64(); {
			case x < 0.1:
				typ = MFAHardware
			case x < 0.2:
				typ = MFAFIDO
			}
			u.MFA = []MFADevice{{Type: typ, EnabledAt: ag.span(u.Password.CreatedAt, 0, forever)}}
		}
		switch x := ag.rng.Float64(); {
		case x < 0.5:
		case x < 0.9:
			nKeys = 1
		default:
			nKeys = 2
		}
	} else {
		switch x := ag.rng.Float64(); {
		case x < 0.1:
		case x < 0.8:
			nKeys = 1
		default:
			nKeys = 2
		}
	}
	for slot := range nKeys {
		k := Key{ID: keyID(acct, u.Name, slot), CreatedAt: ag.span(u.CreatedAt, 0, forever)}
		if ag.chance(0.15) {
			k.Status = KeyInactive
		}
		if !ag.chance(0.15) { // 15% never used
			// Skewed towards recent use: most keys in use were used in the last days.
			hi := forever
			if ag.chance(0.7) {
				hi = 7
			}
			k.LastUsed = ag.span(k.CreatedAt, 0, hi)
			k.Service, k.Region = ag.pick(genServices), ag.pick(genRegions[ag.partition])
		}
		u.AccessKeys = append(u.AccessKeys, k)
	}
	return u
}

func (ag accountGen) roles() []Role {
	roles := []Role{
		{Name: "AWSServiceRoleForSupport", Path: "/aws-service-role/support.amazonaws.com/",
			AttachedPolicies: []string{"aws-service-role/AWSSupportServiceRolePolicy"}, CreatedAt: ag.daysAgo(800, 2000)},
	}
	if ag.chance(0.7) {
		r := Role{Name: "support-access", AttachedPolicies: []string{"AWSSupportAccess"}, CreatedAt: ag.daysAgo(300, 1500)}
		if ag.chance(0.6) {
			r.LastUsed = ag.span(r.CreatedAt, 0, 60)
		} else if ag.chance(0.5) {
			r.LastUsed = ag.span(r.CreatedAt, 91, 300)
		}
		roles = append(roles, r)
	}
	for k := range 1 + ag.rng.IntN(3) {
		r := Role{Name: fmt.Sprintf("%s-%s-role-%d", ag.pick(genTeams), ag.pick([]string{"lambda", "ecs-task", "ec2", "glue"}), k+1),
			CreatedAt: ag.daysAgo(30, 1500)}
		r.TrustPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
		switch x := ag.rng.Float64(); {
		case x < 0.6:
			r.LastUsed = ag.span(r.CreatedAt, 0, 10)
			r.LastUsedRegion = ag.pick(genRegions[ag.partition])
		case x < 0.85:
			r.LastUsed = ag.span(r.CreatedAt, 91, forever)
			r.LastUsedRegion = ag.pick(genRegions[ag.partition])
		}
		if ag.chance(0.1) {
			r.AttachedPolicies = []string{"AWSCloudShellFullAccess"}
		} else {
			r.AttachedPolicies = []string{"AWSLambdaBasicExecutionRole"}
		}
		roles = append(roles, r)
	}
	return roles
}

func (ag accountGen) events(n int, users []User, console []string) []Event {
	events := make([]Event, n)
	actor := func() string {
		if len(console) > 0 && ag.chance(0.8) {
			return console[ag.rng.IntN(len(console))]
		}
		return defaultCallerName
	}
	for i := range events {
		e := Event{Time: ag.daysAgo(0, 89), Name: ag.pick(genEvents)}
		var target *User
		if len(users) > 0 {
			target = &users[ag.rng.IntN(len(users))]
		}
		switch {
		case e.Name == "ConsoleLogin":
			e.Username = "root"
		case target == nil || e.Name == "DeleteUser" || e.Name == "CreateUser":
			e.Username = actor()
			e.Resources = []string{fmt.Sprintf("%s.%s-former%d", ag.pick(genFirst), ag.pick(genLast), ag.rng.IntN(1000))}
		default:
			e.Username = actor()
			e.Resources = []string{target.Name}
			if len(target.AccessKeys) > 0 && (e.Name == "CreateAccessKey" || e.Name == "UpdateAccessKey" || e.Name == "DeleteAccessKey") {
				e.Resources = append(e.Resources, target.AccessKeys[ag.rng.IntN(len(target.AccessKeys))].ID)
			}
		}
		events[i] = e
	}
	slices.SortStableFunc(events, func(a, b Event) int { return cmp.Compare(a.Time.Rel, b.Time.Rel) })
	return events
}
