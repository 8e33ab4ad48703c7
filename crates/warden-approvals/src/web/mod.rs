//! `warden serve`: a small web app to review what waits.
//!
//! Server-rendered HTML (maud, which escapes every spliced value) with one
//! small script for live updates over server-sent events. Pages:
//!
//! | path | what |
//! |---|---|
//! | `/` | pending requests (full action, diff preview, approve / deny), latest decisions |
//! | `/requests/{id}` | one request and its session's timeline so far |
//! | `/sessions`, `/sessions/{id}` | sessions and their timelines |
//! | `/log` | the audit log with filters (session, tool, decision, since) |
//! | `/events` | server-sent events: the store revision, pushed when it changes |
//!
//! Security model:
//! - Listens on loopback unless [`ServeOptions::allow_non_loopback`]; the
//!   banner then carries a warning.
//! - Every page needs a login: the random token (printed at start, or
//!   given) is exchanged at `/login?token=...` for an `HttpOnly;
//!   SameSite=Strict` session cookie. The token is compared in constant time.
//! - Every POST needs that cookie, an `Origin` (or, failing that, `Referer`)
//!   equal to the server's own origin, and the session's CSRF value in the
//!   `csrf` form field (or `X-Warden-CSRF` header). Missing or wrong: 403.
//! - On loopback, the `Host` header must name the server (a defence
//!   against DNS rebinding).
//! - Strict Content-Security-Policy (scripts from the app only, no inline
//!   script), `X-Frame-Options: DENY`, `Cache-Control: no-store`.

mod assets;
mod audit_view;
mod auth;
mod pages;

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use axum::extract::{Form, Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use futures_util::StreamExt;
use serde::Deserialize;
use tokio::sync::{broadcast, watch};

pub use audit_view::{AuditLogView, AuditView, EventQuery, EventRow, SessionRow};

use crate::model::{Decision, Scope};
use crate::store::ApprovalStore;
use crate::{ApprovalError, SqliteApprovals};

use auth::Login;

/// The default address: loopback only.
pub const DEFAULT_BIND: &str = "127.0.0.1:8642";

/// How `warden serve` runs.
#[derive(Clone)]
pub struct ServeOptions {
    /// Where to listen (default `127.0.0.1:8642`; port 0 picks a free one).
    pub bind: SocketAddr,
    /// The login token; `None` draws a random 256-bit one.
    pub token: Option<String>,
    /// Required to listen on anything but a loopback address.
    pub allow_non_loopback: bool,
    /// The store (`.warden/audit.db`).
    pub db_path: PathBuf,
    /// The address people use to reach the app (links in the banner and in
    /// webhooks), e.g. behind a proxy; default `http://BIND`.
    pub public_url: Option<String>,
    /// Where session timelines and the audit log come from: by default the
    /// `warden-audit` log in the same file ([`AuditLogView`]); `None` shows a
    /// labelled placeholder in their place.
    pub audit: Option<Arc<dyn AuditView>>,
    /// How often the store is checked for changes to push (default 300 ms).
    pub poll_interval: Duration,
}

impl std::fmt::Debug for ServeOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServeOptions")
            .field("bind", &self.bind)
            .field("token", &self.token.as_ref().map(|_| "<set>"))
            .field("allow_non_loopback", &self.allow_non_loopback)
            .field("db_path", &self.db_path)
            .field("public_url", &self.public_url)
            .field("audit", &self.audit.is_some())
            .finish()
    }
}

impl ServeOptions {
    pub fn new(db_path: impl Into<PathBuf>) -> Self {
        let db_path = db_path.into();
        ServeOptions {
            audit: Some(Arc::new(AuditLogView::open_lazily(db_path.clone()))),
            bind: SocketAddr::from(([127, 0, 0, 1], 8642)),
            token: None,
            allow_non_loopback: false,
            db_path,
            public_url: None,
            poll_interval: Duration::from_millis(300),
        }
    }
}

/// A server running on its own thread (with its own tokio runtime).
#[derive(Debug)]
pub struct RunningServer {
    addr: SocketAddr,
    base_url: String,
    token: String,
    warning: Option<String>,
    shutdown: Option<watch::Sender<bool>>,
    thread: Option<JoinHandle<Result<(), ApprovalError>>>,
}

impl RunningServer {
    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The address links use (`http://127.0.0.1:PORT` or the public URL).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The login token.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The link that logs a browser in.
    pub fn login_url(&self) -> String {
        format!("{}/login?token={}", self.base_url, self.token)
    }

    /// The warning to show when listening beyond loopback.
    pub fn warning(&self) -> Option<&str> {
        self.warning.as_deref()
    }

    /// Stops accepting, closes live streams, and waits for the thread.
    pub fn shutdown(mut self) -> Result<(), ApprovalError> {
        self.stop()
    }

    /// Blocks until the server stops (it runs until shut down or failing).
    pub fn wait(mut self) -> Result<(), ApprovalError> {
        match self.thread.take() {
            Some(t) => join(t),
            None => Ok(()),
        }
    }

    fn stop(&mut self) -> Result<(), ApprovalError> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(true);
        }
        match self.thread.take() {
            Some(t) => join(t),
            None => Ok(()),
        }
    }
}

fn join(t: JoinHandle<Result<(), ApprovalError>>) -> Result<(), ApprovalError> {
    t.join().unwrap_or_else(|_| {
        Err(ApprovalError::Serve {
            context: "the server thread panicked".into(),
            source: std::io::Error::other("panic"),
        })
    })
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}

/// Opens the store named in `opts` and starts serving on a background
/// thread.
pub fn start(opts: ServeOptions) -> Result<RunningServer, ApprovalError> {
    let store = SqliteApprovals::open(&opts.db_path)?;
    start_with_store(opts, Arc::new(store))
}

/// [`start`] with a store of your choosing (another backend).
pub fn start_with_store(
    opts: ServeOptions,
    store: Arc<dyn ApprovalStore>,
) -> Result<RunningServer, ApprovalError> {
    let loopback = opts.bind.ip().is_loopback();
    if !loopback && !opts.allow_non_loopback {
        return Err(ApprovalError::NonLoopback { addr: opts.bind });
    }
    let token = match &opts.token {
        Some(t) if t.trim().len() < 16 => {
            return Err(ApprovalError::Invalid(
                "the web token must be at least 16 characters".into(),
            ))
        }
        Some(t) => t.trim().to_string(),
        None => crate::ids::secret()?,
    };
    let listener = TcpListener::bind(opts.bind).map_err(|e| ApprovalError::Serve {
        context: format!("cannot listen on {}", opts.bind),
        source: e,
    })?;
    let addr = listener.local_addr().map_err(|e| ApprovalError::Serve {
        context: "reading the bound address".into(),
        source: e,
    })?;
    listener
        .set_nonblocking(true)
        .map_err(|e| ApprovalError::Serve {
            context: "configuring the listener".into(),
            source: e,
        })?;
    let base_url = opts
        .public_url
        .clone()
        .map(|u| u.trim_end_matches('/').to_string())
        .unwrap_or_else(|| format!("http://{addr}"));
    let warning = (!loopback).then(|| {
        format!(
            "WARNING: warden serve listens on {addr}, beyond loopback: anyone who can reach this \
             address and learns the token can approve agent actions. There is no TLS here; put it \
             behind an HTTPS proxy or an SSH tunnel."
        )
    });
    let allowed_hosts = auth::allowed_hosts(addr, loopback, opts.public_url.as_deref());
    let (rev_tx, _) = broadcast::channel(64);
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let app = Arc::new(App {
        store,
        audit: opts.audit.clone(),
        auth: auth::Auth::new(token.clone(), allowed_hosts, base_url.clone()),
        revs: rev_tx,
        shutdown: shutdown_rx.clone(),
    });
    let poll = opts.poll_interval.max(Duration::from_millis(50));
    let thread = std::thread::Builder::new()
        .name("warden-serve".into())
        .spawn(move || run(app, listener, poll, shutdown_rx))
        .map_err(|e| ApprovalError::Serve {
            context: "starting the server thread".into(),
            source: e,
        })?;
    Ok(RunningServer {
        addr,
        base_url,
        token,
        warning,
        shutdown: Some(shutdown_tx),
        thread: Some(thread),
    })
}

/// `warden serve`: starts, writes the banner (address, login link, and the
/// warning when not on loopback) to `banner`, then serves until the process
/// ends.
pub fn serve(opts: ServeOptions, banner: &mut dyn std::io::Write) -> Result<(), ApprovalError> {
    let server = start(opts)?;
    if let Some(w) = server.warning() {
        writeln!(banner, "{w}")?;
    }
    writeln!(banner, "warden serve: listening on {}", server.base_url())?;
    writeln!(banner, "open this link to log in (it holds the token):")?;
    writeln!(banner, "  {}", server.login_url())?;
    banner.flush()?;
    server.wait()
}

pub(crate) struct App {
    pub(crate) store: Arc<dyn ApprovalStore>,
    pub(crate) audit: Option<Arc<dyn AuditView>>,
    pub(crate) auth: auth::Auth,
    revs: broadcast::Sender<u64>,
    shutdown: watch::Receiver<bool>,
}

type Shared = Arc<App>;

fn run(
    app: Shared,
    listener: TcpListener,
    poll: Duration,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), ApprovalError> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .thread_name("warden-serve-rt")
        .build()
        .map_err(|e| ApprovalError::Serve {
            context: "starting the async runtime".into(),
            source: e,
        })?;
    rt.block_on(async move {
        let listener =
            tokio::net::TcpListener::from_std(listener).map_err(|e| ApprovalError::Serve {
                context: "adopting the listener".into(),
                source: e,
            })?;
        tokio::spawn(watch_revisions(app.clone(), poll));
        let router = router(app);
        axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                let _ = shutdown.wait_for(|stop| *stop).await;
            })
            .await
            .map_err(|e| ApprovalError::Serve {
                context: "serving".into(),
                source: e,
            })
    })
}

/// Polls the store's revision and broadcasts changes to the live pages.
/// Hooks write from other processes, so polling (cheap: one indexed
/// `max()`) is what sees them.
async fn watch_revisions(app: Shared, poll: Duration) {
    let mut last = None;
    let mut shutdown = app.shutdown.clone();
    loop {
        let store = app.store.clone();
        if let Ok(Ok(rev)) = tokio::task::spawn_blocking(move || store.revision()).await {
            if last != Some(rev) {
                last = Some(rev);
                let _ = app.revs.send(rev);
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(poll) => {}
            _ = shutdown.wait_for(|s| *s) => return,
        }
    }
}

fn router(app: Shared) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/fragments/pending", get(pending_fragment))
        .route("/requests/{id}", get(request_page))
        .route("/requests/{id}/approve", post(approve))
        .route("/requests/{id}/deny", post(deny))
        .route("/sessions", get(sessions_page))
        .route("/sessions/{id}", get(session_page))
        .route("/log", get(log_page))
        .route("/events", get(events))
        .route("/login", get(auth::login))
        .route("/logout", post(auth::logout))
        .route("/static/app.js", get(assets::script))
        .route("/static/style.css", get(assets::style))
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            auth::guard,
        ))
        .layer(axum::middleware::from_fn(security_headers))
        .with_state(app)
}

async fn security_headers(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
             connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// Runs a store call off the async threads.
async fn blocking<T: Send + 'static>(
    app: &Shared,
    f: impl FnOnce(&dyn ApprovalStore) -> Result<T, ApprovalError> + Send + 'static,
) -> Result<T, ApprovalError> {
    let store = app.store.clone();
    tokio::task::spawn_blocking(move || f(store.as_ref()))
        .await
        .unwrap_or_else(|e| Err(ApprovalError::store("running a store call", e)))
}

async fn audit_call<T: Send + 'static>(
    app: &Shared,
    f: impl FnOnce(&dyn AuditView) -> Result<T, ApprovalError> + Send + 'static,
) -> Option<Result<T, ApprovalError>> {
    let audit = app.audit.clone()?;
    Some(
        tokio::task::spawn_blocking(move || f(audit.as_ref()))
            .await
            .unwrap_or_else(|e| Err(ApprovalError::Audit(e.to_string()))),
    )
}

fn error_response(e: &ApprovalError, login: Option<&Login>) -> Response {
    let status = match e {
        ApprovalError::NotFound { .. } => StatusCode::NOT_FOUND,
        ApprovalError::NotPending { .. } => StatusCode::CONFLICT,
        ApprovalError::Invalid(_) => StatusCode::BAD_REQUEST,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    (status, pages::message_page(status, &e.to_string(), login)).into_response()
}

async fn not_found(login: Option<Extension<Login>>) -> Response {
    (
        StatusCode::NOT_FOUND,
        pages::message_page(
            StatusCode::NOT_FOUND,
            "no such page",
            login.as_ref().map(|l| &l.0),
        ),
    )
        .into_response()
}

async fn index(State(app): State<Shared>, Extension(login): Extension<Login>) -> Response {
    let data = blocking(&app, |s| Ok((s.pending()?, s.recent(20)?, s.revision()?))).await;
    match data {
        Ok((pending, recent, rev)) => pages::index(&pending, &recent, rev, &login).into_response(),
        Err(e) => error_response(&e, Some(&login)),
    }
}

async fn pending_fragment(
    State(app): State<Shared>,
    Extension(login): Extension<Login>,
) -> Response {
    match blocking(&app, |s| s.pending()).await {
        Ok(pending) => pages::pending_list(&pending, &login).into_response(),
        Err(e) => error_response(&e, Some(&login)),
    }
}

async fn request_page(
    State(app): State<Shared>,
    Extension(login): Extension<Login>,
    Path(id): Path<String>,
) -> Response {
    let id2 = id.clone();
    let data = blocking(&app, move |s| {
        let r = s.get(&id2)?.ok_or(ApprovalError::NotFound { id: id2 })?;
        let siblings = s.for_session(&r.session_id)?;
        let rules = s.session_rules(&r.session_id)?;
        Ok((r, siblings, rules, s.revision()?))
    })
    .await;
    let (req, siblings, rules, rev) = match data {
        Ok(d) => d,
        Err(e) => return error_response(&e, Some(&login)),
    };
    let session = req.session_id.clone();
    let timeline = audit_call(&app, move |a| {
        a.events(&EventQuery {
            session: Some(session),
            limit: 500,
            ..EventQuery::default()
        })
    })
    .await;
    pages::request_page(&req, &siblings, &rules, timeline, rev, &login).into_response()
}

#[derive(Debug, Deserialize)]
struct ApproveForm {
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    scope: Option<String>,
}

#[derive(Debug, Deserialize)]
struct DenyForm {
    #[serde(default)]
    reason: String,
}

async fn approve(
    State(app): State<Shared>,
    Extension(login): Extension<Login>,
    Path(id): Path<String>,
    Form(form): Form<ApproveForm>,
) -> Response {
    let scope = match form.scope.as_deref() {
        None | Some("") | Some("action") => Scope::ThisAction,
        Some("session") => Scope::SameForSession,
        Some(other) => {
            return error_response(
                &ApprovalError::Invalid(format!("unknown scope {other:?}")),
                Some(&login),
            )
        }
    };
    let decision = Decision::Approve {
        by: login.reviewer(),
        reason: form.reason.filter(|r| !r.trim().is_empty()),
        scope,
    };
    decide(app, login, id, decision).await
}

async fn deny(
    State(app): State<Shared>,
    Extension(login): Extension<Login>,
    Path(id): Path<String>,
    Form(form): Form<DenyForm>,
) -> Response {
    let decision = Decision::Deny {
        by: login.reviewer(),
        reason: form.reason,
    };
    decide(app, login, id, decision).await
}

async fn decide(app: Shared, login: Login, id: String, decision: Decision) -> Response {
    let id2 = id.clone();
    match blocking(&app, move |s| s.decide(&id2, decision)).await {
        Ok(d) => {
            tracing::info!(
                request = %d.request.id,
                status = d.request.status.name(),
                rule = ?d.rule.as_ref().map(|r| &r.id),
                "decision recorded from the web app"
            );
            Redirect::to(&format!("/requests/{}", d.request.id)).into_response()
        }
        Err(e) => error_response(&e, Some(&login)),
    }
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct LogFilter {
    #[serde(default)]
    pub(crate) session: Option<String>,
    #[serde(default)]
    pub(crate) tool: Option<String>,
    #[serde(default)]
    pub(crate) decision: Option<String>,
    #[serde(default)]
    pub(crate) since: Option<String>,
}

async fn sessions_page(State(app): State<Shared>, Extension(login): Extension<Login>) -> Response {
    let approvals = match blocking(&app, |s| s.recent(200)).await {
        Ok(a) => a,
        Err(e) => return error_response(&e, Some(&login)),
    };
    let sessions = audit_call(&app, |a| a.sessions(200)).await;
    pages::sessions_page(&approvals, sessions, &login).into_response()
}

async fn session_page(
    State(app): State<Shared>,
    Extension(login): Extension<Login>,
    Path(id): Path<String>,
) -> Response {
    let id2 = id.clone();
    let data = blocking(&app, move |s| {
        Ok((s.for_session(&id2)?, s.session_rules(&id2)?, s.revision()?))
    })
    .await;
    let (approvals, rules, rev) = match data {
        Ok(d) => d,
        Err(e) => return error_response(&e, Some(&login)),
    };
    let id3 = id.clone();
    let timeline = audit_call(&app, move |a| {
        a.events(&EventQuery {
            session: Some(id3),
            limit: 1000,
            ..EventQuery::default()
        })
    })
    .await;
    pages::session_page(&id, &approvals, &rules, timeline, rev, &login).into_response()
}

async fn log_page(
    State(app): State<Shared>,
    Extension(login): Extension<Login>,
    Query(filter): Query<LogFilter>,
) -> Response {
    let query = match EventQuery::from_filter(&filter) {
        Ok(q) => q,
        Err(e) => return error_response(&e, Some(&login)),
    };
    let events = audit_call(&app, move |a| a.events(&query)).await;
    pages::log_page(&filter, events, &login).into_response()
}

async fn events(State(app): State<Shared>) -> Response {
    let current = blocking(&app, |s| s.revision()).await.unwrap_or(0);
    let first = futures_util::stream::once(async move { current });
    let updates = tokio_stream::wrappers::BroadcastStream::new(app.revs.subscribe())
        .filter_map(|r| async move { r.ok() });
    let mut shutdown = app.shutdown.clone();
    // Live streams end when the server stops, so a graceful shutdown does
    // not wait on open pages.
    let stop = async move {
        let _ = shutdown.wait_for(|s| *s).await;
    };
    let stream = first.chain(updates).take_until(stop).map(|rev| {
        Ok::<_, std::convert::Infallible>(Event::default().event("rev").data(rev.to_string()))
    });
    Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}
