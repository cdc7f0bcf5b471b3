//! Staff sign-in with OpenID Connect, end to end against a real provider started here
//! (`tests/oidc/provider.mjs`, panva's `oidc-provider`): the code flow with PKCE, the
//! provider's login form, the code exchanged and the ID token verified by the service. A
//! known, verified email signs in; an unknown one, or an unverified one, is refused; a
//! callback whose state is not the browser's is refused.

mod common;

use std::collections::HashMap;
use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};

use axum::http::{header, StatusCode};
use common::console::{self, open};
use common::TestApp;
use partnership_badges::scopes::Role;

const CLIENT_ID: &str = "partnership-badges";
const CLIENT_SECRET: &str = "test-client-secret";

/// The provider process; killed when dropped.
struct Provider {
    child: Child,
    issuer: String,
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_provider(redirect_uri: &str) -> Option<Provider> {
    if !common::node_packages_ready("oidc", "oidc-provider") {
        return None;
    }
    let mut child = Command::new("node")
        .arg(common::tests_dir("oidc").join("provider.mjs"))
        .args([
            "--port",
            "0",
            "--client-id",
            CLIENT_ID,
            "--client-secret",
            CLIENT_SECRET,
        ])
        .args(["--redirect-uri", redirect_uri])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the OpenID provider");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let issuer = line
        .trim()
        .strip_prefix("READY ")
        .unwrap_or_else(|| panic!("the provider did not start: {line:?}"))
        .to_owned();
    Some(Provider { child, issuer })
}

/// A browser's cookies at the provider (one origin, so paths can be ignored).
#[derive(Default)]
struct Jar(HashMap<String, String>);

impl Jar {
    fn take(&mut self, res: &reqwest::Response) {
        for v in res.headers().get_all(reqwest::header::SET_COOKIE) {
            let pair = v.to_str().unwrap().split(';').next().unwrap();
            if let Some((k, v)) = pair.split_once('=') {
                self.0.insert(k.to_owned(), v.to_owned());
            }
        }
    }

    fn header(&self) -> String {
        self.0
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// The browser's trip to the provider: from the authorization URL the service sent it to,
/// through the login form as `login`, back to the service's callback (its path and query).
async fn at_provider(issuer: &str, authorize: &str, login: &str) -> String {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut jar = Jar::default();
    let absolute = |l: &str| {
        if l.starts_with("http") {
            l.to_owned()
        } else {
            format!("{issuer}{l}")
        }
    };
    let res = http.get(authorize).send().await.unwrap();
    assert_eq!(res.status(), 303, "{:?}", res.text().await);
    jar.take(&res);
    let interaction = absolute(res.headers()["location"].to_str().unwrap());
    let page = http
        .get(&interaction)
        .header("cookie", jar.header())
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let res = http
        .post(&interaction)
        .header("cookie", jar.header())
        .form(&[("prompt", "login"), ("login", login), ("password", "any")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303, "{:?}", res.text().await);
    jar.take(&res);
    let resume = absolute(res.headers()["location"].to_str().unwrap());
    let res = http
        .get(&resume)
        .header("cookie", jar.header())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303, "{:?}", res.text().await);
    let back = res.headers()["location"].to_str().unwrap().to_owned();
    let path = back
        .find("/console/oidc/callback")
        .unwrap_or_else(|| panic!("not back at the service: {back}"));
    back[path..].to_owned()
}

/// Starts a sign-in at the service: the provider's authorization URL and the flow cookie.
async fn start(app: &TestApp) -> (String, String) {
    let r = open(app, "/console/oidc/start", None).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let cookie = console::set_cookie(&r, "pb_staff_oidc").expect("the flow cookie");
    let set = r.headers[header::SET_COOKIE].to_str().unwrap();
    assert!(
        set.contains("HttpOnly") && set.contains("Path=/console/oidc"),
        "{set}"
    );
    let location = r.headers[header::LOCATION].to_str().unwrap().to_owned();
    assert!(
        location.contains("code_challenge_method=S256"),
        "PKCE: {location}"
    );
    assert!(location.contains("nonce="), "{location}");
    (location, cookie)
}

async fn sign_in_with_the_provider(app: &TestApp, provider: &Provider) {
    console::create_account(app, "Ann@Example.org", Role::Issuer).await;
    // The sign-in page offers the provider.
    let page = open(app, "/console/sign-in", None).await;
    assert!(
        page.text.contains("href=\"/console/oidc/start\""),
        "{}",
        page.text
    );

    // A known, verified email: signed in, no password ever set.
    let (authorize, flow) = start(app).await;
    let callback = at_provider(&provider.issuer, &authorize, "ann@example.org").await;
    let r = open(app, &callback, Some(&flow)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    assert_eq!(r.headers[header::LOCATION], "/console");
    let session = console::set_cookie(&r, "pb_staff").expect("a session");
    let dash = open(app, "/console", Some(&session)).await;
    assert_eq!(dash.status, StatusCode::OK);
    assert!(dash.text.contains("ann@example.org"), "{}", dash.text);
    // The sign-in is in the audit log as the staff member's.
    let log = app.get("/api/v1/audit?staff=ann@example.org").await;
    assert!(
        log.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "GET /console/oidc/callback" && e["status"] == 303),
        "{}",
        log.text
    );
    // The same callback again (a replayed code): refused.
    let r = open(app, &callback, Some(&flow)).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);

    // An unknown email: refused, no account made.
    let (authorize, flow) = start(app).await;
    let callback = at_provider(&provider.issuer, &authorize, "zed@example.org").await;
    let r = open(app, &callback, Some(&flow)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert!(
        r.text.contains("no staff account for this email"),
        "{}",
        r.text
    );
    assert!(console::set_cookie(&r, "pb_staff").is_none());
    assert_eq!(app.count("staff").await, 1);

    // An email the provider does not vouch for: refused even with an account.
    console::create_account(app, "unverified-bo@example.org", Role::Admin).await;
    let (authorize, flow) = start(app).await;
    let callback = at_provider(&provider.issuer, &authorize, "unverified-bo@example.org").await;
    let r = open(app, &callback, Some(&flow)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert!(
        r.text.contains("did not vouch for your email"),
        "{}",
        r.text
    );

    // A callback with another browser's flow (state mismatch): refused before any exchange.
    let (authorize, _) = start(app).await;
    let (_, other_flow) = start(app).await;
    let callback = at_provider(&provider.issuer, &authorize, "ann@example.org").await;
    let r = open(app, &callback, Some(&other_flow)).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    let r = open(app, &callback, None).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
}

macro_rules! with_provider {
    ($name:ident, $make:expr) => {
        #[tokio::test]
        async fn $name() {
            let base = common::BASE;
            let Some(provider) = start_provider(&format!("{base}/console/oidc/callback")) else {
                return;
            };
            let args = [
                "--oidc-issuer",
                provider.issuer.as_str(),
                "--oidc-client-id",
                CLIENT_ID,
                "--oidc-client-secret",
                CLIENT_SECRET,
            ];
            let make = $make;
            let Some(app) = make(base, &args).await else {
                return;
            };
            sign_in_with_the_provider(&app, &provider).await;
            app.cleanup().await;
        }
    };
}

with_provider!(oidc_on_sqlite, |base, args: &[&str]| {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    async move {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        Some(TestApp::sqlite_with_args(base, &args).await)
    }
});

with_provider!(oidc_on_postgres, |base, args: &[&str]| {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    async move {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        TestApp::postgres_with_args(base, &args).await
    }
});
