//! A browser's side of the staff console for in-process tests: staff accounts made as
//! `user create` makes them, sign-in through the real forms, the session cookie, and forms
//! posted with the CSRF token read from the page.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use partnership_badges::scopes::Role;

use super::{Res, TestApp};

/// The password every test account gets.
pub const PASSWORD: &str = "correct horse battery staple";

/// A signed-in staff member: their session cookie (`name=value`).
pub struct StaffSession {
    pub cookie: String,
}

impl StaffSession {
    /// Opens a console page.
    pub async fn open(&self, app: &TestApp, uri: &str) -> Res {
        open(app, uri, Some(&self.cookie)).await
    }

    /// Posts `fields` to `uri` with the CSRF token of the page at `from`.
    pub async fn submit(
        &self,
        app: &TestApp,
        from: &str,
        uri: &str,
        fields: &[(&str, &str)],
    ) -> Res {
        let page = self.open(app, from).await;
        assert_eq!(page.status, StatusCode::OK, "{from}: {}", page.text);
        let csrf = csrf_of(&page.text);
        let mut all: Vec<(&str, &str)> = vec![("csrf", &csrf)];
        all.extend_from_slice(fields);
        self.post(app, uri, &all).await
    }

    /// Posts `fields` as they are (no CSRF token added).
    pub async fn post(&self, app: &TestApp, uri: &str, fields: &[(&str, &str)]) -> Res {
        post_form(app, uri, Some(&self.cookie), &encode(fields)).await
    }
}

/// A request from a browser (HTML wanted), with a cookie if any.
fn browser(method: Method, uri: &str, cookie: Option<&str>) -> axum::http::request::Builder {
    let mut b = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::ACCEPT, "text/html");
    if let Some(c) = cookie {
        b = b.header(header::COOKIE, c);
    }
    b
}

/// GET as a browser.
pub async fn open(app: &TestApp, uri: &str, cookie: Option<&str>) -> Res {
    app.send(
        browser(Method::GET, uri, cookie)
            .body(Body::empty())
            .unwrap(),
    )
    .await
}

/// POST a form as a browser.
pub async fn post_form(app: &TestApp, uri: &str, cookie: Option<&str>, form: &str) -> Res {
    app.send(
        browser(Method::POST, uri, cookie)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(form.to_owned()))
            .unwrap(),
    )
    .await
}

/// Urlencodes form fields.
pub fn encode(fields: &[(&str, &str)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in fields {
        s.append_pair(k, v);
    }
    s.finish()
}

/// The value of the first `name="csrf"` field of a page.
pub fn csrf_of(html: &str) -> String {
    let at = html
        .find("name=\"csrf\" value=\"")
        .unwrap_or_else(|| panic!("no CSRF field in {html}"));
    let rest = &html[at + "name=\"csrf\" value=\"".len()..];
    rest[..rest.find('"').unwrap()].to_owned()
}

/// The `name=value` of the cookie `name` a response sets.
pub fn set_cookie(res: &Res, name: &str) -> Option<String> {
    res.headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(|v| v.split(';').next().unwrap().to_owned())
}

/// Makes an account as `user create` does; answers its one-time link's path.
pub async fn create_account(app: &TestApp, email: &str, role: Role) -> String {
    let (_, token) = partnership_badges::staff::create_account(
        &*app.state.store,
        email,
        role,
        partnership_badges::program::now(),
    )
    .await
    .expect("account");
    format!("/console/set-password?token={token}")
}

/// Uses a link to set [`PASSWORD`]; answers the session it starts.
pub async fn set_password(app: &TestApp, link: &str) -> StaffSession {
    let page = open(app, link, None).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    let token = link.split("token=").nth(1).unwrap();
    let r = post_form(
        app,
        "/console/set-password",
        None,
        &encode(&[
            ("token", token),
            ("password", PASSWORD),
            ("confirm", PASSWORD),
        ]),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    StaffSession {
        cookie: set_cookie(&r, "pb_staff").expect("a session cookie"),
    }
}

/// Signs in through the form; answers the response (303 and a cookie when it worked).
pub async fn sign_in(app: &TestApp, email: &str, password: &str) -> Res {
    let form = open(app, "/console/sign-in", None).await;
    let csrf_cookie = set_cookie(&form, "pb_staff_csrf").expect("the form's CSRF cookie");
    let csrf = csrf_of(&form.text);
    post_form(
        app,
        "/console/sign-in",
        Some(&csrf_cookie),
        &encode(&[("csrf", &csrf), ("email", email), ("password", password)]),
    )
    .await
}

/// A staff member with `role`, signed in.
pub async fn staff(app: &TestApp, email: &str, role: Role) -> StaffSession {
    let link = create_account(app, email, role).await;
    set_password(app, &link).await
}
