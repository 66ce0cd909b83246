package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/odmn/odmn/cache"
	"github.com/odmn/odmn/data"
)

// DefaultCacheURL is --cache's default: the ODMN_CACHE environment
// variable, else a local Redis.
func defaultCacheURL() string {
	if u := os.Getenv("ODMN_CACHE"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379"
}

const cacheURLHelp = `Redis URL: redis://[user:pass@]host:port[/db], rediss:// for TLS (ca=FILE to trust a CA), addr=HOST:PORT seeds or cluster=true for Redis Cluster (detected otherwise); default $ODMN_CACHE or redis://127.0.0.1:6379`

type cacheFlags struct {
	url, name string
	json      bool
}

func (f *cacheFlags) add(cmd *cobra.Command, withName bool) {
	cmd.Flags().StringVar(&f.url, "cache", defaultCacheURL(), cacheURLHelp)
	if withName {
		cmd.Flags().StringVar(&f.name, "name", "", "cache name (one per model)")
	}
	cmd.Flags().BoolVar(&f.json, "json", false, "print JSON")
}

func (f *cacheFlags) open(ctx context.Context) (*cache.Cache, error) {
	if err := cache.CheckName("--name", f.name); err != nil && f.name != "-" {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return cache.Open(ctx, f.url)
}

func printJSON(w io.Writer, v any) error {
	e := json.NewEncoder(w)
	e.SetIndent("", "  ")
	return e.Encode(v)
}

func newCacheCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cache",
		Short: "Load daily scores into Redis, switch versions, look users up",
		Long: `cache keeps a model's scores in Redis for online lookup (odmn serve), one
version per model and day. A pointer names the version served; switch flips
it atomically and refuses a version whose written row count differs from the
expected one. Users live in small hash buckets with a compact binary encoding
(see docs/deployment.md for the layout and its memory per user).`,
	}
	cmd.AddCommand(newCacheLoadCmd(), newCacheGetCmd(), newCacheSwitchCmd(), newCacheVersionsCmd(), newCacheGCCmd())
	return cmd
}

func newCacheLoadCmd() *cobra.Command {
	var f cacheFlags
	var o cache.LoadOptions
	var scores []string
	var doSwitch, quiet bool
	cmd := &cobra.Command{
		Use:   "load --name N --version V --scores GLOB [--switch]",
		Short: "Load score files (odmn score's columns) into a new version",
		Long: `load reads score files (CSV or Parquet with an id column first, then
ltv_<h> and ltv_ev_<h> per horizon, as odmn score and odmn pipeline score
write them) and writes them to version V of cache N, pipelined. The expected
row count is the files' row count; the version is complete when as many
distinct users were written. A version left half loaded (a killed run) is
loaded again from scratch; a complete one is left alone (exit 0). --switch
points N at V when the load completes.`,
		Example: `  odmn cache load --name ltv --version 2024-06-01 --scores 'out/scores-*.parquet' --switch`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			o.Name = f.name
			c, err := f.open(ctx)
			if err != nil {
				return err
			}
			defer c.Close()
			files, err := data.ExpandGlobs(scores)
			if err != nil {
				return err
			}
			if !quiet && !f.json {
				o.Progress = cmd.ErrOrStderr()
			}
			st, err := cache.LoadFiles(ctx, c, files, o)
			if errors.Is(err, cache.ErrComplete) {
				fmt.Fprintf(cmd.ErrOrStderr(), "%s version %s is already complete: nothing to load\n", o.Name, o.Version)
				err = nil
				st = nil
			}
			if err != nil {
				return err
			}
			var prev string
			if doSwitch {
				if prev, err = c.Switch(ctx, o.Name, o.Version); err != nil {
					return err
				}
			}
			if st == nil {
				return nil
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), map[string]any{"load": st, "bytes_per_user": st.BytesPerUser(), "switched": doSwitch, "previous": prev})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "loaded %d users (%d files, horizons %v) into %s version %s in %s\n",
				st.Rows, st.Files, st.Horizons, o.Name, o.Version, st.Elapsed.Round(time.Millisecond))
			if o.MeasureMemory {
				fmt.Fprintf(cmd.OutOrStdout(), "memory: %.1f bytes per user (INFO used_memory %d -> %d)\n", st.BytesPerUser(), st.MemoryBefore, st.MemoryAfter)
			}
			if doSwitch {
				fmt.Fprintf(cmd.OutOrStdout(), "switched %s: %q -> %q\n", o.Name, prev, o.Version)
			}
			return nil
		},
	}
	f.add(cmd, true)
	cmd.Flags().StringVar(&o.Version, "version", "", "version to write (e.g. the day, 2024-06-01)")
	cmd.Flags().StringSliceVar(&scores, "scores", nil, "score files or globs (repeatable)")
	cmd.Flags().StringVar(&o.IDColumn, "id", "", "user id column (default: the first column)")
	cmd.Flags().StringVar(&o.Source, "source", "", "free text recorded with the version (model, data)")
	cmd.Flags().BoolVar(&doSwitch, "switch", false, "switch to the version once complete")
	cmd.Flags().BoolVar(&o.MeasureMemory, "measure-memory", false, "report Redis used_memory before and after, per user")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "no progress bar")
	return cmd
}

func newCacheGetCmd() *cobra.Command {
	var f cacheFlags
	var ver string
	cmd := &cobra.Command{
		Use:   "get --name N [--version V] USER...",
		Short: "Look users up (in the current version unless --version)",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, users []string) error {
			ctx := cmd.Context()
			c, err := f.open(ctx)
			if err != nil {
				return err
			}
			defer c.Close()
			var v *cache.Version
			if ver == "" {
				v, err = c.Current(ctx, f.name)
			} else {
				v, err = c.Version(ctx, f.name, ver)
			}
			if err != nil {
				return err
			}
			sc, found, err := c.Get(ctx, v, users)
			if err != nil {
				return err
			}
			missing := 0
			for i, u := range users {
				if !found[i] {
					missing++
				}
				rec := map[string]any{"user": u, "name": v.Name, "version": v.Version, "found": found[i]}
				if found[i] {
					rec["horizons"], rec["ltv"], rec["ltv_ev"] = v.Horizons, sc[i].LTV, sc[i].LTVEV
				}
				b, _ := json.Marshal(rec)
				fmt.Fprintln(cmd.OutOrStdout(), string(b))
			}
			if missing > 0 {
				return fmt.Errorf("%d of %d users not found in %s version %s", missing, len(users), v.Name, v.Version)
			}
			return nil
		},
	}
	f.add(cmd, true)
	cmd.Flags().StringVar(&ver, "version", "", "version to read (default: the current one)")
	return cmd
}

func newCacheSwitchCmd() *cobra.Command {
	var f cacheFlags
	var ver string
	cmd := &cobra.Command{
		Use:   "switch --name N --version V",
		Short: "Point N at version V, atomically; refuses an incomplete version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := f.open(cmd.Context())
			if err != nil {
				return err
			}
			defer c.Close()
			prev, err := c.Switch(cmd.Context(), f.name, ver)
			if err != nil {
				return err
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), map[string]string{"name": f.name, "version": ver, "previous": prev})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "switched %s: %q -> %q\n", f.name, prev, ver)
			return nil
		},
	}
	f.add(cmd, true)
	cmd.Flags().StringVar(&ver, "version", "", "version to serve")
	return cmd
}

func newCacheVersionsCmd() *cobra.Command {
	var f cacheFlags
	cmd := &cobra.Command{
		Use:   "versions --name N",
		Short: "List the versions of N (state, rows written/expected, current)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := f.open(cmd.Context())
			if err != nil {
				return err
			}
			defer c.Close()
			vs, err := c.Versions(cmd.Context(), f.name)
			if err != nil {
				return err
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), vs)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "version\tstate\twritten\texpected\tcreated\tcurrent")
			for _, v := range vs {
				cur := ""
				if v.Current {
					cur = "*"
				}
				fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%s\n", v.Version, v.State, v.Written, v.Expected, v.Created.UTC().Format(time.RFC3339), cur)
			}
			return tw.Flush()
		},
	}
	f.add(cmd, true)
	return cmd
}

func newCacheGCCmd() *cobra.Command {
	var f cacheFlags
	var o cache.GCOptions
	cmd := &cobra.Command{
		Use:   "gc --name N [--keep 2]",
		Short: "Drop old versions (keeping the newest --keep complete ones) and incomplete ones",
		Long: `gc drops the versions of N beyond the newest --keep complete ones (the current
version always stays and counts) and every incomplete version not written to
within --grace (so that a load in progress survives).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := f.open(cmd.Context())
			if err != nil {
				return err
			}
			defer c.Close()
			dropped, err := c.GC(cmd.Context(), f.name, o)
			if f.json {
				if e := printJSON(cmd.OutOrStdout(), map[string]any{"name": f.name, "dropped": dropped}); e != nil && err == nil {
					err = e
				}
			} else {
				for _, v := range dropped {
					fmt.Fprintf(cmd.OutOrStdout(), "dropped %s version %s\n", f.name, v)
				}
			}
			return err
		},
	}
	f.add(cmd, true)
	cmd.Flags().IntVar(&o.Keep, "keep", 2, "complete versions to keep, the current one included")
	cmd.Flags().DurationVar(&o.Grace, "grace", 10*time.Minute, "spare incomplete versions written to within this")
	return cmd
}
