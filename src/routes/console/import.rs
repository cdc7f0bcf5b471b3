//! Import in the browser: upload a CSV file, see its header checked and its first rows, run
//! it with a live progress bar, read the per-row report and download it as CSV. The rows go
//! through `crate::import`, the code of the `import` command.
//!
//! An uploaded file waits in this instance's memory (at most [`MAX_JOBS`], an hour from its
//! upload, longer while it runs); its progress and report are read from the instance that
//! runs it.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::auth::{private, read_form, require, ConsolePath, Staff};
use crate::error::AppError;
use crate::html::console::ImportPage;
use crate::html::page;
use crate::import::{self, Check, Kind, Report, Watch};
use crate::scopes::Scope;
use crate::state::AppState;

/// Largest upload, 8 MiB (about 50,000 closings); bigger files go through the command.
pub const MAX_UPLOAD: usize = 8 * 1024 * 1024;
/// Uploads kept at once; the oldest goes first.
pub const MAX_JOBS: usize = 32;

/// One uploaded file and, once run, its progress and report.
struct Job {
    kind: Kind,
    file: String,
    bytes: Vec<u8>,
    staff_id: Uuid,
    created_at: DateTime<Utc>,
    check: Check,
    watch: Watch,
    started: std::sync::atomic::AtomicBool,
    outcome: Mutex<Option<Result<Report, String>>>,
}

impl Job {
    /// The report, once it has run (or why it stopped).
    fn outcome(&self) -> Option<Result<Report, String>> {
        self.outcome
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Started and not finished.
    fn running(&self) -> bool {
        self.started.load(Ordering::Relaxed)
            && self
                .outcome
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .is_none()
    }

    /// Rows in the file, done, failed.
    fn counts(&self) -> (u64, u64, u64) {
        let w = &self.watch;
        (
            w.total.load(Ordering::Relaxed).max(self.check.rows as u64),
            w.done.load(Ordering::Relaxed),
            w.failed.load(Ordering::Relaxed),
        )
    }
}

/// The signed-in staff member allowed to import, and the upload `raw` names (theirs, or any
/// for an admin); else the answer: sign-in, 403 or 404.
async fn signed_in_job(
    state: &AppState,
    jobs: &Jobs,
    headers: &HeaderMap,
    raw: &str,
) -> Result<(Staff, Arc<Job>), Response> {
    let staff = require(state, headers, Scope::Issue, true).await?;
    let job = jobs
        .get(raw, &staff)
        .map_err(|e| crate::html::error(headers, e))?;
    Ok((staff, job))
}

/// The uploads of this instance.
#[derive(Default)]
pub(super) struct Jobs(Mutex<HashMap<Uuid, Arc<Job>>>);

impl Jobs {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, Arc<Job>>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn insert(&self, job: Job) -> Uuid {
        let id = Uuid::new_v4();
        let mut jobs = self.lock();
        let hour_ago = crate::program::now() - chrono::Duration::hours(1);
        // A running import stays (its page shows its progress); others go after an hour.
        jobs.retain(|_, j| j.created_at > hour_ago || j.running());
        while jobs.len() >= MAX_JOBS {
            let oldest = jobs
                .iter()
                .filter(|(_, j)| !j.running())
                .min_by_key(|(_, j)| j.created_at)
                .map(|(id, _)| *id);
            match oldest {
                Some(o) => jobs.remove(&o),
                // Every slot runs an import: this upload waits for none of them.
                None => break,
            };
        }
        jobs.insert(id, Arc::new(job));
        id
    }

    /// The job `raw` names, if this staff member uploaded it (or is an admin).
    fn get(&self, raw: &str, staff: &Staff) -> Result<Arc<Job>, AppError> {
        let missing = || {
            AppError::NotFound(
                "no such import here: uploads are kept an hour, on the instance that took them"
                    .into(),
            )
        };
        let id = Uuid::parse_str(raw).map_err(|_| missing())?;
        let job = self.lock().get(&id).cloned().ok_or_else(missing)?;
        if job.staff_id != staff.session.staff.id && !staff.may(Scope::Admin) {
            return Err(missing());
        }
        Ok(job)
    }
}

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/console/import",
            get(upload_form)
                .post(upload)
                .layer(DefaultBodyLimit::max(MAX_UPLOAD)),
        )
        .route("/console/import/{job}", get(job_page))
        .route("/console/import/{job}/run", post(run))
        .route("/console/import/{job}/progress", get(progress))
        .route("/console/import/{job}/report.csv", get(report_csv))
        .layer(Extension(Arc::new(Jobs::default())))
}

fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Mentors => "mentors",
        Kind::People => "people",
        Kind::Closings => "closings",
    }
}

fn import_page(
    staff: &Staff,
    stage: &'static str,
    status: StatusCode,
    fill: impl FnOnce(&mut ImportPage),
) -> Response {
    let mut p = ImportPage {
        nav: staff.nav("import"),
        stage,
        kind: "mentors".into(),
        job: String::new(),
        file: String::new(),
        check: Check::default(),
        total: 0,
        done: 0,
        failed: 0,
        created: 0,
        existing: 0,
        bad_rows: vec![],
        error: None,
    };
    fill(&mut p);
    private(page(status, &p))
}

async fn upload_form(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match require(&state, &headers, Scope::Issue, true).await {
        Ok(staff) => import_page(&staff, "upload", StatusCode::OK, |_| {}),
        Err(res) => res,
    }
}

/// The fields of the upload form: the CSRF token, the kind, the file's name and bytes.
struct Upload {
    csrf: String,
    kind: Option<String>,
    file: Option<(String, Vec<u8>)>,
}

async fn read_upload(req: Request) -> Result<Upload, AppError> {
    let mut multipart = Multipart::from_request(req, &())
        .await
        .map_err(|e| match e.status() {
            StatusCode::PAYLOAD_TOO_LARGE => crate::limits::too_large(MAX_UPLOAD),
            StatusCode::UNSUPPORTED_MEDIA_TYPE | StatusCode::BAD_REQUEST => {
                AppError::UnsupportedMediaType(
                    "this form takes multipart/form-data with a file".into(),
                )
            }
            _ => AppError::BadRequest(format!("could not read the upload: {}", e.body_text())),
        })?;
    let mut upload = Upload {
        csrf: String::new(),
        kind: None,
        file: None,
    };
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(crate::limits::too_large(MAX_UPLOAD))
            }
            Err(e) => {
                return Err(AppError::BadRequest(format!(
                    "could not read the upload: {}",
                    e.body_text()
                )))
            }
        };
        let name = field.name().unwrap_or("").to_owned();
        let file_name = field.file_name().map(str::to_owned);
        let bytes = field.bytes().await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                crate::limits::too_large(MAX_UPLOAD)
            } else {
                AppError::BadRequest(format!("could not read the upload: {}", e.body_text()))
            }
        })?;
        match name.as_str() {
            "csrf" => upload.csrf = String::from_utf8_lossy(&bytes).into_owned(),
            "kind" => upload.kind = Some(String::from_utf8_lossy(&bytes).into_owned()),
            "file" => {
                upload.file = Some((
                    file_name.unwrap_or_else(|| "upload.csv".into()),
                    bytes.to_vec(),
                ))
            }
            _ => {}
        }
    }
    Ok(upload)
}

async fn upload(
    State(state): State<AppState>,
    Extension(jobs): Extension<Arc<Jobs>>,
    req: Request,
) -> Response {
    let headers = req.headers().clone();
    let staff = match require(&state, &headers, Scope::Issue, false).await {
        Ok(s) => s,
        Err(res) => return res,
    };
    let refused = |staff: &Staff, e: AppError| {
        let status = e.status();
        staff.audited(import_page(staff, "upload", status, |p| {
            p.error = Some(e.to_string())
        }))
    };
    let upload = match read_upload(req).await {
        Ok(u) => u,
        Err(e) => return refused(&staff, e),
    };
    if !crate::holder::csrf_matches(&staff.csrf(), &upload.csrf) {
        let e = AppError::Forbidden(
            "This form's security token is missing or wrong, so nothing was changed. Go back, \
             reload the page and try again."
                .into(),
        );
        return staff.audited(crate::html::error(&headers, e));
    }
    let kind = match upload.kind.as_deref() {
        Some("mentors") => Kind::Mentors,
        Some("people") => Kind::People,
        Some("closings") => Kind::Closings,
        _ => {
            return refused(
                &staff,
                AppError::invalid("kind", "kind must be mentors, people or closings"),
            )
        }
    };
    let Some((file, bytes)) = upload.file.filter(|(_, b)| !b.is_empty()) else {
        return refused(
            &staff,
            AppError::invalid("file", "choose a CSV file to upload"),
        );
    };
    let check = import::check(kind, &bytes);
    let status = if check.file_error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let shown = check.clone();
    let id = jobs.insert(Job {
        kind,
        file: file.clone(),
        bytes,
        staff_id: staff.session.staff.id,
        created_at: crate::program::now(),
        check,
        watch: Watch::default(),
        started: Default::default(),
        outcome: Mutex::new(None),
    });
    staff.audited(import_page(&staff, "check", status, |p| {
        p.kind = kind_name(kind).into();
        p.job = id.to_string();
        p.file = file;
        p.check = shown;
    }))
}

async fn run(
    State(state): State<AppState>,
    Extension(jobs): Extension<Arc<Jobs>>,
    ConsolePath(raw): ConsolePath,
    req: Request,
) -> Response {
    let form = match read_form(&state, req, Scope::Issue).await {
        Ok(f) => f,
        Err(res) => return res,
    };
    let job = match jobs.get(&raw, &form.staff) {
        Ok(j) => j,
        Err(e) => return form.staff.audited(crate::html::error(&form.headers, e)),
    };
    if job.check.file_error.is_some() {
        let e = AppError::rule("this file's header is wrong; nothing can be imported from it");
        return form.staff.audited(crate::html::error(&form.headers, e));
    }
    // Runs once: a second submit (or a reload) only shows the progress.
    if !job.started.swap(true, Ordering::SeqCst) {
        let job = job.clone();
        let store = state.store.clone();
        tokio::spawn(async move {
            let options = import::Options {
                format: import::Format::Csv,
                progress: import::ProgressMode::Quiet,
            };
            let label = job.file.clone();
            let result = import::run_bytes(
                &*store,
                job.kind,
                &job.bytes,
                label,
                options,
                Some(&job.watch),
            )
            .await
            .map_err(|e| format!("{e:#}"));
            if let Err(e) = &result {
                tracing::warn!(error = %e, "a console import stopped");
            }
            *job.outcome.lock().unwrap_or_else(|e| e.into_inner()) = Some(result);
        });
    }
    form.staff
        .audited(Redirect::to(&format!("/console/import/{raw}")).into_response())
}

async fn job_page(
    State(state): State<AppState>,
    Extension(jobs): Extension<Arc<Jobs>>,
    headers: HeaderMap,
    ConsolePath(raw): ConsolePath,
) -> Response {
    let (staff, job) = match signed_in_job(&state, &jobs, &headers, &raw).await {
        Ok(x) => x,
        Err(res) => return res,
    };
    let outcome = job.outcome();
    let (total, done, failed) = job.counts();
    match outcome {
        None => import_page(&staff, "running", StatusCode::OK, |p| {
            p.job = raw.clone();
            p.file = job.file.clone();
            p.kind = kind_name(job.kind).into();
            (p.total, p.done, p.failed) = (total, done, failed);
        }),
        Some(result) => import_page(&staff, "done", StatusCode::OK, |p| {
            p.job = raw.clone();
            p.file = job.file.clone();
            p.kind = kind_name(job.kind).into();
            p.total = total;
            match result {
                Ok(report) => {
                    p.created = report.created;
                    p.existing = report.existing;
                    p.bad_rows = report.failed.into_iter().map(|f| (f.line, f.reason)).collect();
                }
                Err(e) => p.error = Some(format!("The import stopped: {e}. Rows before it are stored; run the file again to finish.")),
            }
        }),
    }
}

async fn progress(
    State(state): State<AppState>,
    Extension(jobs): Extension<Arc<Jobs>>,
    headers: HeaderMap,
    ConsolePath(raw): ConsolePath,
) -> Response {
    let (_, job) = match signed_in_job(&state, &jobs, &headers, &raw).await {
        Ok(x) => x,
        Err(res) => return res,
    };
    let (total, done, failed) = job.counts();
    let mut res = Json(serde_json::json!({
        "total": total,
        "done": done,
        "failed": failed,
        "finished": job.outcome().is_some(),
    }))
    .into_response();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

async fn report_csv(
    State(state): State<AppState>,
    Extension(jobs): Extension<Arc<Jobs>>,
    headers: HeaderMap,
    ConsolePath(raw): ConsolePath,
) -> Response {
    let (_, job) = match signed_in_job(&state, &jobs, &headers, &raw).await {
        Ok(x) => x,
        Err(res) => return res,
    };
    let outcome = job.outcome();
    let Some(Ok(report)) = outcome else {
        return crate::html::error(
            &headers,
            AppError::Conflict("the import has not finished; its report is not ready".into()),
        );
    };
    let mut out = csv::Writer::from_writer(Vec::new());
    let written = (|| {
        out.write_record(["line", "outcome", "reason"])?;
        for f in &report.failed {
            out.write_record([f.line.to_string().as_str(), "failed", f.reason.as_str()])?;
        }
        out.write_record([
            "",
            "summary",
            &format!("{} rows: {}", report.rows, report.summary()),
        ])?;
        out.into_inner()
            .map_err(|e| csv::Error::from(e.into_error()))
    })();
    let body = match written {
        Ok(b) => b,
        Err(e) => return crate::html::error(&headers, AppError::Internal(e.into())),
    };
    let stem: String = job
        .file
        .trim_end_matches(".csv")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || "-_".contains(*c))
        .collect();
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"{}-report.csv\"",
        if stem.is_empty() { "import" } else { &stem }
    )) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    res
}
