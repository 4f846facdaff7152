//! Why a word could not be expanded, in BuildKit's lexer's wording.

/// Why a word could not be expanded (wording from BuildKit's lexer).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LexErrorKind {
    /// A quote or `${` was never closed.
    #[error("unexpected end of statement while looking for matching {0}")]
    Unterminated(&'static str),
    /// `${...` without its `}`.
    #[error("syntax error: missing '}}'")]
    MissingBrace,
    /// `${V/pattern` without the `/` before the replacement.
    #[error("syntax error: missing '/' in ${{}}")]
    MissingSlash,
    /// `${a:-${a:-...}}` nested deeper than [`MAX_NESTING`](super::MAX_NESTING) (a Go stack grows; ours must not
    /// overflow on hostile input).
    #[error("variable substitution nested too deeply")]
    TooDeep,
    /// `${}`, `${:}`, `${{`.
    #[error("syntax error: bad substitution")]
    BadSubstitution,
    /// `${V:=w}`, `${V:#p}` and other forms BuildKit does not have.
    #[error("unsupported modifier ({0}) in substitution")]
    UnsupportedModifier(String),
    /// `${V?msg}` / `${V:?msg}` on an unset (or empty) variable.
    #[error("{name}: {message}")]
    Required {
        /// The variable.
        name: String,
        /// The user's message or BuildKit's default.
        message: String,
    },
    /// A `#`, `%` or `/` pattern that does not translate.
    #[error("invalid pattern ({pattern}) in substitution: {reason}")]
    InvalidPattern {
        /// The pattern as written.
        pattern: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// A word that could not be expanded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("failed to process {source_text:?}: {kind}")]
pub struct LexError {
    /// The whole word being processed.
    pub source_text: String,
    /// What went wrong.
    pub kind: LexErrorKind,
}

/// A step of the expansion that failed; [`LexError`] adds the word.
pub(super) type LexResult<T> = Result<T, LexErrorKind>;
