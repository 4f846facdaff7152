//! Expectations taken from the behaviour BuildKit's `frontend/dockerfile/shell/envVarTest`,
//! `wordsTest` and `lex_test.go` describe (cases rewritten here, not copied).

use super::pattern::{reverse_pattern, shell_pattern_to_regex};
use super::*;

type Pairs<'a> = &'a [(&'a str, &'a str)];

fn env() -> Vec<(String, String)> {
    [
        ("PWD", "/home"),
        ("SHELL", "bash"),
        ("KOREAN", "한국어"),
        ("NULL", ""),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

fn kv(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

const ERR: &str = "<error>";

#[test]
fn process_word_table() {
    let cases: &[(&str, &str)] = &[
        ("hello", "hello"),
        ("he'll'o", "hello"),
        ("he'llo", ERR),
        ("he\\'llo", "he'llo"),
        ("he\\\\'llo", ERR),
        ("abc\\tdef", "abctdef"),
        ("\"abc\\tdef\"", "abc\\tdef"),
        ("\"abc\\\\tdef\"", "abc\\tdef"),
        ("'abc\\tdef'", "abc\\tdef"),
        ("hello\\", "hello"),
        ("hello\\\\", "hello\\"),
        ("\"hello", ERR),
        ("\"hello\\\"", ERR),
        ("\"hel'lo\"", "hel'lo"),
        ("'hello", ERR),
        ("'hello\\'", "hello\\"),
        ("\"''\"", "''"),
        ("$.", "$."),
        ("he$1x", "hex"),
        ("he$.x", "he$.x"),
        ("he$pwd.", "he."),
        ("he$PWD", "he/home"),
        ("he\\$PWD", "he$PWD"),
        ("he\\\\$PWD", "he\\/home"),
        ("\"he\\$PWD\"", "he$PWD"),
        ("\"he\\\\$PWD\"", "he\\/home"),
        ("\\${}", "${}"),
        ("he\\${}xx", "he${}xx"),
        ("${}", ERR),
        ("he${}xx", ERR),
        ("he${hi}xx", "hexx"),
        ("he${PWD}", "he/home"),
        ("he${.}", ERR),
        ("he${XXX:-000}xx", "he000xx"),
        ("he${PWD:-000}xx", "he/homexx"),
        ("he${XXX:-$PWD}xx", "he/homexx"),
        ("he${XXX:-${PWD:-yyy}}xx", "he/homexx"),
        ("he${XXX:-${YYY:-yyy}}xx", "heyyyxx"),
        ("he${XXX:YYY}", ERR),
        ("he${XXX?}", ERR),
        ("he${XXX:?}", ERR),
        ("he${PWD?}", "he/home"),
        ("he${NULL?}", "he"),
        ("he${NULL:?}", ERR),
        ("he${XXX:+${PWD}}xx", "hexx"),
        ("he${PWD:+${SHELL}}xx", "hebashxx"),
        ("he${PWD:+000}xx", "he000xx"),
        ("'he${XX}'", "he${XX}"),
        ("\"he'$PWD'\"", "he'/home'"),
        ("'\\$PWD'", "\\$PWD"),
        ("he${PWD", ERR),
        ("he${PWD:=000}xx", ERR),
        ("he${PWD:+${PWD}:}xx", "he/home:xx"),
        ("he${XXX:-\\$PWD:}xx", "he$PWD:xx"),
        ("he${XXX:-\\${PWD}z}xx", "he${PWDz}xx"),
        ("안'녕'하세요", "안녕하세요"),
        ("안녕$KOREAN", "안녕한국어"),
        ("${{aaa}", ERR),
        ("${aaa}}", "}"),
        ("${aaa", ERR),
        ("${aaa:-bbb}}", "bbb}"),
        ("${aaa:-bbb", ERR),
        ("${aaa:-bbb ${foo}", ERR),
        ("${aaa:-bbb {foo}", "bbb {foo"),
        ("${:}", ERR),
        ("${:-bbb}", ERR),
        ("$1", ""),
        ("${9:-bbb}", "bbb"),
        ("$999aaa", "aaa"),
        ("${001:-bbb}aaa", "bbbaaa"),
        ("$@@@", "@@"),
        ("${@:-bbb}aaa", "bbbaaa"),
        ("${#:+bbb}", ""),
        ("${$:-bbb}", "bbb"),
        ("$0", ""),
    ];
    let lex = Lexer::new('\\');
    let env = env();
    for (input, want) in cases {
        let got = lex.process_word(input, &env);
        if *want == ERR {
            assert!(got.is_err(), "{input:?} should fail, got {got:?}");
        } else {
            assert_eq!(got.as_deref(), Ok(*want), "{input:?}");
        }
    }
}

#[test]
fn required_variables() {
    let lex = Lexer::new('\\');
    let no_empty = "${VAR:?message here$ARG}";
    let no_unset = "${VAR?message here$ARG}";
    let set = kv(&[("VAR", "plain"), ("ARG", "x")]);
    let empty = kv(&[("VAR", ""), ("ARG", "x")]);
    let unset = kv(&[("ARG", "x")]);
    assert_eq!(lex.process_word(no_empty, &set).unwrap(), "plain");
    let e = lex.process_word(no_empty, &empty).unwrap_err();
    assert!(e.to_string().contains("VAR: message herex"), "{e}");
    assert!(lex.process_word(no_empty, &unset).is_err());
    assert_eq!(lex.process_word(no_unset, &empty).unwrap(), "");
    let e = lex.process_word(no_unset, &unset).unwrap_err();
    assert!(e.to_string().contains("message herex"), "{e}");
    let e = lex.process_word("${X:?}", &unset).unwrap_err();
    assert_eq!(
        e.to_string(),
        "failed to process \"${X:?}\": X: is not allowed to be unset"
    );
}

#[test]
fn modifiers_table() {
    let cases: &[(&str, Pairs, &str)] = &[
        ("x ${UNUSED}", &[], "x "),
        (
            "${FOO-aaa} ${BAR-bbb} ${BAZ-ccc}",
            &[("FOO", "xxx"), ("BAR", "")],
            "xxx  ccc",
        ),
        (
            "${FOO:-aaa} ${BAR:-bbb} ${BAZ:-ccc}",
            &[("FOO", "xxx"), ("BAR", "")],
            "xxx bbb ccc",
        ),
        (
            "${FOO+aaa} ${BAR+bbb} ${BAZ+ccc}",
            &[("FOO", "xxx"), ("BAR", "")],
            "aaa bbb ",
        ),
        (
            "${FOO:+aaa} ${BAR:+bbb} ${BAZ:+ccc}",
            &[("FOO", "xxx"), ("BAR", "")],
            "aaa  ",
        ),
        ("${BAR?bbb}", &[("BAR", "")], ""),
        ("${BAR:?bbb}", &[("BAR", "")], ERR),
        ("${FOO=aaa}", &[("FOO", "xxx")], ERR),
        ("${FOO=}", &[], ERR),
        (
            "${FOO#()[]{\\}^$.\\*\\?|\\\\}",
            &[("FOO", "()[]{}^$.*?|\\x")],
            "x",
        ),
        ("${FOO%%\\**}", &[("FOO", "xx**")], "xx"),
        ("${FOO#*x*y}", &[("FOO", "xxyy")], "y"),
        ("${FOO#*}", &[("FOO", "xxyy")], "xxyy"),
        ("${FOO#$BAR}", &[("FOO", "xxyy"), ("BAR", "x")], "xyy"),
        ("${FOO#$BAR}", &[("FOO", "xxyy"), ("BAR", "")], "xxyy"),
        ("${FOO##*x}", &[("FOO", "xxyy")], "yy"),
        ("${FOO##}", &[("FOO", "xxyy")], "xxyy"),
        ("${FOO#?\\?}", &[("FOO", "???y")], "?y"),
        ("${ABC:-.}${FOO%x}${ABC:-.}", &[("FOO", "xxyy")], ".xxyy."),
        ("${FOO%%\\**\\*}", &[("FOO", "a***yy*")], "a"),
        ("${FOO%y*}", &[("FOO", "xxyy")], "xxy"),
        ("${FOO%%y*}", &[("FOO", "xxyy")], "xx"),
        ("${FOO%}", &[("FOO", "xxyy")], "xxyy"),
        ("${FOO:#}", &[], ERR),
        ("${FOO:##}", &[], ERR),
        ("${FOO:%}", &[], ERR),
        ("${FOO:%%}", &[], ERR),
        (
            "${FOO/$NEEDLE/.} - ${FOO//$NEEDLE/.}",
            &[("FOO", "/foo*/*/*.txt"), ("NEEDLE", "\\*/")],
            "/foo.*/*.txt - /foo..*.txt",
        ),
        (
            "${FOO/$NEEDLE/} - ${FOO//$NEEDLE/}",
            &[("FOO", "/tmp/tmp/bar.txt"), ("NEEDLE", "/tmp")],
            "/tmp/bar.txt - /bar.txt",
        ),
        (
            "${FOO/$NEEDLE/$R} - ${FOO//$NEEDLE/$R}",
            &[("FOO", "/a/foo/b/c.txt"), ("NEEDLE", "/?/"), ("R", "/")],
            "/foo/b/c.txt - /foo/c.txt",
        ),
        (
            "${FOO//\\//\\/}",
            &[("FOO", "/tmp/foo.txt")],
            "\\/tmp\\/foo.txt",
        ),
        ("${FOO/$BAR/ww}", &[("FOO", "xxyy"), ("BAR", "")], "wwxxyy"),
        ("${FOO//ww}", &[("FOO", "xxyy")], ERR),
        ("${FOO//}", &[("FOO", "xxyy")], ERR),
        ("${FOO///}", &[("FOO", "xxyy")], "xxyy"),
        ("${FOO///}", &[], ""),
        ("${FOO/x*/z}", &[("FOO", "axxb")], "az"),
        ("${FOO#\\x}", &[("FOO", "xx")], ERR),
    ];
    let lex = Lexer::new('\\');
    for (input, env, want) in cases {
        let env = kv(env);
        let got = lex.process_word(input, &env);
        if *want == ERR {
            assert!(got.is_err(), "{input:?} should fail, got {got:?}");
        } else {
            assert_eq!(got.as_deref(), Ok(*want), "{input:?}");
        }
    }
}

#[test]
fn words_table() {
    // (env, input, words); an empty words list with "error" means an error.
    let cases: &[(Pairs, &str, &[&str])] = &[
        (&[], "hello", &["hello"]),
        (&[], "hello${hi}bye", &["hellobye"]),
        (&[("hi", "hi")], "hello${hi}bye", &["hellohibye"]),
        (
            &[("space", "abc  def")],
            "hello${space}bye",
            &["helloabc", "defbye"],
        ),
        (
            &[("space", "abc  def")],
            "hello\"${space}\"bye",
            &["helloabc  defbye"],
        ),
        (
            &[("space", "abc  def")],
            "hello \"${space}\"bye",
            &["hello", "abc  defbye"],
        ),
        (
            &[("leading", "  ab c")],
            "hello${leading}def",
            &["hello", "ab", "cdef"],
        ),
        (
            &[("leading", "  ab c")],
            "hello\"${leading}\" def",
            &["hello  ab c", "def"],
        ),
        (
            &[("trailing", "ab c   ")],
            "hello${trailing}d",
            &["helloab", "c", "d"],
        ),
        (
            &[("trailing", "ab c   ")],
            "hel\"lo${trailing}\"",
            &["helloab c   "],
        ),
        (&[], "hello\" there  \"", &["hello there  "]),
        (&[], "hello there     ", &["hello", "there"]),
        (&[], "hello\\ there", &["hello there"]),
        (&[], "hello\" there", &["error"]),
        (&[], "hello\\\" there", &["hello\"", "there"]),
        (&[], "hello\"\\\\there\"", &["hello\\there"]),
        (&[], "hello\"\\there\"", &["hello\\there"]),
        (&[], "hello'\\\\there'", &["hello\\\\there"]),
        (&[], "hello'$there'", &["hello$there"]),
        (&[], "\"\"", &[]),
        // Each nesting level keeps its own word (see the module doc).
        (&[], "a${X:-b c}d", &["ab", "cd"]),
    ];
    let lex = Lexer::new('\\');
    for (env, input, want) in cases {
        let env = kv(env);
        let got = lex.process_words(input, &env);
        if want == &["error"] {
            assert!(got.is_err(), "{input:?}");
        } else {
            assert_eq!(got.unwrap(), *want, "{input:?}");
        }
    }
}

#[test]
fn raw_quotes_and_skip_unset() {
    let mut lex = Lexer::new('\\');
    lex.raw_quotes = true;
    lex.skip_unset_env = true;
    let env = kv(&[("A", "1")]);
    assert_eq!(
        lex.process_word("'x' \"$A\" $B ${C:-d}", &env).unwrap(),
        "'x' \"1\" $B ${C:-d}"
    );
    lex.raw_escapes = true;
    assert_eq!(lex.process_word("a\\$b", &env).unwrap(), "a\\$b");
}

#[test]
fn backtick_escape() {
    let lex = Lexer::new('`');
    let env = kv(&[("A", "1")]);
    assert_eq!(lex.process_word("c:\\dir`$A", &env).unwrap(), "c:\\dir$A");
    assert_eq!(lex.process_word("\"`\"$A\"", &env).unwrap(), "\"1");
}

#[test]
fn matches_are_reported() {
    let lex = Lexer::new('\\');
    let env = kv(&[("A", "1")]);
    let p = lex.process("$A ${B:-x} ${A}", &env).unwrap();
    assert_eq!(p.matched.into_iter().collect::<Vec<_>>(), ["A"]);
    assert_eq!(p.unmatched.into_iter().collect::<Vec<_>>(), ["B"]);
}

#[test]
fn pattern_translation() {
    let cases = [
        ("*", "^.*"),
        ("?", "^."),
        ("\\*", "^\\*"),
        (
            "(()[]{\\}^$.\\*\\?|\\\\",
            "^\\(\\(\\)\\[\\]\\{\\}\\^\\$\\.\\*\\?\\|\\\\",
        ),
    ];
    for (p, want) in cases {
        assert_eq!(
            shell_pattern_to_regex(p, true, true).unwrap().as_str(),
            want
        );
    }
    for bad in ["\\", "\\x", "\\\\\\"] {
        assert!(shell_pattern_to_regex(bad, true, true).is_err(), "{bad}");
    }
    assert_eq!(reverse_pattern("a\\*c"), "c\\*a");
    assert_eq!(reverse_pattern("\\\\\\ab"), "b\\a\\\\");
    assert_eq!(reverse_pattern("ab\\"), "\\ba");
    assert_eq!(reverse_pattern("\\\\b"), "b\\\\");
}

#[test]
fn heredoc_markers_stay_one_word() {
    let lex = Lexer::new('\\');
    assert_eq!(
        lex.process_words("cat << EOF >out", &NoEnv).unwrap(),
        ["cat", "<< EOF", ">out"]
    );
    assert_eq!(lex.process_words("a <b", &NoEnv).unwrap(), ["a", "<b"]);
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let lex = Lexer::new('\\');
    let deep = format!("{}x{}", "${a:-".repeat(20_000), "}".repeat(20_000));
    assert!(lex.process_word(&deep, &NoEnv).is_err());
    let ok = format!("{}x{}", "${a:-".repeat(50), "}".repeat(50));
    assert_eq!(lex.process_word(&ok, &NoEnv).unwrap(), "x");
}
