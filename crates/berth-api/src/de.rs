//! Deserialisation helpers that mirror Go's `encoding/json` leniency.

use serde::{Deserialize, Deserializer};

/// Deserialises `null` as the type's default value, as Go does for non-pointer fields.
pub(crate) fn nd<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// Docker's `StrSlice`: a JSON array of strings, or a single string meaning a one-element
/// list; `null` means unset.
pub(crate) fn str_slice<'de, D>(d: D) -> Result<Option<Vec<String>>, D::Error>
where
    D: Deserializer<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match Option::<OneOrMany>::deserialize(d)? {
        None => None,
        Some(OneOrMany::One(s)) => Some(vec![s]),
        Some(OneOrMany::Many(v)) => Some(v),
    })
}
