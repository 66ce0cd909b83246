// Package bench measures the default ODMN on synthetic users, on this
// machine: training and scoring throughput (odmn against PyTorch and ONNX
// Runtime, interleaved), thread scaling, the GEMM rates, peak memory in
// child processes, and extrapolations to a billion users from the measured
// rates. odmn bench is a thin command over Run.
package bench
