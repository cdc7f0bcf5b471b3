//! Reading untrusted JSON strictly: a member name may occur only once per object.
//!
//! JSON parsers disagree on duplicate names (`serde_json` keeps the last, others the first),
//! so a document with `"name": "A", "name": "B"` can sign one text and show another. A
//! verifier refuses such input rather than pick a winner.

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// Why [`parse_unique`] refused its input.
#[derive(Debug, thiserror::Error)]
pub enum StrictJsonError {
    /// Not JSON (or nested past the parser's own recursion limit of 128).
    #[error("{0}")]
    Syntax(serde_json::Error),
    /// An object names a member twice.
    #[error("the member {0:?} appears twice in one object: each name may occur once")]
    DuplicateKey(String),
}

impl StrictJsonError {
    /// True when the parser stopped at its recursion limit (the input nests too deeply).
    pub fn is_too_deep(&self) -> bool {
        matches!(self, StrictJsonError::Syntax(e) if e.to_string().contains("recursion limit"))
    }
}

/// Marks the duplicate-key error so it can be told apart from syntax errors.
const DUPLICATE: &str = "\u{0}duplicate member\u{0}";

/// Parses `bytes` as JSON, refusing any object that names a member twice.
pub fn parse_unique(bytes: &[u8]) -> Result<Value, StrictJsonError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let parsed = Unique::deserialize(&mut de).and_then(|u| de.end().map(|()| u.0));
    parsed.map_err(|e| {
        let text = e.to_string();
        match text.strip_prefix(DUPLICATE) {
            Some(rest) => {
                // The message is `{DUPLICATE}{key}{DUPLICATE} at line … column …`.
                let key = rest.split(DUPLICATE).next().unwrap_or("").to_owned();
                StrictJsonError::DuplicateKey(key)
            }
            None => StrictJsonError::Syntax(e),
        }
    })
}

/// A JSON value built by a visitor that refuses duplicate member names.
struct Unique(Value);

impl<'de> Deserialize<'de> for Unique {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(UniqueVisitor).map(Unique)
    }
}

struct UniqueVisitor;

impl<'de> Visitor<'de> for UniqueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        // JSON has no NaN or infinity, so this is always a number.
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        while let Some(Unique(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                return Err(de::Error::custom(format!("{DUPLICATE}{key}{DUPLICATE}")));
            }
            let Unique(value) = map.next_value()?;
            out.insert(key, value);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_values_as_serde_json() {
        let text = r#"{"a": [1, -2, 3.5, "x", true, null, {"b": {}}], "c": 1e300, "d": "é\u00e9"}"#;
        let ours = parse_unique(text.as_bytes()).unwrap();
        let theirs: Value = serde_json::from_str(text).unwrap();
        assert_eq!(ours, theirs);
        assert_eq!(
            ours.as_object().unwrap().keys().collect::<Vec<_>>(),
            ["a", "c", "d"],
            "member order is kept"
        );
    }

    #[test]
    fn duplicates_are_refused_at_any_depth() {
        for text in [
            r#"{"name": "A", "name": "B"}"#,
            r#"{"a": {"name": "A", "x": 1, "name": "A"}}"#,
            r#"[{"ok": 1}, {"k": 1, "k": 1}]"#,
        ] {
            match parse_unique(text.as_bytes()) {
                Err(StrictJsonError::DuplicateKey(k)) => assert!(k == "name" || k == "k"),
                other => panic!("{text}: {other:?}"),
            }
        }
        // The same name in different objects is fine.
        assert!(parse_unique(br#"{"a": {"id": 1}, "b": {"id": 1}}"#).is_ok());
    }

    #[test]
    fn syntax_errors_and_depth() {
        assert!(matches!(
            parse_unique(b"{\"a\": 1} trailing"),
            Err(StrictJsonError::Syntax(_))
        ));
        let deep = "[".repeat(1000) + &"]".repeat(1000);
        assert!(parse_unique(deep.as_bytes()).unwrap_err().is_too_deep());
    }
}
