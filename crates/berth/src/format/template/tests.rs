//! Cases from Go's `src/text/template/exec_test.go` (`execTests`: the If, With, Range,
//! Print, Booleans, Indexing, Len, Cute examples and "bug" groups, with tVal's fields
//! rebuilt as JSON), from `parse_test.go`/`lex_test.go` (trim markers, comments, numbers)
//! and from docker's `templates_test.go` (its functions), plus JSON-specific behaviour.

use serde_json::{Value, json};

use super::{Template, TemplateError};

/// The parts of Go's `tVal` that JSON can carry.
fn tval() -> Value {
    json!({
        "True": true, "I": 17, "U16": 16, "X": "x", "S": "xyz", "U": {"V": "v"},
        "FloatZero": 0.0, "SI": [3, 4, 5], "SIEmpty": [], "SB": [true, false],
        "MSI": {"one": 1, "two": 2, "three": 3}, "MSIone": {"one": 1}, "MSIEmpty": {},
        "MXI": {"one": 1}, "SMSI": [{"one": 1, "two": 2}, {"eleven": 11, "twelve": 12}],
        "Empty0": null, "Empty3": [7, 8], "Empty4": {"V": "UinEmpty"},
        "PSI": [21, 22, 23], "PS": "a string"
    })
}

fn run(t: &str, data: &Value) -> Result<String, TemplateError> {
    Template::parse_go(t)?.render(data)
}

fn ok(t: &str) -> String {
    match run(t, &tval()) {
        Ok(s) => s,
        Err(e) => panic!("{t}: {e}"),
    }
}

fn fails(t: &str) -> String {
    match run(t, &tval()) {
        Ok(s) => panic!("{t}: expected an error, got {s:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn go_exec_fields_and_variables() {
    assert_eq!(ok("-{{.I}}-"), "-17-");
    assert_eq!(ok("{{.U.V}}"), "v");
    assert!(ok("{{$}}").starts_with("map["));
    assert_eq!(ok("{{$.I}}"), "17");
    assert_eq!(ok("{{$.U.V}}"), "v");
    assert_eq!(ok("{{$x := .I}}{{$x}}"), "17");
    assert_eq!(ok("{{$x := 1}}{{$x = 2}}{{$x}}"), "2");
    assert_eq!(ok("{{.MXI.unset}}"), "<no value>");
    assert_eq!(ok("{{.MXI.one}}"), "1");
    assert_eq!(ok("{{with $x := $}}{{$x.U.V}}{{end}}"), "v");
    assert_eq!(ok("{{with $x := $}}{{$y := $.U.V}}{{$y}}{{end}}"), "v");
    assert_eq!(ok("{{($).X}}"), "x");
    assert_eq!(ok("{{print (.U).V}}"), "v");
    // bug9: lower-case map keys.
    assert_eq!(
        run("{{.cause}}", &json!({"cause": "neglect"})).unwrap(),
        "neglect"
    );
}

#[test]
fn go_exec_if() {
    assert_eq!(ok("{{if true}}TRUE{{end}}"), "TRUE");
    assert_eq!(ok("{{if false}}TRUE{{else}}FALSE{{end}}"), "FALSE");
    fails("{{if nil}}TRUE{{end}}");
    assert_eq!(ok("{{if 1}}NON-ZERO{{else}}ZERO{{end}}"), "NON-ZERO");
    assert_eq!(ok("{{if 0}}NON-ZERO{{else}}ZERO{{end}}"), "ZERO");
    assert_eq!(ok("{{if 1.5}}NON-ZERO{{else}}ZERO{{end}}"), "NON-ZERO");
    assert_eq!(ok("{{if .FloatZero}}NON-ZERO{{else}}ZERO{{end}}"), "ZERO");
    assert_eq!(ok("{{if ``}}NON-EMPTY{{else}}EMPTY{{end}}"), "EMPTY");
    assert_eq!(
        ok("{{if `notempty`}}NON-EMPTY{{else}}EMPTY{{end}}"),
        "NON-EMPTY"
    );
    assert_eq!(ok("{{if .SIEmpty}}NON-EMPTY{{else}}EMPTY{{end}}"), "EMPTY");
    assert_eq!(ok("{{if .SI}}NON-EMPTY{{else}}EMPTY{{end}}"), "NON-EMPTY");
    assert_eq!(ok("{{if .MSIEmpty}}NON-EMPTY{{else}}EMPTY{{end}}"), "EMPTY");
    assert_eq!(ok("{{if .MSI}}NON-EMPTY{{else}}EMPTY{{end}}"), "NON-EMPTY");
    assert_eq!(ok("{{if .MXI.none}}NON-ZERO{{else}}ZERO{{end}}"), "ZERO");
    assert_eq!(
        ok("{{if not .MXI.none}}ZERO{{else}}NON-ZERO{{end}}"),
        "ZERO"
    );
    assert_eq!(
        ok("{{if $x := true}}{{with $y := .I}}{{$x}},{{$y}}{{end}}{{end}}"),
        "true,17"
    );
    assert_eq!(
        ok("{{if $x := true}}{{with $x := .I}}{{$x}},{{end}}{{$x}}{{end}}"),
        "17,true"
    );
    assert_eq!(ok("{{if false}}FALSE{{else if true}}TRUE{{end}}"), "TRUE");
    assert_eq!(
        ok("{{if eq 1 3}}1{{else if eq 2 3}}2{{else if eq 3 3}}3{{end}}"),
        "3"
    );
    assert_eq!(ok("{{if .Empty0}}non-nil{{else}}nil{{end}}"), "nil");
}

#[test]
fn go_exec_with() {
    assert_eq!(ok("{{with true}}{{.}}{{end}}"), "true");
    assert_eq!(ok("{{with false}}{{.}}{{else}}FALSE{{end}}"), "FALSE");
    assert_eq!(ok("{{with 1}}{{.}}{{else}}ZERO{{end}}"), "1");
    assert_eq!(ok("{{with 0}}{{.}}{{else}}ZERO{{end}}"), "ZERO");
    assert_eq!(ok("{{with 1.5}}{{.}}{{else}}ZERO{{end}}"), "1.5");
    assert_eq!(ok("{{with .FloatZero}}{{.}}{{else}}ZERO{{end}}"), "ZERO");
    assert_eq!(ok("{{with ``}}{{.}}{{else}}EMPTY{{end}}"), "EMPTY");
    assert_eq!(
        ok("{{with `notempty`}}{{.}}{{else}}EMPTY{{end}}"),
        "notempty"
    );
    assert_eq!(ok("{{with .SI}}{{.}}{{else}}EMPTY{{end}}"), "[3 4 5]");
    assert_eq!(ok("{{with .MSIEmpty}}{{.}}{{else}}EMPTY{{end}}"), "EMPTY");
    assert_eq!(
        ok("{{with .MSIone}}{{.}}{{else}}EMPTY{{end}}"),
        "map[one:1]"
    );
    assert_eq!(ok("{{with .Empty4}}{{.V}}{{end}}"), "UinEmpty");
    assert_eq!(ok("{{with $x := .I}}{{$x}}{{end}}"), "17");
    // Go 1.23: else with.
    assert_eq!(ok("{{with .SIEmpty}}a{{else with .I}}{{.}}{{end}}"), "17");
}

#[test]
fn go_exec_range() {
    assert_eq!(ok("{{range .SI}}-{{.}}-{{end}}"), "-3--4--5-");
    assert_eq!(ok("{{range .SIEmpty}}-{{.}}-{{end}}"), "");
    assert_eq!(ok("{{range .SI}}-{{.}}-{{else}}EMPTY{{end}}"), "-3--4--5-");
    assert_eq!(ok("{{range .SIEmpty}}-{{.}}-{{else}}EMPTY{{end}}"), "EMPTY");
    assert_eq!(ok("{{range .SB}}-{{.}}-{{end}}"), "-true--false-");
    // Maps iterate in sorted key order: one, three, two.
    assert_eq!(ok("{{range .MSI}}-{{.}}-{{end}}"), "-1--3--2-");
    assert_eq!(
        ok("{{range .MSIEmpty}}-{{.}}-{{else}}EMPTY{{end}}"),
        "EMPTY"
    );
    assert_eq!(ok("{{range .Empty3}}-{{.}}-{{else}}EMPTY{{end}}"), "-7--8-");
    assert_eq!(ok("{{range .Empty0}}-{{.}}-{{end}}"), "");
    assert_eq!(ok("{{range $x := .SI}}<{{$x}}>{{end}}"), "<3><4><5>");
    assert_eq!(
        ok("{{range $x, $y := .SI}}<{{$x}}={{$y}}>{{end}}"),
        "<0=3><1=4><2=5>"
    );
    assert_eq!(ok("{{range $x := .MSIone}}<{{$x}}>{{end}}"), "<1>");
    assert_eq!(
        ok("{{range $x, $y := .MSIone}}<{{$x}}={{$y}}>{{end}}"),
        "<one=1>"
    );
    assert_eq!(
        ok("{{range $x := .PSI}}<{{$foo:=$x}}{{$x}}>{{end}}"),
        "<21><22><23>"
    );
    // Go 1.18: break and continue; Go 1.22: range over an integer.
    assert_eq!(
        ok("{{range .SI}}{{if eq . 4}}{{break}}{{end}}{{.}}{{end}}"),
        "3"
    );
    assert_eq!(
        ok("{{range .SI}}{{if eq . 4}}{{continue}}{{end}}{{.}}{{end}}"),
        "35"
    );
    assert_eq!(ok("{{range 3}}{{.}}{{end}}"), "012");
    assert_eq!(ok("{{range $i := 2}}{{$i}}{{end}}"), "01");
    fails("{{range $i, $j := 2}}{{end}}");
    fails("{{range .X}}{{end}}");
    // Variables declared inside the range body do not outlive it.
    assert!(Template::parse_go("{{range .SI}}{{$y := .}}{{end}}{{$y}}").is_err());
}

#[test]
fn go_exec_print_and_printf() {
    assert_eq!(ok(r#"{{print "hello, print"}}"#), "hello, print");
    assert_eq!(ok("{{print 1 2 3}}"), "1 2 3");
    assert_eq!(ok("{{print nil}}"), "<nil>");
    assert_eq!(ok("{{println 1 2 3}}"), "1 2 3\n");
    assert_eq!(ok(r#"{{printf "%04x" 127}}"#), "007f");
    assert_eq!(ok(r#"{{printf "%g" 3.5}}"#), "3.5");
    assert_eq!(ok(r#"{{printf "%s" "hello"}}"#), "hello");
    assert_eq!(ok(r#"{{printf "%s" .U.V}}"#), "v");
    assert_eq!(ok(r#"{{with .I}}{{printf "%d" .}}{{end}}"#), "17");
    assert_eq!(ok(r#"{{with $x := .I}}{{printf "%d" $x}}{{end}}"#), "17");
    // `2 | print 3` is `print 3 2`: "3 2", three bytes long.
    assert_eq!(
        ok("{{printf `%d %d %d` (1) (2 | print 3 | len) 4}}"),
        "1 3 4"
    );
    assert_eq!(
        ok(r#"{{printf "%-5s|%5s|%.2f|%q|%v|%x" "a" "b" 3.14159 "q" .SI "hi"}}"#),
        "a    |    b|3.14|\"q\"|[3 4 5]|6869"
    );
    assert_eq!(ok(r#"{{printf "%d %s"  1}}"#), "1 %!s(MISSING)");
    assert_eq!(ok(r#"{{printf "%d" "x"}}"#), "%!d(string=x)");
    assert_eq!(ok(r#"{{"aaa"|printf }}"#), "aaa");
    // bug16: a pipelined non-string format is a type error.
    fails("{{true|printf}}");
    fails("{{1|printf}}");
    assert_eq!(ok("{{print 1 `a` 2 3}}"), "1a2 3");
    assert_eq!(
        ok("{{print 1e21}} {{print 1e20}} {{print 0.00001}}"),
        "1e+21 100000000000000000000 1e-05"
    );
}

#[test]
fn go_exec_escapers() {
    assert_eq!(
        ok(r#"{{html "<script>alert(\"XSS\");</script>"}}"#),
        "&lt;script&gt;alert(&#34;XSS&#34;);&lt;/script&gt;"
    );
    assert_eq!(
        ok(r#"{{printf "<script>alert(\"XSS\");</script>" | html}}"#),
        "&lt;script&gt;alert(&#34;XSS&#34;);&lt;/script&gt;"
    );
    assert_eq!(
        run("{{js .}}", &json!("It'd be nice.")).unwrap(),
        r"It\'d be nice."
    );
    assert_eq!(
        ok(r#"{{"http://www.example.org/"|urlquery}}"#),
        "http%3A%2F%2Fwww.example.org%2F"
    );
}

#[test]
fn go_exec_booleans_and_comparisons() {
    assert_eq!(ok("{{not true}} {{not false}}"), "false true");
    assert_eq!(
        ok("{{and false 0}} {{and 1 0}} {{and 0 true}} {{and 1 1}}"),
        "false 0 0 1"
    );
    assert_eq!(
        ok("{{or 0 0}} {{or 1 0}} {{or 0 true}} {{or 1 1}}"),
        "0 1 true 1"
    );
    assert_eq!(ok("{{if and true 1 `hi`}}TRUE{{else}}FALSE{{end}}"), "TRUE");
    assert_eq!(
        ok("{{if and true 1 `hi` | not}}TRUE{{else}}FALSE{{end}}"),
        "FALSE"
    );
    assert_eq!(ok(r#"{{or .SI "slice is empty"}}"#), "[3 4 5]");
    assert_eq!(ok(r#"{{or .SIEmpty "slice is empty"}}"#), "slice is empty");
    // `and` stops at the first false operand: the failing call is never made.
    assert_eq!(ok("{{and false (index .SI 10)}}"), "false");
    // From Go's cmpTests.
    assert_eq!(
        ok("{{eq true true}} {{eq true false}} {{eq 1 1}} {{eq 1 2}}"),
        "true false true false"
    );
    assert_eq!(
        ok("{{eq `xy` `xy`}} {{eq `xy` `xyz`}} {{eq .I 17}} {{eq .I 1 2 17}}"),
        "true false true true"
    );
    assert_eq!(
        ok("{{ne 1 2}} {{lt 1 2}} {{le 2 2}} {{gt 2 1}} {{ge 1 2}}"),
        "true true true true false"
    );
    assert_eq!(
        ok("{{lt `a` `b`}} {{lt 1.5 2}} {{eq .FloatZero 0}}"),
        "true true true"
    );
    let e = fails("{{eq `xy` 1}}");
    assert!(
        e.ends_with("error calling eq: incompatible types for comparison"),
        "{e}"
    );
    fails("{{lt true false}}");
    fails("{{eq .SI .SI}}");
}

#[test]
fn go_exec_index_len_slice() {
    assert_eq!(ok("{{index .SI 0}}"), "3");
    assert_eq!(ok("{{index .SI 1}}"), "4");
    let e = fails("{{index .SI 10}}");
    assert_eq!(
        e,
        "template: :1:2: executing \"\" at <index .SI 10>: error calling index: index out of range: 10"
    );
    fails("{{index .SI `hello`}}");
    fails("{{index .SI nil}}");
    assert_eq!(ok("{{index .MSI `one`}}"), "1");
    assert_eq!(ok("{{index .MSI `XXX`}}"), "0");
    assert_eq!(ok("{{index .MSI ``}}"), "0");
    fails("{{index .MSI 10}}");
    assert_eq!(ok("{{index .SMSI 1 `eleven`}}"), "11");
    fails("{{index nil 1}}");
    assert_eq!(ok("{{len .SI}}"), "3");
    assert_eq!(ok("{{len .MSI }}"), "3");
    fails("{{len 3}}");
    fails("{{len .Empty0}}");
    assert_eq!(
        ok("{{slice .SI 1 2}} {{slice .S 1}} {{slice .S 1 2}}"),
        "[4] yz y"
    );
    fails("{{slice .SI 2 1}}");
}

#[test]
fn go_exec_bugs_and_errors() {
    fails("{{3 2}}");
    fails("{{$x := 1}}{{$x 2}}");
    fails("{{$x := 1}}{{3 | $x}}");
    fails("{{(nil).True}}");
    fails("{{$x := nil}}{{$x.anything}}");
    fails(r#"{{$x := (1.0)}}{{$y := ("hello")}}{{$x.anything}}{{$y.true}}"#);
    assert_eq!(
        fails("{{.X.Y}}"),
        "template: :1:4: executing \"\" at <.X.Y>: can't evaluate field Y in type string"
    );
    assert_eq!(
        fails("a\n  {{.Empty0.Y}}"),
        "template: :2:11: executing \"\" at <.Empty0.Y>: nil pointer evaluating interface {}.Y"
    );
    assert_eq!(
        fails("{{.X 1}}"),
        "template: :1:2: executing \"\" at <.X>: X is not a method but has arguments"
    );
}

#[test]
fn go_parse_errors() {
    let e = |t: &str| Template::parse_go(t).unwrap_err().to_string();
    assert_eq!(e("{{range .Foo"), "template: :1: unclosed action");
    assert_eq!(
        e("{{foo .X}}"),
        "template: :1: function \"foo\" not defined"
    );
    assert_eq!(e("{{if .X}}"), "template: :1: unexpected EOF");
    assert_eq!(e("x\n{{end}}"), "template: :2: unexpected {{end}}");
    assert_eq!(e("{{$x}}"), "template: :1: undefined variable \"$x\"");
    assert_eq!(e("{{if}}{{end}}"), "template: :1: missing value for if");
    assert_eq!(e("{{break}}"), "template: :1: {{break}} outside {{range}}");
    assert_eq!(
        e("{{.X | 3}}"),
        "template: :1: non executable command in pipeline stage 2"
    );
    assert!(Template::parse_go("{{range .SI}}{{else}}{{else}}{{end}}").is_err());
    assert!(Template::parse_go("{{3x}}").is_err());
    assert!(Template::parse_go("{{\"abc}}").is_err());
}

#[test]
fn go_lex_trim_comments_numbers_strings() {
    assert_eq!(ok("x {{- .X -}} y"), "xxy");
    assert_eq!(ok("x\n\t {{- .X}} \n y"), "xx \n y");
    assert_eq!(ok("{{- /* a comment */ -}}  z"), "z");
    assert_eq!(ok("a{{/* c\nc */}}b"), "ab");
    // `{{-3}}` is the number -3, not a trim marker.
    assert_eq!(ok("{{-3}}"), "-3");
    assert_eq!(
        ok("{{0x1F}} {{0o17}} {{0b101}} {{1_000}} {{1e3}} {{'a'}} {{.5}}"),
        "31 15 5 1000 1000 97 0.5"
    );
    assert_eq!(ok(r#"{{"a\tb\u00e9\x41"}}"#), "a\tbéA");
    assert_eq!(ok("{{`raw\\n`}}"), "raw\\n");
    assert_eq!(ok("{{ .I }}{{\t.X\t}}"), "17x");
}

#[test]
fn go_define_template_block() {
    assert_eq!(
        ok(r#"{{define "T"}}<{{.}}>{{end}}{{template "T" .I}}{{template "T" .X}}"#),
        "<17><x>"
    );
    assert_eq!(ok(r#"{{block "B" .U}}[{{.V}}]{{end}}"#), "[v]");
    assert_eq!(
        ok(r#"{{define "N"}}{{.}}{{end}}{{template "N"}}"#),
        "<no value>"
    );
    fails(r#"{{template "missing"}}"#);
    fails(r#"{{define "R"}}{{template "R" .}}{{end}}{{template "R" .}}"#);
}

#[test]
fn docker_functions() {
    // docker's templates_test.go and formatter behaviour.
    let v = json!({"Names": ["a", "b"], "S": "Hello World", "L": "a,b,c",
                   "Labels": {"com.x": "1"}, "Empty": ""});
    let r = |t: &str| run(t, &v).unwrap();
    assert_eq!(r("{{json .Names}}"), r#"["a","b"]"#);
    assert_eq!(r("{{json .Missing}}"), "null");
    assert_eq!(r(r#"{{json "<&>"}}"#), r#""<&>""#);
    assert_eq!(r(r#"{{join .Names ", "}}"#), "a, b");
    assert_eq!(r(r#"{{split .L ","}}"#), "[a b c]");
    assert_eq!(r(r#"{{index (split .L ",") 1}}"#), "b");
    assert_eq!(r("{{title `hello wORLD-foo`}}"), "Hello WORLD-Foo");
    assert_eq!(r("{{lower .S}} {{upper .S}}"), "hello world HELLO WORLD");
    assert_eq!(
        r("[{{pad .S 2 3}}][{{pad .Empty 2 3}}]"),
        "[  Hello World   ][]"
    );
    assert_eq!(
        r("{{truncate .S 5}}|{{truncate .S 50}}"),
        "Hello|Hello World"
    );
    assert_eq!(
        r(r#"{{index .Labels "com.x"}}[{{index .Labels "none"}}]"#),
        "1[]"
    );
    assert_eq!(
        r(r#"{{range $k, $v := .Labels}}{{$k}}={{$v}}{{end}}"#),
        "com.x=1"
    );
    assert_eq!(r(r#"{{.Label "com.x"}}"#), "1");
    assert!(run("{{upper .Missing}}", &v).is_err());
}

#[test]
fn docker_table_header() {
    let t = Template::parse("table {{.ID}}\\t{{upper .Image}}\\t{{json .Names}}").unwrap();
    assert!(t.table);
    let label = |f: &str| match f {
        "ID" => Some("CONTAINER ID"),
        _ => None,
    };
    assert_eq!(t.header(label).unwrap(), "CONTAINER ID\tIMAGE\tNAMES");
    assert_eq!(
        t.render(&json!({"ID": "1", "Image": "b", "Names": ["n"]}))
            .unwrap(),
        "1\tB\t[\"n\"]"
    );
}

#[test]
fn missing_key_error_as_docker_inspect() {
    // docker inspect's raw-JSON fallback runs with missingkey=error.
    let mut t = Template::parse_go("{{.State.Health}}").unwrap();
    t.missing_key_error = true;
    assert_eq!(
        t.render(&json!({"State": {"Status": "running"}}))
            .unwrap_err()
            .to_string(),
        "template: :1:8: executing \"\" at <.State.Health>: map has no entry for key \"Health\""
    );
    assert_eq!(t.render(&json!({"State": {"Health": 1}})).unwrap(), "1");
    // A missing key of a real map (labels) is not an error: docker's typed pass has it.
    let mut t = Template::parse_go("{{with .Labels.nope}}yes{{else}}no{{end}}").unwrap();
    t.missing_key_error = true;
    assert_eq!(t.render(&json!({"Labels": {"tier": "web"}})).unwrap(), "no");
}

#[test]
fn docker_label_header() {
    let t = Template::parse("table {{.Names}}\\t{{.Label \"com.example.my-key\"}}").unwrap();
    assert_eq!(t.header(|_| None).unwrap(), "NAMES\tmy key");
}

#[test]
fn malformed_templates_fail_cleanly() {
    let bad = [
        "{{",
        "{{}}",
        "{{(}}",
        "{{)}}",
        "{{(.A}}",
        "{{.A)}}",
        "{{range}}",
        "{{end}}{{end}}",
        "{{else}}",
        "{{$x :=}}",
        "{{|}}",
        "{{.A|}}",
        "{{'a}}",
        "{{\"\\",
        "{{/*",
        "{{-}}",
        "{{ - }}",
        "{{..}}",
        "{{1.2.3}}",
        "{{0x}}",
        "{{template}}",
        "{{define}}",
        "{{define \"a\"}}",
        "{{with $x, $y := .}}{{end}}",
        "{{range $x, $y, $z := .}}{{end}}",
        "{{`}}",
        "{{.A 'é}}",
        "{{if .A}}{{else if}}{{end}}",
        "{{range .SI}}{{else with .I}}{{end}}",
        "{{$x = 1}}",
        "{{:= 1}}",
        "{{.A:=1}}",
        "{{nil}}",
        "{{(1) 2}}",
        "{{.I.J.K}}",
        "{{printf}}",
        "{{index}}",
        "{{slice .S 1 2 3}}",
        "{{len}}",
        "{{and}}",
        "{{or}}",
        "{{eq 1}}",
        "{{lt 1}}",
        "{{pad .S}}",
        "{{truncate .S -1}}",
        "{{split .S}}",
        "{{json}}",
        "{{range .I}}{{end}}{{range -1}}x{{end}}",
        "{{break}}",
        "{{range .SI}}{{define \"x\"}}{{end}}{{end}}",
        "{{\u{0}}}",
        "é{{.é}}",
        "{{.S | printf \"%*d\" 1000000000}}",
        "{{printf \"%.*f\" -5 1.5}}",
        "{{printf \"%*d\" 1000000000 5}}",
        "{{printf \"%.*f\" 1000000000 1.5}}",
        "{{pad .S 1000000000000 0}}",
        "{{range 100000000}}{{break}}{{end}}",
    ];
    assert_eq!(ok("{{printf \"%*d\" 2000000 5}}"), "%!(BADWIDTH)5");
    assert_eq!(
        ok("{{range 100000000}}{{if eq . 2}}{{break}}{{end}}{{.}}{{end}}"),
        "01"
    );
    for t in bad {
        if let Ok(tmpl) = Template::parse_go(t) {
            let _ = tmpl.render(&tval());
            let _ = tmpl.header(|_| None);
        }
    }
}
