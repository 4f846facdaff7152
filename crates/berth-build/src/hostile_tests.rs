//! Generated hostile input for every entry point that takes user text: none may panic.
//! (A deterministic generator, so a failure reproduces; the pieces are the syntax each
//! parser treats specially.)

use crate::shell::{Lexer, NoEnv};

const PIECES: [&str; 60] = [
    "FROM ",
    "RUN ",
    "COPY ",
    "ADD ",
    "ENV ",
    "LABEL ",
    "ARG ",
    "ONBUILD ",
    "HEALTHCHECK ",
    "CMD ",
    "SHELL ",
    "EXPOSE ",
    "\\",
    "`",
    "\n",
    "\r\n",
    "#",
    "# escape=`\n",
    "<<",
    "<<-",
    "EOF",
    "'",
    "\"",
    "[",
    "]",
    "\"a\",",
    "=",
    "--",
    "--mount=",
    "${",
    "}",
    "$",
    ":-",
    "\t",
    " ",
    "é",
    "\u{feff}",
    "\u{0}",
    "0",
    "3<<",
    "\\\n",
    "``\n",
    "{}",
    "/",
    "%",
    "##",
    "**",
    "!",
    "?",
    "*",
    "..",
    "[^",
    "-",
    ",",
    "type=cache",
    "from=",
    "AS ",
    "scratch",
    "//",
    ":",
];

fn inputs(count: usize) -> impl Iterator<Item = String> {
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..count).map(move |_| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let len = (seed % 24) as usize;
        let mut x = seed;
        let mut s = String::new();
        for _ in 0..len {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            s.push_str(PIECES[(x >> 33) as usize % PIECES.len()]);
        }
        s
    })
}

#[test]
fn dockerfiles_never_panic() {
    let (mut parsed, mut planned) = (0, 0);
    // Half of them start with a FROM so that typing and planning are reached too.
    for (i, s) in inputs(20_000).enumerate() {
        let s = if i % 2 == 0 {
            format!("FROM a\n{s}")
        } else {
            s
        };
        let Ok(df) = crate::parse(&s) else { continue };
        parsed += 1;
        let Ok(p) = crate::plan(&df, &Default::default()) else {
            continue;
        };
        planned += 1;
        for st in &p.stages {
            let vars = crate::StageVars::new(&p, &[]);
            for ins in &df.stages[st.index].instructions {
                let _ = vars.expand(&ins.command);
                let mut sc = crate::config::StageConfig::default();
                let _ = sc.apply(&ins.command);
            }
        }
    }
    // The generator must reach the later stages, or this test proves little.
    assert!(
        parsed > 1_000 && planned > 500,
        "parsed {parsed}, planned {planned}"
    );
}

#[test]
fn words_never_panic() {
    let mut raw = Lexer::new('\\');
    raw.raw_quotes = true;
    raw.raw_escapes = true;
    raw.skip_unset_env = true;
    let env = vec![("a".to_string(), "x*y".to_string())];
    for s in inputs(20_000) {
        let _ = Lexer::new('\\').process(&s, &env);
        let _ = Lexer::new('`').process(&s, &NoEnv);
        let _ = raw.process(&s, &env);
        let _ = crate::parser::parse_heredoc(&s);
    }
}

#[test]
fn patterns_never_panic() {
    // Fewer: each input compiles regexes, slow in a debug build.
    for s in inputs(3_000) {
        let _ = crate::dockerignore::read_ignore_file(&s);
        if let Ok(pm) = crate::dockerignore::PatternMatcher::new(&[s.as_str(), "!x/**"]) {
            let _ = pm.matches("x/y/z");
            let _ = pm.matches_or_parent_matches("a/b");
            let _ = pm.could_reinclude_under("x");
        }
        let _ = crate::copy::glob_match(&s, "a/b*c");
        let _ = crate::copy::context_path(&s);
        let _ = crate::instructions::parse_mount(&s, None);
        let _ = crate::instructions::parse_mount(&s, Some(&|w: &str| Ok(w.to_string())));
        let _ = crate::copy::resolve_chown(&s, "a:x:1:1::/:/bin/sh", "a:x:1:");
        let _ = crate::config::parse_port_spec(&s);
    }
}
