//! The API contract and the router agree: `GET /openapi.json` is an OpenAPI 3.1 document, and
//! the set of (method, path template) it documents is exactly the set the router serves.
//!
//! An axum router cannot list its routes, so "served" is established from both sides:
//! - every `.route("…", get(…).post(…))` call in `src/` is read from the source, so a route
//!   added anywhere without its `#[utoipa::path]` fails here; so is every handler of a
//!   `routes!(…)` (`utoipa_axum`), at the method and path of its attribute;
//! - every documented operation is sent to the app, which must match it to that same route
//!   template (`MatchedPath`) and method (no 405), so the document names nothing unserved.
//!
//! Each admin operation's documented scope is the one its handler enforces, and every route
//! with a path parameter answers a segment that is not UTF-8 with a 404 problem.
//!
//! The answers of the abuse limits are documented wherever they can happen, each by one
//! shared component: 408 and 503 (the request timeout) on every operation, 413 on every
//! operation with a request body, 429 on every admin operation (failed-authentication
//! lockout) and on `POST /verify` (its rate); and the documented 413s and 429s are answered.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{MatchedPath, Request};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use common::{make_token, TestApp};
use partnership_badges::tokens::Scope;
use serde_json::Value;
use tower::ServiceExt as _;

/// HTTP methods an OpenAPI path item and an axum method router can both name.
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

type Operations = BTreeSet<(String, String)>;

/// (METHOD, path) of every operation in the document.
fn documented(doc: &Value) -> Operations {
    let mut ops = Operations::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("a path item").keys() {
            assert!(
                METHODS.contains(&method.as_str()),
                "{path}: unexpected key {method:?} in the path item"
            );
            ops.insert((method.to_uppercase(), path.clone()));
        }
    }
    ops
}

/// Every `*.rs` file under `dir`, recursively.
fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The text after `open` (just past a `(`) up to its matching `)`, skipping string literals.
fn balanced(text: &str) -> &str {
    let (mut depth, mut in_str, mut escaped) = (0usize, false, false);
    for (i, c) in text.char_indices() {
        if in_str {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_str = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_str = true,
            '(' => depth += 1,
            ')' if depth == 0 => return &text[..i],
            ')' => depth -= 1,
            _ => {}
        }
    }
    panic!("unbalanced parentheses in {text:.80}");
}

/// The methods a method-router expression such as `post(a).get(b)` serves: the names of the
/// calls at its top level. Anything but a plain method function is refused, so a new kind of
/// route (`any`, `on`, services) makes this test say what to teach it.
fn methods_of(expr: &str, path: &str) -> Vec<String> {
    let mut methods = Vec::new();
    let (mut depth, mut name) = (0usize, String::new());
    for c in expr.chars() {
        match c {
            '(' => {
                if depth == 0 {
                    // `axum::routing::get(` counts as `get(`.
                    let call = name.rsplit("::").next().unwrap_or("").to_owned();
                    assert!(
                        METHODS.contains(&call.as_str()),
                        "route {path}: `{call}(…)` is not a method router this test knows; \
                         teach tests/openapi.rs"
                    );
                    methods.push(call.to_uppercase());
                }
                depth += 1;
                name.clear();
            }
            ')' => depth -= 1,
            c if depth == 0 && (c.is_alphanumeric() || c == '_' || c == ':') => name.push(c),
            _ if depth == 0 => name.clear(),
            _ => {}
        }
    }
    assert!(!methods.is_empty(), "route {path}: no method in `{expr}`");
    methods
}

/// (METHOD, path) of every `.route(…)` in `source`.
fn routes_in(source: &str, file: &str) -> Operations {
    // Comments may quote code; they serve nothing.
    let code: String = source
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    for unsupported in [
        ".nest(",
        ".nest_service(",
        ".route_service(",
        ".fallback_service(",
    ] {
        assert!(
            !code.contains(unsupported),
            "{file} uses `{unsupported}…)`, whose routes this test cannot read; teach \
             tests/openapi.rs"
        );
    }
    let mut ops = Operations::new();
    let attributes = utoipa_paths(&code, file);
    for (at, _) in code.match_indices("routes!(") {
        for handler in balanced(&code[at + "routes!(".len()..]).split(',') {
            let handler = handler.trim();
            if handler.is_empty() {
                continue;
            }
            let name = handler.rsplit("::").next().unwrap_or(handler);
            let op = attributes.get(name).unwrap_or_else(|| {
                panic!(
                    "{file}: `routes!` names {handler}, whose #[utoipa::path] is not in the file"
                )
            });
            ops.insert(op.clone());
        }
    }
    for (at, _) in code.match_indices(".route(") {
        let args = balanced(&code[at + ".route(".len()..]);
        let args = args.trim_start();
        let rest = args.strip_prefix('"').unwrap_or_else(|| {
            panic!("{file}: a route whose path is not a string literal: {args:.80}")
        });
        let end = rest.find('"').expect("the path literal ends");
        let path = &rest[..end];
        let expr = rest[end + 1..].trim_start().trim_start_matches(',');
        for method in methods_of(expr, path) {
            ops.insert((method, path.to_owned()));
        }
    }
    ops
}

/// The (METHOD, path) of each `#[utoipa::path(method, path = "…")]` in `code`, by the name
/// of the function it documents.
fn utoipa_paths(code: &str, file: &str) -> std::collections::BTreeMap<String, (String, String)> {
    let mut found = std::collections::BTreeMap::new();
    for (at, _) in code.match_indices("#[utoipa::path(") {
        let start = at + "#[utoipa::path(".len();
        let args = balanced(&code[start..]);
        let method = args.split(',').next().unwrap_or("").trim().to_uppercase();
        let path = args
            .split_once("path = \"")
            .and_then(|(_, rest)| rest.split_once('"'))
            .map(|(path, _)| path.to_owned())
            .unwrap_or_else(|| panic!("{file}: a #[utoipa::path] without a path: {args:.80}"));
        let after = &code[start + args.len()..];
        let name: String = after[after.find("fn ").expect("the attribute documents a fn") + 3..]
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        found.insert(name, (method, path));
    }
    found
}

/// (METHOD, path) of every route registered anywhere in `src/`.
fn served() -> Operations {
    let mut files = Vec::new();
    rust_files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    let mut ops = Operations::new();
    // The staff console (and the home page, with it) are pages for people, not API: they
    // are not in the document (tests/console.rs checks their answers to bad paths).
    files.retain(|f| !f.components().any(|c| c.as_os_str() == "console"));
    for file in files {
        let source = std::fs::read_to_string(&file).unwrap();
        ops.extend(routes_in(&source, &file.display().to_string()));
    }
    ops
}

#[test]
fn route_reader_reads_chained_multiline_routes() {
    let source = r#"
        // .route("/commented", get(nothing))
        Router::new()
            .route("/a/{id}", get(a).patch(b))
            .route(
                "/c",
                post(create).get(list),
            )
            .route("/d", axum::routing::get(|| async { "(not a route)" }).options(opts))
    "#;
    let ops = routes_in(source, "sample");
    let documented = r#"
        #[utoipa::path(get, path = "/e/{id}", responses((status = 200, description = "(e)")))]
        async fn e() {}
        #[utoipa::path(post, path = "/e/{id}")]
        pub async fn f(x: X) {}
        OpenApiRouter::default().routes(routes!(e, self::f))
    "#;
    let expected: Operations = [("GET", "/e/{id}"), ("POST", "/e/{id}")]
        .into_iter()
        .map(|(m, p)| (m.to_owned(), p.to_owned()))
        .collect();
    assert_eq!(routes_in(documented, "sample"), expected);
    let expected: Operations = [
        ("GET", "/a/{id}"),
        ("PATCH", "/a/{id}"),
        ("POST", "/c"),
        ("GET", "/c"),
        ("GET", "/d"),
        ("OPTIONS", "/d"),
    ]
    .into_iter()
    .map(|(m, p)| (m.to_owned(), p.to_owned()))
    .collect();
    assert_eq!(ops, expected);
    let nested = std::panic::catch_unwind(|| routes_in(r#".route("/x", any(h))"#, "sample"));
    assert!(nested.is_err(), "an unknown method router must fail");
}

/// Every `$ref` in `v`.
fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::Object(o) => {
            if let Some(Value::String(r)) = o.get("$ref") {
                out.push(r);
            }
            o.values().for_each(|v| refs(v, out));
        }
        Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

async fn document_is_openapi_3_1(app: &TestApp) {
    let r = app.call(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.headers[header::CONTENT_TYPE], "application/json");
    let cache = r.headers[header::CACHE_CONTROL].to_str().unwrap();
    assert!(cache.starts_with("public, max-age="), "{cache}");
    let doc = &r.body;
    let version = doc["openapi"].as_str().unwrap_or("");
    assert!(version.starts_with("3.1."), "openapi: {version:?}");
    assert_eq!(doc["info"]["title"], "Partnership Badges");

    // Every reference resolves.
    let mut all = Vec::new();
    refs(doc, &mut all);
    assert!(!all.is_empty());
    for r in all {
        assert!(
            r.starts_with("#/components/"),
            "a $ref outside the components: {r}"
        );
        assert!(doc.pointer(&r[1..]).is_some(), "dangling $ref {r}");
    }
    limit_answers_are_documented(doc);

    // The admin API needs the bearer token with one scope, and says so: in the security
    // requirement, in the description, and with 401 and 403 problems. Nothing else does.
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    let mut admin_operations = 0;
    for (method, path) in documented(doc) {
        let op = &doc["paths"][&path][method.to_lowercase()];
        if !path.starts_with("/api/v1/") {
            assert!(op.get("security").is_none(), "{method} {path} is public");
            continue;
        }
        admin_operations += 1;
        let scope = documented_scope(op).unwrap_or_else(|| {
            panic!(
                "{method} {path}: security is not one bearer scope: {}",
                op["security"]
            )
        });
        let description = op["description"].as_str().unwrap_or("");
        assert!(
            description.contains(&format!("Needs a token with the `{}` scope", scope.name())),
            "{method} {path}: the description does not name the scope: {description:?}"
        );
        for status in ["401", "403"] {
            assert_eq!(
                op["responses"][status]["content"]["application/problem+json"]["schema"]["$ref"],
                "#/components/schemas/Problem",
                "{method} {path} does not document {status}"
            );
        }
    }
    assert!(
        admin_operations >= 16,
        "{admin_operations} admin operations"
    );

    // The scopes a token can be created with are the service's scopes.
    let names: Vec<&str> = Scope::ALL.iter().map(|s| s.name()).collect();
    assert_eq!(
        doc["components"]["schemas"]["TokenScope"]["enum"],
        serde_json::json!(names)
    );

    // Issuance takes an Idempotency-Key header.
    let issue = &doc["paths"]["/api/v1/credentials"]["post"];
    let params = issue["parameters"].as_array().unwrap();
    assert!(
        params
            .iter()
            .any(|p| p["name"] == "Idempotency-Key" && p["in"] == "header"),
        "{params:?}"
    );
}

both_backends!(document_is_openapi_3_1_on, crate::document_is_openapi_3_1);

/// The shared answer of each abuse limit: status, component, whether it has `Retry-After`.
const LIMIT_ANSWERS: [(&str, &str, bool); 4] = [
    ("408", "RequestTimeout", false),
    ("413", "PayloadTooLarge", false),
    ("429", "TooManyRequests", true),
    ("503", "ServiceUnavailable", true),
];

/// `v`, or what its `$ref` names in `doc`.
fn resolve<'a>(doc: &'a Value, v: &'a Value) -> &'a Value {
    match v.get("$ref").and_then(Value::as_str) {
        Some(r) => doc
            .pointer(r.strip_prefix('#').expect("a local $ref"))
            .unwrap_or_else(|| panic!("dangling $ref {r}")),
        None => v,
    }
}

/// Whether a per-client rate limit applies: the failed-authentication lockout on the admin
/// API, the rate of `POST /verify`.
fn rate_limited(method: &str, path: &str) -> bool {
    path.starts_with("/api/v1/")
        || (method == "POST" && path == "/verify")
        || (method == "POST" && path == "/me/login")
}

/// Every operation documents the answers of the limits that apply to it (and no 429 where
/// no rate limit applies), as a reference to the one shared component of that status:
/// problem+json, with a required integer `Retry-After` on 429 and 503.
fn limit_answers_are_documented(doc: &Value) {
    let (mut with_body, mut limited, mut all) = (0, 0, 0);
    for (method, path) in documented(doc) {
        let op = &doc["paths"][&path][method.to_lowercase()];
        let takes_body = op.get("requestBody").is_some();
        let limited_here = rate_limited(&method, &path);
        with_body += usize::from(takes_body);
        limited += usize::from(limited_here);
        all += 1;
        for (status, component, retry_after) in LIMIT_ANSWERS {
            let applies = match status {
                "413" => takes_body,
                "429" => limited_here,
                _ => true,
            };
            let answer = &op["responses"][status];
            if !applies {
                if status == "429" {
                    assert!(
                        answer.is_null(),
                        "{method} {path} has no rate limit but documents 429"
                    );
                }
                continue;
            }
            assert_eq!(
                answer["$ref"],
                format!("#/components/responses/{component}"),
                "{method} {path} does not document {status} as the shared {component}"
            );
            let answer = resolve(doc, answer);
            assert_eq!(
                answer["content"]["application/problem+json"]["schema"]["$ref"],
                "#/components/schemas/Problem",
                "{component}"
            );
            let header = resolve(doc, &answer["headers"]["Retry-After"]);
            if retry_after {
                assert_eq!(header["required"], true, "{component}: {header}");
                assert_eq!(header["schema"]["type"], "integer", "{component}: {header}");
            } else {
                assert!(header.is_null(), "{component}: {header}");
            }
        }
    }
    assert!(with_body >= 9, "{with_body} operations with a request body");
    assert!(limited >= 17, "{limited} rate-limited operations");
    assert!(all > 40, "{all} operations");
}

/// A client's requests as if over a connection from its own address.
fn client(n: u32) -> std::net::SocketAddr {
    std::net::SocketAddr::from(([198, 51, 100, (n % 250) as u8 + 1], 1000 + n as u16))
}

/// A token no one was given.
const GUESS: &str = "pb_00000000000000aa_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

/// The documented 413s and 429s are answered: every operation with a request body refuses a
/// body over its limit, and every operation documenting 429 is refused once its limit is
/// reached (the admin API after one failed authentication, `POST /verify` after its burst).
async fn documented_limit_answers_happen(app: &TestApp) {
    let doc = app.get("/openapi.json").await.body;
    let settings = &app.state.settings;
    let too_big = settings.max_body_bytes.max(settings.max_verify_body_bytes) + 1;
    let request = |method: &str, uri: &str, token: &str, body: Option<(&str, usize)>| {
        let r = axum::http::Request::builder()
            .method(method)
            .uri(uri)
            .header(header::AUTHORIZATION, format!("Bearer {token}"));
        match body {
            Some((media, len)) => r
                .header(header::CONTENT_TYPE, media)
                .header(header::CONTENT_LENGTH, len)
                .body(Body::from(vec![b' '; len])),
            None => r.body(Body::empty()),
        }
        .unwrap()
    };
    // One failed authentication locks this client out of the admin API.
    let locked = client(0);
    app.send_from(locked, request("GET", "/api/v1/tokens", GUESS, None))
        .await
        .assert_problem(401, "unknown token");
    let (mut bodies, mut limited, mut clients) = (0, 0, 0);
    for (method, path) in documented(&doc) {
        let op = &doc["paths"][&path][method.to_lowercase()];
        let uri = fill(&path);
        if let Some(content) = op["requestBody"]["content"].as_object() {
            // Each media type the operation takes, each from a client of its own.
            for media in content.keys() {
                clients += 1;
                let req = request(&method, &uri, &app.token, Some((media, too_big)));
                let r = app.send_from(client(clients), req).await;
                assert_eq!(r.status, 413, "{method} {path} ({media}): {}", r.text);
                r.assert_problem(413, "larger than");
                bodies += 1;
            }
        }
        if op["responses"].get("429").is_none() {
            continue;
        }
        let r = if path.starts_with("/api/v1/") {
            app.send_from(locked, request(&method, &uri, &app.token, None))
                .await
        } else {
            // A client of its own, whose burst (1) the first request spends.
            clients += 1;
            let first = app
                .send_from(client(clients), request(&method, &uri, &app.token, None))
                .await;
            assert_ne!(first.status, 429, "{method} {path}: {}", first.text);
            app.send_from(client(clients), request(&method, &uri, &app.token, None))
                .await
        };
        assert_eq!(r.status, 429, "{method} {path}: {}", r.text);
        let retry: u64 = r.headers[header::RETRY_AFTER]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(retry >= 1, "{method} {path}: Retry-After {retry}");
        limited += 1;
    }
    assert!(bodies >= 9, "{bodies} bodies refused");
    assert!(limited >= 17, "{limited} operations limited");
}

both_backends!(
    documented_limit_answers_happen_on,
    crate::documented_limit_answers_happen,
    [
        "--auth-failure-limit",
        "1",
        "--verify-rate-burst",
        "1",
        "--login-rate-per-hour",
        "1"
    ]
);

/// The one scope an operation's security requirement names (`[{"bearer": ["read"]}]`).
fn documented_scope(op: &Value) -> Option<Scope> {
    let requirements = op["security"].as_array()?;
    let [requirement] = requirements.as_slice() else {
        return None;
    };
    let requirement = requirement.as_object()?;
    let scopes = requirement.get("bearer")?.as_array()?;
    match (requirement.len(), scopes.as_slice()) {
        (1, [scope]) => Scope::from_name(scope.as_str()?),
        _ => None,
    }
}

/// Each admin operation enforces the scope it documents: a token holding only that scope
/// gets past authorisation (whatever the empty request then earns), and a token holding
/// every other scope but `admin` is refused with a 403 naming it.
async fn documented_scopes_are_enforced(app: &TestApp) {
    let doc = app.get("/openapi.json").await.body;
    let mut checked = 0;
    for (method, path) in documented(&doc) {
        if !path.starts_with("/api/v1/") {
            continue;
        }
        let op = &doc["paths"][&path][method.to_lowercase()];
        let scope = documented_scope(op).expect("one documented scope");
        let others: Vec<&str> = Scope::ALL
            .into_iter()
            .filter(|s| *s != scope && *s != Scope::Admin)
            .map(Scope::name)
            .collect();
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let uri = fill(&path);
        let right = make_token(
            &*app.state.store,
            &format!("only {uri} {method}"),
            scope.name(),
            None,
        )
        .await
        .secret;
        let wrong = make_token(
            &*app.state.store,
            &format!("all but {uri} {method}"),
            &others.join(","),
            None,
        )
        .await
        .secret;
        let r = app.call(method.clone(), &uri, None, Some(&right)).await;
        assert!(
            ![StatusCode::UNAUTHORIZED, StatusCode::FORBIDDEN].contains(&r.status),
            "{method} {path} refuses a token with the documented scope {scope}: {}",
            r.text
        );
        let r = app.call(method.clone(), &uri, None, Some(&wrong)).await;
        r.assert_problem(403, &format!("`{scope}` scope"));
        checked += 1;
    }
    assert!(checked >= 16, "{checked} admin operations checked");
}

both_backends!(
    documented_scopes_are_enforced_on,
    crate::documented_scopes_are_enforced
);

/// Every route with a path parameter answers a parameter that is not UTF-8 once
/// percent-decoded as it answers any id that names nothing: a 404 problem, not axum's
/// `400 text/plain`.
async fn invalid_utf8_path_parameters_are_404_problems(app: &TestApp) {
    let doc = app.get("/openapi.json").await.body;
    let mut walked = 0;
    for (method, template) in documented(&doc) {
        if !template.contains('{') {
            continue;
        }
        let uri = fill_with(&template, "%FF");
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let r = app.call(method.clone(), &uri, None, Some(&app.token)).await;
        assert_eq!(
            r.status,
            StatusCode::NOT_FOUND,
            "{method} {uri}: {} {:?}",
            r.text,
            r.headers.get(header::CONTENT_TYPE)
        );
        r.assert_problem(404, "not UTF-8");
        walked += 1;
    }
    assert!(walked >= 20, "only {walked} routes with a path parameter");
}

both_backends!(
    invalid_utf8_path_parameters_are_404_problems_on,
    crate::invalid_utf8_path_parameters_are_404_problems
);

/// A value for a path parameter: routing matches any segment.
fn fill(template: &str) -> String {
    fill_with(template, "probe")
}

/// `template` with `value` for each of its parameters.
fn fill_with(template: &str, value: &str) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let end = rest[start..].find('}').expect("a closing brace") + start;
        out.push_str(value);
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

async fn documented_is_served(app: &TestApp) {
    let doc = app.get("/openapi.json").await.body;
    let documented = documented(&doc);

    // The source's routes are the documented ones.
    let served = served();
    let undocumented: Vec<_> = served.difference(&documented).collect();
    let unserved: Vec<_> = documented.difference(&served).collect();
    assert!(
        undocumented.is_empty() && unserved.is_empty(),
        "routes without a #[utoipa::path] (add one and register the handler with routes!): \
         {undocumented:?}; documented but not routed in src/: {unserved:?}"
    );

    // And the app really routes each one: to that template, with that method.
    let matched: Arc<Mutex<Option<String>>> = Arc::default();
    let seen = matched.clone();
    let router = app.router.clone().layer(axum::middleware::from_fn(
        move |req: Request, next: Next| {
            let seen = seen.clone();
            async move {
                *seen.lock().unwrap() = req
                    .extensions()
                    .get::<MatchedPath>()
                    .map(|m| m.as_str().to_owned());
                next.run(req).await
            }
        },
    ));
    for (method, template) in &documented {
        *matched.lock().unwrap() = None;
        let req = axum::http::Request::builder()
            .method(method.as_str())
            .uri(fill(template))
            .header(header::AUTHORIZATION, format!("Bearer {}", app.token))
            .body(Body::empty())
            .unwrap();
        let res = router.clone().oneshot(req).await.unwrap();
        assert_ne!(
            res.status(),
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {template}"
        );
        assert_eq!(
            matched.lock().unwrap().as_deref(),
            Some(template.as_str()),
            "{method} {template} is not routed to its template"
        );
    }
}

both_backends!(documented_is_served_on, crate::documented_is_served);
