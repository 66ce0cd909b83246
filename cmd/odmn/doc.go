// Command odmn is the odmn command-line tool: it trains customer lifetime
// value models natively in Go, exports them to ONNX and scores them through
// the native Go runtime or ONNX Runtime.
//
// Each subcommand lives in its own file and provides a constructor
// (newVersionCmd, newDemoCmd, ...); main.go builds the root command and
// registers them. Build it with `make build` (bin/odmn).
//
// Usage:
//
//	odmn version      print version information
//	odmn demo         run the end-to-end demo
package main
