//! Word expansion and splitting as BuildKit's `frontend/dockerfile/shell/lex.go` does it:
//! quotes, the escape token, `$V`, `${V}` and the `${V<op>word}` forms (`:-`, `-`, `:+`,
//! `+`, `:?`, `?`, `#`, `##`, `%`, `%%`, `/`, `//`).
//!
//! One deliberate difference: BuildKit's lexer shares one word buffer between a word and the
//! `${V:-...}` nested inside it, so `ProcessWords("a${X:-b}")` loses the `a`. Here each level
//! has its own buffer, which is what a shell (and BuildKit's own `ProcessWord`) gives.
//!
//! The lexer's settings and entry points are here; `env` is where values come from, `word`
//! the scanner, `pattern` the shell patterns of `#`, `%` and `/`, `error` the failures.

mod env;
mod error;
mod pattern;
mod word;

use std::collections::BTreeSet;

pub use env::{Env, NoEnv};
pub use error::{LexError, LexErrorKind};

use word::ShellWord;

/// How deeply `${...}` forms may nest.
pub const MAX_NESTING: usize = 100;

/// The result of processing one word.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Processed {
    /// The expanded text, quotes removed, spacing kept.
    pub result: String,
    /// The expanded text split into words (quoted spaces do not split).
    pub words: Vec<String>,
    /// Variables that were referenced and set.
    pub matched: BTreeSet<String>,
    /// Variables that were referenced and unset.
    pub unmatched: BTreeSet<String>,
}

/// The lexer's settings (BuildKit's `Lex` fields).
#[derive(Debug, Clone, Copy)]
pub struct Lexer {
    /// The escape token: `\` or `` ` `` (the `escape` directive).
    pub escape: char,
    /// Keep quote characters in the output.
    pub raw_quotes: bool,
    /// Keep escape tokens in the output.
    pub raw_escapes: bool,
    /// Treat quotes as ordinary characters.
    pub skip_process_quotes: bool,
    /// Leave references to unset variables as written (`$X`, `${X:-w}`).
    pub skip_unset_env: bool,
}

impl Lexer {
    /// A lexer with `escape` as the escape token and everything else off.
    pub fn new(escape: char) -> Self {
        Lexer {
            escape,
            raw_quotes: false,
            raw_escapes: false,
            skip_process_quotes: false,
            skip_unset_env: false,
        }
    }

    /// Expands `word` into one string (BuildKit's `ProcessWord`).
    pub fn process_word(&self, word: &str, env: &dyn Env) -> Result<String, LexError> {
        Ok(self.process(word, env)?.result)
    }

    /// Expands `word` and splits it into words after expansion (BuildKit's `ProcessWords`).
    pub fn process_words(&self, word: &str, env: &dyn Env) -> Result<Vec<String>, LexError> {
        Ok(self.process(word, env)?.words)
    }

    /// Expands `word`, returning both forms and which variables were used.
    pub fn process(&self, word: &str, env: &dyn Env) -> Result<Processed, LexError> {
        let mut sw = ShellWord::new(*self, word, env);
        match sw.process_stop_on(None, self.raw_escapes) {
            Ok((result, words)) => Ok(Processed {
                result,
                words,
                matched: sw.matched,
                unmatched: sw.unmatched,
            }),
            Err(kind) => Err(LexError {
                source_text: word.to_string(),
                kind,
            }),
        }
    }
}

#[cfg(test)]
mod tests;
