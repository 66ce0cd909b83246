package bench

// Report is odmn bench's result (--json prints it). Rates are the median
// of Rounds interleaved windows (A B A B ...: odmn and its yardstick take
// turns, so a slow spell of a shared machine hits both), and every ratio is
// the median of the per-round ratios, with their range.
type Report struct {
	Date    string      `json:"date"`
	Command string      `json:"command"`
	Quick   bool        `json:"quick,omitempty"`
	Rounds  int         `json:"rounds"`
	Window  float64     `json:"window_seconds"`
	Machine Machine     `json:"machine"`
	Model   ModelInfo   `json:"model"`
	Sgemm   []SgemmRate `json:"sgemm"`
	Train   []TrainRate `json:"train"`
	// TrainScaling is the median over rounds of samples/s at the most
	// threads over 1 thread; TrainScalingRounds has its spread.
	TrainScaling       float64     `json:"train_scaling,omitempty"`
	TrainScalingRounds *Ratio      `json:"train_scaling_rounds,omitempty"`
	Torch              []TorchRate `json:"torch,omitempty"`
	// TorchRatio is odmn's training samples/s over PyTorch's at each
	// thread count (median of the rounds).
	TorchRatio []Ratio `json:"torch_ratio,omitempty"`
	// TorchNote says why PyTorch was not measured, or how it was run.
	TorchNote string      `json:"torch_note,omitempty"`
	Score     []ScoreRate `json:"score"`
	// ScoreScaling is native users/s at the most threads over 1 thread.
	ScoreScaling *Ratio `json:"score_scaling,omitempty"`
	// ScoreProfile is where a 1-thread native scoring call spends its time.
	ScoreProfile *ScoreProfile `json:"score_profile,omitempty"`
	Memory       *Memory       `json:"memory,omitempty"`
	// TrainBytesPerRow is the growth of training's peak memory per row:
	// (peak at the larger table - peak at the smaller) / (rows between).
	TrainBytesPerRow float64      `json:"train_bytes_per_row,omitempty"`
	Epoch            *EpochRun    `json:"epoch,omitempty"`
	Epoch180M        *Extrapolate `json:"epoch_180m,omitempty"`
	Billion          *Extrapolate `json:"score_1e9,omitempty"`
	Targets          []Target     `json:"targets"`
	Seconds          float64      `json:"seconds"`
}

// Ratio is a ratio measured in every round: its median and range.
type Ratio struct {
	Of      string    `json:"of"` // what over what
	Threads int       `json:"threads,omitempty"`
	Median  float64   `json:"median"`
	Min     float64   `json:"min"`
	Max     float64   `json:"max"`
	Rounds  []float64 `json:"rounds"`
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
	Samples float64 `json:"samples_per_s"` // median of the rounds
	// Rounds are the samples/s of each round's window.
	Rounds []float64 `json:"rounds"`
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
	Threads int       `json:"threads"`
	Batch   int       `json:"batch"`
	Rows    float64   `json:"rows_per_s"` // median of the rounds
	Rounds  []float64 `json:"rounds"`
	Params  int       `json:"params"`
	Version string    `json:"torch"`
}

// ScoreRate compares native and ONNX Runtime scoring at one thread count.
type ScoreRate struct {
	Threads int     `json:"threads"`
	Batch   int     `json:"batch"`
	Native  float64 `json:"native_users_per_s"` // median of the rounds
	ORT     float64 `json:"ort_users_per_s"`
	// Ratio is the median of the rounds' native/ORT; RatioMin and RatioMax
	// their range.
	Ratio        float64   `json:"native_over_ort"`
	RatioMin     float64   `json:"native_over_ort_min"`
	RatioMax     float64   `json:"native_over_ort_max"`
	NativeRounds []float64 `json:"native_rounds"`
	ORTRounds    []float64 `json:"ort_rounds"`
	GFLOPS       float64   `json:"native_dense_gflops"`
}

// Memory holds peak-memory figures, each from a child process.
type Memory struct {
	Score100kMiB float64 `json:"score_100k_mib,omitempty"`
	Score1MMiB   float64 `json:"score_1m_mib,omitempty"`
	ScoreRatio   float64 `json:"score_1m_over_100k,omitempty"`
	// ScoreFileRate is odmn score's whole path over the 1,000,000-user CSV
	// file (parse, encode, score, write), users per second on every core.
	ScoreFileRate float64 `json:"score_file_users_per_s,omitempty"`
	Train1MMiB    float64 `json:"train_1m_mib,omitempty"`
	// TrainUsers and TrainMiB are the training runs' table sizes and peaks
	// (the slope's two points).
	TrainUsers []int     `json:"train_users,omitempty"`
	TrainMiB   []float64 `json:"train_mib,omitempty"`
	// TableBytesPerRow is what the encoded table itself holds per row.
	TableBytesPerRow int `json:"table_bytes_per_row,omitempty"`
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

// ScoreProfile is the share of 1-thread native scoring time per op type
// of the compiled plan (fused chains under their joined names, such as
// Add+Gather+Reshape+Gemm+Relu), the largest first, and the share outside
// every kernel (the executor, binding, copying the outputs out).
type ScoreProfile struct {
	Batch int       `json:"batch"`
	Calls int       `json:"calls"`
	Ops   []OpShare `json:"ops"`
	Other float64   `json:"outside_kernels_share"`
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
	PerCoreRate float64 `json:"per_core_users_per_s"` // measured, 1 thread
	// Serial is the serial fraction of Amdahl's law fitted to the measured
	// scaling; Speedup the speedup it predicts on Cores.
	Serial  float64 `json:"serial_fraction"`
	Speedup float64 `json:"speedup"`
	Minutes float64 `json:"minutes"`
	Hours16 float64 `json:"hours_one_16_core_machine"`
	// MemoryGiB is the memory the run needs, where measured.
	MemoryGiB float64 `json:"memory_gib,omitempty"`
	Formula   string  `json:"formula"`
}

// Target is one goal the bench checks.
type Target struct {
	Name   string  `json:"name"`
	Value  float64 `json:"value"`
	Target float64 `json:"target"`
	Met    bool    `json:"met"`
	Note   string  `json:"note,omitempty"`
}
