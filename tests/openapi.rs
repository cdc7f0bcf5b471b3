//! The API contract and the router agree: `GET /openapi.json` is an OpenAPI 3.1 document, and
//! the set of (method, path template) it documents is exactly the set the router serves.
//!
//! An axum router cannot list its routes, so "served" is established from both sides:
//! - every `.route("…", get(…).post(…))` call in `src/` is read from the source, so a route
//!   added anywhere without its `#[utoipa::path]` fails here;
//! - every documented operation is sent to the app, which must match it to that same route
//!   template (`MatchedPath`) and method (no 405), so the document names nothing unserved.
//!
//! Each admin operation's documented scope is the one its handler enforces, and every route
//! with a path parameter answers a segment that is not UTF-8 with a 404 problem.

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

/// (METHOD, path) of every route registered anywhere in `src/`.
fn served() -> Operations {
    let mut files = Vec::new();
    rust_files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    let mut ops = Operations::new();
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
        let name = r
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("a $ref outside the schemas: {r}"));
        assert!(
            doc["components"]["schemas"].get(name).is_some(),
            "dangling $ref {r}"
        );
    }

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
        "routes without a #[utoipa::path] (add one and list it in src/openapi.rs): \
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
