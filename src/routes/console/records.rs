//! People, mentors and closings in the console: lists with the API's search, filters and
//! cursor paging (the same query parsing as `GET /api/v1/people` and the others), a page
//! per record with its badges and audit trail, and the forms that record them or a
//! closing's partner fit. A form becomes the API's JSON body and goes through the same rules
//! (`program::records`), so its errors are the API's problem details, shown by their field.

use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::auth::{private, read_form, require, ConsolePath, Done, Form, Staff};
use crate::db::{AuditFilter, Closing, RecordFilter};
use crate::error::AppError;
use crate::html::console::{
    fit_rows, BadgeRow, ClosingPage, FormState, ListPage, MentorPage, PersonPage, RecordFormPage,
    TrailRow,
};
use crate::html::page;
use crate::program::{self, records, CLOSED};
use crate::routes::admin::path_id;
use crate::routes::admin::{
    closing_filter, mentor_filter, people_filter, ClosingQuery, MentorQuery, PeopleQuery,
};
use crate::routes::extract::list_query;
use crate::scopes::Scope;
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/console/people", get(people))
        .route(
            "/console/people/new",
            get(new_person_form).post(create_person),
        )
        .route("/console/people/{id}", get(person))
        .route(
            "/console/people/{id}/edit",
            get(edit_person_form).post(edit_person),
        )
        .route("/console/mentors", get(mentors))
        .route(
            "/console/mentors/new",
            get(new_mentor_form).post(create_mentor),
        )
        .route("/console/mentors/{id}", get(mentor))
        .route("/console/closings", get(closings))
        .route(
            "/console/closings/new",
            get(new_closing_form).post(create_closing),
        )
        .route("/console/closings/{id}", get(closing))
        .route("/console/closings/{id}/fit", get(fit_form).post(set_fit))
}

/// The raw query pairs, to show the filters as sent.
fn filters_of(uri: &axum::http::Uri) -> FormState {
    FormState {
        values: uri
            .query()
            .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
            .unwrap_or_default(),
        ..Default::default()
    }
}

/// The next page's URL: this query with `cursor` replaced.
fn next_url(path: &str, filters: &FormState, cursor: Option<String>) -> Option<String> {
    let cursor = cursor?;
    let mut q = form_urlencoded::Serializer::new(String::new());
    for (k, v) in filters.values.iter().filter(|(k, _)| k != "cursor") {
        q.append_pair(k, v);
    }
    q.append_pair("cursor", &cursor);
    Some(format!("{path}?{}", q.finish()))
}

/// A page of `rows` (one more than `limit` when there is a next) and the next cursor.
fn paged<T>(
    mut rows: Vec<T>,
    limit: i64,
    key: impl Fn(&T) -> (chrono::DateTime<chrono::Utc>, Uuid),
) -> (Vec<T>, Option<String>) {
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next = more
        .then(|| rows.last().map(&key))
        .flatten()
        .map(|(t, id)| crate::routes::extract::encode_time_cursor(t, id));
    (rows, next)
}

/// The list page, or the page with the filters' error (400).
#[allow(clippy::too_many_arguments)]
fn list_page(
    staff: &Staff,
    current: &'static str,
    heading: &'static str,
    filters: FormState,
    columns: Vec<&'static str>,
    rows: Vec<(String, Vec<String>)>,
    next: Option<String>,
    error: Option<String>,
) -> Response {
    let (country, dates, badges, new_url): (bool, bool, Vec<(&str, &str)>, &str) = match current {
        "people" => (
            true,
            false,
            vec![
                ("ready-to-certify", "Ready to certify"),
                ("certified", "Certified"),
            ],
            "/console/people/new",
        ),
        "closings" => (
            true,
            true,
            vec![
                ("without-closed", "Without Partnership Closed"),
                ("with-closed", "With Partnership Closed"),
            ],
            "/console/closings/new",
        ),
        _ => (false, false, vec![], "/console/mentors/new"),
    };
    let path = match current {
        "people" => "/console/people",
        "closings" => "/console/closings",
        _ => "/console/mentors",
    };
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    private(page(
        status,
        &ListPage {
            nav: staff.nav(current),
            heading,
            path,
            filters,
            country,
            dates,
            badges,
            columns,
            rows,
            next,
            new_url: staff.may(Scope::Issue).then_some(new_url),
            error,
        },
    ))
}

fn or_dash(v: &Option<String>) -> String {
    v.clone().unwrap_or_else(|| "–".into())
}

/// What a list shows: which one it is, its columns, and how a record becomes a row (the
/// link to its page, then the cells).
struct Listing<T> {
    current: &'static str,
    heading: &'static str,
    columns: Vec<&'static str>,
    key: fn(&T) -> (chrono::DateTime<chrono::Utc>, Uuid),
    row: fn(&T) -> (String, Vec<String>),
}

/// A list page: the filters as sent (or their 400), a page of `fetch`'s records, the link
/// to the next page.
async fn list<T, Fut>(
    state: &AppState,
    headers: &HeaderMap,
    uri: &axum::http::Uri,
    parsed: Result<(RecordFilter, i64), AppError>,
    fetch: impl FnOnce(RecordFilter) -> Fut,
    listing: Listing<T>,
) -> Response
where
    Fut: std::future::Future<Output = crate::db::DbResult<Vec<T>>>,
{
    let staff = match require(state, headers, Scope::Read, true).await {
        Ok(s) => s,
        Err(res) => return res,
    };
    let Listing {
        current,
        heading,
        columns,
        key,
        row,
    } = listing;
    let filters = filters_of(uri);
    let (filter, limit) = match parsed {
        Ok(f) => f,
        Err(e) => {
            let error = Some(e.to_string());
            return list_page(
                &staff,
                current,
                heading,
                filters,
                columns,
                vec![],
                None,
                error,
            );
        }
    };
    let rows = match fetch(filter).await {
        Ok(r) => r,
        Err(e) => return crate::html::error(headers, e.into()),
    };
    let (rows, cursor) = paged(rows, limit, key);
    let rows = rows.iter().map(row).collect();
    let next = next_url(&format!("/console/{current}"), &filters, cursor);
    list_page(&staff, current, heading, filters, columns, rows, next, None)
}

async fn people(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: axum::http::Uri,
    query: Result<Query<PeopleQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let store = state.store.clone();
    let listing = Listing {
        current: "people",
        heading: "People",
        columns: vec!["Name", "Email", "City", "Country"],
        key: |p: &crate::db::Person| (p.created_at, p.id),
        row: |p| {
            let cells = vec![
                p.name.clone(),
                p.email.clone(),
                or_dash(&p.city),
                or_dash(&p.country),
            ];
            (format!("/console/people/{}", p.id), cells)
        },
    };
    let parsed = list_query(query).and_then(people_filter);
    let fetch = |f| async move { store.list_people(&f).await };
    list(&state, &headers, &uri, parsed, fetch, listing).await
}

async fn mentors(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: axum::http::Uri,
    query: Result<Query<MentorQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let store = state.store.clone();
    let listing = Listing {
        current: "mentors",
        heading: "Mentors",
        columns: vec!["Name", "Email"],
        key: |m: &crate::db::Mentor| (m.created_at, m.id),
        row: |m| {
            let cells = vec![m.name.clone(), m.email.clone()];
            (format!("/console/mentors/{}", m.id), cells)
        },
    };
    let parsed = list_query(query).and_then(mentor_filter);
    let fetch = |f| async move { store.list_mentors(&f).await };
    list(&state, &headers, &uri, parsed, fetch, listing).await
}

async fn closings(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: axum::http::Uri,
    query: Result<Query<ClosingQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let store = state.store.clone();
    let listing = Listing {
        current: "closings",
        heading: "Closings",
        columns: vec!["Partner", "Country", "Closed on"],
        key: |c: &Closing| (c.created_at, c.id),
        row: |c| {
            let cells = vec![
                c.partner_name.clone(),
                or_dash(&c.partner_country),
                c.closed_on.to_string(),
            ];
            (format!("/console/closings/{}", c.id), cells)
        },
    };
    let parsed = list_query(query).and_then(closing_filter);
    let fetch = |f| async move { store.list_closings(&f).await };
    list(&state, &headers, &uri, parsed, fetch, listing).await
}

/// The audit entries about a record and the badges that belong to it (a revocation names
/// the badge, an award the closing), newest first: the latest 50.
async fn trail(state: &AppState, ids: &[Uuid]) -> Result<Vec<TrailRow>, AppError> {
    let mut rows = Vec::new();
    for id in ids {
        rows.extend(
            state
                .store
                .list_audit(&AuditFilter {
                    target: Some(id.to_string()),
                    limit: 50,
                    ..Default::default()
                })
                .await?,
        );
    }
    // The log's order is its ids'.
    rows.sort_by_key(|r| std::cmp::Reverse(r.id));
    rows.dedup_by_key(|r| r.id);
    rows.truncate(50);
    Ok(rows.iter().map(TrailRow::of).collect())
}

fn notice(done: Option<&str>) -> Option<&'static str> {
    match done {
        Some("created") => Some("Recorded."),
        Some("updated") => Some("Saved."),
        Some("awarded") => Some("Partnership Closed is awarded and signed."),
        Some("certified") => Some("Partnership Certified is awarded and signed."),
        Some("revoked") => Some("The badge is revoked."),
        Some("fit") => Some("The partner-fit assessment is saved."),
        _ => None,
    }
}

async fn person(
    State(state): State<AppState>,
    headers: HeaderMap,
    ConsolePath(id): ConsolePath,
    Query(done): Query<Done>,
) -> Response {
    let staff = match require(&state, &headers, Scope::Read, true).await {
        Ok(s) => s,
        Err(res) => return res,
    };
    let id = match path_id("person", &id) {
        Ok(id) => id,
        Err(e) => return crate::html::error(&headers, e),
    };
    let loaded = async {
        let person = state
            .store
            .person(id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("no person with id {id}")))?;
        let badges = state.store.credentials_of_person(id).await?;
        let closings = state.store.closings_of_person(id).await?;
        let about: Vec<Uuid> = std::iter::once(id)
            .chain(badges.iter().map(|b| b.id))
            .collect();
        let trail = trail(&state, &about).await?;
        Ok::<_, AppError>((person, badges, closings, trail))
    }
    .await;
    let (person, badges, closings, trail) = match loaded {
        Ok(x) => x,
        Err(e) => return crate::html::error(&headers, e),
    };
    let now = program::now();
    private(page(
        StatusCode::OK,
        &PersonPage {
            nav: staff.nav("people"),
            person,
            badges: badges.iter().map(|b| BadgeRow::of(b, now)).collect(),
            closings,
            trail,
            notice: notice(done.done.as_deref()),
        },
    ))
}

async fn mentor(
    State(state): State<AppState>,
    headers: HeaderMap,
    ConsolePath(id): ConsolePath,
    Query(done): Query<Done>,
) -> Response {
    let staff = match require(&state, &headers, Scope::Read, true).await {
        Ok(s) => s,
        Err(res) => return res,
    };
    let id = match path_id("mentor", &id) {
        Ok(id) => id,
        Err(e) => return crate::html::error(&headers, e),
    };
    let loaded = async {
        let mentor = state
            .store
            .mentor(id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("no mentor with id {id}")))?;
        let closings = state
            .store
            .list_closings(&RecordFilter {
                mentor_id: Some(id),
                limit: 50,
                now: program::now(),
                ..Default::default()
            })
            .await?;
        let trail = trail(&state, &[id]).await?;
        Ok::<_, AppError>((mentor, closings, trail))
    }
    .await;
    let (mentor, closings, trail) = match loaded {
        Ok(x) => x,
        Err(e) => return crate::html::error(&headers, e),
    };
    private(page(
        StatusCode::OK,
        &MentorPage {
            nav: staff.nav("mentors"),
            mentor,
            closings,
            trail,
            notice: notice(done.done.as_deref()),
        },
    ))
}

/// A closing with its closer, mentor and the badges awarded for it.
pub(super) async fn load_closing(
    state: &AppState,
    id: Uuid,
) -> Result<
    (
        Closing,
        crate::db::Person,
        crate::db::Mentor,
        Vec<crate::db::CredentialRecord>,
    ),
    AppError,
> {
    let (closing, mentor) = state
        .store
        .closing_with_mentor(id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no closing with id {id}")))?;
    let closer = state
        .store
        .person(closing.closer_id)
        .await?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("closing {id} without its closer")))?;
    let badges = state
        .store
        .credentials_of_person(closer.id)
        .await?
        .into_iter()
        .filter(|c| c.closing_id == Some(id))
        .collect();
    Ok((closing, closer, mentor, badges))
}

async fn closing(
    State(state): State<AppState>,
    headers: HeaderMap,
    ConsolePath(id): ConsolePath,
    Query(done): Query<Done>,
) -> Response {
    let staff = match require(&state, &headers, Scope::Read, true).await {
        Ok(s) => s,
        Err(res) => return res,
    };
    let id = match path_id("closing", &id) {
        Ok(id) => id,
        Err(e) => return crate::html::error(&headers, e),
    };
    let loaded = async {
        let loaded = load_closing(&state, id).await?;
        let about: Vec<Uuid> = std::iter::once(id)
            .chain(loaded.3.iter().map(|b| b.id))
            .collect();
        let trail = trail(&state, &about).await?;
        Ok::<_, AppError>((loaded, trail))
    }
    .await;
    let ((closing, closer, mentor, badges), trail) = match loaded {
        Ok(x) => x,
        Err(e) => return crate::html::error(&headers, e),
    };
    let now = program::now();
    let has_closed = badges
        .iter()
        .any(|b| b.achievement == CLOSED && b.revoked_at.is_none());
    private(page(
        StatusCode::OK,
        &ClosingPage {
            nav: staff.nav("closings"),
            fit: closing
                .partner_fit
                .as_ref()
                .map(fit_rows)
                .unwrap_or_default(),
            closing,
            closer,
            mentor,
            badges: badges.iter().map(|b| BadgeRow::of(b, now)).collect(),
            has_closed,
            trail,
            notice: notice(done.done.as_deref()),
        },
    ))
}

// ------------------------------------------------------------------------ forms

/// Field names whose form text is a JSON number (the partner-fit ratings).
fn is_number(name: &str) -> bool {
    name.ends_with(".score")
}

/// The API's JSON body from a form's fields: dotted names nest (`stages.lead`,
/// `partner_fit.depth.size.score`), empty fields are absent, ratings are numbers, a
/// `datetime-local` value gains seconds and `Z` (the console asks for UTC). Fields in
/// `skip` (the CSRF token, lookups) are left out.
pub(super) fn form_json(pairs: &[(String, String)], skip: &[&str]) -> Value {
    let mut root = Map::new();
    for (name, value) in pairs {
        let value = value.trim();
        if value.is_empty() || skip.contains(&name.as_str()) || name == "csrf" {
            continue;
        }
        let json = if is_number(name) {
            value
                .parse::<u64>()
                .map(Value::from)
                .unwrap_or_else(|_| Value::from(value))
        } else if is_local_datetime(value) {
            Value::from(format!("{value}:00Z"))
        } else {
            Value::from(value)
        };
        let mut parts = name.split('.').peekable();
        let mut at = &mut root;
        while let Some(part) = parts.next() {
            if parts.peek().is_none() {
                at.insert(part.to_owned(), json);
                break;
            }
            let next = at
                .entry(part.to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            match next {
                Value::Object(m) => at = m,
                // A name that is both a value and a parent: the value wins.
                _ => break,
            }
        }
    }
    Value::Object(root)
}

/// `YYYY-MM-DDTHH:MM`, as a `datetime-local` input sends it.
fn is_local_datetime(v: &str) -> bool {
    let b = v.as_bytes();
    b.len() == 16
        && b[10] == b'T'
        && b[13] == b':'
        && chrono::NaiveDateTime::parse_from_str(v, "%Y-%m-%dT%H:%M").is_ok()
}

/// Deserialises the form's JSON as the API would (the same 422s naming the field).
pub(super) fn from_form<T: serde::de::DeserializeOwned>(json: &Value) -> Result<T, AppError> {
    crate::routes::extract::parse_json(&serde_json::to_vec(json).expect("JSON serialises"))
}

/// The form again with `err` beside its field (a 422 names one), or above the form.
fn form_with_error(form: &Form, err: AppError) -> FormState {
    let mut state = FormState {
        values: form.pairs.clone(),
        ..Default::default()
    };
    match &err {
        AppError::Unprocessable {
            field: Some(f),
            detail,
        } => state.errors.push((f.clone(), detail.clone())),
        other => state.general = Some(other.to_string()),
    }
    state
}

fn form_page(
    staff: &Staff,
    kind: &'static str,
    heading: String,
    action: String,
    form: FormState,
    back: String,
    status: StatusCode,
) -> Response {
    let current = match kind {
        "mentor" => "mentors",
        "person" => "people",
        _ => "closings",
    };
    private(page(
        status,
        &RecordFormPage {
            nav: staff.nav(current),
            kind,
            heading,
            action,
            form,
            back,
        },
    ))
}

/// The answer to a form the rules refused: the form again, 422 (or the error's status).
fn refused(
    form: &Form,
    kind: &'static str,
    heading: &str,
    action: &str,
    back: &str,
    e: AppError,
) -> Response {
    let status = e.status();
    let state = form_with_error(form, e);
    let res = form_page(
        &form.staff,
        kind,
        heading.to_owned(),
        action.to_owned(),
        state,
        back.to_owned(),
        status,
    );
    form.staff.audited(res)
}

async fn new_mentor_form(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match require(&state, &headers, Scope::Issue, true).await {
        Ok(staff) => form_page(
            &staff,
            "mentor",
            "Record a mentor".into(),
            "/console/mentors/new".into(),
            FormState::default(),
            "/console/mentors".into(),
            StatusCode::OK,
        ),
        Err(res) => res,
    }
}

async fn create_mentor(State(state): State<AppState>, req: Request) -> Response {
    let form = match read_form(&state, req, Scope::Issue).await {
        Ok(f) => f,
        Err(res) => return res,
    };
    let (heading, action, back) = (
        "Record a mentor",
        "/console/mentors/new",
        "/console/mentors",
    );
    let created = async {
        let input = from_form(&form_json(&form.pairs, &[]))?;
        records::create_mentor(&*state.store, input).await
    }
    .await;
    match created {
        Ok(m) => form.staff.audited(
            Redirect::to(&format!("/console/mentors/{}?done=created", m.id)).into_response(),
        ),
        Err(e) => refused(&form, "mentor", heading, action, back, e),
    }
}

async fn new_person_form(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match require(&state, &headers, Scope::Issue, true).await {
        Ok(staff) => form_page(
            &staff,
            "person",
            "Record a person".into(),
            "/console/people/new".into(),
            FormState::default(),
            "/console/people".into(),
            StatusCode::OK,
        ),
        Err(res) => res,
    }
}

async fn create_person(State(state): State<AppState>, req: Request) -> Response {
    let form = match read_form(&state, req, Scope::Issue).await {
        Ok(f) => f,
        Err(res) => return res,
    };
    let (heading, action, back) = ("Record a person", "/console/people/new", "/console/people");
    let created = async {
        let mut json = form_json(&form.pairs, &[]);
        // Listing in the registry is the holder's own choice, on their page.
        json["listed_in_registry"] = Value::Bool(false);
        let input = from_form(&json)?;
        records::create_person(&*state.store, input).await
    }
    .await;
    match created {
        Ok(p) => form.staff.audited(
            Redirect::to(&format!("/console/people/{}?done=created", p.id)).into_response(),
        ),
        Err(e) => refused(&form, "person", heading, action, back, e),
    }
}

#[derive(serde::Deserialize)]
struct Prefill {
    closer: Option<String>,
}

async fn new_closing_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(prefill): Query<Prefill>,
) -> Response {
    match require(&state, &headers, Scope::Issue, true).await {
        Ok(staff) => {
            let values = prefill
                .closer
                .map(|c| vec![("closer_email".to_owned(), c)])
                .unwrap_or_default();
            form_page(
                &staff,
                "closing",
                "Record a closing".into(),
                "/console/closings/new".into(),
                FormState {
                    values,
                    ..Default::default()
                },
                "/console/closings".into(),
                StatusCode::OK,
            )
        }
        Err(res) => res,
    }
}

async fn create_closing(State(state): State<AppState>, req: Request) -> Response {
    let form = match read_form(&state, req, Scope::Issue).await {
        Ok(f) => f,
        Err(res) => return res,
    };
    let (heading, action, back) = (
        "Record a closing",
        "/console/closings/new",
        "/console/closings",
    );
    let created = async {
        let (closer_id, mentor_id) = records::closing_parties(
            &*state.store,
            form.get("closer_email"),
            form.get("mentor_email"),
        )
        .await?;
        let mut json = form_json(&form.pairs, &["closer_email", "mentor_email"]);
        json["closer_id"] = Value::from(closer_id.to_string());
        json["mentor_id"] = Value::from(mentor_id.to_string());
        // No stage dates given: none (the API asks for the object).
        if json.get("stages").is_none() {
            json["stages"] = Value::Object(Map::new());
        }
        let input = from_form(&json)?;
        records::create_closing(&*state.store, input).await
    }
    .await;
    match created {
        Ok(c) => form.staff.audited(
            Redirect::to(&format!("/console/closings/{}?done=created", c.id)).into_response(),
        ),
        Err(e) => refused(&form, "closing", heading, action, back, e),
    }
}

/// A partner fit's form values, to edit it.
fn fit_values(fit: &crate::db::PartnerFit) -> Vec<(String, String)> {
    let json = serde_json::to_value(fit).expect("a fit serialises");
    let mut out = Vec::new();
    for (axis, criteria) in json.as_object().into_iter().flatten() {
        for (criterion, rating) in criteria.as_object().into_iter().flatten() {
            let base = format!("partner_fit.{axis}.{criterion}");
            if let Some(s) = rating.get("score") {
                out.push((format!("{base}.score"), s.to_string()));
            }
            if let Some(n) = rating.get("note").and_then(Value::as_str) {
                out.push((format!("{base}.note"), n.to_owned()));
            }
        }
    }
    out
}

async fn fit_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    ConsolePath(id): ConsolePath,
) -> Response {
    let staff = match require(&state, &headers, Scope::Issue, true).await {
        Ok(s) => s,
        Err(res) => return res,
    };
    let id = match path_id("closing", &id) {
        Ok(id) => id,
        Err(e) => return crate::html::error(&headers, e),
    };
    let closing = match state.store.closing(id).await {
        Ok(Some(c)) => c,
        Ok(None) => {
            return crate::html::error(
                &headers,
                AppError::NotFound(format!("no closing with id {id}")),
            )
        }
        Err(e) => return crate::html::error(&headers, e.into()),
    };
    form_page(
        &staff,
        "fit",
        format!("Partner fit of {}", closing.partner_name),
        format!("/console/closings/{id}/fit"),
        FormState {
            values: closing
                .partner_fit
                .as_ref()
                .map(fit_values)
                .unwrap_or_default(),
            ..Default::default()
        },
        format!("/console/closings/{id}"),
        StatusCode::OK,
    )
}

async fn set_fit(
    State(state): State<AppState>,
    ConsolePath(id): ConsolePath,
    req: Request,
) -> Response {
    let form = match read_form(&state, req, Scope::Issue).await {
        Ok(f) => f,
        Err(res) => return res,
    };
    let id = match path_id("closing", &id) {
        Ok(id) => id,
        Err(e) => return form.staff.audited(crate::html::error(&form.headers, e)),
    };
    let action = format!("/console/closings/{id}/fit");
    let back = format!("/console/closings/{id}");
    let saved = async {
        let mut json = form_json(&form.pairs, &[]);
        // No rating at all: the assessment is removed.
        if json.get("partner_fit").is_none() {
            json["partner_fit"] = Value::Null;
        }
        let patch = from_form(&json)?;
        records::patch_closing(&*state.store, id, patch).await
    }
    .await;
    match saved {
        Ok(_) => form
            .staff
            .audited(Redirect::to(&format!("/console/closings/{id}?done=fit")).into_response()),
        Err(e) => refused(&form, "fit", "Partner fit", &action, &back, e),
    }
}

async fn edit_person_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    ConsolePath(id): ConsolePath,
) -> Response {
    let staff = match require(&state, &headers, Scope::Issue, true).await {
        Ok(s) => s,
        Err(res) => return res,
    };
    let id = match path_id("person", &id) {
        Ok(id) => id,
        Err(e) => return crate::html::error(&headers, e),
    };
    let person = match state.store.person(id).await {
        Ok(Some(p)) if p.erased_at.is_none() => p,
        Ok(_) => {
            return crate::html::error(
                &headers,
                AppError::NotFound(format!("no person with id {id}")),
            )
        }
        Err(e) => return crate::html::error(&headers, e.into()),
    };
    let values = [
        ("name", Some(person.name.clone())),
        ("email", Some(person.email.clone())),
        ("city", person.city.clone()),
        ("country", person.country.clone()),
        ("url", person.url.clone()),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.map(|v| (k.to_owned(), v)))
    .collect();
    form_page(
        &staff,
        "person",
        format!("Edit {}", person.name),
        format!("/console/people/{id}/edit"),
        FormState {
            values,
            ..Default::default()
        },
        format!("/console/people/{id}"),
        StatusCode::OK,
    )
}

async fn edit_person(
    State(state): State<AppState>,
    ConsolePath(id): ConsolePath,
    req: Request,
) -> Response {
    let form = match read_form(&state, req, Scope::Issue).await {
        Ok(f) => f,
        Err(res) => return res,
    };
    let id = match path_id("person", &id) {
        Ok(id) => id,
        Err(e) => return form.staff.audited(crate::html::error(&form.headers, e)),
    };
    let (action, back) = (
        format!("/console/people/{id}/edit"),
        format!("/console/people/{id}"),
    );
    let saved = async {
        // Every field of the form is sent: an emptied optional field is cleared (`null`).
        let mut json = Map::new();
        for field in ["name", "email", "city", "country", "url"] {
            let value = form.get(field).map_or(Value::Null, Value::from);
            json.insert(field.to_owned(), value);
        }
        let patch = from_form(&Value::Object(json))?;
        let person = records::update_person(&*state.store, id, patch).await?;
        state.badges.changed(&*state.store).await?;
        Ok::<_, AppError>(person)
    }
    .await;
    match saved {
        Ok(_) => form
            .staff
            .audited(Redirect::to(&format!("/console/people/{id}?done=updated")).into_response()),
        Err(e) => refused(&form, "person", "Edit", &action, &back, e),
    }
}
