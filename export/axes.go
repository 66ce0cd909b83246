package export

import (
	"fmt"

	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/onnxpb"
	"google.golang.org/protobuf/proto"
)

// axesAsInputs rewrites the default-domain nodes of gp whose op takes its
// axes as an input at opset (OpDef.AxesInputSince <= opset) but carry them
// as an attribute: the attribute becomes a Constant node feeding the
// node's second input. A model exports at the newest Since among its ops,
// so a ReduceMean (written in its 13 form) beside a Gelu (20) would
// otherwise be invalid.
func axesAsInputs(gp *onnxpb.GraphProto, opset int) error {
	names := map[string]bool{}
	for _, vi := range gp.GetInput() {
		names[vi.GetName()] = true
	}
	for _, t := range gp.GetInitializer() {
		names[t.GetName()] = true
	}
	nodes, err := rewriteAxes(gp.GetNode(), opset, names)
	gp.Node = nodes
	return err
}

// axesAsInputsFunc is axesAsInputs for a function body.
func axesAsInputsFunc(fp *onnxpb.FunctionProto, opset int) error {
	names := map[string]bool{}
	for _, n := range fp.GetInput() {
		names[n] = true
	}
	nodes, err := rewriteAxes(fp.GetNode(), opset, names)
	fp.Node = nodes
	return err
}

func rewriteAxes(nodes []*onnxpb.NodeProto, opset int, names map[string]bool) ([]*onnxpb.NodeProto, error) {
	for _, n := range nodes {
		names[n.GetName()] = true
		for _, o := range n.GetOutput() {
			names[o] = true
		}
	}
	var out []*onnxpb.NodeProto
	for _, n := range nodes {
		if n.GetDomain() != "" {
			out = append(out, n)
			continue
		}
		d, ok := graph.Lookup("", n.GetOpType())
		ai := -1
		for i, a := range n.GetAttribute() {
			if a.GetName() == "axes" {
				ai = i
			}
		}
		if !ok || d.AxesInputSince == 0 || opset < d.AxesInputSince || ai < 0 {
			out = append(out, n)
			continue
		}
		if len(n.GetInput()) > 1 && n.GetInput()[1] != "" {
			return nil, fmt.Errorf("node %q (%s) has axes both as an attribute and as an input", n.GetName(), n.GetOpType())
		}
		a := n.GetAttribute()[ai]
		name := unique(n.GetName()+"_axes", names)
		c := &onnxpb.NodeProto{Name: proto.String(name), OpType: proto.String("Constant"), Domain: proto.String(""),
			Output: []string{name}}
		tp, err := TensorToProto("", graph.I64([]int{len(a.GetInts())}, append([]int64{}, a.GetInts()...)))
		if err != nil {
			return nil, err
		}
		tp.Name = nil
		c.Attribute = []*onnxpb.AttributeProto{{Name: proto.String("value"), Type: onnxpb.AttributeProto_TENSOR.Enum(), T: tp}}
		n.Attribute = append(n.GetAttribute()[:ai:ai], n.GetAttribute()[ai+1:]...)
		n.Input = []string{n.GetInput()[0], name}
		out = append(out, c, n)
	}
	return out, nil
}
