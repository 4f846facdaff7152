//! Expectations from the behaviour of BuildKit's `frontend/dockerfile/parser` tests:
//! `testfiles/*/{Dockerfile,result}` (the s-expression dump below is BuildKit's
//! `Node.Dump` format), `parser_test.go`, `parser_heredoc_test.go`, `directives_test.go`,
//! `line_parsers_test.go`. The Dockerfiles here are written for these tests.

use super::*;

/// Go's `strconv.Quote`, enough for the dumps.
fn go_quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\u{b}' => out.push_str("\\v"),
            '\u{7}' => out.push_str("\\a"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// BuildKit's `Node.Dump`.
fn dump(n: &Node) -> String {
    let mut s = n.command.to_lowercase();
    if !n.flags.is_empty() {
        let f: Vec<String> = n.flags.iter().map(|f| go_quote(f)).collect();
        s.push_str(&format!(" [{}]", f.join(" ")));
    }
    if let Some(sub) = &n.sub {
        s.push_str(&format!(" ({})", dump(sub)));
    } else {
        for a in &n.args {
            s.push(' ');
            s.push_str(&go_quote(a));
        }
    }
    s
}

fn dumps(text: &str) -> Vec<String> {
    parse_ast(text)
        .unwrap()
        .nodes
        .iter()
        .map(|n| format!("({})", dump(n)))
        .collect()
}

#[test]
fn continuation_lines_keep_inner_spacing() {
    let df = "FROM busybox\n\nRUN echo one\\\n  two\\\n  three  \\\n  fo\\\nur\nRUN echo a  \\\nb\nRUN echo a  \\  \nb\nRUN echo x \\\n \\\n y \\\n\\\n z\nRUN echo a \\\n# a comment in the middle\n\n# another, after a blank line\n\nrest of it\n";
    assert_eq!(
        dumps(df),
        [
            "(from \"busybox\")",
            "(run \"echo one  two  three    four\")",
            "(run \"echo a  b\")",
            "(run \"echo a  b\")",
            "(run \"echo x   y  z\")",
            "(run \"echo a rest of it\")",
        ]
    );
}

#[test]
fn continuation_at_eof() {
    assert_eq!(
        dumps("FROM a\nRUN thing \\"),
        ["(from \"a\")", "(run \"thing\")"]
    );
}

#[test]
fn empty_continuation_lines_warn() {
    let ast = parse_ast("FROM a\nRUN x \\\n\ny\n").unwrap();
    assert_eq!(ast.nodes[1].args, ["x y"]);
    assert_eq!(ast.warnings.len(), 1);
    assert_eq!(
        ast.warnings[0].message,
        "Empty continuation line found in: RUN x y"
    );
    assert_eq!(ast.warnings[0].line, 4);
}

#[test]
fn escape_directive() {
    let df = "# escape=`\n\nFROM windows\nRUN dir c:\\ `\n  /s\nENV P `\n\\x\n";
    let ast = parse_ast(df).unwrap();
    assert_eq!(ast.directives.escape, '`');
    assert_eq!(
        ast.nodes.iter().map(dump).collect::<Vec<_>>(),
        [
            "from \"windows\"",
            "run \"dir c:\\\\   /s\"",
            "env \"P\" \"\\\\x\" \"\""
        ]
    );
}

#[test]
fn directive_after_comment_is_a_comment() {
    let df = "# just a comment\n# escape = `\n\nFROM a\nENV P \\\n\\x\n";
    let ast = parse_ast(df).unwrap();
    assert_eq!(ast.directives.escape, '\\');
    assert_eq!(dump(&ast.nodes[1]), "env \"P\" \"\\\\x\" \"\"");
}

#[test]
fn directives_syntax_check_and_errors() {
    let ast = parse_ast("# syntax=docker/dockerfile:1\n#check=skip=all\n# ESCAPE = \\\nFROM a\n")
        .unwrap();
    assert_eq!(
        ast.directives.syntax.as_deref(),
        Some("docker/dockerfile:1")
    );
    assert_eq!(ast.directives.check.as_deref(), Some("skip=all"));
    let e = parse_ast("# escape=\\\n# escape=`\nFROM a\n").unwrap_err();
    assert_eq!(e.line, 2);
    assert_eq!(
        e.to_string(),
        "dockerfile parse error on line 2: only one escape parser directive can be used"
    );
    let e = parse_ast("# escape=x\nFROM a\n").unwrap_err();
    assert_eq!(e.kind, ParseErrorKind::InvalidEscape("x".into()));
    // An unknown directive ends the directive block; later ones are comments.
    let ast = parse_ast("# foo=bar\n# escape=`\nFROM a\n").unwrap();
    assert_eq!(ast.directives.escape, '\\');
}

#[test]
fn bom_and_crlf() {
    let ast = parse_ast("\u{feff}FROM a\r\nRUN b \\\r\n c\r\n").unwrap();
    assert_eq!(ast.nodes[0].args, ["a"]);
    assert_eq!(ast.nodes[1].args, ["b  c"]);
}

#[test]
fn escapes_are_kept_for_later() {
    let df = "FROM a\nLABEL maintainer Jo \\\\Doe <jo@x>\\\"\nRUN apt-get \\update && \\\n  apt-get \\\"install x\nADD \\conf\\\\\" /.x\nCMD [ \"\\/usr\\\\\\\"/bin/x\", \"-f\" ]\n";
    assert_eq!(
        dumps(df),
        [
            "(from \"a\")",
            "(label \"maintainer\" \"Jo \\\\\\\\Doe <jo@x>\\\\\\\"\" \"\")",
            "(run \"apt-get \\\\update &&   apt-get \\\\\\\"install x\")",
            "(add \"\\\\conf\\\\\\\\\\\"\" \"/.x\")",
            "(cmd \"/usr\\\\\\\"/bin/x\" \"-f\")",
        ]
    );
}

#[test]
fn flags() {
    let df = "FROM scratch\nCOPY --user=me --doit=true a /b/\nCOPY --doit=true -- a /b/\nCOPY -- a /b/\nCMD --doit [ \"a\", \"b\" ]\nCMD --doit -- [ ]\nRUN --mount=type=cache,target=\"/a b\" --network=none echo\n";
    assert_eq!(
        dumps(df),
        [
            "(from \"scratch\")",
            "(copy [\"--user=me\" \"--doit=true\"] \"a\" \"/b/\")",
            "(copy [\"--doit=true\"] \"a\" \"/b/\")",
            "(copy \"a\" \"/b/\")",
            "(cmd [\"--doit\"] \"a\" \"b\")",
            "(cmd [\"--doit\"])",
            "(run [\"--mount=type=cache,target=/a b\" \"--network=none\"] \"echo\")",
        ]
    );
}

#[test]
fn healthcheck_shapes() {
    let df = "FROM a\nHEALTHCHECK\nHEALTHCHECK --interval=5s --retries=3 \\\n  CMD /check --quiet\nHEALTHCHECK CMD\nHEALTHCHECK   CMD   a b\nHEALTHCHECK --timeout=3s CMD [\"foo\"]\nHEALTHCHECK CONNECT TCP 7000\n";
    assert_eq!(
        dumps(df),
        [
            "(from \"a\")",
            "(healthcheck)",
            "(healthcheck [\"--interval=5s\" \"--retries=3\"] \"CMD\" \"/check --quiet\")",
            "(healthcheck \"CMD\")",
            "(healthcheck \"CMD\" \"a b\")",
            "(healthcheck [\"--timeout=3s\"] \"CMD\" \"foo\")",
            "(healthcheck \"CONNECT\" \"TCP 7000\")",
        ]
    );
}

#[test]
fn env_forms() {
    let df = "FROM a\nENV k v w\nENV k=v\nENV k=v k2=v2\nENV k=\"v v1\"\nENV k=v\\ v2\nENV k='v\"q\"v2'\nENV k=\"a\\\"b\"\nENV k='a\\'b''\nENV k=v \\\n    k1=\"v1a \\\n       v1b\" \\\n\tk2=\"x\\\\ny\" \\\n";
    assert_eq!(
        dumps(df),
        [
            "(from \"a\")",
            "(env \"k\" \"v w\" \"\")",
            "(env \"k\" \"v\" \"=\")",
            "(env \"k\" \"v\" \"=\" \"k2\" \"v2\" \"=\")",
            "(env \"k\" \"\\\"v v1\\\"\" \"=\")",
            "(env \"k\" \"v\\\\ v2\" \"=\")",
            "(env \"k\" \"'v\\\"q\\\"v2'\" \"=\")",
            "(env \"k\" \"\\\"a\\\\\\\"b\\\"\" \"=\")",
            "(env \"k\" \"'a\\\\'b''\" \"=\")",
            "(env \"k\" \"v\" \"=\" \"k1\" \"\\\"v1a        v1b\\\"\" \"=\" \"k2\" \"\\\"x\\\\\\\\ny\\\"\" \"=\")",
        ]
    );
    let e = parse_ast("FROM a\nENV k\n").unwrap_err();
    assert_eq!(
        e.to_string(),
        "dockerfile parse error on line 2: ENV must have two arguments"
    );
    let e = parse_ast("FROM a\nENV a=b c\n").unwrap_err();
    assert_eq!(e.kind, ParseErrorKind::MissingEquals("c".into()));
}

#[test]
fn json_forms() {
    let df = "CMD []\nCMD [\"\"]\nCMD [ \"a\", \"b\" ]\nCMD\t[\t\"a\",\t\"b\"\t]\t\nCMD [\"abc 123\", \"♥\", \"\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u0000\"]\nCMD [\"a\" ]x\nCMD ['a']\nCMD [\"a\"\nCMD [\"a\", \"b]\n";
    assert_eq!(
        dumps(df),
        [
            "(cmd)",
            "(cmd \"\")",
            "(cmd \"a\" \"b\")",
            "(cmd \"a\" \"b\")",
            "(cmd \"abc 123\" \"♥\" \"\\\" \\\\ / \\b \\f \\n \\r \\t \\x00\")",
            "(cmd \"[\\\"a\\\" ]x\")",
            "(cmd \"['a']\")",
            "(cmd \"[\\\"a\\\"\")",
            "(cmd \"[\\\"a\\\", \\\"b]\")",
        ]
    );
    let ast = parse_ast("COPY [\"a b\", \"/c\"]\nVOLUME /a /b\n").unwrap();
    assert!(ast.nodes[0].json);
    assert_eq!(ast.nodes[0].args, ["a b", "/c"]);
    assert_eq!(ast.nodes[1].args, ["/a", "/b"]);
    let e = parse_ast("FROM a\nCMD [\"a\", 1]\n").unwrap_err();
    assert_eq!(e.kind, ParseErrorKind::JsonNotStrings);
    assert_eq!(e.line, 2);
}

#[test]
fn onbuild_nests_its_trigger() {
    let ast = parse_ast("FROM a\nONBUILD RUN echo hi\nONBUILD COPY [\"a\", \"b\"]\n").unwrap();
    assert_eq!(dump(&ast.nodes[1]), "onbuild (run \"echo hi\")");
    assert_eq!(ast.nodes[1].args, ["RUN", "echo hi"]);
    assert!(ast.nodes[2].sub.as_ref().unwrap().json);
}

#[test]
fn comments_and_line_numbers() {
    let df =
        "# top comment\n\n# about from\nFROM a\n  # indented comment\nRUN a \\\n  b\n\nRUN c\n";
    let ast = parse_ast(df).unwrap();
    let lines: Vec<(usize, usize)> = ast
        .nodes
        .iter()
        .map(|n| (n.start_line, n.end_line))
        .collect();
    assert_eq!(lines, [(4, 4), (6, 7), (9, 9)]);
    // A blank line does not reset the comment block (only an empty `#` does).
    assert_eq!(ast.nodes[0].comments, ["top comment", "about from"]);
    assert_eq!(ast.nodes[1].comments, ["indented comment"]);
}

#[test]
fn empty_files_are_errors() {
    for df in ["", "\n\n", "# only\n# comments\n", "   \n\t\n"] {
        let e = parse_ast(df).unwrap_err();
        assert_eq!(e.kind, ParseErrorKind::Empty, "{df:?}");
    }
}

fn doc(name: &str, content: &str, expand: bool, chomp: bool, fd: u32) -> Heredoc {
    Heredoc {
        name: name.into(),
        content: content.into(),
        expand,
        chomp,
        file_descriptor: fd,
    }
}

#[test]
fn heredocs() {
    let df = "FROM a\nUSER <<NOPE\nNOPE\nRUN <<E1\nE1\nRUN 3<<E2\nE2\nRUN \"<<NOT\"\nRUN <<IN\n\tx\n\ty\nIN\nRUN <<-UN\n\tx\n\ty\n\tUN\nRUN <<-'NOEX'\n\t$NAME\nNOEX\nRUN --mount=type=cache,target=/c <<M\n# not a comment\necho\nM\nCOPY <<F1 <<F2 /dest\none\nF1\ntwo\nF2\nCOPY <<X <<Y /d\nY\nX\nX\nY\nRUN <<C python3\nprint(1)\nC\nRUN <<eo'f'\nx\neof\nRUN <<eo\\'f\nx\neo'f\nRUN <<'one two'\nx\none two\nRUN <<$EOF\n$EOF\nRUN <<  EOF  > foo\nEOF\nRUN [\"<<EOF\"]\n";
    let ast = parse_ast(df).unwrap();
    let got: Vec<Vec<Heredoc>> = ast.nodes[1..].iter().map(|n| n.heredocs.clone()).collect();
    let want = vec![
        vec![],
        vec![],
        vec![doc("E1", "", true, false, 0)],
        vec![doc("E2", "", true, false, 3)],
        vec![],
        vec![doc("IN", "\tx\n\ty\n", true, false, 0)],
        vec![doc("UN", "\tx\n\ty\n", true, true, 0)],
        vec![doc("NOEX", "\t$NAME\n", false, true, 0)],
        vec![doc("M", "# not a comment\necho\n", true, false, 0)],
        vec![
            doc("F1", "one\n", true, false, 0),
            doc("F2", "two\n", true, false, 0),
        ],
        vec![
            doc("X", "Y\n", true, false, 0),
            doc("Y", "X\n", true, false, 0),
        ],
        vec![doc("C", "print(1)\n", true, false, 0)],
        vec![doc("eof", "x\n", false, false, 0)],
        vec![doc("eo'f", "x\n", true, false, 0)],
        vec![doc("one two", "x\n", false, false, 0)],
        vec![doc("$EOF", "", true, false, 0)],
        vec![doc("EOF", "", true, false, 0)],
        vec![],
    ];
    // USER <<NOPE is not a heredoc instruction, so NOPE is parsed as an instruction.
    assert_eq!(ast.nodes[2].command, "NOPE");
    assert_eq!(got, want);
    let run = &ast.nodes[9];
    assert_eq!((run.start_line, run.end_line), (20, 23));
}

#[test]
fn heredoc_helpers() {
    for ok in [
        "<<EOF",
        "<<'EOF'",
        "<<\"EOF\"",
        "<<-EOF",
        "<<-'EOF'",
        "<<EO\"F\"",
        "<< EOF",
        "<<- EOF",
    ] {
        let d = parse_heredoc(ok).unwrap().unwrap();
        assert_eq!(d.name, "EOF", "{ok}");
    }
    for bad in ["<<'EOF", "<<\"EOF", "<<EOF'", "<<EOF\""] {
        assert!(parse_heredoc(bad).is_err(), "{bad}");
    }
    for not in ["", "<<", "<EOF", "<<EOF<", "x<<EOF", "<<EOF a"] {
        assert_eq!(parse_heredoc(not).unwrap(), None, "{not}");
    }
    assert_eq!(
        chomp_heredoc_content("\thello\n\t\tworld\n"),
        "hello\nworld\n"
    );
}

#[test]
fn unterminated_heredoc() {
    let e = parse_ast("FROM a\nRUN <<EOF\necho\n").unwrap_err();
    assert_eq!(
        e.to_string(),
        "dockerfile parse error on line 2: unterminated heredoc"
    );
}

#[test]
fn unknown_instructions_parse_without_arguments() {
    let ast = parse_ast("FROM a\nFOO bar baz\n").unwrap();
    assert_eq!(ast.nodes[1].command, "FOO");
    assert!(ast.nodes[1].args.is_empty());
}

#[test]
fn line_length_limit() {
    let ok = format!("FROM image\nLABEL test={}\n", "a".repeat(65_535 - 11));
    assert!(parse_ast(&ok).is_ok());
    let long = format!("\n\t\tFROM image\n\t\tLABEL test={}\n", "a".repeat(65_536));
    let e = parse_ast(&long).unwrap_err();
    assert_eq!(e.kind, ParseErrorKind::LineTooLong);
    assert_eq!(e.line, 3);
    let e = parse_ast(&format!("# c\n{}", "b".repeat(70_000))).unwrap_err();
    assert_eq!(e.kind, ParseErrorKind::Empty);
}

#[test]
fn several_empty_continuation_warnings() {
    let df = "\nFROM alpine:3.6\n\nRUN valid \\\n    continuation\n\nRUN something \\\n\n    following \\\n\n    more\n\nRUN another \\\n\n    thing\n\nRUN non-indented \\\n# this is a comment\n   after-comment\n\nRUN indented \\\n    # this is an indented comment\n    comment\n\t";
    let ast = parse_ast(df).unwrap();
    let w: Vec<&str> = ast.warnings.iter().map(|w| w.message.as_str()).collect();
    assert_eq!(
        w,
        [
            "Empty continuation line found in: RUN something     following     more",
            "Empty continuation line found in: RUN another     thing",
        ]
    );
    assert_eq!(ast.nodes[4].args, ["non-indented    after-comment"]);
    assert_eq!(ast.nodes[5].args, ["indented     comment"]);
}
