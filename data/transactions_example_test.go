package data_test

import (
	"fmt"
	"testing"

	"github.com/odmn/odmn/data"
)

// Features computes one customer's row from their transactions: the
// definition both BuildFromTransactions and odmn's Beam pipeline use.
func ExampleFeatures() {
	f := &data.Features{Window: 3, Horizons: []int{5}, Labels: true, Decimals: data.Decimals{Value: 2}}
	first, _ := data.ParseDay("2024-01-01")
	c := f.NewCustomer("A", first)
	for _, tx := range []struct {
		day   string
		value float64
	}{{"2024-01-01", 10.5}, {"2024-01-01", 4.25}, {"2024-01-03", 0}, {"2024-01-04", 7}, {"2024-01-09", 100}} {
		d, _ := data.ParseDay(tx.day)
		c.Add(data.Transaction{Customer: "A", Day: d, Value: tx.value, Count: 1})
	}
	names, _ := f.Columns()
	r := c.Row()
	fmt.Println(r.Str)
	for j, v := range r.Num {
		fmt.Printf("%s=%g ", names[3+j], v)
	}
	fmt.Println()
	// Output:
	// [A Mon 1]
	// first_value=14.75 recency=0 frequency=2 monetary=14.75 value_d1=14.75 value_d2=0 value_d3=0 count_d1=2 count_d2=0 count_d3=1 ltv_5=7
}

func BenchmarkCustomerRow(b *testing.B) {
	f := &data.Features{Window: 7, Horizons: data.DefaultHorizons, Labels: true, Decimals: data.Decimals{Value: 2}}
	txs := make([]data.Transaction, 40)
	for i := range txs {
		txs[i] = data.Transaction{Customer: "c", Day: int64(i * 9), Value: float64(i) + 0.25, Count: 1}
	}
	b.ReportAllocs()
	for b.Loop() {
		c := f.NewCustomer("c", 0)
		for _, tx := range txs {
			c.Add(tx)
		}
		_ = c.Row()
	}
}
