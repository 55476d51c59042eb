package api

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
)

// inexactMember returns the first member name of the JSON value data, at
// any depth, that is not exactly the name of a field of t, or "" when all
// are. encoding/json matches names without regard to case, so "teXt" fills
// Text; openapi.json, and most JSON libraries a client might check a body
// with, do not, so decode refuses such a body instead of taking it. Only
// data that already decoded into t is checked: anything else has an error
// of its own.
func inexactMember(data []byte, t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t.Kind() == reflect.Struct:
		var obj map[string]json.RawMessage
		if json.Unmarshal(data, &obj) != nil {
			return ""
		}
		fields := jsonFields(t, nil)
		names := make([]string, 0, len(obj))
		for name := range obj {
			names = append(names, name)
		}
		slices.Sort(names)
		for _, name := range names {
			ft, ok := fields[name]
			if !ok {
				return name
			}
			if bad := inexactMember(obj[name], ft); bad != "" {
				return bad
			}
		}
	case (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) && t.Elem().Kind() != reflect.Uint8:
		var items []json.RawMessage
		if json.Unmarshal(data, &items) != nil {
			return ""
		}
		for _, it := range items {
			if bad := inexactMember(it, t.Elem()); bad != "" {
				return bad
			}
		}
	}
	// Maps, json.RawMessage and scalars take any names, or have none.
	return ""
}

// jsonFields adds the JSON names of t's fields to into, with their types,
// as encoding/json names them: the tag's name, else the Go name; "-"
// skipped; untagged embedded structs flattened.
func jsonFields(t reflect.Type, into map[string]reflect.Type) map[string]reflect.Type {
	if into == nil {
		into = make(map[string]reflect.Type)
	}
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		if name == "-" && !strings.HasPrefix(tag, "-,") {
			continue
		}
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if f.Anonymous && name == "" && ft.Kind() == reflect.Struct {
			jsonFields(ft, into)
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		into[name] = f.Type
	}
	return into
}
