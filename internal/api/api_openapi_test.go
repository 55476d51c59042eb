package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"github.com/parley-chat/parley/internal/api"
	"github.com/parley-chat/parley/internal/audit"
	"github.com/parley-chat/parley/internal/event"
	"github.com/parley-chat/parley/internal/protocol"
	"github.com/parley-chat/parley/internal/testutil"
)

// The OpenAPI document (internal/api/openapi.json) is kept true by
//   - TestOpenAPIDescribesExactlyTheRoutes: its operations are exactly the
//     routes of API.Register, path parameter names included;
//   - loadOpenAPI: kin-openapi refuses a document that is not valid
//     OpenAPI 3.1;
//   - checkResponse, which send calls for every request the API tests make:
//     an answer the document does not describe fails the test;
//   - webhookProblems, which the tests' webhook receiver calls for every
//     request Parley sends it: an event the document's webhooks do not
//     describe fails the test;
//   - TestOpenAPIDocumentConventions and TestOpenAPISchemasFollowTheProtocol:
//     what every handler shares, and the shapes the WebSocket protocol
//     shares;
//   - TestOpenAPIEnumsFollowTheCode: the audit actions and webhook event
//     types are the code's lists.

// openAPISpec is the loaded document and a ServeMux with one pattern per
// documented operation, to find a request's operation the way the
// server's own ServeMux finds its handler.
type openAPISpec struct {
	doc *openapi3.T
	ops *http.ServeMux
	// preflight is the OPTIONS answer every path gives, built from the
	// document's Preflight… components (no path item can describe a
	// catch-all).
	preflight *openapi3.Operation
}

// opMatch is what the ServeMux of openAPISpec found for a request.
type opMatch struct {
	path   string // the document's path, without api.Prefix
	method string
	params map[string]string
}

type opMatchKey struct{}

// loadOpenAPI loads and validates the document once per test binary.
var loadOpenAPI = sync.OnceValues(func() (*openAPISpec, error) {
	ctx := context.Background()
	doc, err := openapi3.NewLoader().LoadFromData(api.OpenAPIJSON)
	if err != nil {
		return nil, fmt.Errorf("load openapi.json: %w", err)
	}
	if err := doc.Validate(ctx); err != nil {
		return nil, fmt.Errorf("openapi.json is not a valid OpenAPI document: %w", err)
	}
	if !doc.IsOpenAPI31OrLater() {
		return nil, fmt.Errorf("openapi.json is OpenAPI %s, want 3.1", doc.OpenAPI)
	}
	s := &openAPISpec{doc: doc, ops: http.NewServeMux()}
	wildcard := regexp.MustCompile(`\{([^}]*)\}`)
	for _, path := range doc.Paths.InMatchingOrder() {
		for method := range doc.Paths.Value(path).Operations() {
			names := wildcard.FindAllStringSubmatch(path, -1)
			err := register(s.ops, method+" "+api.Prefix+path, func(w http.ResponseWriter, r *http.Request) {
				m := r.Context().Value(opMatchKey{}).(*opMatch)
				m.path, m.method, m.params = path, method, map[string]string{}
				for _, n := range names {
					m.params[n[1]] = r.PathValue(n[1])
				}
			})
			if err != nil {
				return nil, fmt.Errorf("openapi.json: %s %s: %w", method, path, err)
			}
		}
	}
	s.preflight = &openapi3.Operation{Responses: openapi3.NewResponses()}
	for status, name := range map[int]string{
		http.StatusNoContent:        "PreflightAllowed",
		http.StatusForbidden:        "PreflightForbidden",
		http.StatusMethodNotAllowed: "PreflightMethodNotAllowed",
	} {
		ref := doc.Components.Responses[name]
		if ref == nil {
			return nil, fmt.Errorf("openapi.json: components.responses has no %s", name)
		}
		s.preflight.Responses.Set(strconv.Itoa(status), ref)
	}
	return s, nil
})

// register adds a pattern to mux, turning ServeMux's panic on a bad or
// conflicting pattern into an error.
func register(mux *http.ServeMux, pattern string, h http.HandlerFunc) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%v", p)
		}
	}()
	mux.HandleFunc(pattern, h)
	return nil
}

func openAPI(t testing.TB) *openAPISpec {
	t.Helper()
	s, err := loadOpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// route finds the operation the document gives for req, or nil.
func (s *openAPISpec) route(req *http.Request) (*routers.Route, map[string]string) {
	if req.Method == http.MethodOptions {
		return &routers.Route{Spec: s.doc, Path: req.URL.Path, Method: req.Method, Operation: s.preflight}, nil
	}
	var m opMatch
	probe := req.Clone(context.WithValue(req.Context(), opMatchKey{}, &m))
	probe.Body = http.NoBody
	s.ops.ServeHTTP(httptest.NewRecorder(), probe)
	if m.path == "" {
		return nil, nil
	}
	item := s.doc.Paths.Value(m.path)
	return &routers.Route{Spec: s.doc, Path: m.path, PathItem: item, Method: m.method, Operation: item.GetOperation(m.method)}, m.params
}

// validationOptions make kin-openapi fail on an undocumented status and
// report every problem, each as its reason (its default message repeats
// the whole schema and value).
func validationOptions() *openapi3filter.Options {
	o := &openapi3filter.Options{
		IncludeResponseStatus: true,
		MultiError:            true,
		AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc,
	}
	o.WithCustomSchemaErrorFunc(func(err *openapi3.SchemaError) string {
		if p := err.JSONPointer(); len(p) > 0 && !strings.HasPrefix(err.Reason, "at '") {
			return "at '/" + strings.Join(p, "/") + "': " + err.Reason
		}
		return err.Reason
	})
	return o
}

// responseProblems says how the answer to req (whose body was reqBody)
// departs from the document: no operation for its method and path, a
// status the operation does not list, a described header missing or out
// of its schema, a body of another media type or schema, or a body where
// the response describes none. When the server accepted the request (2xx),
// the request must match the operation too — its parameters and body —
// so that the document never refuses what the server takes.
func (s *openAPISpec) responseProblems(req *http.Request, reqBody string, status int, header http.Header, body []byte) []string {
	route, params := s.route(req)
	if route == nil {
		return []string{"the document has no operation for this method and path"}
	}
	ref := route.Operation.Responses.Status(status)
	if ref == nil {
		return []string{fmt.Sprintf("status %d is not among the operation's responses", status)}
	}
	var problems []string
	if len(ref.Value.Content) == 0 && len(body) > 0 {
		problems = append(problems, fmt.Sprintf("status %d is described without a body, but the answer has one", status))
	}
	op, asStatus := route.Operation, status
	if status == http.StatusNotModified {
		// kin-openapi skips 304s altogether; check the 304's headers as
		// those of a response of another status.
		asStatus = http.StatusOK
		op = &openapi3.Operation{Responses: openapi3.NewResponses(openapi3.WithStatus(asStatus, ref))}
	}
	ctx := context.Background()
	reqIn := &openapi3filter.RequestValidationInput{
		Request: req, PathParams: params, Options: validationOptions(),
		Route: &routers.Route{Spec: route.Spec, Path: route.Path, PathItem: route.PathItem, Method: route.Method, Operation: op},
	}
	err := openapi3filter.ValidateResponse(ctx, &openapi3filter.ResponseValidationInput{
		RequestValidationInput: reqIn, Status: asStatus, Header: header,
		Body: io.NopCloser(bytes.NewReader(body)), Options: reqIn.Options,
	})
	if err != nil {
		problems = append(problems, "answer: "+err.Error())
	}
	if status/100 == 2 && req.Method != http.MethodOptions {
		vreq := req.Clone(ctx)
		vreq.Body = io.NopCloser(strings.NewReader(reqBody))
		if reqBody == "" {
			vreq.Body = http.NoBody
		}
		reqIn.Request = vreq
		if err := openapi3filter.ValidateRequest(ctx, reqIn); err != nil {
			problems = append(problems, "the server accepted a request the document refuses: "+err.Error())
		}
	}
	return problems
}

// checkResponse fails t unless the document describes the answer to req;
// see responseProblems.
func checkResponse(t testing.TB, req *http.Request, reqBody string, status int, header http.Header, body []byte) {
	t.Helper()
	for _, p := range openAPI(t).responseProblems(req, reqBody, status, header, body) {
		t.Errorf("openapi.json does not describe %s %s → %d: %s\nbody: %.500s", req.Method, req.URL.RequestURI(), status, p, body)
	}
}

// webhookProblems says how a webhook request that Parley sent (body is
// its body) departs from the document's webhooks: no entry for its
// Parley-Event, or headers or a body the entry does not describe.
func (s *openAPISpec) webhookProblems(r *http.Request, body []byte) []string {
	typ := r.Header.Get("Parley-Event")
	item := s.doc.Webhooks[typ]
	if item == nil || item.Post == nil {
		return []string{fmt.Sprintf("the document's webhooks have no POST for the event %q", typ)}
	}
	ctx := context.Background()
	req := r.Clone(ctx)
	req.Body = io.NopCloser(bytes.NewReader(body))
	err := openapi3filter.ValidateRequest(ctx, &openapi3filter.RequestValidationInput{
		Request: req, Options: validationOptions(),
		Route: &routers.Route{Spec: s.doc, Path: typ, PathItem: item, Method: http.MethodPost, Operation: item.Post},
	})
	if err != nil {
		return []string{err.Error()}
	}
	return nil
}

// documented lists the document's operations as "METHOD /path".
func (s *openAPISpec) documented() []string {
	var out []string
	for path, item := range s.doc.Paths.Map() {
		for method := range item.Operations() {
			out = append(out, method+" "+path)
		}
	}
	slices.Sort(out)
	return out
}

// TestOpenAPIDescribesExactlyTheRoutes: every route Register mounts is an
// operation of the document, with the same path parameter names, and
// every operation of the document is a route.
func TestOpenAPIDescribesExactlyTheRoutes(t *testing.T) {
	spec := openAPI(t)
	a := api.New(api.Deps{})
	a.Register(http.NewServeMux())
	routes := a.Routes()
	if len(routes) == 0 {
		t.Fatal("Register mounted no routes")
	}
	documented := spec.documented()
	for _, r := range routes {
		if !slices.Contains(documented, r) {
			t.Errorf("the route %q is not described in internal/api/openapi.json: add its path and method", r)
		}
	}
	for _, d := range documented {
		if !slices.Contains(routes, d) {
			t.Errorf("internal/api/openapi.json describes %q, which is not a route of API.Register", d)
		}
	}
}

// TestOpenAPIDocumentConventions holds the document to what the handlers
// share: the server URL is the API's prefix; every operation has an id, a
// summary, a tag and its own security (there is no default); an operation
// that takes credentials can refuse them (401, 403); one that reads a body
// can refuse it (400, 413); every one but the document's own can fail in
// the store (503); and every error answer is an Error body.
func TestOpenAPIDocumentConventions(t *testing.T) {
	spec := openAPI(t)
	doc := spec.doc
	if len(doc.Servers) != 1 || doc.Servers[0].URL != api.Prefix {
		t.Errorf("servers = %v, want the one URL %s", doc.Servers, api.Prefix)
	}
	if doc.Security != nil {
		t.Errorf("the document has a default security requirement; give each operation its own")
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			name := method + " " + path
			if op.OperationID == "" || op.Summary == "" || len(op.Tags) == 0 {
				t.Errorf("%s: give it an operationId, a summary and a tag", name)
			}
			if op.Security == nil {
				t.Errorf("%s: no security requirement; use [] for an endpoint that takes no credentials", name)
			}
			var want []int
			if op.Security != nil && len(*op.Security) > 0 {
				want = append(want, 401, 403)
			}
			if op.RequestBody != nil {
				want = append(want, 400, 413)
			}
			if op.OperationID != "getOpenAPI" {
				want = append(want, 503) // a store or hub fault, or a client gone
			}
			for _, status := range want {
				if op.Responses.Status(status) == nil {
					t.Errorf("%s: no %d response", name, status)
				}
			}
			for code, ref := range op.Responses.Map() {
				if code[0] < '4' {
					continue
				}
				mt := ref.Value.Content.Get("application/json")
				if mt == nil || mt.Schema == nil || !strings.HasPrefix(mt.Schema.Ref, "#/components/schemas/Error") {
					t.Errorf("%s: the %s response's body is not an Error", name, code)
				}
			}
		}
	}
}

// TestOpenAPISchemasFollowTheProtocol: the shapes the API shares with the
// WebSocket protocol have the fields, required fields and error codes of
// the protocol's JSON Schema, so neither document drifts from the other
// where the tests never produce a field (a reaction, an edit).
func TestOpenAPISchemasFollowTheProtocol(t *testing.T) {
	spec := openAPI(t)
	var ws struct {
		Defs map[string]struct {
			Required   []string                   `json:"required"`
			Properties map[string]json.RawMessage `json:"properties"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(protocol.SchemaJSON, &ws); err != nil {
		t.Fatal(err)
	}
	for component, def := range map[string]string{
		"Message": "message", "User": "user", "Reaction": "reaction", "Ack": "ackBody",
		"UnreadRoom": "unreadRoom", "ErrorBody": "errorBody", "History": "historyReply", "Unread": "unreadBody",
		"Notification": "notification",
	} {
		got := spec.doc.Components.Schemas[component]
		want, ok := ws.Defs[def]
		if got == nil || !ok {
			t.Errorf("%s or the protocol's %s is missing", component, def)
			continue
		}
		gotProps := slices.Sorted(maps.Keys(got.Value.Properties))
		wantProps := slices.Sorted(maps.Keys(want.Properties))
		if !slices.Equal(gotProps, wantProps) {
			t.Errorf("%s has the fields %v, the protocol's %s %v", component, gotProps, def, wantProps)
		}
		if g, w := slices.Sorted(slices.Values(got.Value.Required)), slices.Sorted(slices.Values(want.Required)); !slices.Equal(g, w) {
			t.Errorf("%s requires %v, the protocol's %s %v", component, g, def, w)
		}
	}
	var codes struct {
		Enum []any `json:"enum"`
	}
	if err := json.Unmarshal(ws.Defs["errorBody"].Properties["code"], &codes); err != nil {
		t.Fatal(err)
	}
	if got := spec.doc.Components.Schemas["ErrorBody"].Value.Properties["code"].Value.Enum; !slices.Equal(got, codes.Enum) {
		t.Errorf("ErrorBody codes %v, the protocol's %v", got, codes.Enum)
	}
}

// TestOpenAPIEnumsFollowTheCode: the lists the document spells out are
// the code's own, so an audit action or a webhook event added there
// cannot be missing here.
func TestOpenAPIEnumsFollowTheCode(t *testing.T) {
	spec := openAPI(t)
	for name, want := range map[string][]string{
		"AuditAction":      audit.Actions,
		"WebhookEventType": event.Types,
	} {
		schema := spec.doc.Components.Schemas[name]
		if schema == nil {
			t.Errorf("components.schemas has no %s", name)
			continue
		}
		var got []string
		for _, v := range schema.Value.Enum {
			s, _ := v.(string)
			got = append(got, s)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s is %v, the code's list %v", name, got, want)
		}
	}
}

// TestOpenAPIServed: the document is served to anyone, as JSON, the same
// bytes as the file, cacheable and revalidated by its ETag.
func TestOpenAPIServed(t *testing.T) {
	ts := testutil.StartServer(t, nil)
	status, body, h := do(t, ts, "GET", "/api/v1/openapi.json", "", "")
	if status != http.StatusOK || body != string(api.OpenAPIJSON) || h.Get("ETag") == "" ||
		!strings.HasPrefix(h.Get("Content-Type"), "application/json") {
		t.Fatalf("GET /api/v1/openapi.json = %d (%d bytes, headers %v), want 200 with openapi.json", status, len(body), h)
	}
	req, err := http.NewRequestWithContext(context.Background(), "GET", ts.URL+"/api/v1/openapi.json", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("If-None-Match", `"0000000000000000", `+h.Get("ETag"))
	if status, body, _ := send(t, http.DefaultClient, req, ""); status != http.StatusNotModified || body != "" {
		t.Fatalf("GET with the ETag = %d %q, want an empty 304", status, body)
	}
	req.Header.Set("If-None-Match", `"0000000000000000"`)
	if status, _, _ := send(t, http.DefaultClient, req, ""); status != http.StatusOK {
		t.Fatalf("GET with another ETag = %d, want 200", status)
	}
}

// TestOpenAPIValidatorCatchesDrift: the check every test's requests go
// through refuses answers the document does not describe. Each answer
// here is a real one with one thing changed.
func TestOpenAPIValidatorCatchesDrift(t *testing.T) {
	spec := openAPI(t)
	jsonHeader := http.Header{"Content-Type": {"application/json; charset=utf-8"}, "Cache-Control": {"no-store"}}
	with := func(h http.Header, kv ...string) http.Header {
		h = h.Clone()
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == "" {
				h.Del(kv[i])
			} else {
				h.Set(kv[i], kv[i+1])
			}
		}
		return h
	}
	room := `{"name":"lobby","private":false,"topic":"","created_at":"2026-05-01T12:00:00.000Z","last_seq":0,"locked":false,"archived":false}`
	unauthorized := with(jsonHeader, "WWW-Authenticate", `Bearer realm="parley"`)
	for _, tc := range []struct {
		name         string
		method, path string
		reqBody      string
		status       int
		header       http.Header
		body         string
		wantProblem  string // "" for an answer the document describes
	}{
		{name: "a room as described", method: "GET", path: "/api/v1/rooms/lobby", status: 200, header: jsonHeader, body: room},
		{name: "an undocumented status", method: "GET", path: "/api/v1/rooms/lobby", status: 418, header: jsonHeader, body: room,
			wantProblem: "status 418"},
		{name: "an undocumented field", method: "GET", path: "/api/v1/rooms/lobby", status: 200, header: jsonHeader,
			body: strings.Replace(room, `"name"`, `"kind":"room","name"`, 1), wantProblem: "kind"},
		{name: "a required field missing", method: "GET", path: "/api/v1/rooms/lobby", status: 200, header: jsonHeader,
			body: `{"name":"lobby","private":false}`, wantProblem: "missing"},
		{name: "a time without milliseconds", method: "GET", path: "/api/v1/rooms/lobby", status: 200, header: jsonHeader,
			body: strings.Replace(room, ".000Z", "Z", 1), wantProblem: "created_at"},
		{name: "no Cache-Control", method: "GET", path: "/api/v1/rooms/lobby", status: 200, header: with(jsonHeader, "Cache-Control", ""),
			body: room, wantProblem: "Cache-Control"},
		{name: "no body", method: "GET", path: "/api/v1/rooms/lobby", status: 200, header: jsonHeader, wantProblem: "body"},
		{name: "plain text", method: "GET", path: "/api/v1/rooms/lobby", status: 200, header: with(jsonHeader, "Content-Type", "text/plain"),
			body: "lobby", wantProblem: "text/plain"},
		{name: "a 401 without WWW-Authenticate", method: "GET", path: "/api/v1/rooms", status: 401, header: jsonHeader,
			body: `{"error":{"code":"unauthorized","message":"x"}}`, wantProblem: "WWW-Authenticate"},
		{name: "a 401 with another code", method: "GET", path: "/api/v1/rooms", status: 401, header: unauthorized,
			body: `{"error":{"code":"forbidden","message":"x"}}`, wantProblem: "unauthorized"},
		{name: "a 204 with a body", method: "DELETE", path: "/api/v1/admin/keys/0123456789abcdef0123", status: 204,
			body: `{}`, wantProblem: "without a body"},
		{name: "a new message marked duplicate", method: "POST", path: "/api/v1/rooms/lobby/messages", reqBody: `{"text":"x"}`, status: 201,
			header: jsonHeader, body: `{"room":"lobby","message_id":"m","seq":1,"ts":"2026-05-01T12:00:00.000Z","duplicate":true}`,
			wantProblem: "duplicate"},
		{name: "an accepted request the document refuses", method: "POST", path: "/api/v1/rooms", reqBody: `{"name":"x","colour":"red"}`,
			status: 201, header: with(jsonHeader, "Location", "/api/v1/rooms/x"), body: room, wantProblem: "colour"},
		{name: "a notification with two targets accepted", method: "POST", path: "/api/v1/notifications",
			reqBody: `{"topic":"orders.42","user":"u_x","title":"x"}`, status: 201, header: jsonHeader,
			body: `{"id":"n","recipients":1,"ts":"2026-05-01T12:00:00.000Z"}`, wantProblem: "oneOf"},
		{name: "a webhook listed with its secret", method: "GET", path: "/api/v1/admin/webhooks", status: 200, header: jsonHeader,
			body: `{"webhooks":[{"id":"w","url":"https://x.example/","events":["*"],"secret":"0123456789abcdef","created_at":"2026-05-01T12:00:00.000Z"}]}`, wantProblem: "'not' failed"},
		{name: "a path the document lacks", method: "GET", path: "/api/v1/nowhere", status: 200, header: jsonHeader, body: `{}`,
			wantProblem: "no operation"},
		{name: "a method the document lacks", method: "PUT", path: "/api/v1/rooms/lobby", status: 204,
			wantProblem: "no operation"},
		{name: "a preflight", method: "OPTIONS", path: "/api/v1/rooms", status: 204,
			header: http.Header{"Allow": {"OPTIONS, GET, POST, PUT, PATCH, DELETE"}}},
		{name: "a preflight with an undocumented status", method: "OPTIONS", path: "/api/v1/rooms", status: 200,
			wantProblem: "status 200"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, "http://127.0.0.1"+tc.path, strings.NewReader(tc.reqBody))
			if tc.reqBody != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			problems := spec.responseProblems(req, tc.reqBody, tc.status, tc.header, []byte(tc.body))
			got := strings.Join(problems, "\n")
			switch {
			case tc.wantProblem == "" && len(problems) > 0:
				t.Fatalf("the answer was refused: %s", got)
			case tc.wantProblem != "" && !strings.Contains(got, tc.wantProblem):
				t.Fatalf("problems %q, want one naming %q", got, tc.wantProblem)
			}
		})
	}
}
