package cli

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/importer"
	"github.com/iamaudit/iamaudit/internal/outcome"
	"github.com/iamaudit/iamaudit/internal/report"
	"github.com/iamaudit/iamaudit/internal/store"
)

// ImportOptions are the flags and arguments of `iamaudit import`.
type ImportOptions struct {
	factory      *Factory
	DB           string
	Paths        []string
	Config       string
	Preset       string
	Suppressions string
	// CloudTrailSince is the start date of the original script's CloudTrail lookups.
	CloudTrailSince string
	DryRun          bool
}

// AddFlags registers the options' flags.
func (o *ImportOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.DB, "db", "", "store of runs: a SQLite file or postgres://… (default $"+store.EnvDB+", else ~/.local/state/iamaudit/iamaudit.db); created if missing")
	fs.StringVar(&o.Config, "config", "", "check configuration YAML the imported runs are judged with (see configs/iamaudit.yaml)")
	fs.StringVar(&o.Preset, "preset", "", `threshold preset when no --config: "default" or "cis"`)
	fs.StringVar(&o.Suppressions, "suppressions", "", "suppression rules YAML")
	fs.StringVar(&o.CloudTrailSince, "cloudtrail-since", "", "the start date (YYYY-MM-DD) the original script looked up CloudTrail events from: the seed events files' window (at most the 90 days before each run); without it their event counts are lower bounds")
	fs.BoolVar(&o.DryRun, "dry-run", false, "read the files and say what would be imported; store nothing")
}

func newImportCmd(f *Factory, runF func(context.Context, *ImportOptions) error) *cobra.Command {
	if runF == nil {
		runF = runImport
	}
	opts := &ImportOptions{factory: f}
	cmd := &cobra.Command{
		Use:   "import PATH...",
		Short: "Load earlier outputs into the store: run JSON files and the seed script's CSVs",
		Long: `Load earlier outputs into the store (--db), so that the trend starts with them: iamaudit
run JSON files (iamaudit_YYYYMMDD_HHMMSS.json) and the original script's reports,
iam_audit_report_YYYYMMDD_HHMMSS.csv with its cloudtrail_events_YYYYMMDD_HHMMSS.csv
(English or Spanish words; the run's time is the one in the file name). A PATH may be a
directory: its files of those names are read.

Each run is judged again with this iamaudit's checks (--config, --preset,
--suppressions) at the run's own time, oldest first, so that finding states and the
trend compare like with like. What a seed report cannot tell (groups, policies, tags,
roles, the root user, when users were created, each MFA device; from the original
script, users without access keys and the MFA types) is stored as unknown, never as
"none". A run the store already holds is not imported again.`,
		Example: `  iamaudit import reports/
  iamaudit import iam_audit_report_2026*.csv --cloudtrail-since 2025-01-01
  iamaudit import old-output/iamaudit_20260105_090000.json --db postgres://iamaudit@db.example/iamaudit`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageErrorf("import needs at least one file or directory: iamaudit run JSON files, iam_audit_report_*.csv, cloudtrail_events_*.csv")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Paths = args
			if _, err := opts.since(); err != nil {
				return err
			}
			return runF(cmd.Context(), opts)
		},
	}
	opts.AddFlags(cmd.Flags())
	return cmd
}

func (o *ImportOptions) since() (time.Time, error) {
	if o.CloudTrailSince == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse("2006-01-02", o.CloudTrailSince)
	if err != nil {
		return time.Time{}, usageErrorf("--cloudtrail-since %q: give a date, YYYY-MM-DD", o.CloudTrailSince)
	}
	return t, nil
}

func runImport(ctx context.Context, o *ImportOptions) error {
	streams := o.factory.IO
	since, err := o.since()
	if err != nil {
		return err
	}
	j, err := loadJudgement(o.Config, o.Preset, o.Suppressions, "")
	if err != nil {
		return err
	}
	runs, notes, err := importer.Collect(o.Paths, importer.SeedOptions{Version: o.factory.Version, CloudTrailSince: since})
	if err != nil {
		return &UsageError{Err: err}
	}
	for _, n := range notes {
		fmt.Fprintf(streams.Err, "iamaudit: %s\n", n)
	}
	if len(runs) == 0 {
		return usageErrorf("nothing to import in %s", strings.Join(o.Paths, ", "))
	}
	// A dry run creates no store; without one, nothing is there yet.
	s, err := openStore(ctx, o.DB, o.DryRun)
	switch {
	case o.DryRun && errors.Is(err, store.ErrNoStore):
		s = nil
	case err != nil:
		return err
	default:
		defer s.Close()
		s.Warn = func(w string) { fmt.Fprintf(streams.Err, "iamaudit: %s\n", w) }
	}
	settings := outcome.Settings{Checks: j.Checks, Suppressions: j.Suppressions}
	imported, already, windowUnknown := 0, 0, false
	for _, r := range runs {
		names := make([]string, len(r.Files))
		for i, f := range r.Files {
			names[i] = filepath.Base(f)
		}
		from := strings.Join(names, ", ")
		var base *outcome.Baseline
		inv := r.Inventory
		if s != nil {
			if sum, err := s.RunSummaryOf(ctx, r.RunID); err == nil {
				already++
				fmt.Fprintf(streams.Out, "%s: already in the store (recorded by %s, finished %s), not imported again (%s)\n",
					r.RunID, sum.Source, sum.FinishedAt.UTC().Format("2006-01-02 15:04"), from)
				continue
			} else if !errors.Is(err, store.ErrNotFound) {
				return err
			}
			if base, err = s.Baseline(ctx, inv, nil); err != nil {
				return err
			}
		}
		now := inv.FinishedAt
		if now.IsZero() {
			now = inv.StartedAt
		}
		res := outcome.Evaluate(outcome.CommandRun, inv, now, settings, base)
		for _, f := range r.Files {
			if abs, err := filepath.Abs(f); err == nil {
				f = abs
			}
			res.Files = append(res.Files, f)
		}
		if r.Kind == importer.SeedReport && len(inv.EventNames) > 0 && inv.EventWindowStart.IsZero() {
			windowUnknown = true
		}
		verb := "imported"
		if o.DryRun {
			verb = "would import"
		} else if _, err := s.Write(ctx, res, store.WriteOptions{Source: store.SourceImport}); err != nil {
			return err
		}
		imported++
		states := map[string]int{}
		for _, f := range res.Findings {
			states[f.State]++
		}
		org := res.Scores.Organization
		fmt.Fprintf(streams.Out, "%s: %s from %s: %d accounts, %d users, %d access keys, %d events, %d findings (%d new, %d open), %d resolved\n",
			r.RunID, verb, from, len(inv.Accounts), org.Users, report.KeyCount(inv), report.EventCount(inv),
			len(res.Findings), states[checks.StateNew], states[checks.StateOpen], len(res.Resolved))
	}
	verb := "Imported"
	if o.DryRun {
		verb = "Would import"
	}
	where := "the store"
	if s != nil {
		where = "the " + s.Name()
	}
	fmt.Fprintf(streams.Out, "%s %d runs into %s; %d already there.\n", verb, imported, where, already)
	if windowUnknown {
		fmt.Fprintln(streams.Err, "iamaudit: the seed events files' CloudTrail window is unknown (the original script started it at a date written in it): their event counts are lower bounds in the trend; give --cloudtrail-since DATE to import them with a known window.")
	}
	if imported > 0 && !o.DryRun {
		fmt.Fprintf(streams.Err, "See them with: iamaudit trend --db %s\n", shellWord(redactTarget(o.DB, s)))
	}
	return nil
}

// redactTarget is the --db to show again: as given (without a password), or the
// store's own path.
func redactTarget(db string, s *store.Store) string {
	if db != "" {
		return store.Redact(db)
	}
	return strings.TrimPrefix(s.Name(), "store ")
}

// shellWord quotes s for a POSIX shell when it holds anything but safe characters.
func shellWord(s string) string {
	safe := s != ""
	for _, r := range s {
		safe = safe && (r == '/' || r == '.' || r == '-' || r == '_' || r == ':' || r == '@' || r == '+' || r == '=' || r == ',' ||
			(r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z'))
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
