package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/odmn/odmn/compat"
	"github.com/odmn/odmn/export"
	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/internal/fsutil"
	"github.com/odmn/odmn/train"
)

// pythonONNX is the interpreter with Debian's python3-onnx (make deps).
const pythonONNX = "/usr/bin/python3"

type exportOptions struct {
	model, out string
	opts       train.InferOptions
	check      bool
}

func newExportCmd() *cobra.Command {
	var o exportOptions
	cmd := &cobra.Command{
		Use:   "export --model MODEL_DIR --out model.onnx [--indices] [--distributions] [--ordinal] [--ids]",
		Short: "Export a trained model to one self-contained ONNX file (raw features in, decoded LTV out)",
		Long: `export writes a trained model's whole inference path as one ONNX file (IR 8,
opset 17, ai.onnx.ml 2, ai.odmn 1) that ONNX Runtime runs with no custom-op
library and odmn's native runtime runs too.

Input contract: one input per feature column of the model's spec, named as
the column, in spec order (categorical columns, numeric columns, then every
day of every sequence, name_d1 .. name_dL), each of shape [N] (N, the batch,
is dynamic):

  categorical  string   the raw value; the training vocabulary maps to ids
                        1..V (an ai.onnx.ml LabelEncoder), anything else,
                        "" (missing) included, to 0, the out-of-vocabulary id.
                        Integer-coded categories are passed as decimal text.
  numeric and  float32  NaN is missing and gets bin 0; any other x gets bin
  sequence day          1 + #{fitted bounds b : b <= x}, compared in float32
                        (the ai.odmn Discretize node; the Go encoder applies
                        the same rule). +Inf is the top bin.

Inside the graph: the lookups and the discretization, embeddings,
share-bottom, towers, Mono Units (ai.odmn MonoUnit) and the decode
(ai.odmn MDMEDecode). Each ai.odmn node is a model-local function built from
standard ops; odmn's native runtime runs fused Go kernels for them.

Outputs, float32 [N, T] with the horizons in increasing order, each
non-decreasing across horizons (a running maximum):
  ltv       the paper's decode (Eq. 7-8): most likely sub-distribution, its
            most likely bucket, plus the bucket bias
  ltv_ev    the expected value over the bucket distribution
  ltv_fqm   the frozen quantile-matched EV (ai.odmn FrozenQM: a monotone
            piecewise-linear map fitted on the validation users)
  ltv_p10, ltv_p50, ltv_p90
            quantiles of each user's predicted distribution (ai.odmn
            MixtureQuantiles; point buckets as points, interval buckets
            spread over their range); --quantiles picks the levels
and, on request:
  --indices        sub, bucket (int64 [N, T]: the chosen sub-distribution and
                   bucket) and margin_sub, margin_bucket (float32 [N, T]: the
                   top-2 probability margins of those choices)
  --distributions  o_<h> [N, M_h]: the bucket distribution of horizon h
  --ordinal        dot_<h>, bot_<h>: the training-only ordinal towers
                   (left out by default)
  --ids            ids [N, F] int64: the encoded features

metadata_props: odmn.horizons, odmn.buckets (bucket boundaries),
odmn.feature_spec, odmn.encoder, odmn.inputs (this contract), odmn.variant,
odmn.version, odmn.data_fingerprint (of the training data), odmn.model (the
Go model's configuration, so odmn conform can rebuild the training-time
forward pass from the file alone), odmn.id_column, odmn.missing_values.`,
		Example: `  odmn export --model model --out model.onnx
  odmn score --model model.onnx --data users.csv --out scores.csv --runtime ort`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runExport(o, cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.model, "model", "", "model directory (from odmn train)")
	f.StringVar(&o.out, "out", "", "ONNX file to write")
	f.BoolVar(&o.opts.Indices, "indices", false, "also output the decode's sub-distribution and bucket indices and their top-2 margins")
	f.BoolVar(&o.opts.Distributions, "distributions", false, "also output the bucket distribution o_<h> and bucket values v_<h> of every horizon (odmn score --decode qm needs them)")
	f.Float64SliceVar(&o.opts.Quantiles, "quantiles", train.DefaultQuantiles, "interval quantiles ltv_p<100q> of each user's predicted distribution")
	f.BoolVar(&o.opts.NoQuantiles, "no-quantiles", false, "leave the interval quantiles out")
	f.BoolVar(&o.opts.Ordinal, "ordinal", false, "also output the training-only ordinal towers (DOT, BOT)")
	f.BoolVar(&o.opts.IDs, "ids", false, "also output the encoded features")
	f.BoolVar(&o.check, "check", false, "validate the file with python3-onnx's full checker and strict shape inference")
	_ = cmd.MarkFlagRequired("model")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}

func runExport(o exportOptions, w io.Writer) error {
	if err := fsutil.CheckOutput(fsutil.Arg{Flag: "--out", Path: o.out}, false, fsutil.Arg{Flag: "--model", Path: o.model}); err != nil {
		return err
	}
	o.opts.Values = o.opts.Distributions
	if err := train.CheckQuantiles(o.opts.Quantiles); err != nil {
		return fmt.Errorf("--quantiles: %w", err)
	}
	b, err := train.LoadBundle(o.model)
	if err != nil {
		return err
	}
	gr, err := b.ExportGraph(o.opts)
	if err != nil {
		return err
	}
	if err := export.WriteFile(o.out, gr, export.Options{ProducerVersion: train.Version}); err != nil {
		return err
	}
	st, err := os.Stat(o.out)
	if err != nil {
		return err
	}
	nstr := 0
	for _, in := range gr.Inputs() {
		if in.DType() == graph.String {
			nstr++
		}
	}
	var outs, fns []string
	for _, out := range gr.Outputs() {
		outs = append(outs, out.Name)
	}
	for _, f := range gr.Functions() {
		fns = append(fns, f.Name)
	}
	fmt.Fprintf(w, "wrote %s (%.1f KiB): %s model, horizons %s\n", o.out, float64(st.Size())/1024, b.Model.Cfg.Variant, gr.Metadata[train.MetaHorizons])
	fmt.Fprintf(w, "inputs: %d feature columns (%d string, %d float32), each [N]\n", len(gr.Inputs()), nstr, len(gr.Inputs())-nstr)
	fmt.Fprintf(w, "outputs: %s\n", strings.Join(outs, ", "))
	if len(fns) > 0 {
		fmt.Fprintf(w, "custom nodes (%s, model-local functions): %s\n", train.Domain, strings.Join(fns, ", "))
	}
	if o.check {
		m, err := compat.ReadFile(o.out)
		if err != nil {
			return err
		}
		if err := compat.CheckModel(pythonONNX, m); err != nil {
			return err
		}
		fmt.Fprintf(w, "onnx.checker (full_check) and strict shape inference: ok\n")
	}
	return nil
}
