package config

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
)

// A setting is one Config field as seen from outside: its name as a flag,
// environment variable and file key, and how to read a value for it.
type setting struct {
	name   string // flag name and YAML key, e.g. "max-frame-bytes"
	env    string // environment variable, e.g. "PARLEY_MAX_FRAME_BYTES"
	usage  string // one-line -h text
	index  int    // field index in Config
	inFile bool   // false for settings a config file may not set
}

// settings lists every Config field in declaration order. It is derived from
// the struct tags once, at start-up; a field without a `flag` tag panics here
// so it cannot ship unexposed.
var settings = func() []setting {
	t := reflect.TypeFor[Config]()
	out := make([]setting, 0, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		tag, ok := f.Tag.Lookup("flag")
		if !ok || tag == "" {
			panic("config: field " + f.Name + " has no flag tag")
		}
		name, opt, _ := strings.Cut(tag, ",")
		out = append(out, setting{
			name:   name,
			env:    EnvVar(name),
			usage:  f.Tag.Get("usage"),
			index:  i,
			inFile: opt != "nofile",
		})
	}
	return out
}()

// settingByName returns the setting with the given flag name.
func settingByName(name string) (setting, bool) {
	for _, s := range settings {
		if s.name == name {
			return s, true
		}
	}
	return setting{}, false
}

// EnvVar returns the environment variable that mirrors the flag named name:
// "max-frame-bytes" becomes "PARLEY_MAX_FRAME_BYTES".
func EnvVar(name string) string {
	return "PARLEY_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// field returns the addressable Config field of s in c.
func (s setting) field(c *Config) reflect.Value {
	return reflect.ValueOf(c).Elem().Field(s.index)
}

// value returns a pflag.Value that reads and writes s's field in c. Its
// Type is what help shows after the flag's name: string, int, float,
// bool, duration or strings (a comma-separated list).
func (s setting) value(c *Config) pflag.Value {
	switch p := s.field(c).Addr().Interface().(type) {
	case *string:
		return (*stringValue)(p)
	case *int:
		return (*intValue)(p)
	case *float64:
		return (*floatValue)(p)
	case *bool:
		return (*boolValue)(p)
	case *time.Duration:
		return (*durationValue)(p)
	case *[]string:
		return &listValue{p: p}
	default:
		panic(fmt.Sprintf("config: field for %q has unsupported type %T", s.name, p))
	}
}

// copyField copies s's field from src to dst.
func (s setting) copyField(dst, src *Config) {
	v := s.field(src)
	if l, ok := v.Interface().([]string); ok {
		v = reflect.ValueOf(slices.Clone(l))
	}
	s.field(dst).Set(v)
}

// The pflag.Value types below are pointer conversions of the field types, as
// in package flag.

type stringValue string

func (v *stringValue) Set(s string) error { *v = stringValue(s); return nil }
func (v *stringValue) String() string     { return string(*v) }
func (v *stringValue) Type() string       { return "string" }

type intValue int

func (v *intValue) Set(s string) error {
	n, err := strconv.ParseInt(s, 0, strconv.IntSize)
	if err != nil {
		return fmt.Errorf("want an integer, got %q", s)
	}
	*v = intValue(n)
	return nil
}
func (v *intValue) String() string { return strconv.Itoa(int(*v)) }
func (v *intValue) Type() string   { return "int" }

type floatValue float64

func (v *floatValue) Set(s string) error {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return fmt.Errorf("want a number, got %q", s)
	}
	*v = floatValue(f)
	return nil
}
func (v *floatValue) String() string { return strconv.FormatFloat(float64(*v), 'g', -1, 64) }
func (v *floatValue) Type() string   { return "float" }

type boolValue bool

func (v *boolValue) Set(s string) error {
	b, err := strconv.ParseBool(s)
	if err != nil {
		return fmt.Errorf("want true or false, got %q", s)
	}
	*v = boolValue(b)
	return nil
}
func (v *boolValue) String() string { return strconv.FormatBool(bool(*v)) }
func (v *boolValue) Type() string   { return "bool" }

// IsBoolFlag makes a bool flag alone mean true: --guests is --guests=true.
func (v *boolValue) IsBoolFlag() bool { return true }

type durationValue time.Duration

func (v *durationValue) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("want a duration such as \"25s\" or \"15m\", got %q", s)
	}
	*v = durationValue(d)
	return nil
}
func (v *durationValue) String() string { return formatDuration(time.Duration(*v)) }
func (v *durationValue) Type() string   { return "duration" }

// formatDuration is time.Duration.String without trailing zero units:
// "15m" rather than "15m0s", "720h" rather than "720h0m0s".
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// listValue is a comma-separated list. The first Set replaces the list and
// later ones append, so "--allowed-origins a,b" and
// "--allowed-origins a --allowed-origins b" mean the same.
type listValue struct {
	p   *[]string
	set bool
}

func (v *listValue) Set(s string) error {
	var items []string
	for item := range strings.SplitSeq(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			items = append(items, item)
		}
	}
	if !v.set {
		*v.p = nil
		v.set = true
	}
	*v.p = append(*v.p, items...)
	return nil
}

func (v *listValue) Type() string { return "strings" }

func (v *listValue) String() string {
	if v == nil || v.p == nil {
		return ""
	}
	return strings.Join(*v.p, ",")
}
