package compat

import (
	"fmt"
	"sort"

	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/onnxpb"
)

// OpSupport says whether odmn's importer (and so the native runtime) takes
// one op of a model, at the version the model's opset gives it.
type OpSupport struct {
	Domain  string `json:"domain"` // "" is ai.onnx
	Type    string `json:"op"`
	Version int    `json:"version,omitempty"` // since-version at the model's opset (ai.onnx only)
	Count   int    `json:"count"`             // nodes, main graph and functions
	// Supported: the op, at that version, is in the vocabulary (or is a
	// model-local function, whose body is listed too).
	Supported bool   `json:"supported"`
	Reason    string `json:"reason,omitempty"` // why not
}

// Name is the op as domain.Type (Type alone for ai.onnx).
func (s OpSupport) Name() string {
	if s.Domain == "" {
		return s.Type
	}
	return s.Domain + "." + s.Type
}

// Support lists every op the model uses (main graph and function bodies),
// sorted by name, with whether odmn takes it. It looks at op types and
// versions only: element types and attributes are checked by Import.
func Support(m *onnxpb.ModelProto) []OpSupport {
	opsets := map[string]int64{}
	for _, o := range m.GetOpsetImport() {
		opsets[normDomain(o.GetDomain())] = o.GetVersion()
	}
	local := map[string]bool{}
	for _, f := range m.GetFunctions() {
		local[fkey(normDomain(f.GetDomain()), f.GetName())] = true
	}
	byKey := map[string]*OpSupport{}
	visit := func(nodes []*onnxpb.NodeProto, opsets map[string]int64) {
		for _, np := range nodes {
			dom, typ := normDomain(np.GetDomain()), np.GetOpType()
			s := opSupport(dom, typ, opsets[dom], local[fkey(dom, typ)])
			k := fmt.Sprintf("%s\x00%s\x00%d", dom, typ, s.Version)
			if byKey[k] == nil {
				byKey[k] = &s
			}
			byKey[k].Count++
		}
	}
	visit(m.GetGraph().GetNode(), opsets)
	for _, f := range m.GetFunctions() {
		fo := map[string]int64{}
		for d, v := range opsets {
			fo[d] = v
		}
		for _, o := range f.GetOpsetImport() {
			fo[normDomain(o.GetDomain())] = o.GetVersion()
		}
		visit(f.GetNode(), fo)
	}
	out := make([]OpSupport, 0, len(byKey))
	for _, s := range byKey {
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Name() != out[j].Name() {
			return out[i].Name() < out[j].Name()
		}
		return out[i].Version < out[j].Version
	})
	return out
}

func opSupport(dom, typ string, opset int64, local bool) OpSupport {
	s := OpSupport{Domain: dom, Type: typ}
	if local {
		s.Supported, s.Reason = true, ""
		return s
	}
	def, ok := graph.Lookup(dom, typ)
	if !ok || def.Internal {
		s.Reason = fmt.Sprintf("op %s (domain %s) is not in odmn's vocabulary", typ, domainName(dom))
		return s
	}
	if dom != "" || def.Function != nil {
		s.Supported = true
		return s
	}
	since, err := effectiveSince(typ, opset, def, typ)
	if err != nil {
		s.Reason = err.Error()
		return s
	}
	s.Version = since
	if !adaptable(def, since) {
		s.Reason = fmt.Sprintf("%s-%d is not supported; odmn implements %s-%d%s", typ, since, typ, def.Since, compatNote(def))
		return s
	}
	s.Supported = true
	return s
}

// Unsupported returns the ops of s that odmn does not take.
func Unsupported(s []OpSupport) []OpSupport {
	var out []OpSupport
	for _, x := range s {
		if !x.Supported {
			out = append(out, x)
		}
	}
	return out
}
