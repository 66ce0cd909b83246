package main

import (
	"github.com/spf13/cobra"

	"github.com/odmn/odmn/compat"
	"github.com/odmn/odmn/conform"
)

func newInspectCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "inspect MODEL.onnx",
		Short: "Describe any ONNX file, and whether the native runtime runs it",
		Long: `inspect prints an ONNX file's producer, IR version, opset imports, graph
inputs and outputs (element types and shapes, symbolic dims by name),
op histogram with, for every op and version, whether odmn's native runtime
runs it or why not, model-local functions, metadata and external data.`,
		Example: `  odmn inspect model.onnx
  odmn inspect model.onnx --json | jq '.ops[] | select(.supported == false)'`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := compat.ReadFile(args[0])
			if err != nil {
				return err
			}
			info := conform.Inspect(args[0], m)
			if asJSON {
				return conform.WriteJSON(cmd.OutOrStdout(), info)
			}
			return info.Print(cmd.OutOrStdout())
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
