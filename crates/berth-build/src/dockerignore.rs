//! `.dockerignore` with moby/patternmatcher's semantics (not gitignore's): patterns are
//! cleaned like Go's `filepath.Clean` and a leading `/` is dropped; `*` is `[^/]*`, `?` is
//! `[^/]`, `**` is any number of directories, `[...]` classes and `\` escapes pass to the
//! regex; `!` makes an exception; the last matching pattern wins; a pattern that matches a
//! parent directory matches everything under it. Each pattern becomes an exact, prefix,
//! suffix or `regex` (linear-time) match exactly as patternmatcher classifies it.

use regex::Regex;

/// A malformed pattern.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatternError {
    /// A lone `!`.
    #[error("illegal exclusion pattern: \"!\"")]
    LoneBang,
    /// Go's `filepath.ErrBadPattern`.
    #[error("syntax error in pattern")]
    BadPattern,
}

/// Reads a `.dockerignore` body into patterns (moby's `ignorefile.ReadAll`): `#` comments,
/// blank lines skipped, each pattern cleaned, a leading `/` dropped.
pub fn read_ignore_file(text: &str) -> Vec<String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = Vec::new();
    for line in text.lines() {
        if line.starts_with('#') {
            continue;
        }
        let mut p = line.trim();
        if p.is_empty() {
            continue;
        }
        let invert = p.starts_with('!');
        if invert {
            p = p[1..].trim();
        }
        let mut pattern = String::new();
        if !p.is_empty() {
            let cleaned = clean(p);
            pattern = match cleaned.strip_prefix('/') {
                Some(rest) if cleaned.len() > 1 => rest.to_string(),
                _ => cleaned,
            };
        }
        out.push(if invert {
            format!("!{pattern}")
        } else {
            pattern
        });
    }
    out
}

/// Go's `path.Clean`.
pub fn clean(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let rooted = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|l| *l != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            s => parts.push(s),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

/// Go's `filepath.Dir` for a cleaned relative path.
fn dir(p: &str) -> String {
    match p.rfind('/') {
        Some(i) => clean(&p[..=i]),
        None => ".".into(),
    }
}

/// Checks a pattern as Go's `filepath.Match(pattern, ".")` would.
fn validate(p: &str) -> Result<(), PatternError> {
    let c: Vec<char> = p.chars().collect();
    let mut i = 0;
    let esc = |i: &mut usize| -> Result<(), PatternError> {
        match c.get(*i) {
            None | Some('-' | ']') => return Err(PatternError::BadPattern),
            Some('\\') => {
                *i += 1;
                if *i >= c.len() {
                    return Err(PatternError::BadPattern);
                }
            }
            _ => {}
        }
        *i += 1;
        if *i >= c.len() {
            return Err(PatternError::BadPattern);
        }
        Ok(())
    };
    while i < c.len() {
        match c[i] {
            '\\' => {
                i += 2;
                if i > c.len() {
                    return Err(PatternError::BadPattern);
                }
            }
            '[' => {
                i += 1;
                if c.get(i) == Some(&'^') {
                    i += 1;
                }
                let mut n = 0;
                loop {
                    if c.get(i) == Some(&']') && n > 0 {
                        i += 1;
                        break;
                    }
                    esc(&mut i)?;
                    if c.get(i) == Some(&'-') {
                        i += 1;
                        esc(&mut i)?;
                    }
                    n += 1;
                }
            }
            _ => i += 1,
        }
    }
    Ok(())
}

#[derive(Debug, Clone)]
enum MatchType {
    Exact,
    Prefix,
    Suffix,
    Regex(Regex),
    /// The regex did not compile: every match is an error (as in patternmatcher).
    Bad,
}

/// One pattern.
#[derive(Debug, Clone)]
pub struct Pattern {
    cleaned: String,
    dirs: usize,
    exclusion: bool,
    kind: MatchType,
}

impl Pattern {
    /// The cleaned pattern without its `!`.
    pub fn as_str(&self) -> &str {
        &self.cleaned
    }

    /// It is an exception (`!pattern`).
    pub fn exclusion(&self) -> bool {
        self.exclusion
    }

    fn compile(cleaned: &str) -> MatchType {
        let mut re = String::from("^");
        let mut kind = 0u8; // 0 exact, 1 prefix, 2 suffix, 3 regex
        let chars: Vec<char> = cleaned.chars().collect();
        let mut i = 0;
        let mut iteration = 0;
        let mut in_class = false;
        while i < chars.len() {
            let ch = chars[i];
            i += 1;
            if ch == '*' {
                if chars.get(i) == Some(&'*') {
                    i += 1;
                    if chars.get(i) == Some(&'/') {
                        i += 1;
                    }
                    if i >= chars.len() {
                        if kind == 0 {
                            kind = 1;
                        } else {
                            re.push_str(".*");
                            kind = 3;
                        }
                    } else {
                        re.push_str("(.*/)?");
                        kind = 3;
                    }
                    if iteration == 0 {
                        kind = 2;
                    }
                } else {
                    re.push_str("[^/]*");
                    kind = 3;
                }
            } else if ch == '?' {
                re.push_str("[^/]");
                kind = 3;
            } else if ".+()|{}$".contains(ch) {
                re.push('\\');
                re.push(ch);
            } else if ch == '\\' {
                match chars.get(i) {
                    Some(&n) => {
                        i += 1;
                        re.push('\\');
                        re.push(n);
                        kind = 3;
                    }
                    None => re.push('\\'),
                }
            } else if ch == '[' || ch == ']' {
                // Go's regexp takes `[` inside a class literally; Rust's would nest.
                if ch == '[' && in_class && chars.get(i) != Some(&':') {
                    re.push_str("\\[");
                } else {
                    re.push(ch);
                    in_class = ch == '[';
                }
                kind = 3;
            } else if in_class && (ch == '&' || ch == '~') {
                // Class set operators in Rust's syntax; plain characters in Go's.
                re.push('\\');
                re.push(ch);
            } else {
                re.push(ch);
            }
            iteration += 1;
        }
        match kind {
            0 => MatchType::Exact,
            1 => MatchType::Prefix,
            2 => MatchType::Suffix,
            _ => {
                re.push('$');
                Regex::new(&re).map_or(MatchType::Bad, MatchType::Regex)
            }
        }
    }

    fn matches(&self, path: &str) -> Result<bool, PatternError> {
        Ok(match &self.kind {
            MatchType::Exact => path == self.cleaned,
            MatchType::Prefix => {
                let prefix = &self.cleaned[..self.cleaned.len() - 2];
                path.starts_with(prefix)
            }
            MatchType::Suffix => {
                let suffix = &self.cleaned[2..];
                path.ends_with(suffix) || suffix.strip_prefix('/').is_some_and(|rest| path == rest)
            }
            MatchType::Regex(re) => re.is_match(path),
            MatchType::Bad => return Err(PatternError::BadPattern),
        })
    }
}

/// Per-pattern results for a directory, passed down to its children.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MatchInfo {
    parent_matched: Vec<bool>,
}

/// An ordered list of patterns.
#[derive(Debug, Clone, Default)]
pub struct PatternMatcher {
    patterns: Vec<Pattern>,
    exclusions: bool,
}

impl PatternMatcher {
    /// Compiles patterns (blank ones are skipped).
    pub fn new<S: AsRef<str>>(patterns: &[S]) -> Result<Self, PatternError> {
        let mut pm = PatternMatcher::default();
        for p in patterns {
            let p = p.as_ref().trim();
            if p.is_empty() {
                continue;
            }
            let mut p = clean(p);
            let mut exclusion = false;
            if let Some(rest) = p.strip_prefix('!') {
                if rest.is_empty() {
                    return Err(PatternError::LoneBang);
                }
                exclusion = true;
                pm.exclusions = true;
                p = rest.to_string();
            }
            validate(&p)?;
            pm.patterns.push(Pattern {
                dirs: p.split('/').count(),
                kind: Pattern::compile(&p),
                cleaned: p,
                exclusion,
            });
        }
        Ok(pm)
    }

    /// The patterns in order.
    pub fn patterns(&self) -> &[Pattern] {
        &self.patterns
    }

    /// Some pattern is an exception.
    pub fn exclusions(&self) -> bool {
        self.exclusions
    }

    /// Is `file` (relative, `/`-separated) excluded? A pattern also matches when it
    /// matches the parent directory with as many components as the pattern has.
    pub fn matches(&self, file: &str) -> Result<bool, PatternError> {
        let parent = dir(file);
        let parent_dirs: Vec<&str> = parent.split('/').collect();
        let mut matched = false;
        for p in &self.patterns {
            if p.exclusion != matched {
                continue;
            }
            let mut m = p.matches(file)?;
            if !m && parent != "." && p.dirs <= parent_dirs.len() {
                m = p.matches(&parent_dirs[..p.dirs].join("/")).unwrap_or(false);
            }
            if m {
                matched = !p.exclusion;
            }
        }
        Ok(matched)
    }

    /// Like [`matches`](Self::matches) but any ancestor directory may match.
    pub fn matches_or_parent_matches(&self, file: &str) -> Result<bool, PatternError> {
        let parent = dir(file);
        let parent_dirs: Vec<&str> = parent.split('/').collect();
        let mut matched = false;
        for p in &self.patterns {
            if p.exclusion != matched {
                continue;
            }
            let mut m = p.matches(file)?;
            if !m && parent != "." {
                m = (1..=parent_dirs.len())
                    .any(|i| p.matches(&parent_dirs[..i].join("/")).unwrap_or(false));
            }
            if m {
                matched = !p.exclusion;
            }
        }
        Ok(matched)
    }

    /// The walker's form: `parent` is what this returned for the file's directory (empty
    /// for a top-level file), so ancestors are not re-matched at every level.
    pub fn matches_using_parent_results(
        &self,
        file: &str,
        parent: &MatchInfo,
    ) -> Result<(bool, MatchInfo), PatternError> {
        let pm = &parent.parent_matched;
        if !pm.is_empty() && pm.len() != self.patterns.len() {
            return Err(PatternError::BadPattern);
        }
        let mut matched = false;
        let mut info = MatchInfo {
            parent_matched: vec![false; self.patterns.len()],
        };
        for (i, p) in self.patterns.iter().enumerate() {
            let mut m = pm.get(i).copied().unwrap_or(false);
            if !m {
                if p.exclusion != matched {
                    continue;
                }
                m = p.matches(file)?;
                if !m && pm.is_empty() {
                    let parent_path = dir(file);
                    if parent_path != "." {
                        let dirs: Vec<&str> = parent_path.split('/').collect();
                        m = (1..=dirs.len())
                            .any(|k| p.matches(&dirs[..k].join("/")).unwrap_or(false));
                    }
                }
            }
            info.parent_matched[i] = m;
            if m {
                matched = !p.exclusion;
            }
        }
        Ok((matched, info))
    }

    /// Could an exception re-include something under the excluded directory `dir`? When
    /// not, the walker skips the whole directory. moby compares exception patterns as
    /// prefixes; this also keeps walking when a wildcard in the exception could reach in.
    pub fn could_reinclude_under(&self, dir: &str) -> bool {
        if !self.exclusions {
            return false;
        }
        let dir_parts: Vec<&str> = dir.split('/').collect();
        self.patterns.iter().filter(|p| p.exclusion).any(|p| {
            let parts: Vec<&str> = p.cleaned.split('/').collect();
            for (i, d) in dir_parts.iter().enumerate() {
                let Some(pp) = parts.get(i) else {
                    return false;
                };
                if pp.contains("**") {
                    return true;
                }
                if pp.contains(['*', '?', '[', '\\']) {
                    let Ok(pat) = PatternMatcher::new(&[*pp]) else {
                        return true;
                    };
                    if !pat.matches(d).unwrap_or(true) {
                        return false;
                    }
                } else if pp != d {
                    return false;
                }
            }
            parts.len() > dir_parts.len()
        })
    }
}

#[cfg(test)]
#[path = "dockerignore_tests.rs"]
mod tests;
