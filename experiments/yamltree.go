package experiments

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// This file checks an experiment file's YAML tree before it is decoded
// into a Config, for what yaml.v3 would handle badly.

// checkDuplicateKeys returns an error naming the first key that a mapping
// of the tree n holds twice. yaml.v3 refuses such keys too, but compares
// every pair of keys and formats an error per pair: a file of a few
// thousand equal keys would take gigabytes and minutes. Aliases are not
// followed: what they point to is checked where it is defined.
func checkDuplicateKeys(n *yaml.Node) error {
	if n.Kind == yaml.MappingNode {
		type key struct {
			kind  yaml.Kind
			value string
		}
		seen := make(map[key]int, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if line, ok := seen[key{k.Kind, k.Value}]; ok {
				name := "key " + strconv.Quote(k.Value)
				switch k.Kind {
				case yaml.SequenceNode:
					name = "a list as a key"
				case yaml.MappingNode:
					name = "a mapping as a key"
				}
				return fmt.Errorf("line %d: %s, already set at line %d", k.Line, name, line)
			}
			seen[key{k.Kind, k.Value}] = k.Line
		}
	}
	for _, c := range n.Content {
		if err := checkDuplicateKeys(c); err != nil {
			return err
		}
	}
	return nil
}

// checkWholeNumbers returns an error naming the first integer setting of
// doc (a parsed experiment file) that is written as a number with a
// fraction or out of its type's range. yaml.v3 truncates such a number
// (epochs: 2.7 becomes 2, seeds: [0.5] becomes seed 0 and
// seeds: [18446744073709551616] wraps), which would be a silent wrong
// setting. A whole number written as a float (epochs: 1e2) is accepted.
func checkWholeNumbers(doc *yaml.Node) error {
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		doc = doc.Content[0]
	}
	w := wholeNumbers{seen: map[visit]bool{}}
	return w.check(doc, reflect.TypeOf(Config{}), "")
}

// wholeNumbers walks a document along the types its nodes decode into.
// Each node is checked once per type, however many aliases lead to it, so
// an alias bomb costs no more than its text.
type wholeNumbers struct {
	seen map[visit]bool
}

type visit struct {
	n *yaml.Node
	t reflect.Type
}

// check checks node n, which decodes into a value of type t, for numbers
// that do not fit t's integers; key names the setting.
func (w *wholeNumbers) check(n *yaml.Node, t reflect.Type, key string) error {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if w.seen[visit{n, t}] {
		return nil
	}
	w.seen[visit{n, t}] = true
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!float" {
			return nil // an integer, or not a number: the decoder judges it
		}
		v, err := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64)
		if err != nil {
			return nil // .inf, .nan: the decoder refuses them
		}
		if v != math.Trunc(v) {
			return fmt.Errorf("line %d: %s %s: not a whole number", n.Line, key, n.Value)
		}
		b := t.Bits()
		if t.Kind() >= reflect.Uint {
			if v < 0 || v >= math.Exp2(float64(b)) {
				return fmt.Errorf("line %d: %s %s: out of range (0 to %d)", n.Line, key, n.Value, uint64(1)<<b-1)
			}
		} else if v < -math.Exp2(float64(b-1)) || v >= math.Exp2(float64(b-1)) {
			return fmt.Errorf("line %d: %s %s: out of range (%d to %d)", n.Line, key, n.Value, -(int64(1) << (b - 1)), int64(1)<<(b-1)-1)
		}
	case reflect.Slice, reflect.Array:
		if n.Kind != yaml.SequenceNode {
			return nil
		}
		for _, e := range n.Content {
			if err := w.check(e, t.Elem(), key); err != nil {
				return err
			}
		}
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return nil
		}
		fields := yamlFields(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Value == "<<" && k.ShortTag() == "!!merge" {
				// A merge key: its mapping (or list of mappings) sets this struct's fields.
				if err := w.merged(v, t); err != nil {
					return err
				}
				continue
			}
			if ft, ok := fields[k.Value]; ok {
				if err := w.check(v, ft, k.Value); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// merged checks the value of a merge key of a mapping decoded into t.
func (w *wholeNumbers) merged(v *yaml.Node, t reflect.Type) error {
	if v.Kind == yaml.SequenceNode {
		for _, e := range v.Content {
			if err := w.check(e, t, "<<"); err != nil {
				return err
			}
		}
		return nil
	}
	return w.check(v, t, "<<")
}

// yamlFields maps the keys of struct t, as yaml.v3 names them (inline
// structs' keys included), to their field types.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	m := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("yaml")
		if !f.IsExported() || tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if strings.Contains(","+opts+",", ",inline,") && f.Type.Kind() == reflect.Struct {
			for k, v := range yamlFields(f.Type) {
				m[k] = v
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		m[name] = f.Type
	}
	return m
}
