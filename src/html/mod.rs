//! Server-side HTML: the shared page layout, render helpers, content negotiation, the
//! security headers every page carries, static assets and the badge artwork.
//!
//! Templates are [Askama](https://docs.rs/askama) templates under `src/html/templates/`
//! (the folder is set in `askama.toml`). They are compiled into the binary and type-checked,
//! and every `{{ … }}` is HTML-escaped unless a template says otherwise, which none does: names,
//! summaries and reasons typed by people can never become markup.
//!
//! # Adding a page
//!
//! 1. Write `src/html/templates/my-page.html` on the shared layout:
//!    ```text
//!    {% extends "base.html" %}
//!    {% block title %}Verify a badge{% endblock %}
//!    {% block head %}<meta name="description" content="{{ summary }}">{% endblock %}
//!    {% block main %}
//!    <h1>Verify a badge</h1>
//!    …
//!    {% endblock %}
//!    {% block scripts %}<script src="/assets/my-page.js" defer></script>{% endblock %}
//!    ```
//!    `title` (required) fills `<title>`; `head` adds meta/link tags; `main` is the page body
//!    (start it with the one `<h1>`, then `<h2>`s in order); `scripts` is for external
//!    scripts only. The content security policy ([`CSP`]) forbids inline `<script>`,
//!    `style="…"` attributes and `<style>` blocks: style with classes from
//!    `assets/style.css`, and keep every page working without JavaScript.
//! 2. Declare its data: `#[derive(askama::Template)] #[template(path = "my-page.html")]` on a
//!    struct whose fields the template reads (see [`pages`] for examples).
//! 3. Answer with [`page`]`(StatusCode::OK, &my_page)`: it renders and sets the security
//!    headers. Negotiate with [`wants_html`] when the same URL also serves JSON (and set
//!    `Vary: Accept` on both answers, see [`vary_accept`]); turn errors into an HTML page or
//!    problem+json with [`error`].
//! 4. A new static file goes in `src/html/assets/` and gets a line in [`asset`]; it is served
//!    at `/assets/{name}`.

pub mod artwork;
pub mod console;
pub mod holder;
pub mod pages;
pub mod when;

pub use artwork::{artwork_description, artwork_png, artwork_svg, asset, BADGE_PNG_SIZE};
pub use when::When;

use askama::Template;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::error::AppError;

/// The content security policy of every HTML page: same-origin scripts, styles and images
/// (plus `data:` images), no inline script or style, never framed.
pub const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; \
    script-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// The policy of served SVG images: an SVG opened on its own runs nothing and loads nothing.
pub const SVG_CSP: &str = "default-src 'none'; frame-ancestors 'none'";

/// Whether the client asked for a web page rather than JSON.
///
/// The highest-q of `text/html` / `application/xhtml+xml` must beat the highest-q of the
/// JSON types (`application/json`, `application/ld+json`, `application/vc+ld+json`); on a
/// tie the JSON a client named wins, since browsers never name it. A bare `*/*` (or no
/// `Accept`) gets JSON, the long-standing answer to verifiers and `curl`, unless the
/// `User-Agent` is a browser or a link-preview crawler, which expect the page and its
/// OpenGraph tags.
pub fn wants_html(headers: &HeaderMap) -> bool {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let (mut html, mut json, mut any) = (0.0f32, 0.0f32, 0.0f32);
    for range in accept.split(',') {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or("").trim();
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        let slot = if media.eq_ignore_ascii_case("text/html")
            || media.eq_ignore_ascii_case("application/xhtml+xml")
        {
            &mut html
        } else if media.eq_ignore_ascii_case("application/json")
            || media.eq_ignore_ascii_case("application/ld+json")
            || media.eq_ignore_ascii_case("application/vc+ld+json")
        {
            &mut json
        } else if media == "*/*" {
            &mut any
        } else {
            continue;
        };
        *slot = slot.max(q);
    }
    if html > 0.0 || json > 0.0 {
        return html > json;
    }
    (any > 0.0 || accept.trim().is_empty()) && browser_like(headers)
}

/// A browser (`Mozilla/…`, which every browser sends) or a known link-preview crawler.
fn browser_like(headers: &HeaderMap) -> bool {
    let ua = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    ua.starts_with("Mozilla/")
        || [
            "facebookexternalhit",
            "Twitterbot",
            "LinkedInBot",
            "Slackbot",
            "WhatsApp",
            "TelegramBot",
            "Discordbot",
        ]
        .iter()
        .any(|bot| ua.contains(bot))
}

/// Adds `Vary: Accept`: the same URL answers HTML or JSON, so caches must key on `Accept`.
pub fn vary_accept(res: &mut Response) {
    res.headers_mut()
        .insert(header::VARY, HeaderValue::from_static("Accept"));
}

/// The headers of every HTML answer: the [`CSP`], `nosniff` and a referrer policy that sends
/// no path to other sites.
pub fn security_headers(headers: &mut HeaderMap) {
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("strict-origin-when-cross-origin"),
    );
}

/// An HTML answer: `body` with its media type, [`security_headers`] and `Vary: Accept`.
/// Pages show live status, so caches must revalidate them.
pub fn html_response(status: StatusCode, body: String) -> Response {
    let mut res = (status, body).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    security_headers(h);
    vary_accept(&mut res);
    res
}

/// Renders `template` into an HTML answer; a render failure (a bug) is a logged 500.
pub fn page<T: Template>(status: StatusCode, template: &T) -> Response {
    match template.render() {
        Ok(body) => html_response(status, body),
        Err(e) => {
            tracing::error!(error = %e, "template render failed");
            html_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                "<!doctype html><html lang=\"en\"><title>Server error</title>\
                 <p>Internal error; the server log has the details.</p></html>"
                    .to_owned(),
            )
        }
    }
}

/// An error as a web page (for browsers) or as problem+json (for everyone else), with
/// `Vary: Accept`.
pub fn error(headers: &HeaderMap, err: AppError) -> Response {
    let mut res = if wants_html(headers) {
        error_page(err)
    } else {
        err.into_response()
    };
    vary_accept(&mut res);
    res
}

/// An error as a web page. Server errors are logged and shown without internals.
pub fn error_page(err: AppError) -> Response {
    let status = err.status();
    let detail = match &err {
        AppError::Internal(e) => {
            tracing::error!(error = ?e, "internal error");
            "Something went wrong on our side. Please try again later.".to_owned()
        }
        AppError::NotFound(_) => "There is no page at this address. Check the link you followed; \
             badge links look like /credentials/ followed by a long id."
            .to_owned(),
        other => other.to_string(),
    };
    let heading = match status {
        StatusCode::NOT_FOUND => "Page not found",
        StatusCode::INTERNAL_SERVER_ERROR => "Server error",
        s => s.canonical_reason().unwrap_or("Error"),
    };
    page(
        status,
        &pages::ErrorPage {
            status: status.as_u16(),
            heading,
            detail,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(accept: Option<&str>, ua: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Some(a) = accept {
            h.insert(header::ACCEPT, HeaderValue::from_str(a).unwrap());
        }
        if let Some(u) = ua {
            h.insert(header::USER_AGENT, HeaderValue::from_str(u).unwrap());
        }
        h
    }

    #[test]
    fn negotiation() {
        let firefox = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
        assert!(wants_html(&headers(Some(firefox), None)));
        assert!(wants_html(&headers(Some("text/html"), None)));
        assert!(!wants_html(&headers(Some("application/json"), None)));
        assert!(!wants_html(&headers(Some("application/ld+json"), None)));
        assert!(!wants_html(&headers(Some("application/vc+ld+json"), None)));
        assert!(!wants_html(&headers(
            Some("application/json, text/html;q=0.5"),
            None
        )));
        assert!(!wants_html(&headers(
            Some("text/html, application/json"),
            None
        )));
        assert!(!wants_html(&headers(Some("*/*"), Some("curl/8.5.0"))));
        assert!(!wants_html(&headers(None, None)));
        assert!(wants_html(&headers(Some("*/*"), Some("Mozilla/5.0 (X11)"))));
        assert!(wants_html(&headers(
            Some("*/*"),
            Some("facebookexternalhit/1.1")
        )));
        assert!(!wants_html(&headers(
            Some("application/json"),
            Some("Mozilla/5.0")
        )));
        assert!(!wants_html(&headers(Some("text/html;q=0"), None)));
    }
}
