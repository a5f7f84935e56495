package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/iamaudit/iamaudit/internal/audit"
)

// Exit codes. The one place that maps outcomes to process exit codes.
const (
	ExitOK = 0 // the audit completed; no finding at or above --fail-on
	// ExitError: the run could not be done at all (no credentials, Organizations
	// unreachable, output not writable, the store not reachable: nothing written), or
	// the audit ran and wrote its files but the store could not record it (locked past
	// its busy timeout, gone away; nothing of the run half-stored): the message says to
	// record it with `iamaudit import` on its run JSON. The latter takes precedence
	// over ExitIncomplete, ExitFindings and ExitUndelivered; ExitOutputs over it.
	ExitError      = 1
	ExitUsage      = 2 // bad flags, arguments or input files
	ExitIncomplete = 3 // outputs written, but some account or section could not be audited (see the summary)
	ExitFindings   = 4 // an unsuppressed finding at or above --fail-on exists (takes precedence over ExitIncomplete)
	// ExitOutputs: the audit ran and its findings summary was printed, but some output
	// files could not be written (a full disk, a file system gone read-only): each is
	// named. Takes precedence over ExitFindings and ExitIncomplete: the files a pipeline
	// expects are missing.
	ExitOutputs = 5
	// ExitUndelivered: the outputs are written, but a destination (--securityhub,
	// --s3, --sns) did not receive everything (each failure is listed). It takes
	// precedence over ExitIncomplete; ExitOutputs and ExitFindings take precedence over it.
	ExitUndelivered = 6
)

// UsageError marks errors caused by the user's input; they exit with ExitUsage.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// usageErrorf builds a UsageError.
func usageErrorf(format string, args ...any) error {
	return &UsageError{Err: fmt.Errorf(format, args...)}
}

// ExitCodeError carries a non-zero exit code for a run that otherwise succeeded
// (outputs written): incomplete audit, findings over the threshold.
type ExitCodeError struct {
	Code int
	Msg  string
}

func (e *ExitCodeError) Error() string { return e.Msg }

// exitCode maps an error returned by a command to the process exit code.
func exitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var ue *UsageError
	if errors.As(err, &ue) {
		return ExitUsage
	}
	var ec *ExitCodeError
	if errors.As(err, &ec) {
		return ec.Code
	}
	var oe *audit.OutputsError
	if errors.As(err, &oe) {
		return ExitOutputs
	}
	return ExitError
}

// noArgs rejects positional arguments as a usage error (exit 2).
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageErrorf("unexpected argument %q: %s takes only flags (see --help)", args[0], cmd.CommandPath())
	}
	return nil
}
