package config

import (
	"errors"
	"fmt"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// decodeFile applies the YAML config file data, read from path, to cfg.
//
// The file is one YAML mapping whose keys are setting names. It is strict:
// an unknown or repeated key, a value of the wrong type, a second document,
// anchors and aliases are all errors naming the file, line and key. A key
// with no value (or null) leaves the setting as it was. cfg is left
// unchanged on error.
func decodeFile(cfg *Config, path string, data []byte) error {
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		return fmt.Errorf("config: %s: %s", path, yaml.FormatError(err, false, false))
	}
	if len(f.Docs) > 1 {
		return fmt.Errorf("config: %s:%d: only one YAML document is allowed", path, line(f.Docs[1]))
	}
	if len(f.Docs) == 0 || f.Docs[0].Body == nil {
		return nil // empty, or only comments
	}
	var pairs []*ast.MappingValueNode
	switch body := f.Docs[0].Body.(type) {
	case *ast.MappingNode:
		pairs = body.Values
	case *ast.MappingValueNode:
		pairs = []*ast.MappingValueNode{body}
	default:
		return fmt.Errorf("config: %s:%d: want a mapping of setting names to values, got a %s",
			path, line(body), body.Type().YAMLName())
	}

	next := *cfg
	seen := map[string]int{}
	for _, pair := range pairs {
		key, ok := pair.Key.(*ast.StringNode)
		if !ok {
			return fmt.Errorf("config: %s:%d: want a setting name as key, got a %s",
				path, line(pair.Key), pair.Key.Type().YAMLName())
		}
		name, at := key.Value, line(key)
		s, ok := settingByName(name)
		if !ok || !s.inFile {
			return fmt.Errorf("config: %s:%d: unknown key %q (see docs/CONFIG.md)", path, at, name)
		}
		if first, dup := seen[name]; dup {
			return fmt.Errorf("config: %s:%d: key %q repeats line %d", path, at, name, first)
		}
		seen[name] = at
		if err := decodeValue(&next, s, pair.Value); err != nil {
			return fmt.Errorf("config: %s:%d: %s: %w", path, line(pair.Value), name, err)
		}
	}
	*cfg = next
	return nil
}

// decodeValue sets s's field in cfg from node, checking the YAML type
// strictly: no number where a string is wanted, no 1.5 for an integer.
func decodeValue(cfg *Config, s setting, node ast.Node) error {
	if node.Type() == ast.NullType {
		return nil
	}
	got := node.Type().YAMLName()
	switch p := s.field(cfg).Addr().Interface().(type) {
	case *string:
		str, ok := stringOf(node)
		if !ok {
			return fmt.Errorf("want a string, got a %s (quote it)", got)
		}
		*p = str
	case *time.Duration:
		str, ok := stringOf(node)
		if !ok {
			return fmt.Errorf("want a duration such as \"25s\" or \"15m\", got a %s", got)
		}
		return (*durationValue)(p).Set(str)
	case *int:
		if node.Type() != ast.IntegerType {
			return fmt.Errorf("want an integer, got a %s", got)
		}
		return yamlValue(node, p)
	case *float64:
		if node.Type() != ast.IntegerType && node.Type() != ast.FloatType {
			return fmt.Errorf("want a number, got a %s", got)
		}
		return yamlValue(node, p)
	case *bool:
		if node.Type() != ast.BoolType {
			return fmt.Errorf("want true or false, got a %s", got)
		}
		return yamlValue(node, p)
	case *[]string:
		seq, ok := node.(*ast.SequenceNode)
		if !ok {
			return fmt.Errorf("want a list such as [a, b], got a %s", got)
		}
		list := make([]string, 0, len(seq.Values))
		for _, item := range seq.Values {
			str, ok := stringOf(item)
			if !ok {
				return fmt.Errorf("want a list of strings, got a %s item", item.Type().YAMLName())
			}
			list = append(list, str)
		}
		*p = list
	default:
		panic(fmt.Sprintf("config: field for %q has unsupported type %T", s.name, p))
	}
	return nil
}

// stringOf returns the text of a plain, quoted or block string node.
func stringOf(node ast.Node) (string, bool) {
	switch n := node.(type) {
	case *ast.StringNode:
		return n.Value, true
	case *ast.LiteralNode:
		return n.Value.Value, true
	}
	return "", false
}

// yamlValue decodes a scalar node into p, reducing the library's error (which
// quotes source lines) to its message.
func yamlValue(node ast.Node, p any) error {
	err := yaml.NodeToValue(node, p)
	var yerr yaml.Error
	if errors.As(err, &yerr) {
		return errors.New(yerr.GetMessage())
	}
	return err
}

// line returns the 1-based line where node starts, or 0 if unknown.
func line(node ast.Node) int {
	if node == nil || node.GetToken() == nil {
		return 0
	}
	return node.GetToken().Position.Line
}
