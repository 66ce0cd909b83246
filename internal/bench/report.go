package bench

// Report is odmn bench's result (--json prints it).
type Report struct {
	Date    string      `json:"date"`
	Command string      `json:"command"`
	Machine Machine     `json:"machine"`
	Model   ModelInfo   `json:"model"`
	Sgemm   []SgemmRate `json:"sgemm"`
	Train   []TrainRate `json:"train"`
	Torch   []TorchRate `json:"torch,omitempty"`
	// TorchNote says why PyTorch was not measured, or how it was run.
	TorchNote string       `json:"torch_note,omitempty"`
	Score     []ScoreRate  `json:"score"`
	Memory    *Memory      `json:"memory,omitempty"`
	Epoch     *EpochRun    `json:"epoch,omitempty"`
	Billion   *Extrapolate `json:"score_1e9,omitempty"`
	Targets   []Target     `json:"targets"`
	Seconds   float64      `json:"seconds"`
}

// Machine describes where the bench ran.
type Machine struct {
	CPU        string `json:"cpu"`
	Cores      int    `json:"cores"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	Go         string `json:"go"`
	BLAS       string `json:"blas"`
	BLASConfig string `json:"blas_config"`
	SIMD       string `json:"simd"`
	ORT        string `json:"ort,omitempty"`
}

// ModelInfo describes the benchmarked model.
type ModelInfo struct {
	Variant          string  `json:"variant"`
	Params           int     `json:"params"`
	Features         int     `json:"features"`
	Horizons         []int   `json:"horizons"`
	TrainMFLOPPerRow float64 `json:"train_dense_mflop_per_row"` // forward and backward GEMMs
	ScoreMFLOPPerRow float64 `json:"score_dense_mflop_per_row"`
	Users            int     `json:"users"`
}

// SgemmRate is the machine's GEMM rate at one shape and thread count.
type SgemmRate struct {
	Shape   string  `json:"shape"`
	Threads int     `json:"threads"`
	GFLOPS  float64 `json:"gflops"`
}

// TrainRate is odmn's training throughput at one thread count.
type TrainRate struct {
	Threads int     `json:"threads"`
	Batch   int     `json:"batch"`
	Samples float64 `json:"samples_per_s"`
	// DenseGFLOPS is the GEMM FLOPs per second of training time;
	// KernelGFLOPS the rate inside the GEMM calls; GemmShare the share of
	// the step spent in them.
	DenseGFLOPS  float64 `json:"dense_gflops"`
	KernelGFLOPS float64 `json:"gemm_kernel_gflops"`
	GemmShare    float64 `json:"gemm_share"`
	Steps        int     `json:"steps"`
}

// TorchRate is PyTorch's training throughput on the same network.
type TorchRate struct {
	Threads int     `json:"threads"`
	Batch   int     `json:"batch"`
	Rows    float64 `json:"rows_per_s"`
	Params  int     `json:"params"`
	Version string  `json:"torch"`
}

// ScoreRate compares native and ONNX Runtime scoring at one thread count.
type ScoreRate struct {
	Threads int     `json:"threads"`
	Batch   int     `json:"batch"`
	Native  float64 `json:"native_users_per_s"`
	ORT     float64 `json:"ort_users_per_s"`
	Ratio   float64 `json:"native_over_ort"`
	GFLOPS  float64 `json:"native_dense_gflops"`
}

// Memory holds peak-memory figures, each from a child process.
type Memory struct {
	Score100kMiB float64 `json:"score_100k_mib"`
	Score1MMiB   float64 `json:"score_1m_mib"`
	ScoreRatio   float64 `json:"score_1m_over_100k"`
	Train1MMiB   float64 `json:"train_1m_mib"`
}

// EpochRun is one training epoch in a child process.
type EpochRun struct {
	Users   int     `json:"users"`
	Threads int     `json:"threads"`
	Seconds float64 `json:"seconds"`
	Minutes float64 `json:"minutes"`
	Samples float64 `json:"samples_per_s"`
	// Profile is the share of the epoch's kernel time per op type (the
	// largest first); GemmShare the share of the epoch inside GEMM calls;
	// Other the share outside every kernel (executor, Adam, batching, GC).
	Profile   []OpShare `json:"profile"`
	GemmShare float64   `json:"gemm_share"`
	Other     float64   `json:"outside_kernels_share"`
	PeakMiB   float64   `json:"peak_mib"`
}

// OpShare is one op type's share of the epoch's kernel time.
type OpShare struct {
	Op    string  `json:"op"`
	Calls int     `json:"calls"`
	Share float64 `json:"share"`
}

// Extrapolate scales measured rates to a target workload.
type Extrapolate struct {
	Users       float64 `json:"users"`
	Cores       int     `json:"cores"`
	PerCoreRate float64 `json:"per_core_users_per_s"`
	Hours16     float64 `json:"hours_one_16_core_machine"`
	Formula     string  `json:"formula"`
}

// Target is one goal the bench checks.
type Target struct {
	Name   string  `json:"name"`
	Value  float64 `json:"value"`
	Target float64 `json:"target"`
	Met    bool    `json:"met"`
	Note   string  `json:"note,omitempty"`
}
