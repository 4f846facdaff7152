//! Instruction flags (`--from=x`, `--link`, repeatable `--mount=...`), as BuildKit's `BFlags`.

use crate::error::ParseErrorKind;

/// How a flag takes its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `--link`, `--link=true|false`.
    Bool,
    /// `--from=x`, once.
    Str,
    /// `--mount=...`, repeatable.
    Strs,
}

/// The parsed flags of one instruction.
#[derive(Debug, Default)]
pub(crate) struct Flags {
    values: Vec<(&'static str, Vec<String>)>,
}

impl Flags {
    /// Parses `args` against the flags the instruction defines.
    pub(crate) fn parse(
        args: &[String],
        defs: &[(&'static str, Kind)],
    ) -> Result<Flags, ParseErrorKind> {
        let mut flags = Flags::default();
        for a in args {
            if a == "--" {
                break; // the rest are operands (BuildKit follows POSIX here)
            }
            let Some(body) = a.strip_prefix("--") else {
                return Err(ParseErrorKind::FlagSyntax(a.clone()));
            };
            let (name, value) = match body.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (body, None),
            };
            let flag_name = format!("--{name}");
            let Some(&(def, kind)) = defs.iter().find(|(n, _)| *n == name) else {
                return Err(ParseErrorKind::UnknownFlag(flag_name));
            };
            let seen = flags.values.iter().position(|(n, _)| *n == def);
            if seen.is_some() && kind != Kind::Strs {
                return Err(ParseErrorKind::DuplicateFlag(flag_name));
            }
            let v = match kind {
                Kind::Bool => match value {
                    Some("") => return Err(ParseErrorKind::MissingFlagValue(flag_name)),
                    None => "true".to_string(),
                    Some(v) if v.eq_ignore_ascii_case("true") => "true".to_string(),
                    Some(v) if v.eq_ignore_ascii_case("false") => "false".to_string(),
                    Some(v) => return Err(ParseErrorKind::BoolFlag(flag_name, v.to_string())),
                },
                Kind::Str | Kind::Strs => match value {
                    Some(v) => v.to_string(),
                    None => return Err(ParseErrorKind::MissingFlagValue(flag_name)),
                },
            };
            match seen {
                Some(i) => flags.values[i].1.push(v),
                None => flags.values.push((def, vec![v])),
            }
        }
        Ok(flags)
    }

    /// A string flag's value, if given.
    pub(crate) fn string(&self, name: &str) -> Option<String> {
        self.values
            .iter()
            .find(|(n, _)| *n == name)
            .and_then(|(_, v)| v.last().cloned())
    }

    /// A bool flag: `None` when not given.
    pub(crate) fn bool(&self, name: &str) -> Option<bool> {
        self.string(name).map(|v| v == "true")
    }

    /// Every value of a repeatable flag.
    pub(crate) fn strings(&self, name: &str) -> Vec<String> {
        self.values
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }
}
