//! The audit log of the admin API: who did what, when, with what result.
//!
//! [`Audit::record`] is the one way entries are written: they are group-committed (many
//! requests' entries per transaction, see [`crate::db::group_commit`]), and a request is
//! answered only once its entry is stored. The middleware that
//! records every admin request, those refused by the failed-authentication limit included,
//! is `routes::audit::record_admin`.

use crate::db::group_commit::GroupCommit;
use crate::db::{AuditEntry, DbResult};

/// Longest `target` kept (path ids are UUIDs; anything longer is not one).
const MAX_TARGET: usize = 100;
/// Longest request id kept. They are the UUIDs this service makes (a client's own
/// `x-request-id` is never ours, see `routes::router`); the bound is a safeguard.
const MAX_REQUEST_ID: usize = 200;

/// Writes audit entries; cheap to clone.
#[derive(Clone)]
pub struct Audit {
    writer: GroupCommit,
}

impl Audit {
    /// A handle writing through `writer`.
    pub fn new(writer: GroupCommit) -> Self {
        Audit { writer }
    }

    /// Appends one entry.
    pub async fn record(&self, entry: AuditEntry) -> DbResult<()> {
        self.writer.append_audit(entry).await
    }
}

/// The path segment that stands where `template` has a `{param}` (the request's target
/// id), cut to a sane length; `None` when the route has no parameter.
pub fn target_of(template: &str, path: &str) -> Option<String> {
    template
        .split('/')
        .zip(path.split('/'))
        .find(|(t, _)| t.starts_with('{'))
        .map(|(_, p)| clip(p, MAX_TARGET))
}

/// What the log keeps of a request before it is answered: the method and route template
/// (`POST /api/v1/credentials/{id}/revoke`), the path's id, the request id.
pub fn request_facts(req: &axum::extract::Request) -> (String, Option<String>, Option<String>) {
    let template = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let action = format!("{} {template}", req.method());
    let target = target_of(&template, req.uri().path());
    let id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(request_id);
    (action, target, id)
}

/// A request id as kept: at most 200 characters.
pub fn request_id(raw: &str) -> String {
    clip(raw, MAX_REQUEST_ID)
}

fn clip(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_is_the_path_parameter() {
        assert_eq!(
            target_of(
                "/api/v1/credentials/{id}/revoke",
                "/api/v1/credentials/abc/revoke"
            ),
            Some("abc".to_owned())
        );
        assert_eq!(
            target_of("/api/v1/credentials", "/api/v1/credentials"),
            None
        );
        let long = format!("/api/v1/people/{}", "x".repeat(500));
        assert_eq!(target_of("/api/v1/people/{id}", &long).unwrap().len(), 100);
    }
}
