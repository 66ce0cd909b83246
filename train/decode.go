package train

import (
	g "github.com/odmn/odmn/graph"
)

// Decode is the MDME decode of Eq. 7-8 with standard ops, so the same code
// runs in training-time evaluation, in the native runtime and, as the body
// of the ai.odmn MDMEDecode function, in any ONNX runtime.
//
// p is the DCT distribution [N, S]; q the concatenated BCT distributions
// [N, M]; values the decoded value of each bucket [N, M]; subOf the
// sub-distribution of each bucket [M] (int64). It returns the argmax
// decode [N, 1], the expected-value decode [N, 1], s* and u* (global bucket
// index) [N, 1] int64. Ties go to the lowest index (ArgMax
// select_last_index = 0), as the spec says.
func Decode(p, q, values, subOf *g.Node) (ltv, ev, sub, bucket *g.Node) {
	sub = g.ArgMax(p, 1, true, false)                            // s* [N,1]
	inSub := g.Equal(g.Unsqueeze(subOf, 0), sub)                 // [N,M]
	minus1 := g.ScalarLike(q, -1)                                // q >= 0, so -1 never wins
	bucket = g.ArgMax(g.Where(inSub, q, minus1), 1, true, false) // u* [N,1]
	ltv = g.GatherElements(values, bucket, 1)                    // [N,1]
	o := g.Mul(g.Gather(p, subOf, 1), q)                         // o_t [N,M]
	ev = g.ReduceSum(g.Mul(o, values), []int64{1}, true)         // [N,1]
	return ltv, ev, sub, bucket
}

// subOfBuckets lists the sub-distribution of each bucket of a task.
func subOfBuckets(tb TaskBuckets) []int64 {
	var out []int64
	for s, sd := range tb.Subs {
		for range sd.Buckets {
			out = append(out, int64(s))
		}
	}
	return out
}
