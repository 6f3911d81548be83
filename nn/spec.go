package nn

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/dlrun/dlrun/graph"
	"github.com/dlrun/dlrun/internal/safeio"
	"gopkg.in/yaml.v3"
)

// Every layer type is a Layer.
var (
	_ Layer = (*Dense)(nil)
	_ Layer = (*Activation)(nil)
	_ Layer = (*Flatten)(nil)
	_ Layer = (*Conv2D)(nil)
	_ Layer = (*MaxPool2D)(nil)
	_ Layer = (*Dropout)(nil)
	_ Layer = (*Recurrent)(nil)
	_ Layer = (*Embedding)(nil)
	_ Layer = (*BatchNorm)(nil)
	_ Layer = (*LayerNorm)(nil)
	_ Layer = (*Sequential)(nil)
	_ Layer = (*Residual)(nil)
	_ Layer = (*GELU)(nil)
	_ Layer = (*Reshape)(nil)
	_ Layer = (*Conv1D)(nil)
	_ Layer = (*GlobalAvgPool1D)(nil)
	_ Layer = (*GlobalAvgPool2D)(nil)
	_ Layer = (*PositionalEmbedding)(nil)

	_ MultiInput = (*Add)(nil)
	_ MultiInput = (*Concat)(nil)
	_ MultiInput = (*Attention)(nil)

	_ Incremental = (*Attention)(nil)
	_ Incremental = (*PositionalEmbedding)(nil)
	_ Incremental = (*Recurrent)(nil)
	_ Incremental = (*Conv1D)(nil)
	_ Incremental = (*GlobalAvgPool1D)(nil)
)

// Limits on what a model spec may hold, checked as it is read (ReadSpec,
// ParseSpec, and the JSON and YAML decoders of Spec and LayerSpec) before
// anything is built from it: a hostile spec is an error, not a parser or
// a model that exhausts memory.
const (
	// MaxSpecBytes is the largest spec ReadSpec and ParseSpec read:
	// 256 KiB, room for thousands of layers.
	MaxSpecBytes = 256 << 10
	// MaxSpecLayers is the most layers a spec may list: 4096, counting
	// those inside residual blocks.
	MaxSpecLayers = 4096
	// MaxSpecValues is the most YAML values (keys, scalars, lists and
	// maps) a spec may hold, counted as the parser expands its aliases:
	// 1<<18. It bounds what a small file of aliases of aliases can make
	// the parser build.
	MaxSpecValues = 1 << 18
	// MaxSettingInt is the largest integer setting (units, filters,
	// kernel, vocab, users, ...) a spec may give: 1<<26, 67,108,864.
	// Layers built in Go are not limited; a spec of them that passes it
	// cannot be read back.
	MaxSettingInt = 1 << 26
	// MaxSettingList is the longest list a setting may hold (an NCF's
	// hidden layer sizes): 256.
	MaxSettingList = 256
	// MaxNameLen is the longest model name, layer name or layer kind a
	// spec may give: 256 bytes. Names must also be valid UTF-8 without
	// control characters, since they name tensors and appear in errors.
	MaxNameLen = 256
)

// Spec describes a Sequential model: its name and its layers in order,
// each a kind and its settings (every layer may also be given a name and
// the names of its inputs; a residual block holds a list of layers). It
// round-trips through YAML and JSON, as a saved Keras model carries its
// architecture:
//
//	name: small-cnn
//	layers:
//	  - conv2d: {filters: 16, kernel: 5}
//	  - relu: {}
//	  - max_pool2d: {size: 2}
//	  - flatten: {}
//	  - dense: {units: 10}
//
// docs/models.md lists every layer kind and its settings.
type Spec struct {
	Name   string      `json:"name" yaml:"name"`
	Layers []LayerSpec `json:"layers" yaml:"layers"`
}

// LayerSpec is one layer: its kind (snake_case, e.g. "conv2d") and its
// settings. In YAML and JSON it is a one-key map, kind: settings; a kind
// whose settings are a list (residual: [...]) takes the list as its layers
// setting. Settings that are layers (a residual block's layers and
// shortcut) hold LayerSpecs, or what YAML decodes them to.
type LayerSpec struct {
	Kind     string
	Settings map[string]any
}

// Build returns a new Sequential made as s says. Errors name the layer by
// position (from 1) and kind, and the setting at fault.
func (s Spec) Build() (*Sequential, error) {
	if s.Name == "" {
		return nil, errors.New(`missing "name"`)
	}
	if err := checkName(s.Name); err != nil {
		return nil, fmt.Errorf(`"name": %v`, err)
	}
	if len(s.Layers) == 0 {
		return nil, errors.New(`no layers (want a list under "layers")`)
	}
	if len(s.Layers) > MaxSpecLayers {
		return nil, fmt.Errorf("%d layers, more than the %d a spec may hold", len(s.Layers), MaxSpecLayers)
	}
	layers, err := buildLayers(s.Layers, "layer", new(int))
	if err != nil {
		return nil, err
	}
	m := NewSequential(s.Name, layers...)
	kinds := make([]string, len(s.Layers))
	for i, ls := range s.Layers {
		kinds[i] = ls.Kind
	}
	if err := uniqueNames(layers, kinds, "", map[string]string{}); err != nil {
		return nil, err
	}
	if err := checkWiring(m); err != nil {
		return nil, err
	}
	return m, nil
}

// buildLayers builds the layers specs describe; what ("layer", or
// "shortcut layer") and their positions name them in errors. count
// counts the layers built so far, nested ones too, against MaxSpecLayers.
func buildLayers(specs []LayerSpec, what string, count *int) ([]Layer, error) {
	layers := make([]Layer, len(specs))
	for i, ls := range specs {
		if *count++; *count > MaxSpecLayers {
			return nil, fmt.Errorf("more than the %d layers a spec may hold, counting those inside blocks", MaxSpecLayers)
		}
		l, err := ls.build(count)
		if err != nil {
			return nil, fmt.Errorf("%s %d%s: %v", what, i+1, ls.kindTag(), err)
		}
		layers[i] = l
	}
	return layers, nil
}

// uniqueNames reports two layers of the same name anywhere in layers
// (blocks' layers included: parameter names are the model's); kinds are
// the layers' kinds as the spec gives them (nil inside a block), path
// names the block they are in, seen maps names to where they were met.
func uniqueNames(layers []Layer, kinds []string, path string, seen map[string]string) error {
	for i, l := range layers {
		kind := l.Kind()
		if i < len(kinds) {
			kind = kinds[i]
		}
		where := fmt.Sprintf("%slayer %d", path, i+1)
		if n := l.Name(); n != "" {
			if first, ok := seen[n]; ok {
				return fmt.Errorf("%s (%s): name %q is taken by %s", where, kind, n, first)
			}
			seen[n] = where
		}
		if c, ok := l.(container); ok {
			if err := uniqueNames(c.Sublayers(), nil, fmt.Sprintf("%s (%s): ", where, kind), seen); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkWiring reports a layer of s, or of a block in it, that names an
// input it cannot take (see Sequential.plan).
func checkWiring(s *Sequential) error {
	if _, err := s.plan(); err != nil {
		return err
	}
	for _, l := range s.Layers {
		switch b := l.(type) {
		case *Sequential:
			if err := checkWiring(b); err != nil {
				return err
			}
		case *Residual:
			body, shortcut := b.parts()
			if err := checkWiring(body); err != nil {
				return err
			}
			if shortcut != nil {
				if err := checkWiring(shortcut); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// sortedKeys returns the keys of m in order.
func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// checkName returns an error if name is longer than MaxNameLen, not
// UTF-8 or holds a control character.
func checkName(name string) error {
	if len(name) > MaxNameLen {
		return fmt.Errorf("%d bytes, longer than the %d a name may have", len(name), MaxNameLen)
	}
	if !utf8.ValidString(name) {
		return fmt.Errorf("%q is not UTF-8", name)
	}
	if strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return fmt.Errorf("%q holds a control character", name)
	}
	return nil
}

// kindTag is " (kind)" for a registered kind, else "": an error about an
// unknown kind names the kind itself.
func (l LayerSpec) kindTag() string {
	if lookupKind(l.Kind) == nil {
		return ""
	}
	return " (" + l.Kind + ")"
}

// build makes the layer l describes; count counts the layers built so
// far in the spec (Settings.Layers adds nested ones).
func (l LayerSpec) build(count *int) (layer Layer, err error) {
	t := lookupKind(l.Kind)
	if t == nil {
		return nil, fmt.Errorf("unknown layer kind %q (known: %s)", l.Kind, strings.Join(LayerKinds(), ", "))
	}
	for _, k := range sortedKeys(l.Settings) {
		if rv := reflect.ValueOf(l.Settings[k]); (rv.Kind() == reflect.Slice || rv.Kind() == reflect.Array) && rv.Len() > MaxSettingList {
			return nil, fmt.Errorf("setting %q: a list of %d values, more than the %d a setting may hold", k, rv.Len(), MaxSettingList)
		}
	}
	s := &Settings{m: l.Settings, count: count}
	func() {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("building the layer panicked: %v", r)
			}
		}()
		layer = t.build(s)
	}()
	if err != nil {
		return nil, err
	}
	name := s.name()
	if name != "" {
		if err := checkName(name); err != nil {
			return nil, fmt.Errorf(`setting "name": %v`, err)
		}
	}
	inputs := s.inputs()
	if err := s.unknown(); err != nil {
		return nil, err
	}
	if s.err != nil {
		return nil, s.err
	}
	if isNil(layer) {
		return nil, errors.New("the layer kind built no layer")
	}
	if name != "" {
		n, ok := layer.(named)
		if !ok {
			return nil, fmt.Errorf(`setting "name": a %T cannot be named`, layer)
		}
		n.SetName(name)
	}
	if len(inputs) > 0 {
		w, ok := layer.(wired)
		if !ok {
			return nil, fmt.Errorf(`setting "inputs": a %T cannot be given inputs`, layer)
		}
		w.SetInputs(inputs...)
	}
	return layer, nil
}

// Describe returns the spec of m: Build on it gives a model with the same
// layers, parameter names and shapes and, on a graph with the same seed, the
// same initial values. Settings at their defaults are left out, and names
// too where NewSequential would give the same. A layer that no registered
// kind describes (a Layer type of one's own; see RegisterLayer), a
// Recurrent's InitialState function or an initialiser without a name that
// graph.InitializerByName knows is an error naming the layer.
func Describe(m *Sequential) (Spec, error) {
	if m == nil {
		return Spec{}, errors.New("describing a nil model")
	}
	layers, err := describeLayers(m.Layers, map[string]int{})
	if err != nil {
		return Spec{}, fmt.Errorf("%s: %v", m.Name(), err)
	}
	spec := Spec{Name: m.Name(), Layers: layers}
	if _, err := spec.Build(); err != nil {
		return Spec{}, fmt.Errorf("%s: %v", m.Name(), err)
	}
	return spec, nil
}

// describeLayers describes layers, counting their kinds in counts as
// NewSequential does to write only the names it would not give.
func describeLayers(layers []Layer, counts map[string]int) ([]LayerSpec, error) {
	out := make([]LayerSpec, 0, len(layers))
	for i, l := range layers {
		if isNil(l) {
			return nil, fmt.Errorf("layer %d is nil", i+1)
		}
		auto := autoName(l.Kind(), counts)
		ls, err := describeLayer(l, counts)
		if err != nil {
			return nil, fmt.Errorf("layer %d (%s, %s): %v", i+1, l.Name(), l.Kind(), err)
		}
		if l.Name() != "" && l.Name() != auto {
			ls.Settings["name"] = l.Name()
		}
		if in := inputsOf(l); len(in) > 0 {
			ls.Settings["inputs"] = append([]string(nil), in...)
		}
		out = append(out, ls)
	}
	return out, nil
}

func describeLayer(l Layer, counts map[string]int) (LayerSpec, error) {
	for _, t := range registeredTypes() {
		if t.describe == nil {
			continue
		}
		s := &Settings{m: map[string]any{}, counts: counts}
		if !t.describe(l, s) {
			continue
		}
		if s.err != nil {
			return LayerSpec{}, s.err
		}
		return LayerSpec{Kind: t.kind, Settings: s.m}, nil
	}
	return LayerSpec{}, fmt.Errorf("cannot describe a %T: no layer kind is registered for it (see nn.RegisterLayer)", l)
}

// ParseSpec reads a model spec in YAML or JSON (JSON is read as YAML) and
// checks that it builds. name, a file name, only prefixes error messages.
// A spec larger than MaxSpecBytes, or past another of the limits above,
// is an error.
func ParseSpec(b []byte, name string) (spec Spec, err error) {
	defer func() {
		if r := recover(); r != nil {
			spec, err = Spec{}, fmt.Errorf("unreadable model spec: %v", r)
		}
		if err != nil && name != "" {
			err = fmt.Errorf("%s: %w", name, err)
		}
	}()
	if len(b) > MaxSpecBytes {
		return Spec{}, fmt.Errorf("%d bytes, more than the %d a model spec may hold", len(b), MaxSpecBytes)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return Spec{}, oneLine(err)
	}
	if spec, err = specFromNode(&doc); err != nil {
		return Spec{}, err
	}
	if err := spec.check(); err != nil {
		return Spec{}, err
	}
	return spec, nil
}

// ReadSpec reads the model spec in the YAML or JSON file at path, a
// regular file (safeio.Open) of at most MaxSpecBytes.
func ReadSpec(path string) (Spec, error) {
	b, err := safeio.ReadFile(path, MaxSpecBytes)
	if err != nil {
		return Spec{}, err
	}
	return ParseSpec(b, path)
}

// UnmarshalJSON reads s as ParseSpec does, with its whitespace removed
// first: the indentation of the file it is part of (model.json) does not
// count towards MaxSpecBytes.
func (s *Spec) UnmarshalJSON(b []byte) error {
	if s == nil {
		return errors.New("unmarshalling a model spec into nil")
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, b); err == nil {
		b = compact.Bytes()
	}
	spec, err := ParseSpec(b, "")
	if err != nil {
		return err
	}
	*s = spec
	return nil
}

// UnmarshalYAML reads s as ParseSpec does.
func (s *Spec) UnmarshalYAML(n *yaml.Node) error {
	if s == nil {
		return errors.New("unmarshalling a model spec into nil")
	}
	spec, err := specFromNode(n)
	if err == nil {
		err = spec.check()
	}
	if err != nil {
		return err
	}
	*s = spec
	return nil
}

// settingsValue returns what l's kind maps to in YAML and JSON: its
// settings, or, when they are a list of layers alone, the list.
func (l LayerSpec) settingsValue() any {
	if layers, ok := l.Settings["layers"]; ok && len(l.Settings) == 1 {
		return layers
	}
	if l.Settings == nil {
		return map[string]any{}
	}
	return l.Settings
}

// MarshalJSON writes l as a one-key object, {"kind": {settings}}, or
// {"kind": [layers]} for a block whose only setting is its layers.
func (l LayerSpec) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]any{l.Kind: l.settingsValue()})
}

// MarshalYAML writes l as a one-key map with its settings in flow style,
// "kind: {key: value, ...}", or "kind: [layers]" for a block whose only
// setting is its layers.
func (l LayerSpec) MarshalYAML() (any, error) {
	var k, v yaml.Node
	if err := k.Encode(l.Kind); err != nil {
		return nil, err
	}
	if err := v.Encode(l.settingsValue()); err != nil {
		return nil, err
	}
	v.Style = yaml.FlowStyle
	return &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{&k, &v}}, nil
}

// UnmarshalJSON reads a one-key object {"kind": {settings}}.
func (l *LayerSpec) UnmarshalJSON(b []byte) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("unreadable layer: %v", r)
		}
	}()
	var n yaml.Node
	if err := yaml.Unmarshal(b, &n); err != nil {
		return oneLine(err)
	}
	return l.UnmarshalYAML(&n)
}

// UnmarshalYAML reads a one-key map "kind: {settings}" or a bare kind.
func (l *LayerSpec) UnmarshalYAML(n *yaml.Node) error {
	if l == nil {
		return errors.New("unmarshalling a layer into nil")
	}
	ls, err := layerFromNode(n)
	if err != nil {
		return err
	}
	*l = ls
	return nil
}

// resolve follows documents and aliases to the node they stand for.
func resolve(n *yaml.Node) *yaml.Node {
	for depth := 0; n != nil && depth < 100; depth++ {
		switch {
		case n.Kind == yaml.DocumentNode && len(n.Content) == 1:
			n = n.Content[0]
		case n.Kind == yaml.DocumentNode:
			return nil
		case n.Kind == yaml.AliasNode:
			n = n.Alias
		default:
			return n
		}
	}
	return nil
}

func isNull(n *yaml.Node) bool {
	return n == nil || n.Kind == 0 || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

// nodeText says what n is, for error messages: a scalar as written
// (strings quoted), else "a list" or "a map".
func nodeText(n *yaml.Node) string {
	switch {
	case isNull(n):
		return "nothing"
	case n.Kind == yaml.SequenceNode:
		return "a list"
	case n.Kind == yaml.MappingNode:
		return "a map"
	case n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str":
		return strconv.Quote(n.Value)
	case n.Kind == yaml.ScalarNode:
		return n.Value
	}
	return "something else"
}

// countValues counts the values of n, following aliases, into *count,
// and returns an error once they pass MaxSpecValues or nest deeper than
// 100 levels.
func countValues(n *yaml.Node, count *int, depth int) error {
	if n == nil {
		return nil
	}
	if depth > 100 {
		return errors.New("values nested more than 100 deep")
	}
	if *count++; *count > MaxSpecValues {
		return fmt.Errorf("more than the %d values a model spec may hold (counting what its aliases repeat)", MaxSpecValues)
	}
	if n.Kind == yaml.AliasNode {
		return countValues(n.Alias, count, depth+1)
	}
	for _, c := range n.Content {
		if err := countValues(c, count, depth+1); err != nil {
			return err
		}
	}
	return nil
}

func specFromNode(n *yaml.Node) (Spec, error) {
	count := 0
	if err := countValues(n, &count, 0); err != nil {
		return Spec{}, err
	}
	n = resolve(n)
	if isNull(n) {
		return Spec{}, errors.New("empty model spec (want a map with name and layers)")
	}
	if n.Kind != yaml.MappingNode {
		return Spec{}, fmt.Errorf("want a map with name and layers, not %s", nodeText(n))
	}
	var s Spec
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), resolve(n.Content[i+1])
		if k == nil || k.Kind != yaml.ScalarNode {
			return Spec{}, fmt.Errorf("line %d: a key must be a word, not %s", n.Content[i].Line, nodeText(k))
		}
		if seen[k.Value] {
			return Spec{}, fmt.Errorf("line %d: %q given twice", k.Line, k.Value)
		}
		seen[k.Value] = true
		switch k.Value {
		case "name":
			if isNull(v) {
				continue
			}
			if v.Kind != yaml.ScalarNode {
				return Spec{}, fmt.Errorf(`"name" must be a string, not %s`, nodeText(v))
			}
			s.Name = v.Value
		case "layers":
			if isNull(v) {
				continue
			}
			if v.Kind != yaml.SequenceNode {
				return Spec{}, fmt.Errorf(`"layers" must be a list, not %s`, nodeText(v))
			}
			if len(v.Content) > MaxSpecLayers {
				return Spec{}, fmt.Errorf("%d layers, more than the %d a spec may hold", len(v.Content), MaxSpecLayers)
			}
			for j, item := range v.Content {
				ls, err := layerFromNode(item)
				if err != nil {
					tag := ""
					if ls.Kind != "" {
						tag = " (" + ls.Kind + ")"
					}
					return Spec{}, fmt.Errorf("layer %d%s: %v", j+1, tag, err)
				}
				s.Layers = append(s.Layers, ls)
			}
		default:
			return Spec{}, fmt.Errorf("unknown key %q (known: name, layers)", k.Value)
		}
	}
	return s, nil
}

// layerFromNode reads a layer item. On an error about the settings the
// LayerSpec returned holds the kind, for the message.
func layerFromNode(n *yaml.Node) (LayerSpec, error) {
	count := 0
	if err := countValues(n, &count, 0); err != nil {
		return LayerSpec{}, err
	}
	n = resolve(n)
	const want = `want a kind and its settings, as in "dense: {units: 10}" or "relu"`
	switch {
	case isNull(n):
		return LayerSpec{}, fmt.Errorf("%s, not nothing", want)
	case n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str" && len(n.Value) > MaxNameLen:
		return LayerSpec{}, fmt.Errorf("a layer kind of %d bytes, longer than the %d a name may have", len(n.Value), MaxNameLen)
	case n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str":
		return LayerSpec{Kind: n.Value, Settings: map[string]any{}}, nil
	case n.Kind != yaml.MappingNode:
		return LayerSpec{}, fmt.Errorf("%s, not %s", want, nodeText(n))
	case len(n.Content) != 2:
		var keys []string
		for i := 0; i < len(n.Content); i += 2 {
			keys = append(keys, nodeText(resolve(n.Content[i])))
		}
		if len(keys) == 0 {
			return LayerSpec{}, fmt.Errorf("%s, not an empty map", want)
		}
		return LayerSpec{}, fmt.Errorf("%s, not a map with %d keys (%s): one key per layer, its settings indented under it", want, len(keys), strings.Join(keys, ", "))
	}
	k, v := resolve(n.Content[0]), resolve(n.Content[1])
	if k == nil || k.Kind != yaml.ScalarNode || k.ShortTag() != "!!str" {
		return LayerSpec{}, fmt.Errorf("%s, not a map keyed by %s", want, nodeText(k))
	}
	if len(k.Value) > MaxNameLen {
		return LayerSpec{}, fmt.Errorf("a layer kind of %d bytes, longer than the %d a name may have", len(k.Value), MaxNameLen)
	}
	ls := LayerSpec{Kind: k.Value, Settings: map[string]any{}}
	if isNull(v) {
		return ls, nil
	}
	if v.Kind == yaml.SequenceNode { // a block's layers: residual: [...]
		var layers []any
		if err := v.Decode(&layers); err != nil {
			return LayerSpec{Kind: k.Value}, oneLine(err)
		}
		ls.Settings["layers"] = layers
		return ls, nil
	}
	if v.Kind != yaml.MappingNode {
		return LayerSpec{Kind: k.Value}, fmt.Errorf("want its settings as a map, as in {units: 10}, not %s", nodeText(v))
	}
	if err := v.Decode(&ls.Settings); err != nil {
		return LayerSpec{Kind: k.Value}, oneLine(err)
	}
	if ls.Settings == nil {
		ls.Settings = map[string]any{}
	}
	return ls, nil
}

// oneLine returns err on one line: yaml's type errors list one per line.
func oneLine(err error) error {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		return errors.New(strings.Join(te.Errors, "; "))
	}
	if strings.Contains(err.Error(), "\n") {
		return errors.New(strings.Join(strings.Fields(err.Error()), " "))
	}
	return err
}

// Settings are the settings of one layer, as a layer kind registered with
// RegisterLayer reads them (to build a layer) and writes them (to describe
// one). Reading records the first error and goes on, so that a build
// function reads every setting it knows, straight through, and Spec.Build
// can list the known settings when it meets an unknown one. A nil
// *Settings has no settings and records nothing.
type Settings struct {
	m     map[string]any
	asked []string
	err   error

	count  *int           // building: the spec's layers so far (Layers)
	counts map[string]int // describing: the kinds named so far (SetLayers)
}

func (s *Settings) fail(err error) {
	if s != nil && s.err == nil {
		s.err = err
	}
}

// Fail records an error: a describe function's reason why its layer cannot
// be written down, or a build function's own check.
func (s *Settings) Fail(format string, args ...any) { s.fail(fmt.Errorf(format, args...)) }

// Invalid records that setting key is not what it must be; want completes
// "must be ...", as in s.Invalid("rate", "at least 0 and less than 1").
func (s *Settings) Invalid(key, want string) {
	if s == nil {
		return
	}
	s.fail(fmt.Errorf("setting %q must be %s, not %s", key, want, formatValue(s.m[key])))
}

// lookup returns the value of key; a null value is absent.
func (s *Settings) lookup(key string) (any, bool) {
	if s == nil {
		return nil, false
	}
	s.asked = append(s.asked, key)
	v, ok := s.m[key]
	return v, ok && v != nil
}

func (s *Settings) missing(key string) { s.Fail("missing required setting %q", key) }

// Int returns the setting key, a positive integer. With a default def, an
// absent setting gives def and 0 is allowed (it means the default too);
// without one the setting is required.
func (s *Settings) Int(key string, def ...int) int {
	v, ok := s.lookup(key)
	if !ok {
		if len(def) == 0 {
			s.missing(key)
			return 0
		}
		return def[0]
	}
	n, isInt := toInt(v)
	if tooBig(v) {
		s.Invalid(key, fmt.Sprintf("a positive integer of at most %d", MaxSettingInt))
		return 0
	}
	if !isInt || n < 0 || (n == 0 && len(def) == 0) {
		s.Invalid(key, "a positive integer")
		return 0
	}
	return n
}

// Signed returns the setting key, an integer of either sign (an axis), or
// def if it is absent.
func (s *Settings) Signed(key string, def int) int {
	v, ok := s.lookup(key)
	if !ok {
		return def
	}
	n, isInt := toInt(v)
	if !isInt {
		s.Invalid(key, fmt.Sprintf("an integer of magnitude at most %d", MaxSettingInt))
		return def
	}
	return n
}

// Pair returns the setting key, a positive integer n (giving n, n) or a
// pair [h, w] of them. Defaults work as for Int: none, the setting is
// required; one, both values; two, h and w.
func (s *Settings) Pair(key string, def ...int) (h, w int) {
	v, ok := s.lookup(key)
	if !ok {
		switch len(def) {
		case 0:
			s.missing(key)
			return 0, 0
		case 1:
			return def[0], def[0]
		}
		return def[0], def[1]
	}
	ok = true
	if n, isInt := toInt(v); isInt {
		h, w = n, n
	} else if rv := reflect.ValueOf(v); (rv.Kind() == reflect.Slice || rv.Kind() == reflect.Array) && rv.Len() == 2 {
		var okh, okw bool
		h, okh = toInt(rv.Index(0).Interface())
		w, okw = toInt(rv.Index(1).Interface())
		ok = okh && okw
	} else {
		ok = false
	}
	if !ok || h < 0 || w < 0 || ((h == 0 || w == 0) && len(def) == 0) {
		if tooBig(v) || tooBig(h) || tooBig(w) {
			s.Invalid(key, fmt.Sprintf("a positive integer of at most %d or a pair [h, w] of them", MaxSettingInt))
			return 0, 0
		}
		s.Invalid(key, "a positive integer or a pair [h, w] of them")
		return 0, 0
	}
	return h, w
}

// ints returns the setting key, a non-empty list of integers each of
// which valid accepts, and whether it is present; want completes
// Invalid's "must be ...".
func (s *Settings) ints(key, want string, valid func(int) bool) ([]int, bool) {
	v, ok := s.lookup(key)
	if !ok {
		return nil, false
	}
	rv := reflect.ValueOf(v)
	if (rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array) || rv.Len() == 0 {
		s.Invalid(key, want)
		return nil, true
	}
	out := make([]int, rv.Len())
	for i := range out {
		n, isInt := toInt(rv.Index(i).Interface())
		if !isInt || !valid(n) {
			s.Invalid(key, want)
			return nil, true
		}
		out[i] = n
	}
	return out, true
}

// Float returns the setting key, a finite number; defaults work as for
// Int, without its positivity check (a build function checks its range and
// calls Invalid).
func (s *Settings) Float(key string, def ...float64) float64 {
	v, ok := s.lookup(key)
	if !ok {
		if len(def) == 0 {
			s.missing(key)
			return 0
		}
		return def[0]
	}
	f, isNum := toFloat(v)
	if !isNum {
		s.Invalid(key, "a number")
		return 0
	}
	return f
}

// Bool returns the setting key, true or false, or def if it is absent.
func (s *Settings) Bool(key string, def bool) bool {
	v, ok := s.lookup(key)
	if !ok {
		return def
	}
	b, isBool := v.(bool)
	if !isBool {
		s.Invalid(key, "true or false")
		return def
	}
	return b
}

// Choice returns the setting key, one of options (matched ignoring case),
// or options[0] if it is absent.
func (s *Settings) Choice(key string, options ...string) string {
	v, ok := s.lookup(key)
	if !ok {
		if len(options) == 0 {
			return ""
		}
		return options[0]
	}
	if str, isStr := v.(string); isStr {
		for _, o := range options {
			if strings.EqualFold(str, o) {
				return o
			}
		}
	}
	quoted := make([]string, len(options))
	for i, o := range options {
		quoted[i] = strconv.Quote(o)
	}
	s.Invalid(key, "one of "+strings.Join(quoted, ", "))
	return ""
}

// Init returns the initialiser named by setting key (a name that
// graph.InitializerByName accepts), or nil if it is absent: the layer's
// default.
func (s *Settings) Init(key string) graph.Initializer {
	v, ok := s.lookup(key)
	if !ok {
		return nil
	}
	if str, isStr := v.(string); isStr {
		if in, err := graph.InitializerByName(str); err == nil {
			return in
		}
	}
	s.Invalid(key, "an initialiser name ("+strings.Join(initNames(), ", ")+")")
	return nil
}

// name returns the optional "name" setting that every layer accepts.
func (s *Settings) name() string {
	v, ok := s.lookup("name")
	if !ok {
		return ""
	}
	str, isStr := v.(string)
	if !isStr {
		s.Invalid("name", "a string")
	}
	return str
}

// inputs returns the optional "inputs" setting that every layer accepts:
// a list of layer names, or one name.
func (s *Settings) inputs() []string {
	v, ok := s.lookup("inputs")
	if !ok {
		return nil
	}
	const want = "a list of layer names, as in [dense1, a], or one name"
	if str, isStr := v.(string); isStr {
		v = []any{str}
	}
	rv := reflect.ValueOf(v)
	if (rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array) || rv.Len() == 0 {
		s.Invalid("inputs", want)
		return nil
	}
	out := make([]string, rv.Len())
	for i := range out {
		str, isStr := rv.Index(i).Interface().(string)
		if !isStr || str == "" || checkName(str) != nil {
			s.Invalid("inputs", want)
			return nil
		}
		out[i] = str
	}
	return out
}

// Layers returns the layers in setting key, a list of layers written as
// a spec's are (a residual block's body and shortcut), built; nil if the
// setting is absent. Errors name the setting's layers by position.
func (s *Settings) Layers(key string) []Layer {
	v, ok := s.lookup(key)
	if !ok {
		return nil
	}
	var specs []LayerSpec
	switch x := v.(type) {
	case []LayerSpec:
		specs = x
	default:
		rv := reflect.ValueOf(v)
		if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
			s.Invalid(key, `a list of layers, as in [{dense: {units: 10}}, relu]`)
			return nil
		}
		for i := range rv.Len() {
			ls, err := layerSpecOf(rv.Index(i).Interface())
			if err != nil {
				s.fail(fmt.Errorf("%s %d: %v", layerWord(key), i+1, err))
				return nil
			}
			specs = append(specs, ls)
		}
	}
	count := s.count
	if count == nil {
		count = new(int)
	}
	layers, err := buildLayers(specs, layerWord(key), count)
	if err != nil {
		s.fail(err)
		return nil
	}
	return layers
}

// layerWord names the layers of setting key in errors: "layer" for a
// block's layers, "shortcut layer" for its shortcut's.
func layerWord(key string) string {
	if key == "layers" {
		return "layer"
	}
	return key + " layer"
}

// layerSpecOf returns the layer v describes, a LayerSpec or what YAML
// decodes one to: a kind, or a one-key map of a kind to its settings (or
// to a list of layers).
func layerSpecOf(v any) (LayerSpec, error) {
	const want = `want a kind and its settings, as in "dense: {units: 10}" or "relu"`
	switch x := v.(type) {
	case LayerSpec:
		return x, nil
	case string:
		if len(x) > MaxNameLen {
			return LayerSpec{}, fmt.Errorf("a layer kind of %d bytes, longer than the %d a name may have", len(x), MaxNameLen)
		}
		return LayerSpec{Kind: x, Settings: map[string]any{}}, nil
	case map[string]any:
		if len(x) != 1 {
			return LayerSpec{}, fmt.Errorf("%s, not a map with %d keys (%s): one key per layer, its settings indented under it", want, len(x), strings.Join(sortedKeys(x), ", "))
		}
		for kind, settings := range x {
			if len(kind) > MaxNameLen {
				return LayerSpec{}, fmt.Errorf("a layer kind of %d bytes, longer than the %d a name may have", len(kind), MaxNameLen)
			}
			switch st := settings.(type) {
			case nil:
				return LayerSpec{Kind: kind, Settings: map[string]any{}}, nil
			case map[string]any:
				return LayerSpec{Kind: kind, Settings: st}, nil
			case []any, []LayerSpec:
				return LayerSpec{Kind: kind, Settings: map[string]any{"layers": st}}, nil
			}
			return LayerSpec{}, fmt.Errorf("%s: want its settings as a map, as in {units: 10}, not %s", kind, formatValue(settings))
		}
	}
	return LayerSpec{}, fmt.Errorf("%s, not %s", want, formatValue(v))
}

// SetLayers writes setting key as the specs of layers (describing a
// block), their names left out where NewSequential would give the same.
func (s *Settings) SetLayers(key string, layers []Layer) {
	if s == nil {
		return
	}
	counts := s.counts
	if counts == nil {
		counts = map[string]int{}
	}
	specs, err := describeLayers(layers, counts)
	if err != nil {
		s.Fail("%s: %v", key, err)
		return
	}
	s.Set(key, specs)
}

// unknown returns an error for the first (in sorted order) setting that
// the build function did not read.
func (s *Settings) unknown() error {
	known := map[string]bool{}
	for _, k := range s.asked {
		known[k] = true
	}
	var extra []string
	for k := range s.m {
		if !known[k] {
			extra = append(extra, k)
		}
	}
	if len(extra) == 0 {
		return nil
	}
	sort.Strings(extra)
	names := make([]string, 0, len(known))
	for k := range known {
		names = append(names, k)
	}
	sort.Strings(names)
	return fmt.Errorf("unknown setting %q (known: %s)", extra[0], strings.Join(names, ", "))
}

// Set writes setting key (describing a layer). Values are ints, float64s,
// bools, strings or lists of them.
func (s *Settings) Set(key string, v any) {
	if s == nil {
		return
	}
	if s.m == nil {
		s.m = map[string]any{}
	}
	s.m[key] = v
}

// SetPair writes setting key as h if h == w, else as [h, w].
func (s *Settings) SetPair(key string, h, w int) {
	if h == w {
		s.Set(key, h)
	} else {
		s.Set(key, []any{h, w})
	}
}

// SetInit writes setting key as the name of initialiser in, unless in is
// nil or has the name of def (the layer's default; nil for none). An
// initialiser whose name graph.InitializerByName does not know is an error.
func (s *Settings) SetInit(key string, in, def graph.Initializer) {
	if in == nil || (def != nil && in.String() == def.String()) {
		return
	}
	if got, err := graph.InitializerByName(in.String()); err != nil || got.String() != in.String() {
		s.Fail("%s %s has no name a spec can give (known: %s)", key, in.String(), strings.Join(initNames(), ", "))
		return
	}
	s.Set(key, in.String())
}

// initNames returns the initialiser names that graph.InitializerByName knows.
func initNames() []string {
	var names []string
	for _, in := range []graph.Initializer{graph.Zeros, graph.GlorotUniform, graph.GlorotNormal, graph.HeUniform, graph.HeNormal, graph.TorchDefault} {
		if _, err := graph.InitializerByName(in.String()); err == nil {
			names = append(names, in.String())
		}
	}
	return append(names, "normal(std)", "uniform(limit)", "constant(v)")
}

// toInt returns v as an int if it is a whole number of magnitude at most
// MaxSettingInt.
func toInt(v any) (int, bool) {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n := rv.Int()
		return int(n), n >= -MaxSettingInt && n <= MaxSettingInt
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		n := rv.Uint()
		return int(n), n <= MaxSettingInt
	case reflect.Float32, reflect.Float64:
		f := rv.Float()
		return int(f), f == math.Trunc(f) && math.Abs(f) <= MaxSettingInt
	}
	return 0, false
}

// tooBig reports whether v is a whole number greater than MaxSettingInt.
func tooBig(v any) bool {
	f, ok := toFloat(v)
	return ok && f == math.Trunc(f) && f > MaxSettingInt
}

func toFloat(v any) (float64, bool) {
	rv := reflect.ValueOf(v)
	var f float64
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		f = float64(rv.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		f = float64(rv.Uint())
	case reflect.Float32, reflect.Float64:
		f = rv.Float()
	default:
		return 0, false
	}
	return f, !math.IsNaN(f) && !math.IsInf(f, 0)
}

// formatValue writes a setting's value as a spec would: strings quoted,
// lists [a, b], maps {k: v}.
func formatValue(v any) string {
	if v == nil {
		return "null"
	}
	switch x := v.(type) {
	case string:
		return strconv.Quote(x)
	case float32:
		return strconv.FormatFloat(float64(x), 'g', -1, 32)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		parts := make([]string, rv.Len())
		for i := range parts {
			parts[i] = formatValue(rv.Index(i).Interface())
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case reflect.Map:
		parts := make([]string, 0, rv.Len())
		for _, k := range rv.MapKeys() {
			parts = append(parts, fmt.Sprintf("%v: %s", k.Interface(), formatValue(rv.MapIndex(k).Interface())))
		}
		sort.Strings(parts)
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return fmt.Sprint(v)
}

// layerType is a registered layer kind.
type layerType struct {
	kind     string
	build    func(*Settings) Layer
	describe func(Layer, *Settings) bool
}

var registry struct {
	sync.RWMutex
	kinds map[string]*layerType
	order []*layerType // registration order, in which Describe tries them
}

var kindPattern = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)

// RegisterLayer adds a layer kind, named in specs by kind (snake_case, as
// "conv2d"), so that Spec.Build and Describe know it. build makes a layer
// from its settings: it reads every setting it knows with the Settings
// methods, unconditionally (reading records errors and goes on; a setting
// it does not read is unknown), and may check values and call Invalid;
// Spec.Build handles the "name" setting of every layer. describe writes
// the settings of l that build would turn back into the same layer,
// leaving out those at their defaults, and returns false if l is not of
// this kind (several kinds may share a Go type, as relu and tanh do); it
// calls Fail for what cannot be written down. describe may be nil: the
// kind can then be built but not described. A layer's own file registers
// it from an init function:
//
//	func init() {
//		RegisterLayer("dropout",
//			func(s *Settings) *Dropout { return NewDropout(s.Float("rate")) },
//			func(d *Dropout, s *Settings) bool { s.Set("rate", d.Rate); return true })
//	}
//
// RegisterLayer panics if kind is not snake_case, build is nil or kind is
// already registered.
func RegisterLayer[L Layer](kind string, build func(s *Settings) L, describe func(l L, s *Settings) bool) {
	if !kindPattern.MatchString(kind) {
		panic(fmt.Sprintf("nn.RegisterLayer: kind %q is not snake_case", kind))
	}
	if build == nil {
		panic(fmt.Sprintf("nn.RegisterLayer: kind %q has no build function", kind))
	}
	t := &layerType{kind: kind, build: func(s *Settings) Layer { return build(s) }}
	if describe != nil {
		t.describe = func(l Layer, s *Settings) bool {
			x, ok := l.(L)
			return ok && describe(x, s)
		}
	}
	registry.Lock()
	defer registry.Unlock()
	if registry.kinds == nil {
		registry.kinds = map[string]*layerType{}
	}
	if _, dup := registry.kinds[kind]; dup {
		panic(fmt.Sprintf("nn.RegisterLayer: kind %q registered twice", kind))
	}
	registry.kinds[kind] = t
	registry.order = append(registry.order, t)
}

// LayerKinds returns the registered layer kinds, sorted.
func LayerKinds() []string {
	registry.RLock()
	defer registry.RUnlock()
	kinds := make([]string, 0, len(registry.kinds))
	for k := range registry.kinds {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	return kinds
}

func lookupKind(kind string) *layerType {
	registry.RLock()
	defer registry.RUnlock()
	return registry.kinds[kind]
}

func registeredTypes() []*layerType {
	registry.RLock()
	defer registry.RUnlock()
	return append([]*layerType(nil), registry.order...)
}
