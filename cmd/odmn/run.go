package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/odmn/odmn/conform"
)

func newRunCmd() *cobra.Command {
	var model, inputs, out, rt string
	var threads int
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "run --model MODEL.onnx --inputs PATH --out DIR [--runtime native|ort]",
		Short: "Run any ONNX file on tensors stored as TensorProto or NumPy files",
		Long: `run feeds a model the tensors at --inputs and writes its outputs under --out,
stored the way the inputs are:

  a folder of input_N.pb (an ONNX backend-test data set: the N-th graph input
      that is not an initializer)        -> output_N.pb
  a folder of NAME.pb (TensorProto, by input name)  -> NAME.pb
  a folder of NAME.npy (NumPy)                      -> NAME.npy
  one .npz archive with an array per input name     -> DIR/outputs.npz

Each file is written to a temporary name and renamed.`,
		Example: `  odmn run --model model.onnx --inputs test_data_set_0 --out /tmp/out
  odmn run --model model.onnx --inputs batch.npz --out /tmp/out --runtime ort`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if model == "" || inputs == "" || out == "" {
				return fmt.Errorf("run: --model, --inputs and --out are required")
			}
			dest, err := conform.RunFile(model, inputs, out, rt, threads)
			if err != nil {
				return err
			}
			if asJSON {
				return conform.WriteJSON(cmd.OutOrStdout(), map[string]string{"model": model, "runtime": rt, "outputs": dest})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "outputs of %s (%s) written to %s\n", model, rt, dest)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&model, "model", "", "ONNX file")
	f.StringVar(&inputs, "inputs", "", "folder of input_N.pb, NAME.pb or NAME.npy files, or one .npz file")
	f.StringVar(&out, "out", "", "folder for the outputs")
	f.StringVar(&rt, "runtime", conform.RuntimeNative, "native or ort")
	f.IntVar(&threads, "threads", 0, "threads (0: the runtime's default)")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
