package config

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/lexer"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// decodeFile applies the YAML config file data, read from path, to cfg.
//
// The file is one YAML mapping whose keys are setting names. It is strict:
// an unknown or repeated key, a value of the wrong type, a second document,
// anchors, aliases and tags are all errors. Every problem in the file is
// reported, joined in line order, each as "config: FILE:LINE: KEY:
// problem"; a YAML syntax error stops the parse, so it is reported alone. A
// key with no value (or null) leaves the setting as it was. cfg is left
// unchanged on error.
func decodeFile(cfg *Config, path string, data []byte) error {
	// Duplicates are allowed here so that our own check, which names every
	// line the key is on, reports them instead of the parser.
	f, err := parser.ParseBytes(data, 0, parser.AllowDuplicateMapKey())
	if err != nil {
		return syntaxError(path, data, err)
	}
	d := fileDecoder{path: path}
	next := *cfg
	if at := secondDocument(f, data); at > 0 {
		d.add(at, "", "only one YAML document is allowed, and a second one starts here")
	}
	if len(f.Docs) > 0 && f.Docs[0].Body != nil {
		d.mapping(&next, f.Docs[0].Body)
	}
	if len(d.problems) > 0 {
		slices.SortStableFunc(d.problems, func(a, b problem) int { return cmp.Compare(a.line, b.line) })
		errs := make([]error, len(d.problems))
		for i, p := range d.problems {
			errs[i] = p.err
		}
		return errors.Join(errs...)
	}
	*cfg = next
	return nil
}

// A fileDecoder collects the problems found in one config file.
type fileDecoder struct {
	path     string
	problems []problem
}

type problem struct {
	line int
	err  error
}

// add records a problem at line at, about the setting key if not "".
func (d *fileDecoder) add(at int, key, msg string) {
	if key != "" {
		msg = key + ": " + msg
	}
	d.problems = append(d.problems, problem{at, fmt.Errorf("config: %s:%d: %s", d.path, at, msg)})
}

// mapping decodes the body of the file's document into cfg.
func (d *fileDecoder) mapping(cfg *Config, body ast.Node) {
	var pairs []*ast.MappingValueNode
	switch b := body.(type) {
	case *ast.MappingNode:
		pairs = b.Values
	case *ast.MappingValueNode:
		pairs = []*ast.MappingValueNode{b}
	default:
		d.add(line(body), "", "want a mapping of setting names to values, got "+describe(body))
		return
	}

	// Where each key appears, to report a repeated key once, at its second
	// appearance, with all its lines.
	lines := map[string][]int{}
	for _, pair := range pairs {
		if key, ok := pair.Key.(*ast.StringNode); ok {
			lines[key.Value] = append(lines[key.Value], line(key))
		}
	}
	seen := map[string]int{}
	for _, pair := range pairs {
		key, ok := pair.Key.(*ast.StringNode)
		if !ok {
			d.add(line(pair.Key), "", "want a setting name as key, got "+describe(pair.Key))
			continue
		}
		name := key.Value
		s, ok := settingByName(name)
		switch {
		case !ok:
			d.add(line(key), "", unknownKey(name))
			continue
		case !s.inFile:
			d.add(line(key), name, fmt.Sprintf("cannot be set in the config file; use --%s or %s", s.name, s.env))
			continue
		}
		if seen[name]++; seen[name] == 2 {
			d.add(line(key), "", repeated(name, lines[name]))
		}
		d.value(cfg, s, pair.Value)
	}
}

// unknownKey says that name is not a setting, suggesting the closest key
// when one is near enough to be what was meant.
func unknownKey(name string) string {
	var keys []string
	for _, s := range settings {
		if s.inFile {
			keys = append(keys, s.name)
		}
	}
	if c := closest(name, "", keys); c != "" {
		return fmt.Sprintf("unknown key %q; did you mean %q?", name, c)
	}
	return fmt.Sprintf("unknown key %q (see docs/CONFIG.md)", name)
}

// repeated says that key appears on each of lines.
func repeated(key string, lines []int) string {
	times := "twice"
	if len(lines) > 2 {
		times = fmt.Sprintf("%d times", len(lines))
	}
	distinct := slices.Compact(slices.Clone(lines))
	if len(distinct) == 1 {
		return fmt.Sprintf("key %q appears %s on line %d; keep one", key, times, distinct[0])
	}
	list := make([]string, len(lines))
	for i, l := range lines {
		list[i] = strconv.Itoa(l)
	}
	last := len(list) - 1
	return fmt.Sprintf("key %q appears %s: lines %s and %s; keep one",
		key, times, strings.Join(list[:last], ", "), list[last])
}

// value sets s's field in cfg from node, checking the YAML type strictly:
// no number where a string is wanted, no 1.5 for an integer.
func (d *fileDecoder) value(cfg *Config, s setting, node ast.Node) {
	switch n := node.(type) {
	case nil, *ast.NullNode:
		return
	case *ast.AnchorNode:
		d.add(line(node), s.name, fmt.Sprintf("YAML anchors such as &%s are not supported; write the value out", n.Name))
		return
	case *ast.AliasNode:
		d.add(line(node), s.name, fmt.Sprintf("YAML aliases such as *%s are not supported; write the value out", n.Value))
		return
	case *ast.TagNode:
		d.add(line(node), s.name, fmt.Sprintf("YAML tags such as %s are not supported; remove it, and quote the value to make it a string", n.Start.Value))
		return
	}
	var msg string
	switch p := s.field(cfg).Addr().Interface().(type) {
	case *string:
		msg = stringFromNode(p, node)
	case *time.Duration:
		msg = durationFromNode(p, node)
	case *int:
		msg = intFromNode(p, node)
	case *float64:
		msg = floatFromNode(p, node)
	case *bool:
		b, ok := node.(*ast.BoolNode)
		if !ok {
			msg = "want true or false, got " + describe(node)
			break
		}
		*p = b.Value
	case *[]string:
		d.list(p, s, node)
	default:
		panic(fmt.Sprintf("config: field for %q has unsupported type %T", s.name, p))
	}
	if msg != "" {
		d.add(line(node), s.name, msg)
	}
}

// stringFromNode sets *p from a string node, or returns the problem.
func stringFromNode(p *string, node ast.Node) string {
	str, ok := stringOf(node)
	if !ok {
		return "want a string, got " + describe(node) + quoteHint(node)
	}
	*p = str
	return ""
}

// durationFromNode sets *p from a duration string node, or returns the
// problem. A bare number gets a hint with the unit added.
func durationFromNode(p *time.Duration, node ast.Node) string {
	const want = `want a duration such as "25s" or "15m", got `
	str, ok := stringOf(node)
	if !ok {
		switch node.(type) {
		case *ast.IntegerNode, *ast.FloatNode:
			src := node.GetToken().Value
			return fmt.Sprintf("%sthe number %s (write %ss)", want, src, src)
		}
		return want + describe(node)
	}
	dur, err := time.ParseDuration(str)
	if err != nil {
		if _, ferr := strconv.ParseFloat(str, 64); ferr == nil {
			return fmt.Sprintf("%s%s (write %ss)", want, describe(node), str)
		}
		return want + describe(node)
	}
	*p = dur
	return ""
}

// intFromNode sets *p from an integer node, or returns the problem.
func intFromNode(p *int, node ast.Node) string {
	const want = "want an integer, got "
	n, ok := node.(*ast.IntegerNode)
	if !ok {
		// The parser reads an integer too large for 64 bits as a string.
		if plainNumber(node) {
			return want + outOfRange(node.GetToken().Value)
		}
		return want + describe(node) + unquoteHint(node)
	}
	switch v := n.Value.(type) {
	case int64:
		if v >= math.MinInt && v <= math.MaxInt {
			*p = int(v)
			return ""
		}
	case uint64:
		if v <= math.MaxInt {
			*p = int(v)
			return ""
		}
	}
	return want + outOfRange(n.Token.Value)
}

// outOfRange describes the integer src, which does not fit in an int.
func outOfRange(src string) string {
	if strings.HasPrefix(src, "-") {
		return "the number " + src + ", which is too small"
	}
	return "the number " + src + ", which is too large"
}

// floatFromNode sets *p from an integer or float node, or returns the
// problem.
func floatFromNode(p *float64, node ast.Node) string {
	switch n := node.(type) {
	case *ast.FloatNode:
		*p = n.Value
		return ""
	case *ast.IntegerNode:
		switch v := n.Value.(type) {
		case int64:
			*p = float64(v)
		case uint64:
			*p = float64(v)
		}
		return ""
	}
	return "want a number, got " + describe(node) + unquoteHint(node)
}

// list sets *p from a sequence of strings, reporting every item that is
// not a string at its own line.
func (d *fileDecoder) list(p *[]string, s setting, node ast.Node) {
	seq, ok := node.(*ast.SequenceNode)
	if !ok {
		msg := "want a list such as [a, b], got " + describe(node)
		if str, ok := stringOf(node); ok {
			msg += " (write [" + str + "])"
		}
		d.add(line(node), s.name, msg)
		return
	}
	list := make([]string, 0, len(seq.Values))
	for i, item := range seq.Values {
		str, ok := stringOf(item)
		if !ok {
			d.add(line(item), s.name, fmt.Sprintf("want a list of strings, but item %d is %s%s",
				i+1, describe(item), quoteHint(item)))
			continue
		}
		list = append(list, str)
	}
	*p = list
}

// describe says what node is, in the words of the person who wrote it:
// "the number 25", "the word true", "the text \"abc\"", "a list", "a
// mapping".
func describe(node ast.Node) string {
	switch n := node.(type) {
	case *ast.IntegerNode, *ast.FloatNode:
		return "the number " + n.GetToken().Value
	case *ast.InfinityNode:
		return "infinity (" + n.Token.Value + ")"
	case *ast.NanNode:
		return "not-a-number (" + n.Token.Value + ")"
	case *ast.BoolNode:
		return "the word " + n.Token.Value
	case *ast.NullNode:
		return "nothing (null)"
	case *ast.StringNode:
		return "the text " + strconv.Quote(shorten(n.Value))
	case *ast.LiteralNode:
		return "a block of text"
	case *ast.SequenceNode:
		return "a list"
	case *ast.MappingNode, *ast.MappingValueNode:
		return "a mapping"
	case *ast.MergeKeyNode:
		return "a merge key (<<)"
	case *ast.MappingKeyNode:
		return "an explicit key (?)"
	case *ast.AnchorNode:
		return "an anchor (&" + n.Name.String() + ")"
	case *ast.AliasNode:
		return "an alias (*" + n.Value.String() + ")"
	case *ast.TagNode:
		return "a tagged value (" + n.Start.Value + ")"
	}
	return "a YAML " + node.Type().YAMLName()
}

// shorten cuts s to a length that fits in an error message.
func shorten(s string) string {
	const most = 40
	if r := []rune(s); len(r) > most {
		return string(r[:most]) + "…"
	}
	return s
}

// quoteHint suggests quoting a number or a word read as another type.
func quoteHint(node ast.Node) string {
	switch node.(type) {
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.InfinityNode, *ast.NanNode:
		return fmt.Sprintf(" (quote it: %q)", node.GetToken().Value)
	}
	return ""
}

// unquoteHint suggests removing the quotes around a number.
func unquoteHint(node ast.Node) string {
	str, ok := node.(*ast.StringNode)
	if !ok || !quoted(str) {
		return ""
	}
	if _, err := strconv.ParseFloat(str.Value, 64); err != nil {
		return ""
	}
	return " (remove the quotes)"
}

// plainNumber reports whether node is an unquoted string of digits, which
// is how the parser reads an integer too large for 64 bits.
func plainNumber(node ast.Node) bool {
	str, ok := node.(*ast.StringNode)
	if !ok || quoted(str) {
		return false
	}
	_, err := strconv.ParseInt(str.Value, 10, 64)
	return errors.Is(err, strconv.ErrRange)
}

func quoted(n *ast.StringNode) bool {
	return n.Token.Type == token.DoubleQuoteType || n.Token.Type == token.SingleQuoteType
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

// syntaxError rewords a parse error from the YAML library as one sentence
// with the file, line and column, followed by the line at fault, instead
// of the library's excerpt with carets.
func syntaxError(path string, data []byte, err error) error {
	var yerr yaml.Error
	if !errors.As(err, &yerr) || yerr.GetToken() == nil || yerr.GetToken().Position == nil {
		msg, _, _ := strings.Cut(err.Error(), "\n")
		return fmt.Errorf("config: %s: not valid YAML: %s", path, msg)
	}
	pos := yerr.GetToken().Position
	msg := fmt.Sprintf("config: %s:%d: not valid YAML at column %d: %s", path, pos.Line, pos.Column, yerr.GetMessage())
	src := sourceLine(data, pos.Line)
	if strings.Contains(src, "\t") {
		msg += " (YAML does not allow tabs for indentation; use spaces)"
	}
	if strings.TrimSpace(src) != "" {
		msg += fmt.Sprintf("\n\t%d | %s", pos.Line, strings.ReplaceAll(src, "\t", "→"))
	}
	return errors.New(msg)
}

// sourceLine returns the 1-based line n of data, or "".
func sourceLine(data []byte, n int) string {
	for i, l := range strings.Split(string(data), "\n") {
		if i+1 == n {
			return strings.TrimRight(l, "\r")
		}
	}
	return ""
}

// secondDocument returns the line where a second YAML document starts, or
// 0 if there is none. The parser drops what follows two "---" markers in a
// row, so the markers are counted in the tokens as well as the documents.
func secondDocument(f *ast.File, data []byte) int {
	if len(f.Docs) > 1 {
		return line(f.Docs[1])
	}
	headers := 0
	for _, tk := range lexer.Tokenize(string(data)) {
		if tk.Type == token.DocumentHeaderType {
			if headers++; headers == 2 {
				return tk.Position.Line
			}
		}
	}
	return 0
}

// line returns the 1-based line where node starts, or 0 if unknown.
func line(node ast.Node) int {
	if doc, ok := node.(*ast.DocumentNode); ok {
		// A document's own token is its body's, and an empty document
		// has none; its "---" marks where it starts.
		if doc.Start != nil {
			return doc.Start.Position.Line
		}
		if doc.Body == nil {
			return 0
		}
		node = doc.Body
	}
	if node == nil || node.GetToken() == nil {
		return 0
	}
	return node.GetToken().Position.Line
}
