//! The API contract: an OpenAPI 3.1 document of every route the service answers, served at
//! `GET /openapi.json`.
//!
//! The operations come from the router itself: each `routes/*.rs` registers its handlers with
//! `utoipa_axum::routes!`, which takes each handler's `#[utoipa::path]` attribute (and the
//! `ToSchema` types it names, declared beside the types or handlers they describe) into the
//! router's document, so a route cannot be served undocumented. The router assembly
//! (`routes::router`) hands the merged paths to [`router`]; this module adds the document's
//! header ([`ApiDoc`]: info, tags, the bearer scheme) and the answers shared by rule (the
//! abuse limits, the scopes), and keeps the reusable response sets the attributes name.
//! `tests/openapi.rs` holds the document to the router (same set of method and path), and
//! `tests/schemathesis.rs` holds the running service to the document.

use axum::body::Bytes;
use axum::extract::Extension;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::Value;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, ObjectBuilder, Ref, RefOr, Type};
use utoipa::{IntoResponses, Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

/// The document's header (see the module docs): everything but the operations, which the
/// router brings, and what [`document`] adds by rule.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Partnership Badges",
        description = "Open Badges 3.0 issuing and verification for a partnership training \
            program. The admin API under `/api/v1` needs a bearer token \
            with the scope each operation names (`partnership-badges token create`); \
            everything else is public. Errors are RFC 9457 \
            `application/problem+json` with a `detail` naming the field or rule at fault, or \
            an HTML page when a browser asked for one."
    ),
    components(schemas(crate::error::Problem)),
    modifiers(&BearerAuth),
    tags(
        (name = "admin", description = "Records, issuing and revoking; a bearer token with \
            the `read`, `issue` or `revoke` scope, as each operation says."),
        (name = "access", description = "API tokens and the audit log of the admin API; a \
            bearer token with the `admin` scope."),
        (name = "public", description = "The documents verifiers dereference, and the \
            pages people see on the same URLs (HTML when the `Accept` header or a browser \
            `User-Agent` asks for it)."),
        (name = "files", description = "Baked badge images, credential downloads, artwork \
            and page assets."),
        (name = "registry", description = "The public registry of certified people: JSON, \
            feeds, pages and the embed; conditional requests answer 304."),
        (name = "verify", description = "Verifying a credential or a baked badge."),
        (name = "holder", description = "The badge holder's own page: sign-in by emailed \
            link, their badges, their consent to the registry, their data. Pages and forms; \
            problem+json errors for clients that ask for JSON."),
        (name = "wallet", description = "Delivery to a holder's wallet over VC-API with \
            DIDAuth (the Learner Credential Wallet's protocol): opening an exchange for a \
            credential, and the exchange the wallet talks to."),
        (name = "ob2", description = "Open Badges 2.0 hosted compatibility."),
        (name = "operations", description = "Health, readiness, metrics and this contract."),
    )
)]
pub struct ApiDoc;

/// The `bearer` security scheme the admin operations name, each with the one scope it needs.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An API token, `pb_<id>_<secret>`, from `partnership-badges token \
                         create --name NAME --scope SCOPES` or `POST /api/v1/tokens`. A token \
                         holds scopes: `read` (the `GET` operations), `issue` (records and \
                         issuing), `revoke` (revoking credentials) and `admin` (everything, \
                         plus tokens and the audit log). Each operation's security \
                         requirement names the scope it needs, and so does its description. \
                         No token, or an unknown, expired or revoked one, is answered 401; a \
                         token without the scope, 403.",
                    ))
                    .build(),
            ),
        );
    }
}

/// The whole document, as JSON: the header ([`ApiDoc`]) over `paths` (the operations and
/// schemas the router collected), plus what the attributes cannot say: the shared answers of
/// the abuse limits, the scope in each admin operation's description, and the registry page
/// schema, which is the JSON Schema the service publishes at `/registry.schema.json`.
pub fn document(paths: utoipa::openapi::OpenApi) -> Value {
    let mut api = ApiDoc::openapi();
    api.merge(paths);
    let mut doc = serde_json::to_value(&api).expect("the OpenAPI document serialises");
    non_null_parameters(&mut doc);
    describe_scopes(&mut doc);
    limit_responses(&mut doc);
    let (page, entry) = crate::registry::openapi_schemas();
    let schemas = &mut doc["components"]["schemas"];
    schemas["RegistryPage"] = page;
    schemas["RegistryEntry"] = entry;
    doc
}

/// Drops `null` from the types of parameters: an optional `Option<T>` parameter is absent,
/// never null (a path, query or header value is text).
fn non_null_parameters(doc: &mut Value) {
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    let operations = paths
        .values_mut()
        .filter_map(Value::as_object_mut)
        .flat_map(|item| item.values_mut());
    for op in operations {
        let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) else {
            continue;
        };
        for ty in params
            .iter_mut()
            .filter_map(|p| p.pointer_mut("/schema/type"))
        {
            if let Some(types) = ty.as_array_mut() {
                types.retain(|t| t != "null");
                if types.len() == 1 {
                    *ty = types[0].take();
                }
            }
        }
    }
}

/// Ends the description of each operation that needs a bearer token with the scope its
/// security requirement names, for readers who do not look at requirements.
fn describe_scopes(doc: &mut Value) {
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    let operations = paths
        .values_mut()
        .filter_map(Value::as_object_mut)
        .flat_map(|item| item.values_mut());
    for op in operations {
        let Some(scope) = op
            .pointer("/security/0/bearer/0")
            .and_then(Value::as_str)
            .map(str::to_owned)
        else {
            continue;
        };
        let needs = if scope == "admin" {
            "Needs a token with the `admin` scope.".to_owned()
        } else {
            format!("Needs a token with the `{scope}` scope (or `admin`).")
        };
        let text = match op.get("description").and_then(Value::as_str) {
            Some(d) if !d.is_empty() => format!("{d}\n\n{needs}"),
            _ => needs,
        };
        op["description"] = Value::String(text);
    }
}

/// The operations limited per client besides the admin API (whose failed-authentication
/// limit covers every `/api/v1` operation): (method, path).
const RATE_LIMITED: [(&str, &str); 2] = [("post", "/verify"), ("post", "/me/login")];

/// The answers of the abuse limits ([`crate::limits`]), each one shared component referred
/// to by every operation it can answer: `408` and `503` (the request timeout) everywhere,
/// `413` wherever there is a request body, `429` on the admin API (failed authentications)
/// and on [`RATE_LIMITED`]. An operation that documents its own answer with one of these
/// statuses (`/readyz`'s 503) keeps its description beside the reference, which OpenAPI 3.1
/// lets override the component's.
fn limit_responses(doc: &mut Value) {
    let problem = serde_json::json!({
        "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
    });
    let retry_after =
        serde_json::json!({"Retry-After": {"$ref": "#/components/headers/RetryAfter"}});
    let components = &mut doc["components"];
    components["headers"]["RetryAfter"] = serde_json::json!({
        "description": "Whole seconds to wait before a retry can succeed.",
        "required": true,
        "schema": {"type": "integer", "minimum": 1},
    });
    let responses = [
        (
            "408",
            "RequestTimeout",
            serde_json::json!({
                "description": "The request body did not arrive within `REQUEST_TIMEOUT_SECS` \
                    (a slow or stalled client); nothing was done.",
                "content": problem,
            }),
        ),
        (
            "413",
            "PayloadTooLarge",
            serde_json::json!({
                "description": "The body is larger than this operation accepts: \
                    `MAX_VERIFY_BODY_BYTES` (4 MiB by default) on `POST /verify`, \
                    `MAX_BODY_BYTES` (256 KiB by default) elsewhere. Refused before it is read \
                    when `Content-Length` says so, else as soon as the limit is passed.",
                "content": problem,
            }),
        ),
        (
            "429",
            "TooManyRequests",
            serde_json::json!({
                "description": "Too many requests from this client (its address, or with \
                    `TRUST_FORWARDED_FOR` the one the proxy saw): over the `POST /verify` rate \
                    (`VERIFY_RATE_PER_MINUTE`, bursts of `VERIFY_RATE_BURST`), over the \
                    `POST /me/login` rate (`LOGIN_RATE_PER_HOUR`), or, on the \
                    admin API, past `AUTH_FAILURE_LIMIT` failed authentications within \
                    `AUTH_FAILURE_WINDOW_SECS`, when every admin request is refused before \
                    its token is looked at. `detail` names the limit.",
                "headers": retry_after,
                "content": problem,
            }),
        ),
        (
            "503",
            "ServiceUnavailable",
            serde_json::json!({
                "description": "The service took longer than `REQUEST_TIMEOUT_SECS` to answer \
                    (the body had arrived); the work was dropped, and the same request may \
                    succeed later.",
                "headers": retry_after,
                "content": problem,
            }),
        ),
    ];
    for (_, name, response) in &responses {
        components["responses"][*name] = response.clone();
    }
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (method, op) in item.iter_mut() {
            let rate_limited = path.starts_with("/api/v1/")
                || RATE_LIMITED.contains(&(method.as_str(), path.as_str()));
            let has_body = op.get("requestBody").is_some();
            let Some(answers) = op.get_mut("responses").and_then(Value::as_object_mut) else {
                continue;
            };
            for (status, name, _) in &responses {
                let applies = match *status {
                    "413" => has_body,
                    "429" => rate_limited,
                    _ => true,
                };
                if !applies {
                    continue;
                }
                let mut reference =
                    serde_json::json!({"$ref": format!("#/components/responses/{name}")});
                if let Some(own) = answers.get(*status).and_then(|r| r.get("description")) {
                    reference["description"] = own.clone();
                }
                answers.insert((*status).to_owned(), reference);
            }
            // In status order, as the attributes list them.
            answers.sort_keys();
        }
    }
}

/// The document as served: built once per router, shared by every request.
#[derive(Clone)]
struct Document(Bytes);

/// The `GET /openapi.json` route, serving the document of `paths` (everything the rest of
/// the router documents) with this route's own operation added.
pub fn router(paths: utoipa::openapi::OpenApi) -> Router<AppState> {
    let mut own = OpenApiRouter::default().routes(routes!(openapi_json));
    let mut api = paths;
    api.merge(own.to_openapi());
    let body = Document(document(api).to_string().into());
    // Only this route needs the document; the layer is on this one-route router alone.
    let (route, _) = own.split_for_parts();
    route.layer(Extension(body))
}

/// The OpenAPI 3.1 document of this API.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "operations",
    responses((status = 200, description = "This document.", content_type = "application/json",
        body = Object)),
)]
async fn openapi_json(Extension(Document(body)): Extension<Document>) -> Response {
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    // Changes only with a release.
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    res
}

// ---------------------------------------------------------------- reusable answers

/// A problem+json answer.
fn problem(description: &str) -> RefOr<utoipa::openapi::response::Response> {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/problem+json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        )
        .build()
        .into()
}

/// A problem+json answer, or an HTML error page for a browser.
fn problem_or_page(description: &str) -> RefOr<utoipa::openapi::response::Response> {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/problem+json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        )
        .content(
            "text/html",
            ContentBuilder::new()
                .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                .build(),
        )
        .build()
        .into()
}

type Responses = std::collections::BTreeMap<String, RefOr<utoipa::openapi::response::Response>>;

/// 401 and 403: every operation that needs a bearer token.
pub struct AuthErrors;

impl IntoResponses for AuthErrors {
    fn responses() -> Responses {
        [
            (
                "401".to_owned(),
                problem(
                    "No bearer token, or one that is malformed, unknown, expired or revoked \
                     (with `WWW-Authenticate: Bearer`).",
                ),
            ),
            (
                "403".to_owned(),
                problem(
                    "The token is valid but lacks the scope this operation needs; `detail` \
                     names it and the token's scopes.",
                ),
            ),
        ]
        .into()
    }
}

/// 400/415/422: what a JSON body can be rejected with (413 is added to every operation with
/// a body by [`document`]).
pub struct JsonBodyErrors;

impl IntoResponses for JsonBodyErrors {
    fn responses() -> Responses {
        [
            (
                "400".to_owned(),
                problem("The body is not well-formed JSON, or a header is malformed."),
            ),
            (
                "415".to_owned(),
                problem("The body is not sent as `application/json` (or another `+json` type)."),
            ),
            (
                "422".to_owned(),
                problem("A field or program rule is broken; `field` names the field at fault."),
            ),
        ]
        .into()
    }
}

/// 404 as problem+json.
pub struct NotFound;

impl IntoResponses for NotFound {
    fn responses() -> Responses {
        [(
            "404".to_owned(),
            problem("No such resource (a malformed id names nothing either)."),
        )]
        .into()
    }
}

/// 404 as problem+json, or as a page for a browser.
pub struct NotFoundPage;

impl IntoResponses for NotFoundPage {
    fn responses() -> Responses {
        [(
            "404".to_owned(),
            problem_or_page("No such resource; a browser gets the error page."),
        )]
        .into()
    }
}

/// 409: the request conflicts with what is stored.
pub struct Conflict;

impl IntoResponses for Conflict {
    fn responses() -> Responses {
        [(
            "409".to_owned(),
            problem(
                "Conflicts with a stored record (a duplicate email or token name, a second \
                 active badge, a reused Idempotency-Key, a different revocation reason).",
            ),
        )]
        .into()
    }
}

/// 400: a malformed query.
pub struct BadQuery;

impl IntoResponses for BadQuery {
    fn responses() -> Responses {
        [(
            "400".to_owned(),
            problem("A query parameter is unknown, repeated or malformed."),
        )]
        .into()
    }
}

/// 400: a malformed query, answered as a page.
pub struct BadQueryPage;

impl IntoResponses for BadQueryPage {
    fn responses() -> Responses {
        [(
            "400".to_owned(),
            ResponseBuilder::new()
                .description("A query parameter is unknown, repeated or malformed (an HTML page).")
                .content(
                    "text/html",
                    ContentBuilder::new()
                        .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                        .build(),
                )
                .build()
                .into(),
        )]
        .into()
    }
}

/// 304 for a conditional request whose validators still match.
pub struct NotModified;

impl IntoResponses for NotModified {
    fn responses() -> Responses {
        [(
            "304".to_owned(),
            ResponseBuilder::new()
                .description(
                    "Unchanged since the `If-None-Match` ETag or `If-Modified-Since` date.",
                )
                .build()
                .into(),
        )]
        .into()
    }
}
