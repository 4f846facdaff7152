//! COPY/ADD path rules: sources resolved inside the context (Go `filepath.Match` globs
//! matched against whole relative paths, `..` refused), the destination resolved against
//! WORKDIR, and `--chown`/`--chmod` values turned into ids and modes (names looked up in
//! the image's `/etc/passwd` and `/etc/group` text, as dockerd's classic builder does).

use std::fs;
use std::path::{Path, PathBuf};

use crate::dockerignore::clean;

/// Why a COPY/ADD cannot be carried out as written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CopyError {
    /// `COPY ../x /`.
    #[error("forbidden path outside the build context: {0}")]
    Outside(String),
    /// A source that matches nothing.
    #[error(
        "file not found in build context or excluded by .dockerignore: stat {0}: file does not exist"
    )]
    NotFound(String),
    /// A malformed glob.
    #[error("syntax error in pattern: {0}")]
    Pattern(String),
    /// Several sources but the destination is not a directory.
    #[error(
        "When using COPY with more than one source file, the destination must be a directory and end with a /"
    )]
    DestNotDir,
    /// An unknown user in `--chown`.
    #[error("unable to find user {0}: no matching entries in passwd file")]
    User(String),
    /// An unknown group in `--chown`.
    #[error("unable to find group {0}: no matching entries in group file")]
    Group(String),
    /// `--chown=a:b:c`.
    #[error("invalid chown string format: {0}")]
    ChownFormat(String),
    /// A `--chmod` that is not octal.
    #[error("invalid chmod parameter: {0}")]
    Chmod(String),
    /// The context could not be walked.
    #[error("walk {path}: {message}")]
    Walk {
        /// Where.
        path: String,
        /// What happened.
        message: String,
    },
}

/// Go's `path.Match`: `*` (not `/`), `?`, `[...]` classes with `^` negation and ranges,
/// `\` escapes. `Err` for a malformed pattern.
pub fn glob_match(pattern: &str, name: &str) -> Result<bool, CopyError> {
    let bad = || CopyError::Pattern(pattern.to_string());
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    // Iterative match with backtracking on the last `*`.
    let (mut pi, mut ni) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    loop {
        if pi < p.len() {
            match p[pi] {
                '*' => {
                    star = Some((pi, ni));
                    pi += 1;
                    continue;
                }
                '?' if ni < n.len() && n[ni] != '/' => {
                    pi += 1;
                    ni += 1;
                    continue;
                }
                '[' => {
                    let (matched, next) = class(&p, pi, n.get(ni).copied()).ok_or_else(bad)?;
                    if matched && ni < n.len() {
                        pi = next;
                        ni += 1;
                        continue;
                    }
                }
                '\\' => {
                    let c = *p.get(pi + 1).ok_or_else(bad)?;
                    if ni < n.len() && n[ni] == c {
                        pi += 2;
                        ni += 1;
                        continue;
                    }
                }
                c if c != '?' && ni < n.len() && n[ni] == c => {
                    pi += 1;
                    ni += 1;
                    continue;
                }
                _ => {}
            }
        } else if ni == n.len() {
            return Ok(true);
        }
        // Mismatch: let the last `*` take one more character (never a `/`).
        match star {
            Some((sp, sn)) if sn < n.len() && n[sn] != '/' => {
                star = Some((sp, sn + 1));
                pi = sp + 1;
                ni = sn + 1;
            }
            _ => {
                validate_rest(&p, pi).ok_or_else(bad)?;
                return Ok(false);
            }
        }
    }
}

/// Checks the pattern from `i` on is well formed (Go reports a bad pattern even when the
/// name already failed to match).
fn validate_rest(p: &[char], mut i: usize) -> Option<()> {
    while i < p.len() {
        match p[i] {
            '[' => i = class(p, i, None)?.1,
            '\\' => {
                p.get(i + 1)?;
                i += 2;
            }
            _ => i += 1,
        }
    }
    Some(())
}

/// Parses the class at `p[i] == '['`; returns whether `c` is in it and the index after it.
fn class(p: &[char], i: usize, c: Option<char>) -> Option<(bool, usize)> {
    let mut j = i + 1;
    let negated = p.get(j) == Some(&'^');
    if negated {
        j += 1;
    }
    let mut matched = false;
    let mut n = 0;
    loop {
        if p.get(j) == Some(&']') && n > 0 {
            j += 1;
            break;
        }
        let (lo, next) = class_char(p, j)?;
        j = next;
        let mut hi = lo;
        if p.get(j) == Some(&'-') {
            let (h, next) = class_char(p, j + 1)?;
            hi = h;
            j = next;
        }
        if let Some(c) = c
            && lo <= c
            && c <= hi
        {
            matched = true;
        }
        n += 1;
    }
    // Unlike `*` and `?`, a class may match `/` (Go's path.Match does the same).
    let is_in = c.is_some() && matched != negated;
    Some((is_in, j))
}

fn class_char(p: &[char], j: usize) -> Option<(char, usize)> {
    match p.get(j)? {
        '-' | ']' => None,
        '\\' => {
            let c = *p.get(j + 1)?;
            p.get(j + 2)?;
            Some((c, j + 2))
        }
        &c => {
            p.get(j + 1)?;
            Some((c, j + 1))
        }
    }
}

fn has_glob(s: &str) -> bool {
    s.contains(['*', '?', '[', '\\'])
}

/// Cleans a source path relative to the context root; `..` out of it is refused.
pub fn context_path(src: &str) -> Result<String, CopyError> {
    let c = clean(&format!("/{src}"));
    let rel = c.trim_start_matches('/');
    if clean(src).starts_with("..") {
        return Err(CopyError::Outside(src.to_string()));
    }
    Ok(if rel.is_empty() {
        ".".into()
    } else {
        rel.into()
    })
}

/// Every path under `rel`, pre-order, names sorted (an explicit stack: no recursion).
fn walk(root: &Path, rel: &Path, out: &mut Vec<PathBuf>) -> Result<(), CopyError> {
    let mut stack = vec![rel.to_path_buf()];
    while let Some(dir_rel) = stack.pop() {
        let entries = fs::read_dir(root.join(&dir_rel)).map_err(|e| CopyError::Walk {
            path: dir_rel.display().to_string(),
            message: e.to_string(),
        })?;
        let mut names: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| dir_rel.join(e.file_name()))
            .collect();
        names.sort();
        let mut subdirs = Vec::new();
        for n in names {
            if fs::symlink_metadata(root.join(&n)).is_ok_and(|m| m.is_dir()) {
                subdirs.push(n.clone());
            }
            out.push(n);
        }
        stack.extend(subdirs.into_iter().rev());
    }
    out.sort();
    Ok(())
}

/// Resolves COPY sources to paths inside the context `root` (sorted, deduplicated). A
/// glob matches whole relative paths; a plain path must exist.
pub fn resolve_sources(root: &Path, sources: &[String]) -> Result<Vec<PathBuf>, CopyError> {
    let mut all: Option<Vec<PathBuf>> = None;
    let mut out = Vec::new();
    for src in sources {
        let rel = context_path(src)?;
        if has_glob(&rel) {
            if all.is_none() {
                let mut v = Vec::new();
                walk(root, Path::new(""), &mut v)?;
                all = Some(v);
            }
            let mut found = false;
            for p in all.iter().flatten() {
                if glob_match(&rel, &p.to_string_lossy())? {
                    out.push(p.clone());
                    found = true;
                }
            }
            if !found {
                return Err(CopyError::NotFound(src.clone()));
            }
        } else {
            let p = PathBuf::from(&rel);
            if fs::symlink_metadata(root.join(&p)).is_err() {
                return Err(CopyError::NotFound(src.clone()));
            }
            out.push(p);
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// The absolute destination and whether it names a directory (a trailing `/`, `.`, or
/// several sources); relative destinations build on WORKDIR.
pub fn resolve_dest(
    workdir: &str,
    dest: &str,
    sources: usize,
) -> Result<(String, bool), CopyError> {
    let is_dir = dest.ends_with('/') || dest == "." || dest.ends_with("/.");
    if sources > 1 && !is_dir {
        return Err(CopyError::DestNotDir);
    }
    Ok((crate::config::normalize_workdir(workdir, dest), is_dir))
}

/// ADD sources fetched rather than read from the context: `http(s)://` URLs and git
/// remotes (dockerd's `urlutil.IsURL` / `IsGitURL`). The engine refuses them while it
/// has no way to fetch (offline), instead of waiting on a connection.
pub fn is_remote(src: &str) -> bool {
    let lower = src.to_ascii_lowercase();
    lower.starts_with("http://")
        || lower.starts_with("https://")
        || lower.starts_with("git://")
        || lower.starts_with("git@")
        || lower.starts_with("github.com/")
        || (lower.starts_with("ssh://") && lower.contains(".git"))
}

/// `--chmod`: octal permission bits (what the classic builder accepts).
pub fn parse_chmod(s: &str) -> Result<u32, CopyError> {
    u32::from_str_radix(s, 8)
        .ok()
        .filter(|m| *m <= 0o7777)
        .ok_or_else(|| CopyError::Chmod(s.to_string()))
}

/// `--chown=user[:group]` with names resolved in the image's passwd/group files. Without
/// a group the user string is used as the group too, as dockerd's `parseChownFlag` does.
pub fn resolve_chown(spec: &str, passwd: &str, group: &str) -> Result<(u32, u32), CopyError> {
    let parts: Vec<&str> = spec.split(':').collect();
    let (user, grp) = match parts.as_slice() {
        [u] => (*u, *u),
        [u, g] => (*u, *g),
        _ => return Err(CopyError::ChownFormat(spec.to_string())),
    };
    let lookup = |text: &str, name: &str, id_field: usize| -> Option<u32> {
        text.lines()
            .map(|l| l.split(':').collect::<Vec<_>>())
            .find(|f| f.first() == Some(&name))
            .and_then(|f| f.get(id_field).and_then(|v| v.parse().ok()))
    };
    let uid = match user.parse::<u32>() {
        Ok(n) => n,
        Err(_) => lookup(passwd, user, 2).ok_or_else(|| CopyError::User(user.to_string()))?,
    };
    let gid = match grp.parse::<u32>() {
        Ok(n) => n,
        Err(_) => lookup(group, grp, 2).ok_or_else(|| CopyError::Group(grp.to_string()))?,
    };
    Ok((uid, gid))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_path_match() {
        let cases: &[(&str, &str, bool)] = &[
            ("abc", "abc", true),
            ("*", "abc", true),
            ("*c", "abc", true),
            ("a*", "a", true),
            ("a*", "ab/c", false),
            ("a*/b", "abc/b", true),
            ("a*/b", "a/c/b", false),
            ("a*b*c*d*e*/f", "axbxcxdxe/f", true),
            ("a*b*c*d*e*/f", "axbxcxdxexxx/fff", false),
            ("ab[c]", "abc", true),
            ("ab[b-d]", "abc", true),
            ("ab[e-g]", "abc", false),
            ("ab[^c]", "abc", false),
            ("ab[^e-g]", "abc", true),
            ("a[^x]b", "a/b", true),
            ("a\\*b", "a*b", true),
            ("a\\*b", "ab", false),
            ("a?b", "a☺b", true),
            ("a?b", "a/b", false),
            ("[\\]a]", "]", true),
            ("[x\\-]", "-", true),
            ("*.go", "main.go", true),
            ("src/*.rs", "src/lib.rs", true),
        ];
        for (p, n, want) in cases {
            assert_eq!(glob_match(p, n), Ok(*want), "{p} {n}");
        }
        for bad in ["[", "[^", "[-]", "[x-]", "a[", "\\", "[]a]", "*x["] {
            assert!(glob_match(bad, "x").is_err(), "{bad}");
        }
    }

    #[test]
    fn sources_and_dest() {
        let d = tempfile::tempdir().unwrap();
        fs::create_dir_all(d.path().join("src/sub")).unwrap();
        for f in ["src/a.rs", "src/b.rs", "src/sub/c.rs", "README"] {
            fs::write(d.path().join(f), "x").unwrap();
        }
        let got = resolve_sources(
            d.path(),
            &["src/*.rs".into(), "README".into(), "/src/a.rs".into()],
        )
        .unwrap();
        assert_eq!(
            got,
            [
                PathBuf::from("README"),
                "src/a.rs".into(),
                "src/b.rs".into()
            ]
        );
        assert_eq!(
            resolve_sources(d.path(), &[".".into()]).unwrap(),
            [PathBuf::from(".")]
        );
        assert_eq!(
            resolve_sources(d.path(), &["../etc/passwd".into()]),
            Err(CopyError::Outside("../etc/passwd".into()))
        );
        assert!(matches!(
            resolve_sources(d.path(), &["nope".into()]),
            Err(CopyError::NotFound(_))
        ));
        assert!(matches!(
            resolve_sources(d.path(), &["*.none".into()]),
            Err(CopyError::NotFound(_))
        ));
        assert_eq!(
            resolve_dest("/app", "bin/", 2).unwrap(),
            ("/app/bin".into(), true)
        );
        assert_eq!(resolve_dest("", "x", 1).unwrap(), ("/x".into(), false));
        assert_eq!(resolve_dest("/w", ".", 3).unwrap(), ("/w".into(), true));
        assert_eq!(resolve_dest("/w", "f", 2), Err(CopyError::DestNotDir));
    }

    #[test]
    fn remote_sources() {
        for r in [
            "http://x/a.tgz",
            "HTTPS://x/",
            "git@github.com:a/b.git",
            "git://h/r",
            "github.com/a/b",
        ] {
            assert!(is_remote(r), "{r}");
        }
        for l in ["a.tgz", "./http", "dir/https:/x", "/git@x"] {
            assert!(!is_remote(l), "{l}");
        }
    }

    #[test]
    fn chown_and_chmod() {
        let passwd = "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n";
        let group = "root:x:0:\nstaff:x:50:app\napp:x:1000:\n";
        assert_eq!(resolve_chown("1:2", "", ""), Ok((1, 2)));
        assert_eq!(resolve_chown("app", passwd, group), Ok((1000, 1000)));
        assert_eq!(resolve_chown("app:staff", passwd, group), Ok((1000, 50)));
        assert_eq!(resolve_chown("7", passwd, group), Ok((7, 7)));
        assert_eq!(
            resolve_chown("bob", passwd, group),
            Err(CopyError::User("bob".into()))
        );
        assert_eq!(
            resolve_chown("app:wheel", passwd, group),
            Err(CopyError::Group("wheel".into()))
        );
        assert_eq!(
            resolve_chown("app", passwd, "root:x:0:\n"),
            Err(CopyError::Group("app".into()))
        );
        assert_eq!(
            resolve_chown("1:2:3", passwd, group),
            Err(CopyError::ChownFormat("1:2:3".into()))
        );
        assert_eq!(parse_chmod("0755"), Ok(0o755));
        assert_eq!(parse_chmod("4755"), Ok(0o4755));
        assert_eq!(parse_chmod("u+x"), Err(CopyError::Chmod("u+x".into())));
        assert_eq!(parse_chmod("17777"), Err(CopyError::Chmod("17777".into())));
    }
}
