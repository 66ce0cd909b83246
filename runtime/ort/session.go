package ort

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	onnxruntime "github.com/yalue/onnxruntime_go"
	"google.golang.org/protobuf/proto"

	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/onnxpb"
	"github.com/odmn/odmn/runtime"
)

// Options tune an ORT session. Zero values leave ONNX Runtime's defaults.
type Options struct {
	// IntraOpThreads is the size of the thread pool used inside one
	// operator (0 = ORT default, which is one thread per physical core).
	IntraOpThreads int
	// InterOpThreads is the size of the pool that runs independent
	// operators in parallel (0 = ORT default).
	InterOpThreads int
}

// TensorInfo describes one graph input or output as ONNX Runtime reports it.
type TensorInfo struct {
	Name  string
	DType graph.DType
	// Dims are the declared (or ORT-inferred) dimensions; -1 marks a
	// dynamic one. Empty means rank 0 or, where the model gives no shape,
	// unknown rank.
	Dims []int64
}

func (ti TensorInfo) String() string { return fmt.Sprintf("%s %s%v", ti.Name, ti.DType, ti.Dims) }

type outputInfo struct {
	TensorInfo
	// scalar: pre-allocate a rank-0 value for this output before Run (see
	// Session.Run). Set at Open when the model declares rank 0; set later
	// for an output of unknown rank that turned out to be a scalar.
	scalar atomic.Bool
	// unknownRank: ORT reports no dimensions and the model declares no
	// shape, so the output may or may not be a scalar.
	unknownRank bool
}

// Session runs an ONNX model through ONNX Runtime. It implements
// runtime.Session. Run may be called from several goroutines at once.
type Session struct {
	mu      sync.RWMutex // Run holds it shared, Close exclusively
	sess    *onnxruntime.DynamicAdvancedSession
	inputs  []TensorInfo
	outputs []*outputInfo
	inIdx   map[string]int
	outIdx  map[string]int
}

var _ runtime.Session = (*Session)(nil)

// Open loads the ONNX model file at path.
func Open(path string, opts Options) (*Session, error) {
	model, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("ort: %w", err)
	}
	s, err := open(model, path, opts)
	if err != nil {
		return nil, fmt.Errorf("%w (model %s)", err, path)
	}
	return s, nil
}

// OpenBytes loads a serialized ONNX ModelProto.
func OpenBytes(model []byte, opts Options) (*Session, error) {
	return open(model, "", opts)
}

// open creates the session from path when it is set (so that ORT resolves
// external data relative to the file) and from model otherwise; model is
// always parsed to read the declared output ranks.
func open(model []byte, path string, opts Options) (*Session, error) {
	if err := Init(); err != nil {
		return nil, err
	}
	if len(model) == 0 {
		return nil, errors.New("ort: empty model")
	}
	if opts.IntraOpThreads < 0 || opts.InterOpThreads < 0 {
		return nil, fmt.Errorf("ort: negative thread count in %+v", opts)
	}
	var m onnxpb.ModelProto
	if err := proto.Unmarshal(model, &m); err != nil {
		return nil, fmt.Errorf("ort: parsing model: %w", err)
	}
	declared := declaredOutputRanks(&m)
	f16In, f16Out := f16Rewrite(&m)
	if f16In != nil || f16Out != nil {
		var err error
		if model, err = proto.Marshal(&m); err != nil {
			return nil, fmt.Errorf("ort: rewriting float16 inputs and outputs: %w", err)
		}
		path = "" // run the rewritten bytes (external data then resolves from the working directory)
	}
	userName := func(ortName string, f16 map[string]string) (string, bool) {
		for u, o := range f16 {
			if o == ortName {
				return u, true
			}
		}
		return ortName, false
	}

	so, err := onnxruntime.NewSessionOptions()
	if err != nil {
		return nil, fmt.Errorf("ort: session options: %w", err)
	}
	defer so.Destroy()
	if opts.IntraOpThreads > 0 {
		if err := so.SetIntraOpNumThreads(opts.IntraOpThreads); err != nil {
			return nil, fmt.Errorf("ort: intra-op threads: %w", err)
		}
	}
	if opts.InterOpThreads > 0 {
		if err := so.SetInterOpNumThreads(opts.InterOpThreads); err != nil {
			return nil, fmt.Errorf("ort: inter-op threads: %w", err)
		}
	}

	// onnxruntime_go wants the input and output names before it creates the
	// session, so ask ORT about them with a temporary session first.
	var ins, outs []onnxruntime.InputOutputInfo
	if path != "" {
		ins, outs, err = onnxruntime.GetInputOutputInfoWithOptions(path, so)
	} else {
		ins, outs, err = onnxruntime.GetInputOutputInfoWithONNXData(model)
	}
	if err != nil {
		return nil, fmt.Errorf("ort: reading model inputs and outputs: %w", err)
	}
	// onnxruntime_go indexes the first input unconditionally in Run.
	if len(ins) == 0 {
		return nil, errors.New("ort: model has no inputs; onnxruntime_go cannot run such a model")
	}
	if len(outs) == 0 {
		return nil, errors.New("ort: model has no outputs")
	}

	s := &Session{inIdx: map[string]int{}, outIdx: map[string]int{}}
	var inNames, outNames []string
	for i, io := range ins {
		ti, err := tensorInfo("input", io)
		if err != nil {
			return nil, err
		}
		inNames = append(inNames, ti.Name)
		if u, ok := userName(ti.Name, f16In); ok {
			ti.Name, ti.DType = u, graph.Float16
		}
		s.inputs = append(s.inputs, ti)
		s.inIdx[ti.Name] = i
	}
	for i, io := range outs {
		ti, err := tensorInfo("output", io)
		if err != nil {
			return nil, err
		}
		outNames = append(outNames, ti.Name)
		if u, ok := userName(ti.Name, f16Out); ok {
			ti.Name, ti.DType = u, graph.Float16
		}
		o := &outputInfo{TensorInfo: ti}
		if len(ti.Dims) == 0 {
			rank, ok := declared[ti.Name]
			switch {
			case ok && rank == 0:
				o.scalar.Store(true)
			case !ok:
				o.unknownRank = true
			}
		}
		s.outputs = append(s.outputs, o)
		s.outIdx[ti.Name] = i
	}

	if path != "" {
		s.sess, err = onnxruntime.NewDynamicAdvancedSession(path, inNames, outNames, so)
	} else {
		s.sess, err = onnxruntime.NewDynamicAdvancedSessionWithONNXData(model, inNames, outNames, so)
	}
	if err != nil {
		return nil, fmt.Errorf("ort: creating session: %w", err)
	}
	return s, nil
}

// declaredOutputRanks parses the ModelProto and returns, for each graph
// output with a declared tensor shape, its rank. Outputs without a shape are
// absent. ORT reports both a declared rank 0 and an unknown rank as "no
// dimensions", so this is how the two are told apart.
func declaredOutputRanks(m *onnxpb.ModelProto) map[string]int {
	ranks := map[string]int{}
	for _, vi := range m.GetGraph().GetOutput() {
		if sh := vi.GetType().GetTensorType().GetShape(); sh != nil {
			ranks[vi.GetName()] = len(sh.GetDim())
		}
	}
	return ranks
}

func tensorInfo(kind string, io onnxruntime.InputOutputInfo) (TensorInfo, error) {
	if io.OrtValueType != onnxruntime.ONNXTypeTensor {
		return TensorInfo{}, fmt.Errorf("ort: %s %q is a %s; odmn supports dense tensors only", kind, io.Name, io.OrtValueType)
	}
	dt, ok := dtypeFromORT(io.DataType)
	if !ok {
		return TensorInfo{}, fmt.Errorf("ort: %s %q has element type %s; odmn supports the numeric types, bool and string", kind, io.Name, io.DataType)
	}
	return TensorInfo{Name: io.Name, DType: dt, Dims: append([]int64{}, io.Dimensions...)}, nil
}

func dtypeFromORT(t onnxruntime.TensorElementDataType) (graph.DType, bool) {
	switch t {
	case onnxruntime.TensorElementDataTypeFloat:
		return graph.Float32, true
	case onnxruntime.TensorElementDataTypeInt64:
		return graph.Int64, true
	case onnxruntime.TensorElementDataTypeBool:
		return graph.Bool, true
	case onnxruntime.TensorElementDataTypeString:
		return graph.String, true
	case onnxruntime.TensorElementDataTypeDouble:
		return graph.Float64, true
	case onnxruntime.TensorElementDataTypeInt32:
		return graph.Int32, true
	case onnxruntime.TensorElementDataTypeInt16:
		return graph.Int16, true
	case onnxruntime.TensorElementDataTypeInt8:
		return graph.Int8, true
	case onnxruntime.TensorElementDataTypeUint8:
		return graph.Uint8, true
	case onnxruntime.TensorElementDataTypeUint16:
		return graph.Uint16, true
	case onnxruntime.TensorElementDataTypeUint32:
		return graph.Uint32, true
	case onnxruntime.TensorElementDataTypeUint64:
		return graph.Uint64, true
	case onnxruntime.TensorElementDataTypeFloat16:
		return graph.Float16, true
	}
	return graph.Invalid, false
}

// InputNames lists the model's inputs in order (initializers excluded).
func (s *Session) InputNames() []string {
	names := make([]string, len(s.inputs))
	for i, in := range s.inputs {
		names[i] = in.Name
	}
	return names
}

// OutputNames lists the model's outputs in order.
func (s *Session) OutputNames() []string {
	names := make([]string, len(s.outputs))
	for i, o := range s.outputs {
		names[i] = o.Name
	}
	return names
}

// Inputs describes the model's inputs as ONNX Runtime reports them.
func (s *Session) Inputs() []TensorInfo {
	out := make([]TensorInfo, len(s.inputs))
	for i, in := range s.inputs {
		out[i] = in
		out[i].Dims = append([]int64{}, in.Dims...)
	}
	return out
}

// Outputs describes the model's outputs as ONNX Runtime reports them.
func (s *Session) Outputs() []TensorInfo {
	out := make([]TensorInfo, len(s.outputs))
	for i, o := range s.outputs {
		out[i] = o.TensorInfo
		out[i].Dims = append([]int64{}, o.Dims...)
	}
	return out
}

// Close frees the ORT session. It is safe to call more than once.
func (s *Session) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sess == nil {
		return nil
	}
	err := s.sess.Destroy()
	s.sess = nil
	return err
}

// Run evaluates the model. Every model input must be given, with the
// model's element type; inputs the model does not have are an error. ORT
// always computes all outputs; Run returns those named (all when names is
// empty). The returned tensors are Go memory owned by the caller.
//
// Outputs are allocated by ORT, except rank-0 ones: onnxruntime_go cannot
// wrap an ORT-allocated scalar (its Shape.Validate rejects an empty shape),
// so Run pre-allocates a scalar for every output the model declares with
// rank 0. An output of unknown rank that turns out to be a scalar fails the
// first time; Run then remembers it as a scalar and runs again.
func (s *Session) Run(inputs map[string]*graph.Tensor, names ...string) (map[string]*graph.Tensor, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.sess == nil {
		return nil, errors.New("ort: Run on a closed session")
	}
	for _, n := range names {
		if _, ok := s.outIdx[n]; !ok {
			return nil, fmt.Errorf("ort: unknown output %q (model outputs: %s)", n, strings.Join(s.OutputNames(), ", "))
		}
	}
	for n := range inputs {
		if _, ok := s.inIdx[n]; !ok {
			return nil, fmt.Errorf("ort: unknown input %q (model inputs: %s)", n, strings.Join(s.InputNames(), ", "))
		}
	}

	ins := make([]onnxruntime.Value, len(s.inputs))
	defer destroyAll(ins)
	for i, info := range s.inputs {
		t, ok := inputs[info.Name]
		if !ok || t == nil {
			return nil, fmt.Errorf("ort: missing input %q (%s%v)", info.Name, info.DType, info.Dims)
		}
		if t.DType != info.DType {
			return nil, fmt.Errorf("ort: input %q has dtype %s, the model wants %s", info.Name, t.DType, info.DType)
		}
		v, err := toORT(t)
		if err != nil {
			return nil, fmt.Errorf("ort: input %q: %w", info.Name, err)
		}
		ins[i] = v
	}

	outs, err := s.run(ins)
	if err != nil {
		return nil, err
	}
	defer destroyAll(outs)

	res := make(map[string]*graph.Tensor, len(s.outputs))
	for i, o := range s.outputs {
		if len(names) > 0 && !slices.Contains(names, o.Name) {
			continue
		}
		t, err := fromORT(outs[i])
		if err != nil {
			return nil, fmt.Errorf("ort: output %q: %w", o.Name, err)
		}
		if o.DType == graph.Float16 && t.DType == graph.Float32 {
			t = toHalf(t)
		}
		res[o.Name] = t
	}
	return res, nil
}

// run calls ORT, pre-allocating the outputs known to be scalars. The caller
// destroys the returned values.
func (s *Session) run(ins []onnxruntime.Value) ([]onnxruntime.Value, error) {
	for attempt := 0; ; attempt++ {
		outs := make([]onnxruntime.Value, len(s.outputs))
		pre := make([]bool, len(s.outputs))
		for i, o := range s.outputs {
			if !o.scalar.Load() {
				continue
			}
			v, err := newScalar(o.DType)
			if err != nil {
				destroyAll(outs)
				return nil, fmt.Errorf("ort: output %q: %w", o.Name, err)
			}
			outs[i], pre[i] = v, true
		}
		err := s.sess.Run(ins, outs)
		if err == nil {
			return outs, nil
		}
		// onnxruntime_go converts ORT-allocated outputs in order and stops
		// at the first it cannot wrap, leaving a typed nil in that slot. If
		// that is a scalar output of unknown rank, pre-allocate it from now
		// on. (The ORT values of the outputs after it are lost:
		// onnxruntime_go does not release them. This happens at most once
		// per such output and session.)
		retry := -1
		if errors.Is(err, onnxruntime.ZeroShapeLengthError) {
			for i := range outs {
				if isNil(outs[i]) && !pre[i] {
					if s.outputs[i].unknownRank {
						retry = i
					}
					break
				}
			}
		}
		destroyAll(outs)
		if retry < 0 || attempt >= len(s.outputs) {
			return nil, fmt.Errorf("ort: run: %w", err)
		}
		s.outputs[retry].scalar.Store(true)
	}
}

func destroyAll(vs []onnxruntime.Value) {
	for i, v := range vs {
		if !isNil(v) {
			v.Destroy()
		}
		vs[i] = nil
	}
}

// isNil reports whether v is nil or holds a nil pointer: when onnxruntime_go
// fails to wrap an output it stores a typed nil (*Tensor[T])(nil) in the
// output slot, which compares unequal to nil.
func isNil(v onnxruntime.Value) bool {
	if v == nil {
		return true
	}
	rv := reflect.ValueOf(v)
	return rv.Kind() == reflect.Pointer && rv.IsNil()
}

// ortElem is every element type that both odmn and onnxruntime_go hold
// natively (float16 goes through float32, see f16.go).
type ortElem interface {
	float32 | float64 | int8 | int16 | int32 | int64 | uint8 | uint16 | uint32 | uint64 | bool
}

// toORT wraps t's data in an ORT tensor without copying (ORT does not write
// to inputs). A rank-0 tensor becomes an ORT scalar.
func toORT(t *graph.Tensor) (onnxruntime.Value, error) {
	n := graph.Size(t.Shape)
	for _, d := range t.Shape {
		if d < 0 {
			return nil, fmt.Errorf("negative dimension in shape %v", t.Shape)
		}
	}
	if t.Len() != n {
		return nil, fmt.Errorf("shape %v needs %d values, the tensor has %d", t.Shape, n, t.Len())
	}
	shape := make(onnxruntime.Shape, len(t.Shape))
	for i, d := range t.Shape {
		shape[i] = int64(d)
	}
	switch t.DType {
	case graph.Float32:
		return ortValue(shape, t.F)
	case graph.Int64:
		return ortValue(shape, t.I)
	case graph.Bool:
		return ortValue(shape, t.B)
	case graph.Float64:
		return ortValue(shape, graph.Data[float64](t))
	case graph.Int32:
		return ortValue(shape, graph.Data[int32](t))
	case graph.Int16:
		return ortValue(shape, graph.Data[int16](t))
	case graph.Int8:
		return ortValue(shape, graph.Data[int8](t))
	case graph.Uint8:
		return ortValue(shape, graph.Data[uint8](t))
	case graph.Uint16:
		return ortValue(shape, graph.Data[uint16](t))
	case graph.Uint32:
		return ortValue(shape, graph.Data[uint32](t))
	case graph.Uint64:
		return ortValue(shape, graph.Data[uint64](t))
	case graph.Float16:
		// The session feeds float16 inputs as float32 (see f16.go): exact.
		h := graph.Data[graph.Half](t)
		f := make([]float32, len(h))
		for i, v := range h {
			f[i] = v.Float32()
		}
		return ortValue(shape, f)
	case graph.String:
		if len(shape) == 0 {
			return nil, errors.New("rank-0 string tensors are not supported by onnxruntime_go")
		}
		// ORT keeps its own copies of the strings (std::string).
		st, err := onnxruntime.NewStringTensor(shape)
		if err != nil {
			return nil, err
		}
		if n > 0 {
			if err := st.SetContents(t.S); err != nil {
				st.Destroy()
				return nil, err
			}
		}
		return st, nil
	}
	return nil, fmt.Errorf("unsupported dtype %s", t.DType)
}

func ortValue[T ortElem](shape onnxruntime.Shape, data []T) (onnxruntime.Value, error) {
	if len(shape) == 0 {
		return onnxruntime.NewScalar(data[0])
	}
	return onnxruntime.NewTensor(shape, data)
}

func newScalar(dt graph.DType) (onnxruntime.Value, error) {
	switch dt {
	case graph.Float32, graph.Float16: // float16 outputs arrive as float32
		return onnxruntime.NewEmptyScalar[float32]()
	case graph.Int64:
		return onnxruntime.NewEmptyScalar[int64]()
	case graph.Bool:
		return onnxruntime.NewEmptyScalar[bool]()
	case graph.Float64:
		return onnxruntime.NewEmptyScalar[float64]()
	case graph.Int32:
		return onnxruntime.NewEmptyScalar[int32]()
	case graph.Int16:
		return onnxruntime.NewEmptyScalar[int16]()
	case graph.Int8:
		return onnxruntime.NewEmptyScalar[int8]()
	case graph.Uint8:
		return onnxruntime.NewEmptyScalar[uint8]()
	case graph.Uint16:
		return onnxruntime.NewEmptyScalar[uint16]()
	case graph.Uint32:
		return onnxruntime.NewEmptyScalar[uint32]()
	case graph.Uint64:
		return onnxruntime.NewEmptyScalar[uint64]()
	}
	return nil, fmt.Errorf("unsupported dtype %s", dt)
}

// fromORT turns an output value into a graph.Tensor. onnxruntime_go already
// copied ORT-allocated data into a Go slice (and scalars live in Go memory),
// so the slices are taken over, not copied again.
func fromORT(v onnxruntime.Value) (*graph.Tensor, error) {
	if isNil(v) {
		return nil, errors.New("ORT returned no value")
	}
	switch x := v.(type) {
	case *onnxruntime.StringTensor:
		ss, err := x.GetContents()
		if err != nil {
			return nil, err
		}
		return &graph.Tensor{DType: graph.String, Shape: intShape(x.GetShape()), S: ss}, nil
	}
	for _, f := range []func(onnxruntime.Value) *graph.Tensor{
		fromValue[float32], fromValue[int64], fromValue[bool], fromValue[float64],
		fromValue[int32], fromValue[int16], fromValue[int8], fromValue[uint8],
		fromValue[uint16], fromValue[uint32], fromValue[uint64],
	} {
		if t := f(v); t != nil {
			return t, nil
		}
	}
	return nil, fmt.Errorf("unsupported ORT value %T (%s)", v, v.GetONNXType())
}

// fromValue converts a *Tensor[T] or *Scalar[T]; nil for any other value.
func fromValue[T ortElem](v onnxruntime.Value) *graph.Tensor {
	switch x := v.(type) {
	case *onnxruntime.Tensor[T]:
		return graph.FromSlice(intShape(x.GetShape()), x.GetData())
	case *onnxruntime.Scalar[T]:
		return graph.FromSlice([]int{}, []T{x.GetData()})
	}
	return nil
}

func intShape(s onnxruntime.Shape) []int {
	out := make([]int, len(s))
	for i, d := range s {
		out[i] = int(d)
	}
	return out
}
