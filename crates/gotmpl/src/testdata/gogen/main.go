// Command gogen renders go_cases.json with Go's text/template and writes go_golden.json, the
// reference outputs the Rust engine is compared against. Data is decoded the way Kubernetes
// unstructured objects are: integers as int64, other numbers as float64. Go prints
// "<no value>" for missing keys where ork prints nothing; the outputs record that difference
// as is (the Rust test maps it). Run: (cd gogen && go run . ../go_cases.json ../go_golden.json)
package main

import (
	"bytes"
	"encoding/json"
	"os"
	"strconv"
	"text/template"
)

type testCase struct {
	Template string          `json:"template"`
	Data     json.RawMessage `json:"data"`
}

type golden struct {
	Template string `json:"template"`
	Output   string `json:"output"`
	Error    bool   `json:"error"`
}

func convert(v interface{}) interface{} {
	switch x := v.(type) {
	case json.Number:
		if i, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case map[string]interface{}:
		for k, e := range x {
			x[k] = convert(e)
		}
		return x
	case []interface{}:
		for k, e := range x {
			x[k] = convert(e)
		}
		return x
	}
	return v
}

func main() {
	raw, err := os.ReadFile(os.Args[1])
	if err != nil {
		panic(err)
	}
	var cases []testCase
	if err := json.Unmarshal(raw, &cases); err != nil {
		panic(err)
	}
	out := make([]golden, 0, len(cases))
	for _, c := range cases {
		dec := json.NewDecoder(bytes.NewReader(c.Data))
		dec.UseNumber()
		var data interface{}
		if err := dec.Decode(&data); err != nil {
			panic(err)
		}
		data = convert(data)
		g := golden{Template: c.Template}
		t, err := template.New("root").Parse(c.Template)
		if err != nil {
			g.Error = true
		} else {
			var buf bytes.Buffer
			if err := t.Execute(&buf, data); err != nil {
				g.Error = true
			} else {
				g.Output = buf.String()
			}
		}
		out = append(out, g)
	}
	enc, _ := json.MarshalIndent(out, "", " ")
	if err := os.WriteFile(os.Args[2], enc, 0o644); err != nil {
		panic(err)
	}
}
