package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

// placeholder until the analyze command lands (issue 4).
func newAnalyzeCmd(version string, streams IO) *cobra.Command {
	return &cobra.Command{Use: "analyze", Short: "Run the checks offline on credential reports or a JSON inventory",
		RunE: func(*cobra.Command, []string) error { return errors.New("not built yet") }}
}
