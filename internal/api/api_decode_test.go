package api

import (
	"encoding/json"
	"reflect"
	"testing"
)

// TestInexactMember: member names must match the fields' JSON names
// exactly, at every depth, while maps and raw JSON take any names.
func TestInexactMember(t *testing.T) {
	type inner struct {
		Text string `json:"text"`
	}
	type embedded struct {
		Room string `json:"room"`
	}
	type body struct {
		embedded
		Items   []inner         `json:"items"`
		One     *inner          `json:"one"`
		Data    json.RawMessage `json:"data"`
		Labels  map[string]int  `json:"labels"`
		Skipped string          `json:"-"`
		Dash    string          `json:"-,"`
		Plain   string
	}
	for _, tc := range []struct{ name, data, want string }{
		{"exact", `{"room":"r","items":[{"text":"a"}],"one":{"text":"b"},"data":{"ANY":1},"labels":{"X":1},"-":"d","Plain":"p"}`, ""},
		{"top-level case", `{"Room":"r"}`, "Room"},
		{"in an array", `{"items":[{"text":"a"},{"TEXT":"b"}]}`, "TEXT"},
		{"behind a pointer", `{"one":{"Text":"b"}}`, "Text"},
		{"skipped field", `{"Skipped":"x"}`, "Skipped"},
		{"untagged field by another case", `{"plain":"p"}`, "plain"},
		{"null members", `{"one":null,"items":null}`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := inexactMember([]byte(tc.data), reflect.TypeOf(&body{})); got != tc.want {
				t.Fatalf("inexactMember(%s) = %q, want %q", tc.data, got, tc.want)
			}
		})
	}
}
