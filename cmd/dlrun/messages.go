package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// count writes n with noun, in the plural unless n is 1: "1 epoch",
// "3 epochs".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// listSome lists the first max of names, separated by commas, and says
// how many more there are: "a.png, b.png and 3 more".
func listSome(names []string, max int) string {
	if len(names) <= max {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:max], ", "), len(names)-max)
}

// oneLine joins the lines of msg with "; ", so that every error is one
// line.
func oneLine(msg string) string {
	return strings.Join(strings.FieldsFunc(msg, func(r rune) bool { return r == '\n' || r == '\r' }), "; ")
}

// atFlag names the flag at fault in err ("--run: run folder x: ..."),
// unless err already starts with a flag's name ("--data: ..."): the
// message's first word is the one thing it blames. A flag named later in
// the message (a hint such as "pass --data") does not count, nor does a
// "--" inside a path.
func atFlag(flag string, err error) error {
	if err == nil || strings.HasPrefix(err.Error(), "--") {
		return err
	}
	return fmt.Errorf("--%s: %w", flag, err)
}

// noArgs refuses arguments to a command that takes flags only, naming the
// first one (cobra says "unknown command", which misleads for a value
// given without its flag).
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("%q: '%s' takes flags only, no arguments (see '%s --help')", args[0], cmd.CommandPath(), cmd.CommandPath())
	}
	return nil
}

// needArgs returns an argument check that wants at least one argument,
// described by what ("image FILE").
func needArgs(what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 {
			return errors.New("name at least one " + what + " (see '" + cmd.CommandPath() + " --help')")
		}
		return nil
	}
}
