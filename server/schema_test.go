package server_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/parley-chat/parley/internal/testutil"
)

func TestProtocolSchemaIsServed(t *testing.T) {
	ts := testutil.StartServer(t, nil)
	resp, err := http.Get(ts.URL + "/protocol/v1.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var schema map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&schema); err != nil || resp.StatusCode != 200 {
		t.Fatalf("schema: status %d, err %v", resp.StatusCode, err)
	}
	if schema["$schema"] == nil {
		t.Fatalf("schema has no $schema")
	}
}
