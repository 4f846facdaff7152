//! Parse errors: every one carries the Dockerfile line it is about.

use crate::shell::LexError;

/// A Dockerfile that cannot be parsed. Displays as dockerd does:
/// `dockerfile parse error on line 3: unknown instruction: FOO`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("dockerfile parse error on line {line}: {kind}")]
pub struct ParseError {
    /// 1-based line the instruction starts on (or where the problem was found).
    pub line: usize,
    /// What is wrong.
    pub kind: ParseErrorKind,
}

impl ParseError {
    pub(crate) fn new(line: usize, kind: ParseErrorKind) -> Self {
        ParseError { line, kind }
    }
}

/// What is wrong with a Dockerfile (wording from BuildKit where it has one).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseErrorKind {
    /// `# escape=x` with something other than `\` or `` ` ``.
    #[error("invalid escape token '{0}' does not match ` or \\")]
    InvalidEscape(String),
    /// A parser directive given twice.
    #[error("only one {0} parser directive can be used")]
    DuplicateDirective(String),
    /// A physical line of 64 KiB or more (BuildKit's scanner limit).
    #[error("dockerfile line greater than max allowed size of 65535")]
    LineTooLong,
    /// Nothing but comments and blank lines.
    #[error("file with no instructions")]
    Empty,
    /// A heredoc whose terminator never comes.
    #[error("unterminated heredoc")]
    UnterminatedHeredoc,
    /// A JSON array with a non-string element.
    #[error("when using JSON array syntax, arrays must be comprised of strings only")]
    JsonNotStrings,
    /// An instruction name berth (and Docker) does not know.
    #[error("unknown instruction: {0}")]
    UnknownInstruction(String),
    /// An instruction other than ARG before the first FROM.
    #[error("no build stage in current context")]
    NoStage,
    /// `INSTR requires at least one argument`.
    #[error("{0} requires at least one argument")]
    AtLeastOneArgument(&'static str),
    /// `INSTR requires exactly one argument`.
    #[error("{0} requires exactly one argument")]
    ExactlyOneArgument(&'static str),
    /// COPY/ADD with a single argument.
    #[error(
        "{0} requires at least two arguments, but only one was provided. Destination could not be determined"
    )]
    NoDestination(&'static str),
    /// `ENV key` without a value (old form).
    #[error("{0} must have two arguments")]
    MustHaveTwoArguments(&'static str),
    /// `ENV a=b c` mixing forms.
    #[error("Syntax error - can't find = in {0:?}. Must be of the form: name=value")]
    MissingEquals(String),
    /// `ENV =x`, `ARG =x`.
    #[error("{0} names can not be blank")]
    BlankName(&'static str),
    /// Key/value pairs that do not come in threes (internal shape check).
    #[error("Bad input to {0}, too many arguments")]
    TooManyArguments(&'static str),
    /// `COPY <<EOF <<EOF2`: a heredoc as destination.
    #[error("{0} cannot accept a heredoc as a destination")]
    HeredocDestination(&'static str),
    /// FROM with two or more than three words.
    #[error("FROM requires either one or three arguments")]
    FromArguments,
    /// `FROM x AS 1bad`.
    #[error(
        "invalid name for build stage: {0:?}, name can't start with a number or contain symbols"
    )]
    InvalidStageName(String),
    /// `ONBUILD ONBUILD ...`.
    #[error("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed")]
    OnbuildChain,
    /// `ONBUILD FROM` / `ONBUILD MAINTAINER`.
    #[error("{0} isn't allowed as an ONBUILD trigger")]
    OnbuildTrigger(String),
    /// `HEALTHCHECK NONE something`.
    #[error("HEALTHCHECK NONE takes no arguments")]
    HealthcheckNoneArgs,
    /// `HEALTHCHECK CMD` with nothing after it.
    #[error("Missing command after HEALTHCHECK CMD")]
    HealthcheckMissingCommand,
    /// `HEALTHCHECK FOO`.
    #[error("Unknown type {0:?} in HEALTHCHECK (try CMD)")]
    HealthcheckType(String),
    /// A HEALTHCHECK duration that is not a Go duration or is below 1ms.
    #[error("Interval {0:?} cannot be less than 1ms")]
    IntervalTooShort(String),
    /// A malformed duration.
    #[error("time: invalid duration {0:?}")]
    InvalidDuration(String),
    /// A malformed `--retries`.
    #[error("strconv.ParseInt: parsing {0:?}: invalid syntax")]
    InvalidRetries(String),
    /// `--retries=-1`.
    #[error("--retries cannot be negative ({0})")]
    NegativeRetries(i64),
    /// `VOLUME ""`.
    #[error("VOLUME specified can not be an empty string")]
    EmptyVolume,
    /// SHELL in shell form.
    #[error("{0} requires the arguments to be in JSON form")]
    NotJson(&'static str),
    /// An instruction flag not starting with `--`.
    #[error("arg should start with -- : {0}")]
    FlagSyntax(String),
    /// An instruction flag the instruction does not have.
    #[error("unknown flag: {0}")]
    UnknownFlag(String),
    /// A non-repeatable flag given twice.
    #[error("duplicate flag specified: {0}")]
    DuplicateFlag(String),
    /// `--from` without `=value`.
    #[error("missing a value on flag: {0}")]
    MissingFlagValue(String),
    /// `--link=maybe`.
    #[error("expecting boolean value for flag {0}, not: {1}")]
    BoolFlag(String, String),
    /// A bad `RUN --mount` specification.
    #[error("{0}")]
    Mount(#[from] crate::instructions::MountError),
    /// `RUN --network=bridge`.
    #[error("invalid network mode {0:?}")]
    NetworkMode(String),
    /// `RUN --security=x`.
    #[error("security {0:?} is not valid")]
    Security(String),
    /// A word that does not expand (used when expanding instructions).
    #[error("{0}")]
    Lex(#[from] LexError),
}
