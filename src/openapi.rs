//! The API contract: an OpenAPI 3.1 document of every route the service answers, generated
//! from the handlers' `#[utoipa::path]` attributes and the `ToSchema` derives on the request
//! and response types, and served at `GET /openapi.json`.
//!
//! A few answers are JSON built with `json!` rather than from a struct (the admin views of
//! mentors, people and closings, the public documents); their shapes are declared here as
//! schema-only types. `tests/openapi.rs` holds the document to the router (same set of
//! method and path), and `tests/schemathesis.rs` holds the running service to the document.

use std::sync::LazyLock;

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;
use utoipa::openapi::path::Operation;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, ObjectBuilder, Ref, RefOr, Type};
use utoipa::{IntoResponses, Modify, OpenApi, ToSchema};
use uuid::Uuid;

use crate::credential::model::{DataIntegrityProof, Profile};
use crate::db::Stages;
use crate::routes::{admin, audit, health, ob2, pages, public, registry, tokens, verify};
use crate::state::AppState;

/// The generated document (see the module docs). Extra operations and schemas that the
/// attributes cannot express are added by [`document`].
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
    paths(
        admin::create_mentor,
        admin::get_mentor,
        admin::create_person,
        admin::get_person,
        admin::patch_person,
        admin::create_closing,
        admin::get_closing,
        admin::create_credential,
        admin::list_credentials,
        admin::batch_issue,
        admin::get_credential,
        admin::revoke_credential,
        tokens::list_tokens,
        tokens::create_token,
        tokens::revoke_token,
        audit::list_audit,
        public::issuer_profile,
        public::issuer_key,
        public::achievement,
        public::credential,
        public::closing,
        public::status,
        pages::credential_download,
        pages::baked_png,
        pages::baked_svg,
        pages::artwork_png,
        pages::artwork_svg,
        pages::asset,
        registry::registry_json,
        registry::options,
        registry::schema,
        registry::json_feed,
        registry::atom,
        registry::html_page,
        registry::embed_page,
        registry::embed_css,
        registry::embed_js,
        verify::verify_handler,
        verify::verify_form,
        ob2::issuer,
        ob2::revocations,
        ob2::badge_class,
        ob2::badge_image,
        ob2::assertion,
        ob2::baked_assertion,
        health::healthz,
        health::readyz,
        health::metrics,
        openapi_json,
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

/// The registry documents that answer CORS preflights, besides `/registry.json` (whose
/// `OPTIONS` operation is the one on [`registry::options`], copied to these).
const PREFLIGHT_PATHS: [(&str, &str); 3] = [
    ("/registry.schema.json", "options_registry_schema"),
    ("/registry/feed.json", "options_registry_feed"),
    ("/registry/atom.xml", "options_registry_atom"),
];

/// The whole document, as JSON: [`ApiDoc`] plus what its attributes cannot say (one handler
/// serving `OPTIONS` on four paths; the registry page schema, which is the JSON Schema the
/// service publishes at `/registry.schema.json`).
pub fn document() -> Value {
    let mut api = ApiDoc::openapi();
    let preflight: Option<Operation> = api
        .paths
        .paths
        .get("/registry.json")
        .and_then(|item| item.options.clone());
    if let Some(op) = preflight {
        for (path, id) in PREFLIGHT_PATHS {
            if let Some(item) = api.paths.paths.get_mut(path) {
                let mut op = op.clone();
                op.operation_id = Some(id.to_owned());
                item.options = Some(op);
            }
        }
    }
    let mut doc = serde_json::to_value(&api).expect("the OpenAPI document serialises");
    non_null_parameters(&mut doc);
    describe_scopes(&mut doc);
    limit_responses(&mut doc);
    let (page, entry) = registry_schemas();
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
const RATE_LIMITED: [(&str, &str); 1] = [("post", "/verify")];

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
                    (`VERIFY_RATE_PER_MINUTE`, bursts of `VERIFY_RATE_BURST`), or, on the \
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

/// `/registry.schema.json` split into the page and its entry, as OpenAPI components.
fn registry_schemas() -> (Value, Value) {
    let mut page: Value =
        serde_json::from_str(crate::registry::SCHEMA).expect("the registry schema is JSON");
    let obj = page
        .as_object_mut()
        .expect("the registry schema is an object");
    obj.remove("$schema");
    obj.remove("$id");
    let entry = obj
        .remove("$defs")
        .and_then(|mut defs| defs.get_mut("entry").map(Value::take))
        .expect("the registry schema defines its entry");
    page["properties"]["items"]["items"] = serde_json::json!({
        "$ref": "#/components/schemas/RegistryEntry"
    });
    (page, entry)
}

/// The document, serialised once per process.
static DOCUMENT: LazyLock<String> = LazyLock::new(|| document().to_string());

/// The `GET /openapi.json` route.
pub fn router() -> Router<AppState> {
    Router::new().route("/openapi.json", get(openapi_json))
}

/// The OpenAPI 3.1 document of this API.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "operations",
    responses((status = 200, description = "This document.", content_type = "application/json",
        body = Object)),
)]
async fn openapi_json() -> Response {
    let mut res = DOCUMENT.as_str().into_response();
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

// ---------------------------------------------------------------- admin views

/// A mentor, as the admin API shows it.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct MentorView {
    id: Uuid,
    name: String,
    /// Never published.
    email: String,
    #[schema(required)]
    url: Option<String>,
    created_at: DateTime<Utc>,
}

/// A person, as the admin API shows it.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct PersonView {
    id: Uuid,
    name: String,
    /// Normalised (trimmed, lower-case); credentials carry only its salted hash.
    email: String,
    #[schema(required)]
    city: Option<String>,
    #[schema(required)]
    country: Option<String>,
    #[schema(required)]
    url: Option<String>,
    listed_in_registry: bool,
    created_at: DateTime<Utc>,
}

/// A closing record, as the admin API shows it.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ClosingView {
    id: Uuid,
    /// The public closing record, `{base}/closings/{id}`.
    url: String,
    closer_id: Uuid,
    mentor_id: Uuid,
    mentor_cc_at: DateTime<Utc>,
    #[schema(required)]
    mentor_cc_ref: Option<String>,
    partner_name: String,
    #[schema(required)]
    partner_url: Option<String>,
    #[schema(required)]
    partner_city: Option<String>,
    #[schema(required)]
    partner_country: Option<String>,
    stages: Stages,
    closed_on: NaiveDate,
    summary: String,
    created_at: DateTime<Utc>,
}

/// A credential's status at the time of the answer.
#[derive(ToSchema)]
#[allow(dead_code)]
#[schema(rename_all = "lowercase")]
pub enum CredentialStatus {
    /// Neither revoked nor expired.
    Valid,
    /// Revoked by an admin.
    Revoked,
    /// Past its `valid_until`.
    Expired,
}

/// A page of `GET /api/v1/credentials`, newest first.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct CredentialList {
    items: Vec<admin::CredentialView<'static>>,
    /// Pass as `cursor` for the next page; null on the last page.
    #[schema(required)]
    next_cursor: Option<String>,
}

/// One row of a batch: an issue request plus its own optional idempotency key.
#[derive(ToSchema)]
#[allow(dead_code)]
#[serde(deny_unknown_fields)]
#[schema(as = BatchItem)]
pub struct BatchItemSchema {
    /// `partnership-closed` or `partnership-certified`.
    achievement: String,
    person_id: Uuid,
    /// Required for Partnership Closed; for Partnership Certified, the one closing to cite.
    closing_id: Option<Uuid>,
    valid_until: Option<DateTime<Utc>>,
    /// Same meaning as the `Idempotency-Key` header of a single issue.
    #[schema(min_length = 1, max_length = 255, pattern = "^[\\x21-\\x7E]+$")]
    idempotency_key: Option<String>,
}

/// What happened to one row of a batch.
#[derive(ToSchema)]
#[allow(dead_code)]
#[schema(rename_all = "lowercase")]
pub enum BatchOutcome {
    /// Issued now (status 201).
    Created,
    /// An idempotent retry: the earlier credential (status 200).
    Existing,
    /// Not issued; `detail` says why.
    Error,
}

/// One result of a batch, at the index of its row.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct BatchResult {
    index: usize,
    /// The HTTP status the row would have had on its own.
    status: u16,
    result: BatchOutcome,
    /// For `created` and `existing`: the credential (without the signed document).
    credential: Option<admin::CredentialView<'static>>,
    /// For `error`: what is wrong.
    detail: Option<String>,
}

/// The answer to a batch: one result per row, in order.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct BatchResponse {
    created: usize,
    failed: usize,
    results: Vec<BatchResult>,
}

/// A scope a token can hold.
#[derive(ToSchema)]
#[allow(dead_code)]
#[schema(rename_all = "lowercase")]
pub enum TokenScope {
    /// Record mentors, people and closings; issue credentials.
    Issue,
    /// Revoke credentials.
    Revoke,
    /// Read the admin API (the `GET` operations).
    Read,
    /// Everything, plus tokens and the audit log.
    Admin,
}

/// Whether a token works now.
#[derive(ToSchema)]
#[allow(dead_code)]
#[schema(rename_all = "lowercase")]
pub enum TokenStatus {
    /// Usable.
    Active,
    /// Revoked (over HTTP or with `token revoke`).
    Revoked,
    /// Past its `expires_at`.
    Expired,
}

/// An API token as the admin API shows it: never its secret, nor the secret's hash.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct TokenView {
    id: Uuid,
    name: String,
    scopes: Vec<TokenScope>,
    /// The start of the token string, `pb_<id>_`, to match a token someone holds to its
    /// entry; null for a token made before tokens had a public id.
    #[schema(required)]
    prefix: Option<String>,
    status: TokenStatus,
    created_at: DateTime<Utc>,
    #[schema(required)]
    expires_at: Option<DateTime<Utc>>,
    #[schema(required)]
    revoked_at: Option<DateTime<Utc>>,
}

/// A token just created, with the token string: shown only this once.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct CreatedToken {
    #[serde(flatten)]
    view: TokenView,
    /// `pb_<id>_<secret>`, to send as `Authorization: Bearer …`.
    token: String,
}

/// `GET /api/v1/tokens`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct TokenList {
    items: Vec<TokenView>,
}

/// The token an audit entry names.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct AuditToken {
    id: Uuid,
    /// Its name when the request was made.
    #[schema(required)]
    name: Option<String>,
}

/// One request to the admin API, as the audit log keeps it (never a secret or a body).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct AuditEntryView {
    /// Increases with every entry; the list is newest first.
    id: i64,
    at: DateTime<Utc>,
    /// The token whose secret matched (also when it was expired or revoked, and the
    /// request refused); null when none did.
    #[schema(required)]
    token: Option<AuditToken>,
    /// The method and route template, like `POST /api/v1/credentials/{id}/revoke`.
    action: String,
    /// The id in the path, for routes that have one.
    #[schema(required)]
    target: Option<String>,
    /// The HTTP status of the answer.
    #[schema(minimum = 100, maximum = 599)]
    status: u16,
    /// The id this service gave the request (the `x-request-id` of its answer; a client's
    /// own `x-request-id` is never used).
    #[schema(required)]
    request_id: Option<String>,
}

/// A page of `GET /api/v1/audit`, newest first.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct AuditPage {
    items: Vec<AuditEntryView>,
    /// Pass as `cursor` for the next page; null on the last page.
    #[schema(required)]
    next_cursor: Option<String>,
}

// ---------------------------------------------------------------- public documents

/// The issuer `Profile` (JSON-LD), listing every key that ever signed for it.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct IssuerProfileDocument {
    #[serde(rename = "@context")]
    context: Vec<String>,
    id: String,
    /// `Profile`.
    #[serde(rename = "type")]
    kind: String,
    name: String,
    url: Option<String>,
    email: Option<String>,
    /// Key URLs, `{base}/issuer/keys/{kid}`.
    #[serde(rename = "assertionMethod")]
    assertion_method: Vec<String>,
}

/// A public key as a `Multikey` document.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct MultikeyDocument {
    #[serde(rename = "@context")]
    context: Vec<String>,
    id: String,
    /// `Multikey`.
    #[serde(rename = "type")]
    kind: String,
    /// The issuer, `{base}/issuer`.
    controller: String,
    /// `z6Mk…`: the Ed25519 public key, multibase.
    #[serde(rename = "publicKeyMultibase")]
    public_key_multibase: String,
}

/// The narrative criteria of an achievement.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct NarrativeCriteria {
    narrative: String,
}

/// An `Achievement` (JSON-LD), with its creator.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct AchievementDocument {
    #[serde(rename = "@context")]
    context: Vec<String>,
    id: String,
    #[serde(rename = "type")]
    types: Vec<String>,
    /// `Badge` or `Certification`.
    #[serde(rename = "achievementType")]
    achievement_type: String,
    name: String,
    description: String,
    criteria: NarrativeCriteria,
    creator: Profile,
}

/// The partner of a public closing record.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct PublicPartner {
    name: String,
    #[schema(required)]
    url: Option<String>,
    #[schema(required)]
    city: Option<String>,
    #[schema(required)]
    country: Option<String>,
}

/// The mentor of a public closing record.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct PublicMentor {
    #[schema(required)]
    name: Option<String>,
    /// When the mentor was CC'd.
    cc_at: String,
}

/// The public fields of a closing record (the evidence a badge links to): no emails, no
/// people's ids.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct PublicClosing {
    id: String,
    partner: PublicPartner,
    stages: Stages,
    closed_on: NaiveDate,
    summary: String,
    mentor: PublicMentor,
}

/// The subject of a status list credential.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct BitstringStatusList {
    id: String,
    /// `BitstringStatusList`.
    #[serde(rename = "type")]
    kind: String,
    /// `revocation`.
    #[serde(rename = "statusPurpose")]
    status_purpose: String,
    /// Multibase (`u`) base64url of the GZIP-compressed bitstring.
    #[serde(rename = "encodedList")]
    encoded_list: String,
}

/// A signed `BitstringStatusListCredential`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct StatusListCredential {
    #[serde(rename = "@context")]
    context: Vec<String>,
    id: String,
    #[serde(rename = "type")]
    types: Vec<String>,
    /// The issuer's id.
    issuer: String,
    #[serde(rename = "validFrom")]
    valid_from: String,
    #[serde(rename = "credentialSubject")]
    credential_subject: BitstringStatusList,
    proof: DataIntegrityProof,
}

/// A JSON body to `POST /verify`: a credential (Open Badges 3.0, signed, or 2.0; any shape,
/// the report says what is wrong), or `{"url": …}` naming a credential this service published.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct VerifyJson {
    /// The URL of a credential of this service (instead of the credential itself).
    url: Option<String>,
}

/// A form upload to `POST /verify`: the first non-empty field counts.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct VerifyForm {
    /// A baked PNG or SVG, or credential JSON.
    #[schema(value_type = Option<String>, content_media_type = "application/octet-stream")]
    file: Option<Vec<u8>>,
    /// A pasted credential.
    credential: Option<String>,
    /// The URL of a credential of this service.
    url: Option<String>,
}

/// The hosted OB 2.0 issuer `Profile`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct Ob2Issuer {
    #[serde(rename = "@context")]
    context: String,
    /// `Issuer`.
    #[serde(rename = "type")]
    kind: String,
    id: String,
    name: String,
    url: String,
    email: String,
    #[serde(rename = "revocationList")]
    revocation_list: String,
}

/// An OB 2.0 `BadgeClass`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct Ob2BadgeClass {
    #[serde(rename = "@context")]
    context: String,
    /// `BadgeClass`.
    #[serde(rename = "type")]
    kind: String,
    id: String,
    name: String,
    description: String,
    image: String,
    criteria: NarrativeCriteria,
    issuer: String,
}

/// A hosted OB 2.0 `Assertion`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct Ob2Assertion {
    #[serde(rename = "@context")]
    context: String,
    /// `Assertion`.
    #[serde(rename = "type")]
    kind: String,
    id: String,
    /// The hashed email identity.
    #[schema(value_type = Object)]
    recipient: Value,
    badge: String,
    #[serde(rename = "issuedOn")]
    issued_on: String,
    expires: Option<String>,
    image: String,
    #[schema(value_type = Option<Vec<Object>>)]
    evidence: Option<Value>,
    #[schema(value_type = Object)]
    verification: Value,
}

/// The body of a revoked OB 2.0 assertion (HTTP 410).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct Ob2RevokedAssertion {
    #[serde(rename = "@context")]
    context: String,
    id: String,
    /// `Assertion`.
    #[serde(rename = "type")]
    kind: String,
    revoked: bool,
    #[serde(rename = "revocationReason")]
    revocation_reason: String,
}

/// One entry of the OB 2.0 revocation list.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct Ob2Revoked {
    id: String,
    #[serde(rename = "revocationReason")]
    revocation_reason: String,
}

/// The issuer's OB 2.0 `RevocationList`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct Ob2RevocationList {
    #[serde(rename = "@context")]
    context: String,
    /// `RevocationList`.
    #[serde(rename = "type")]
    kind: String,
    id: String,
    issuer: String,
    #[serde(rename = "revokedAssertions")]
    revoked_assertions: Vec<Ob2Revoked>,
}

/// `GET /healthz`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct Health {
    /// `ok`.
    status: String,
}

/// `GET /readyz` when ready.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct Readiness {
    /// `ready`.
    status: String,
    /// `sqlite` or `postgres`.
    database: String,
    /// The active signing key id.
    key: String,
}

/// A JSON Feed 1.1 of the newest certifications.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct JsonFeed {
    version: String,
    title: String,
    description: String,
    home_page_url: String,
    feed_url: String,
    language: String,
    #[schema(value_type = Vec<Object>)]
    items: Vec<Value>,
}
