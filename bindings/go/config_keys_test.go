package zerobus_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	zerobus "github.com/libzerobus/zerobus-go"
)

// keysWithoutTypedOption are the library's keys the binding leaves to WithConfig, and why.
var keysWithoutTypedOption = map[string]string{
	"grpc.keepalive.time.ms":    "rarely tuned: WithConfig",
	"grpc.keepalive.timeout.ms": "rarely tuned: WithConfig",
	"grpc.connect.timeout.ms":   "rarely tuned: WithConfig",
	"proxy":                     "rarely needed: WithConfig",
	"stream.own.connection":     "rarely needed: WithConfig",
	"transport.engine":          "rarely needed: WithConfig",
	"arrow.compression":         "Arrow streams are not in the binding yet: WithConfig",
	"workspace.url":             "OAuth through the library: WithConfig",
	"auth.client.id":            "OAuth through the library: WithConfig",
	"auth.client.secret":        "OAuth through the library: WithConfig",
	"auth.refresh.margin.ms":    "OAuth through the library: WithConfig",
	"log.level":                 "WithLogger sets it from the slog handler's level",
	"sdk.warnings.enable":       "rarely needed: WithConfig",
}

// typedOptionKeys are the keys the binding's own source names in Option{key: "..."}.
func typedOptionKeys(t *testing.T) map[string]string {
	t.Helper()
	sources, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]string{}
	files := token.NewFileSet()
	for _, source := range sources {
		if strings.HasSuffix(source, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(files, source, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(node ast.Node) bool {
			field, ok := node.(*ast.KeyValueExpr)
			if !ok {
				return true
			}
			name, isIdent := field.Key.(*ast.Ident)
			literal, isLiteral := field.Value.(*ast.BasicLit)
			if isIdent && name.Name == "key" && isLiteral && literal.Kind == token.STRING {
				key, err := strconv.Unquote(literal.Value)
				if err != nil {
					t.Fatal(err)
				}
				keys[key] = files.Position(literal.Pos()).String()
			}
			return true
		})
	}
	return keys
}

// The typed options and the library's keys (zb_config_describe) must agree: every key an
// option sets exists, and every key has an option or a reason to have none. A key added to,
// renamed in or removed from the library fails here rather than at a user's run time.
func TestTypedOptionsCoverTheLibrarysKeys(t *testing.T) {
	library := map[string]bool{}
	for _, property := range zerobus.ConfigProperties() {
		library[property.Name] = true
	}
	if len(library) < 20 {
		t.Fatalf("zb_config_describe lists %d keys; expected every key of CONFIGURATION.md", len(library))
	}
	typed := typedOptionKeys(t)
	if len(typed) == 0 {
		t.Fatal("found no Option{key: ...} in the binding's source")
	}
	var problems []string
	for key, where := range typed {
		if !library[key] {
			problems = append(problems, where+": "+key+" is not a key of the library")
		}
		if _, listed := keysWithoutTypedOption[key]; listed {
			problems = append(problems, key+" has a typed option and is listed as without one")
		}
	}
	for key := range keysWithoutTypedOption {
		if !library[key] {
			problems = append(problems, "keysWithoutTypedOption names "+key+", not a key of the library")
		}
	}
	for key := range library {
		_, hasOption := typed[key]
		_, listed := keysWithoutTypedOption[key]
		if !hasOption && !listed {
			problems = append(problems, key+" has neither a typed option nor a reason in keysWithoutTypedOption")
		}
	}
	sort.Strings(problems)
	for _, problem := range problems {
		t.Error(problem)
	}
}
