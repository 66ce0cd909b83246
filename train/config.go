package train

import (
	"fmt"
	"strings"
)

// Variant names a model of the paper's ablations (section 5.3).
type Variant string

const (
	// Multi-horizon (Table 3).
	ODMN Variant = "odmn" // MDME per task + Mono Unit + calibration
	S    Variant = "s"    // share-bottom, MDME per task, no Mono Unit, no calibration
	SM   Variant = "sm"   // S + Mono Unit
	SC   Variant = "sc"   // S + calibration
	// Single horizon, the longest (Table 2).
	MDME Variant = "mdme" // all of MDME
	NMO  Variant = "nmo"  // naive MDME + ordinal towers and distillation
	NMB  Variant = "nmb"  // naive MDME + bucket bias
	NM   Variant = "nm"   // naive MDME: segments and buckets only; bucket midpoints
	// Baselines on the same embedding and share-bottom.
	MSE  Variant = "mse"  // one linear output per horizon, mean squared error
	ZILN Variant = "ziln" // zero-inflated lognormal (Wang et al. 2019)
)

// Variants lists every variant in the order of the paper's tables.
var Variants = []Variant{NM, NMB, NMO, MDME, S, SM, SC, ODMN, MSE, ZILN}

// ParseVariant accepts a variant name in any case.
func ParseVariant(s string) (Variant, error) {
	v := Variant(strings.ToLower(strings.TrimSpace(s)))
	for _, x := range Variants {
		if v == x {
			return v, nil
		}
	}
	return "", fmt.Errorf("unknown variant %q (one of odmn, s, sm, sc, mdme, nmo, nmb, nm, mse, ziln)", s)
}

// Head is the output head of a variant: what the towers predict and which
// loss trains them.
type Head string

// The heads.
const (
	HeadMDME Head = "mdme" // distribution segments, buckets and in-bucket offsets (the paper's MDME)
	HeadMSE  Head = "mse"  // one linear output per horizon, mean squared error
	HeadZILN Head = "ziln" // zero-inflated lognormal
)

// Parts says which modules a variant has.
type Parts struct {
	Head          Head // HeadMDME, HeadMSE or HeadZILN
	SingleHorizon bool // only the longest horizon
	BBT           bool // bucket bias towers
	Ordinal       bool // DOT/BOT and their distillation
	Mono          bool // Mono Units between tasks
	Calibration   bool // the Eq. 12 hinge
}

// Parts returns the modules of v.
func (v Variant) Parts() Parts {
	p := v.parts()
	if p.Head == "" {
		p.Head = HeadMDME
	}
	return p
}

func (v Variant) parts() Parts {
	switch v {
	case MSE:
		return Parts{Head: HeadMSE}
	case ZILN:
		return Parts{Head: HeadZILN}
	case NM:
		return Parts{SingleHorizon: true}
	case NMB:
		return Parts{SingleHorizon: true, BBT: true}
	case NMO:
		return Parts{SingleHorizon: true, Ordinal: true}
	case MDME:
		return Parts{SingleHorizon: true, BBT: true, Ordinal: true}
	case S:
		return Parts{BBT: true, Ordinal: true}
	case SM:
		return Parts{BBT: true, Ordinal: true, Mono: true}
	case SC:
		return Parts{BBT: true, Ordinal: true, Calibration: true}
	}
	return Parts{BBT: true, Ordinal: true, Mono: true, Calibration: true}
}

// Config is everything that shapes a model and its training.
type Config struct {
	Variant  Variant `json:"variant"`
	EmbedDim int     `json:"embed_dim"`
	Bottom   []int   `json:"bottom"`      // share-bottom widths
	Tower    int     `json:"tower"`       // hidden width of every tower
	MonoDim  int     `json:"mono_hidden"` // hidden width of a Mono Unit

	Alpha float64 `json:"alpha"` // calibration weight (Eq. 13)
	Beta  float64 `json:"beta"`  // DCT distillation weight (Eq. 14)
	Gamma float64 `json:"gamma"` // BCT distillation weight (Eq. 14)
	// Temperature sharpens the ordinal teacher (pi^(1/T), renormalized)
	// as a public MDME implementation does; 0 or 1 leaves it as is.
	Temperature float64 `json:"temperature,omitempty"`

	Buckets BucketOptions `json:"buckets"`
	// BBTInit starts each bucket-bias output at the logit of its bucket's
	// mean training bias instead of at sigmoid(0) = 0.5 (the paper's
	// neutral start). On by default: a wide top bucket of money labels
	// otherwise keeps an overshooting bias when early stopping comes after
	// a few epochs (docs/decodes.md has the measurements on CDNOW).
	BBTInit bool `json:"bbt_init,omitempty"`
	// BiasCal calibrates each interval bucket's bias output on the training
	// and validation rows at the end of training (Model.CalibrateBias). On
	// by default, for the same reason as BBTInit.
	BiasCal bool `json:"bias_cal,omitempty"`
	// ProbCal refits the intercepts of the bucket probabilities on the
	// training and validation rows at the end of training, before BiasCal
	// (Model.CalibrateProbs), so that the mean predicted probability of
	// every sub-distribution and bucket equals its share of the labels. On
	// by default: early stopping leaves the zero mass too small on CDNOW.
	ProbCal bool `json:"prob_cal"`

	LR       float64 `json:"lr"`       // Adam rate of the network weights
	EmbedLR  float64 `json:"embed_lr"` // Adam rate of the embedding table
	Batch    int     `json:"batch"`
	Epochs   int     `json:"epochs"`
	Patience int     `json:"patience"` // epochs without validation gain before stopping
	ValFrac  float64 `json:"val_frac"`
	Seed     uint64  `json:"seed"`
	// Threads is the number of workers a batch is split over (0:
	// GOMAXPROCS). Training is bit-for-bit reproducible for a given seed
	// and thread count; other thread counts agree within float rounding.
	// While a step runs, kernels are single-threaded (graph.SetThreads is
	// process-wide): each worker is one thread.
	Threads int `json:"threads,omitempty"`
}

// DefaultConfig is the default ODMN: the paper's loss weights and batch,
// the reference widths (embedding 8, bottom 256-128, towers 64).
// The paper's Adam rates (0.05 and 0.1) are not the defaults: see
// DESIGN notes in the package doc for the evidence.
func DefaultConfig() Config {
	return Config{
		Variant:  ODMN,
		EmbedDim: 8,
		Bottom:   []int{256, 128},
		Tower:    64,
		MonoDim:  16,
		Alpha:    1,
		Beta:     0.5,
		Gamma:    0.5,
		LR:       0.002,
		EmbedLR:  0.01,
		Batch:    512,
		Epochs:   10,
		Patience: 2,
		ValFrac:  0.1,
		Seed:     1,
		BBTInit:  true,
		BiasCal:  true,
		ProbCal:  true,
	}
}

// Validate reports configuration errors.
func (c *Config) Validate() error {
	if _, err := ParseVariant(string(c.Variant)); err != nil {
		return err
	}
	if c.EmbedDim < 1 || c.Tower < 1 || c.MonoDim < 1 || len(c.Bottom) == 0 {
		return fmt.Errorf("config: embed_dim, tower, mono_hidden and bottom must be positive")
	}
	for _, w := range c.Bottom {
		if w < 1 {
			return fmt.Errorf("config: bottom widths must be positive, got %v", c.Bottom)
		}
	}
	if c.Batch < 1 || c.Epochs < 1 || c.LR <= 0 || c.EmbedLR <= 0 {
		return fmt.Errorf("config: batch, epochs and learning rates must be positive")
	}
	if c.Threads < 0 {
		return fmt.Errorf("config: threads must be positive (0: GOMAXPROCS), got %d", c.Threads)
	}
	if c.ValFrac < 0 || c.ValFrac >= 1 {
		return fmt.Errorf("config: val_frac must be in [0, 1), got %v", c.ValFrac)
	}
	return nil
}
