package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sdbuild/sdbuild/api"
	"github.com/sdbuild/sdbuild/sandbox"
	"github.com/sdbuild/sdbuild/scope"
)

// features are run --feature's values, with what each gives, for
// completion; build.Check refuses anything else.
var features = []struct {
	name sandbox.Feature
	what string
}{
	{sandbox.FeatureUIDRange, "root over all 65536 ids of the slot"},
	{sandbox.FeatureSystemdCgroup, "a delegated cgroup of its own (with uid-range)"},
	{sandbox.FeatureNetwork, "a route out through slirp4netns"},
	{sandbox.FeatureKVM, "its own /dev/kvm"},
	{sandbox.FeatureTUN, "its own /dev/net/tun"},
}

func registerRunCompletions(cmd *cobra.Command) {
	cmd.RegisterFlagCompletionFunc("feature", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		var out []string
		for _, f := range features {
			out = append(out, string(f.name)+"\t"+f.what)
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	})
	cmd.RegisterFlagCompletionFunc("property", completeProperties)
	cmd.RegisterFlagCompletionFunc("output", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return nil, cobra.ShellCompDirectiveFilterDirs
	})
}

// completeProperties offers "NAME=" for -p, and no space after it.
func completeProperties(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	if strings.Contains(toComplete, "=") {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []string
	for _, n := range scope.PropertyNames() {
		if strings.HasPrefix(n, toComplete) {
			out = append(out, n+"=")
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
}

func completeStatuses(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	out := make([]string, len(api.Statuses))
	for i, s := range api.Statuses {
		out[i] = string(s)
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// completeBuildIDs completes the ids of the newest builds the caller may
// see (in one of statuses, if given), each with its name, status and
// command; ids already given are left out. enter completes only one.
func completeBuildIDs(statuses ...api.Status) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		if cmd.Name() == "enter" && len(args) > 0 {
			return nil, cobra.ShellCompDirectiveDefault
		}
		c, err := client(cmd)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveError
		}
		c.OnVersion = nil // a completion prints nothing but candidates
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		bs, err := c.List(ctx, api.ListOptions{Status: statuses, Limit: 200})
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveError
		}
		return buildCandidates(bs, args, toComplete), cobra.ShellCompDirectiveNoFileComp
	}
}

func buildCandidates(bs []api.Build, given []string, prefix string) []string {
	var out []string
	for _, b := range bs {
		if !strings.HasPrefix(b.ID, prefix) || slices.Contains(given, b.ID) {
			continue
		}
		what := fmt.Sprintf("%s: %s", b.Status, strings.Join(b.Args, " "))
		if b.Name != "" {
			what = b.Name + ", " + what
		}
		out = append(out, b.ID+"\t"+what)
	}
	return out
}
