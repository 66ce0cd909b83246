package twostage

/*
#cgo LDFLAGS: -lxgboost
#include <stdlib.h>
#include <xgboost/c_api.h>
*/
import "C"

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"strings"
	"sync"
	"unsafe"
)

// This file is the thin cgo layer over XGBoost's C API (Debian's
// libxgboost-dev, 1.7): dense float32 DMatrix, booster create, parameters,
// one boosting round, evaluation, prediction, slicing, JSON save and load.
// Every handle is freed by Close, or by a cleanup when it is garbage.
//
// XGBoost reports errors through a thread-local message and returns
// prediction and string buffers owned by thread-local storage; every call
// therefore runs with the goroutine locked to its OS thread until the
// result is copied into Go memory.

var quietOnce sync.Once

// call runs f locked to one OS thread and turns a non-zero return code
// into an error with XGBoost's message.
func call(what string, f func() C.int) error {
	quietOnce.Do(func() {
		cfg := C.CString(`{"verbosity": 0}`)
		C.XGBSetGlobalConfig(cfg)
		C.free(unsafe.Pointer(cfg))
	})
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if rc := f(); rc != 0 {
		msg := C.GoString(C.XGBGetLastError())
		if i := strings.Index(msg, "\nStack trace:"); i >= 0 {
			msg = msg[:i]
		}
		return fmt.Errorf("xgboost: %s: %s", what, strings.TrimSpace(msg))
	}
	return nil
}

// dmatrix is an XGBoost DMatrix.
type dmatrix struct {
	h       C.DMatrixHandle
	rows    int
	cleanup runtime.Cleanup
}

// newDMatrix copies a dense row-major float32 matrix (NaN = missing) and,
// when labels is non-nil, its labels.
func newDMatrix(x []float32, rows, cols int, labels []float32) (*dmatrix, error) {
	if rows <= 0 || cols <= 0 || len(x) != rows*cols {
		return nil, fmt.Errorf("xgboost: matrix of %d values for %d x %d", len(x), rows, cols)
	}
	if labels != nil && len(labels) != rows {
		return nil, fmt.Errorf("xgboost: %d labels for %d rows", len(labels), rows)
	}
	d := &dmatrix{rows: rows}
	var h C.DMatrixHandle
	err := call("create DMatrix", func() C.int {
		return C.XGDMatrixCreateFromMat((*C.float)(unsafe.Pointer(&x[0])), C.bst_ulong(rows), C.bst_ulong(cols),
			C.float(float32(math.NaN())), &h)
	})
	if err != nil {
		return nil, err
	}
	d.h = h
	d.cleanup = runtime.AddCleanup(d, func(h C.DMatrixHandle) { C.XGDMatrixFree(h) }, h)
	if labels != nil {
		field := C.CString("label")
		defer C.free(unsafe.Pointer(field))
		err := call("set labels", func() C.int {
			return C.XGDMatrixSetFloatInfo(d.h, field, (*C.float)(unsafe.Pointer(&labels[0])), C.bst_ulong(rows))
		})
		if err != nil {
			d.Close()
			return nil, err
		}
	}
	return d, nil
}

// Close frees the matrix; it is safe to call twice.
func (d *dmatrix) Close() {
	if d == nil || d.h == nil {
		return
	}
	d.cleanup.Stop()
	C.XGDMatrixFree(d.h)
	d.h = nil
}

// booster is an XGBoost Booster. Its methods are safe for concurrent use
// (a mutex serializes them: XGBoost's learner is not).
type booster struct {
	mu      sync.Mutex
	h       C.BoosterHandle
	cleanup runtime.Cleanup
}

func wrapBooster(h C.BoosterHandle) *booster {
	b := &booster{h: h}
	b.cleanup = runtime.AddCleanup(b, func(h C.BoosterHandle) { C.XGBoosterFree(h) }, h)
	return b
}

// newBooster creates a booster that caches the given matrices.
func newBooster(cache ...*dmatrix) (*booster, error) {
	hs := make([]C.DMatrixHandle, len(cache)+1) // +1: never a zero-length array
	for i, d := range cache {
		hs[i] = d.h
	}
	var h C.BoosterHandle
	if err := call("create booster", func() C.int {
		return C.XGBoosterCreate(&hs[0], C.bst_ulong(len(cache)), &h)
	}); err != nil {
		return nil, err
	}
	return wrapBooster(h), nil
}

// loadBooster reads a model saved by saveJSON (or any XGBoost model file
// content).
func loadBooster(model []byte) (*booster, error) {
	if len(model) == 0 {
		return nil, errors.New("xgboost: empty model")
	}
	b, err := newBooster()
	if err != nil {
		return nil, err
	}
	if err := call("load model", func() C.int {
		return C.XGBoosterLoadModelFromBuffer(b.h, unsafe.Pointer(&model[0]), C.bst_ulong(len(model)))
	}); err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

// Close frees the booster; it is safe to call twice.
func (b *booster) Close() {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.h == nil {
		return
	}
	b.cleanup.Stop()
	C.XGBoosterFree(b.h)
	b.h = nil
}

func (b *booster) check() error {
	if b.h == nil {
		return errors.New("xgboost: booster is closed")
	}
	return nil
}

func (b *booster) setParam(name, value string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.check(); err != nil {
		return err
	}
	cn, cv := C.CString(name), C.CString(value)
	defer C.free(unsafe.Pointer(cn))
	defer C.free(unsafe.Pointer(cv))
	return call("set parameter "+name+"="+value, func() C.int { return C.XGBoosterSetParam(b.h, cn, cv) })
}

// update runs boosting round iter on d.
func (b *booster) update(iter int, d *dmatrix) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.check(); err != nil {
		return err
	}
	return call("boost", func() C.int { return C.XGBoosterUpdateOneIter(b.h, C.int(iter), d.h) })
}

// eval returns XGBoost's evaluation line for round iter, e.g.
// "[3]\tval-logloss:0.4123".
func (b *booster) eval(iter int, d *dmatrix, name string) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.check(); err != nil {
		return "", err
	}
	cn := C.CString(name)
	defer C.free(unsafe.Pointer(cn))
	hs := []C.DMatrixHandle{d.h}
	names := []*C.char{cn}
	var out *C.char
	var res string
	err := call("evaluate", func() C.int {
		rc := C.XGBoosterEvalOneIter(b.h, C.int(iter), &hs[0], &names[0], 1, &out)
		if rc == 0 {
			res = C.GoString(out)
		}
		return rc
	})
	return res, err
}

// predict returns one value per row of d: the transformed prediction, or
// the untransformed margin when margin is set.
func (b *booster) predict(d *dmatrix, margin bool) ([]float32, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.check(); err != nil {
		return nil, err
	}
	mask := C.int(0)
	if margin {
		mask = 1
	}
	var n C.bst_ulong
	var p *C.float
	var res []float32
	err := call("predict", func() C.int {
		rc := C.XGBoosterPredict(b.h, d.h, mask, 0, 0, &n, &p)
		if rc == 0 {
			res = append([]float32(nil), unsafe.Slice((*float32)(unsafe.Pointer(p)), int(n))...)
		}
		return rc
	})
	if err != nil {
		return nil, err
	}
	if len(res) != d.rows {
		return nil, fmt.Errorf("xgboost: predict gave %d values for %d rows", len(res), d.rows)
	}
	return res, nil
}

// slice returns a new booster holding boosting rounds [begin, end).
func (b *booster) slice(begin, end int) (*booster, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.check(); err != nil {
		return nil, err
	}
	var h C.BoosterHandle
	if err := call("slice", func() C.int { return C.XGBoosterSlice(b.h, C.int(begin), C.int(end), 1, &h) }); err != nil {
		return nil, err
	}
	return wrapBooster(h), nil
}

// rounds is the number of boosting rounds in the model.
func (b *booster) rounds() (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.check(); err != nil {
		return 0, err
	}
	var n C.int
	err := call("boosted rounds", func() C.int { return C.XGBoosterBoostedRounds(b.h, &n) })
	return int(n), err
}

// saveJSON returns the model in XGBoost's JSON model format.
func (b *booster) saveJSON() ([]byte, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.check(); err != nil {
		return nil, err
	}
	cfg := C.CString(`{"format": "json"}`)
	defer C.free(unsafe.Pointer(cfg))
	var n C.bst_ulong
	var p *C.char
	var res []byte
	err := call("save model", func() C.int {
		rc := C.XGBoosterSaveModelToBuffer(b.h, cfg, &n, &p)
		if rc == 0 {
			res = C.GoBytes(unsafe.Pointer(p), C.int(n))
		}
		return rc
	})
	return res, err
}

// config returns the booster's JSON configuration (training parameters).
func (b *booster) config() (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.check(); err != nil {
		return "", err
	}
	var n C.bst_ulong
	var p *C.char
	var res string
	err := call("save config", func() C.int {
		rc := C.XGBoosterSaveJsonConfig(b.h, &n, &p)
		if rc == 0 {
			res = C.GoStringN(p, C.int(n))
		}
		return rc
	})
	return res, err
}
