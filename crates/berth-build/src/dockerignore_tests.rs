//! Expectations from the behaviour moby/patternmatcher's `patternmatcher_test.go` and
//! `ignorefile/ignorefile_test.go` describe (cases rewritten, not copied).

use super::*;

fn matches(patterns: &[&str], file: &str) -> bool {
    PatternMatcher::new(patterns)
        .unwrap()
        .matches(file)
        .unwrap()
}

#[test]
fn single_patterns() {
    let cases: &[(&str, &str, bool)] = &[
        ("**", "file", true),
        ("**", "dir/file", true),
        ("**/", "dir/file/", true),
        ("**/**", "dir/file", true),
        ("dir/**", "dir/file", true),
        ("dir/**", "dir/a/b", true),
        ("**/dir", "dir", true),
        ("**/dir", "dir/file", true),
        ("**/dir2/*", "dir/dir2/file", true),
        ("**/dir2/**", "dir/dir2/dir3/file", true),
        ("**file", "dir/dir/file", true),
        ("**/file*.txt", "dir/dir/file.txt", true),
        ("**/**/*.txt2", "dir/dir/file.txt", false),
        ("**/*.txt", "file.txt", true),
        ("a**/*.txt", "a/dir/dir/file.txt", true),
        ("a/*.txt", "a/dir/file.txt", false),
        ("a/*.txt", "a/file.txt", true),
        ("a[b-d]e", "ae", false),
        ("a[b-d]e", "ace", true),
        ("a[^b-d]e", "aze", true),
        (".*", ".foo", true),
        (".*", "foo", false),
        ("abc.def", "abcdef", false),
        ("abc.def", "abc.def", true),
        ("abc?def", "abcZdef", true),
        ("abc?def", "abc/def", false),
        ("a\\\\", "a\\", true),
        ("a\\*b", "a*b", true),
        ("a\\*b", "axb", false),
        ("**/foo/bar", "foo/bar", true),
        ("abc/**", "abc", false),
        ("abc/**", "abc/def/ghi", true),
        ("**/.foo", "bar.foo", false),
        ("a(b)c/def", "a(b)c/def", true),
        ("a.|)$(}+{bc", "a.|)$(}+{bc", true),
        ("dist/*.whl", "dist/p.py-2.4+g08-py3-none-any.whl", true),
        ("*", "fileutils.go", true),
        ("*.go", "fileutils.go", true),
        // `*` does not cross `/`, but a matching parent excludes its children.
        ("*", "dir/file", true),
        ("*.go", "dir/x.go", false),
        // A leading `/` is dropped by read_ignore_file, not by the matcher.
        ("/docs", "docs/x", false),
        ("docs/../src", "src/main.rs", true),
        ("[[]x", "[x", true),
        ("[a&&b]", "&", true),
    ];
    for (p, f, want) in cases {
        let pm = PatternMatcher::new(&[*p]).unwrap();
        assert_eq!(
            pm.matches_or_parent_matches(f).unwrap(),
            *want,
            "or_parent({p:?}, {f:?})"
        );
        // The walker's form, fed its parents' results, agrees.
        let mut info = MatchInfo::default();
        let parts: Vec<&str> = f.trim_end_matches('/').split('/').collect();
        for i in 1..parts.len() {
            info = pm
                .matches_using_parent_results(&parts[..i].join("/"), &info)
                .unwrap()
                .1;
        }
        assert_eq!(
            pm.matches_using_parent_results(f, &info).unwrap().0,
            *want,
            "walk({p:?}, {f:?})"
        );
    }
}

#[test]
fn parent_matches_only_at_the_pattern_depth() {
    // `matches` tries the parent cut to the pattern's own depth only.
    assert!(!matches(&["**/dir"], "dir/file"));
    assert!(matches(&["**/dir"], "x/dir/file"));
    assert!(matches(&["a/b"], "a/b/c/d"));
    assert!(!matches(&["b"], "a/b/c"));
    let pm = PatternMatcher::new(&["a"]).unwrap();
    assert!(pm.matches_or_parent_matches("a/b/c").unwrap());
    assert!(
        !PatternMatcher::new(&["b"])
            .unwrap()
            .matches_or_parent_matches("a/b/c")
            .unwrap()
    );
}

#[test]
fn exceptions_and_order() {
    assert!(matches(&["!fileutils.go", "*.go"], "fileutils.go"));
    assert!(!matches(&["*.go", "!fileutils.go"], "fileutils.go"));
    assert!(!matches(&["docs", "!docs/README.md"], "docs/README.md"));
    assert!(!matches(&["docs/", "!docs/README.md"], "docs/README.md"));
    assert!(!matches(&["docs/*", "!docs/README.md"], "docs/README.md"));
    assert!(matches(&["docs", "!docs/README.md"], "docs/other.md"));
    assert!(!matches(&["**", "!util/docker/web"], "util/docker/web/foo"));
    assert!(matches(
        &["**", "!util/docker/web", "util/docker/web/foo"],
        "util/docker/web/foo"
    ));
    assert!(!matches(
        &["**", "!dist/*.whl"],
        "dist/x-1.0-py3-none-any.whl"
    ));
    assert!(!matches(&[], "any/path"));
}

#[test]
fn errors() {
    assert_eq!(
        PatternMatcher::new(&["!"]).unwrap_err(),
        PatternError::LoneBang
    );
    for bad in ["[", "a[", "[]", "[a-", "x\\", "[^]"] {
        assert!(PatternMatcher::new(&[bad]).is_err(), "{bad}");
    }
}

#[test]
fn parent_results_walk() {
    let pm = PatternMatcher::new(&["dir", "!dir/keep*", "**/*.tmp"]).unwrap();
    let (d, info) = pm
        .matches_using_parent_results("dir", &MatchInfo::default())
        .unwrap();
    assert!(d);
    let (keep, _) = pm
        .matches_using_parent_results("dir/keep.txt", &info)
        .unwrap();
    assert!(!keep);
    let (other, _) = pm.matches_using_parent_results("dir/other", &info).unwrap();
    assert!(other);
    let (tmp, _) = pm
        .matches_using_parent_results("src/a.tmp", &MatchInfo::default())
        .unwrap();
    assert!(tmp);
}

#[test]
fn reinclude_check() {
    let pm = PatternMatcher::new(&["dir", "!dir/sub/keep"]).unwrap();
    assert!(pm.could_reinclude_under("dir"));
    assert!(pm.could_reinclude_under("dir/sub"));
    assert!(!pm.could_reinclude_under("dir/other"));
    assert!(!pm.could_reinclude_under("elsewhere"));
    let pm = PatternMatcher::new(&["*", "!*/keep", "!**/x"]).unwrap();
    assert!(pm.could_reinclude_under("anything"));
    let pm = PatternMatcher::new(&["node_modules"]).unwrap();
    assert!(!pm.could_reinclude_under("node_modules"));
}

#[test]
fn ignore_file_reading() {
    let text = "\u{feff}# comment\n\n  *.tmp  \n!  keep.tmp\n/abs/../x/\n./y\n#notacomment? yes it is\n !z\n";
    assert_eq!(
        read_ignore_file(text),
        ["*.tmp", "!keep.tmp", "x", "y", "!z"]
    );
}

#[test]
fn go_path_clean() {
    for (p, want) in [
        ("", "."),
        ("a//b/./c/..", "a/b"),
        ("/../a", "/a"),
        ("../../a", "../../a"),
        ("a/../..", ".."),
        ("/", "/"),
        ("a/", "a"),
    ] {
        assert_eq!(clean(p), want, "{p}");
    }
}
