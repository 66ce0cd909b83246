package data_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/odmn/odmn/data"
)

// Fit an encoder on the training rows of a table, then load the whole table
// as compact feature ids and labels.
func ExampleLoad() {
	dir, err := os.MkdirTemp("", "odmn-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "users.csv")
	err = os.WriteFile(path, []byte(`user_id,channel,first_value,spend_d1,spend_d2,ltv_30,ltv_90
u1,ads,10,10,0,0,5
u2,organic,25,20,5,12,30
u3,ads,,0,0,0,0
u4,ads,40,35,5,8,8
`), 0o644)
	if err != nil {
		log.Fatal(err)
	}
	spec := &data.Spec{
		ID:          "user_id",
		Categorical: []data.Categorical{{Name: "channel"}},
		Numeric:     []data.Numeric{{Name: "first_value", Bins: 2}},
		Sequences:   []data.Sequence{{Name: "spend", Length: 2, Bins: 2}},
		Labels:      []data.Label{{Name: "ltv_30", Horizon: 30}, {Name: "ltv_90", Horizon: 90}},
		LabelKind:   "money",
	}
	train, _ := data.Split(4, 0.25, 1) // fit on 3 of the 4 rows
	enc, err := data.Fit(path, spec, data.FitOptions{Rows: train, Seed: 1})
	if err != nil {
		log.Fatal(err)
	}
	ds, err := data.Load(path, spec, enc)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("train rows:", train)
	fmt.Println("rows, slots, horizons:", ds.N, ds.F, ds.T)
	for _, f := range ds.Features {
		fmt.Printf("slot %s: %s, %d ids\n", f.Column, f.Type, f.Cardinality)
	}
	for i := 0; i < ds.N; i++ {
		fmt.Println(ds.ID(i), ds.Row(i), ds.Label(i))
	}
	// Output:
	// train rows: [0 1 2]
	// rows, slots, horizons: 4 4 2
	// slot channel: categorical, 3 ids
	// slot first_value: numeric, 3 ids
	// slot spend_d1: sequence, 3 ids
	// slot spend_d2: sequence, 3 ids
	// u1 [1 1 2 1] [0 5]
	// u2 [2 2 2 2] [12 30]
	// u3 [1 0 1 1] [0 0]
	// u4 [1 2 2 2] [8 8]
}

// Turn a transaction log into a user table: features from each customer's
// first 7 days, labels summed over the 30 and 90 days after them. Customer
// b's history (to the last date in the log) is too short for the 90-day
// horizon, so b is dropped and counted.
func ExampleBuildFromTransactions() {
	dir, err := os.MkdirTemp("", "data-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	logPath := filepath.Join(dir, "log.csv")
	err = os.WriteFile(logPath, []byte(`customer,date,amount
a,2024-01-01,10
a,2024-01-03,5
a,2024-02-01,20
b,2024-03-20,7
a,2024-04-15,1
`), 0o644)
	if err != nil {
		log.Fatal(err)
	}
	tab, _, st, err := data.BuildFromTransactions(data.BuildOptions{
		In: logPath, Customer: "customer", Time: "date", Value: "amount",
		Window: 7, Horizons: []int{30, 90},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(st.Rows, "transactions,", st.Customers, "customers,", st.Kept, "kept,", st.Dropped, "dropped")
	// a spends 10 on day 0, 5 on day 2 (the window), 20 on day 31 (both
	// horizons) and 1 on day 105 (after 7 + 90 days: in neither).
	fmt.Println("first_value", tab.Num[tab.Col("first_value")], "ltv_30", tab.Num[tab.Col("ltv_30")], "ltv_90", tab.Num[tab.Col("ltv_90")])
	// Output:
	// 5 transactions, 2 customers, 1 kept, 1 dropped
	// first_value [10] ltv_30 [20] ltv_90 [20]
}
