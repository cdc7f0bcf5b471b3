//! The query parameters of the registry's documents and pages: each checked (known, given
//! once, bounded), and the cursor decoded.

use crate::db::{RegistryOrder, RegistryQuery};
use crate::error::{AppError, AppResult};
use crate::registry::{self, MAX_FILTER_CHARS, MAX_LIMIT};

/// The query parameters a registry document accepts, validated.
#[derive(Debug, Default, Clone)]
pub(super) struct Params {
    pub(super) country: Option<String>,
    pub(super) prefix: Option<String>,
    pub(super) cursor: Option<String>,
    pub(super) after: Option<(String, uuid::Uuid)>,
    pub(super) limit: Option<i64>,
    pub(super) theme: Option<String>,
}

impl Params {
    /// The cache key: the document kind and every parameter as given (trimmed), so two
    /// spellings never share an answer the backends might distinguish.
    pub(super) fn key(&self, kind: &str) -> String {
        let o = |v: &Option<String>| v.clone().unwrap_or_default();
        format!(
            "{kind}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}",
            o(&self.country),
            o(&self.prefix),
            o(&self.cursor),
            self.limit.map(|l| l.to_string()).unwrap_or_default(),
            o(&self.theme),
        )
    }

    /// The query string of these filters (for links to other pages), with `cursor`.
    pub(super) fn query_string(&self, cursor: Option<&str>) -> String {
        let mut q = form_urlencoded::Serializer::new(String::new());
        if let Some(c) = &self.country {
            q.append_pair("country", c);
        }
        if let Some(p) = &self.prefix {
            q.append_pair("prefix", p);
        }
        if let Some(l) = self.limit {
            q.append_pair("limit", &l.to_string());
        }
        if let Some(c) = cursor {
            q.append_pair("cursor", c);
        }
        q.finish()
    }
}

/// Parses a query string, accepting only `allowed` names, each at most once. Empty values
/// count as absent (a submitted empty search field).
pub(super) fn params(raw: Option<&str>, allowed: &[&str]) -> AppResult<Params> {
    let mut p = Params::default();
    let mut seen: Vec<String> = Vec::new();
    for (name, value) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        if !allowed.contains(&name.as_ref()) {
            return Err(AppError::BadRequest(format!(
                "unknown query parameter {name:?}; this resource accepts {}",
                allowed.join(", ")
            )));
        }
        if seen.iter().any(|s| *s == name) {
            return Err(AppError::BadRequest(format!(
                "query parameter {name:?} is given more than once"
            )));
        }
        seen.push(name.to_string());
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        let filter = |field: &str| -> AppResult<Option<String>> {
            if value.chars().count() > MAX_FILTER_CHARS {
                return Err(AppError::BadRequest(format!(
                    "{field} must be at most {MAX_FILTER_CHARS} characters"
                )));
            }
            if value.chars().any(char::is_control) {
                return Err(AppError::BadRequest(format!(
                    "{field} must not contain control characters"
                )));
            }
            Ok(Some(value.to_owned()))
        };
        match name.as_ref() {
            "country" => p.country = filter("country")?,
            "prefix" => p.prefix = filter("prefix")?,
            "cursor" => {
                p.after = Some(registry::decode_cursor(value)?);
                p.cursor = Some(value.to_owned());
            }
            "limit" => {
                p.limit = Some(match value.parse::<i64>() {
                    Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
                    _ => {
                        return Err(AppError::BadRequest(format!(
                            "limit must be an integer from 1 to {MAX_LIMIT}"
                        )))
                    }
                })
            }
            "theme" => {
                if value != "light" && value != "dark" {
                    return Err(AppError::BadRequest("theme must be light or dark".into()));
                }
                p.theme = Some(value.to_owned());
            }
            _ => unreachable!("checked against allowed"),
        }
    }
    Ok(p)
}

pub(super) fn query(p: &Params, order: RegistryOrder, default_limit: i64) -> RegistryQuery {
    RegistryQuery {
        country: p.country.clone(),
        prefix: p.prefix.clone(),
        after: p.after.clone(),
        order,
        limit: p.limit.unwrap_or(default_limit),
        now: crate::program::now(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_reject_unknown_repeated_and_oversized() {
        let all = ["country", "prefix", "cursor", "limit"];
        assert!(params(Some("country=France&prefix=Ad&limit=5"), &all).is_ok());
        assert!(params(Some("sort=name"), &all).is_err());
        assert!(params(Some("limit=1&limit=2"), &all).is_err());
        assert!(params(Some("limit=0"), &all).is_err());
        assert!(params(Some("limit=101"), &all).is_err());
        assert!(params(Some(&format!("prefix={}", "a".repeat(101))), &all).is_err());
        assert!(params(Some("cursor=nope"), &all).is_err());
        assert_eq!(
            params(Some("country=&prefix="), &all).unwrap().country,
            None
        );
    }
}
