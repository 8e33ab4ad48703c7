//! Login token, session cookie, CSRF and origin checks.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use serde::Deserialize;
use subtle::ConstantTimeEq;

use super::{pages, Shared};

/// Logins kept in memory; the oldest goes first beyond this.
const MAX_LOGINS: usize = 256;
/// POST bodies are small forms.
const MAX_FORM_BYTES: usize = 64 * 1024;

/// A logged-in browser.
#[derive(Debug, Clone)]
pub(crate) struct Login {
    pub(crate) csrf: String,
    /// A short public label, so decisions say which browser made them.
    pub(crate) label: String,
    created: Instant,
}

impl Login {
    pub(crate) fn reviewer(&self) -> String {
        format!("web:{}", self.label)
    }
}

pub(crate) struct Auth {
    token: String,
    allowed_hosts: Option<Vec<String>>,
    base_origin: String,
    cookie_name: String,
    logins: Mutex<HashMap<String, Login>>,
}

fn eq_secret(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

fn origin_of(url: &str) -> String {
    let lower = url.trim().to_ascii_lowercase();
    let (scheme, rest) = lower.split_once("://").unwrap_or(("http", lower.as_str()));
    let host = rest.split('/').next().unwrap_or("");
    format!("{scheme}://{host}")
}

/// Host header values that name this server. `None`: any (non-loopback
/// without a public URL, where the name people use is unknown).
pub(crate) fn allowed_hosts(
    addr: SocketAddr,
    loopback: bool,
    public_url: Option<&str>,
) -> Option<Vec<String>> {
    let public = public_url.map(|u| {
        origin_of(u)
            .split_once("://")
            .map(|(_, h)| h.to_string())
            .unwrap_or_default()
    });
    if !loopback && public.is_none() {
        return None;
    }
    let port = addr.port();
    let mut hosts = vec![
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("[::1]:{port}"),
        addr.to_string().to_ascii_lowercase(),
    ];
    hosts.extend(public);
    Some(hosts)
}

impl Auth {
    pub(crate) fn new(token: String, allowed_hosts: Option<Vec<String>>, base_url: String) -> Self {
        let port = base_url
            .rsplit(':')
            .next()
            .and_then(|p| p.trim_end_matches('/').parse::<u16>().ok())
            .unwrap_or(0);
        Auth {
            token,
            allowed_hosts,
            base_origin: origin_of(&base_url),
            // Cookies are not isolated by port: two servers on one host
            // must not overwrite each other's login.
            cookie_name: format!("warden_session_{port}"),
            logins: Mutex::new(HashMap::new()),
        }
    }

    fn login_for(&self, headers: &HeaderMap) -> Option<Login> {
        let sid = headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|kv| kv.trim().split_once('='))
            .find(|(k, _)| *k == self.cookie_name)
            .map(|(_, v)| v.to_string())?;
        let logins = self.logins.lock().ok()?;
        // Constant-time over each candidate: the cookie is a bearer secret.
        logins
            .iter()
            .find(|(k, _)| eq_secret(k, &sid))
            .map(|(_, l)| l.clone())
    }

    fn new_login(&self) -> Result<(String, Login), crate::ApprovalError> {
        let sid = crate::ids::secret()?;
        let label = crate::ids::request_id()?[..6].to_string();
        let login = Login {
            csrf: crate::ids::secret()?,
            label,
            created: Instant::now(),
        };
        let mut logins = self
            .logins
            .lock()
            .map_err(|_| crate::ApprovalError::store("recording a login", "lock poisoned"))?;
        if logins.len() >= MAX_LOGINS {
            if let Some(oldest) = logins
                .iter()
                .min_by_key(|(_, l)| l.created)
                .map(|(k, _)| k.clone())
            {
                logins.remove(&oldest);
            }
        }
        logins.insert(sid.clone(), login.clone());
        Ok((sid, login))
    }

    fn host_ok(&self, headers: &HeaderMap) -> bool {
        let Some(list) = &self.allowed_hosts else {
            return true;
        };
        headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .map(|h| list.iter().any(|a| a.eq_ignore_ascii_case(h.trim())))
            .unwrap_or(false)
    }

    /// The request comes from one of our own pages: its `Origin` (or
    /// `Referer`, for the rare browser that omits Origin) is this server.
    fn origin_ok(&self, headers: &HeaderMap) -> bool {
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .map(|h| h.trim().to_ascii_lowercase());
        let mut ours = vec![self.base_origin.clone()];
        if let Some(h) = &host {
            ours.push(format!("http://{h}"));
            ours.push(format!("https://{h}"));
        }
        if let Some(origin) = headers.get(header::ORIGIN) {
            let Ok(o) = origin.to_str() else { return false };
            let o = o.trim().to_ascii_lowercase();
            return ours.contains(&o);
        }
        if let Some(referer) = headers.get(header::REFERER) {
            let Ok(r) = referer.to_str() else {
                return false;
            };
            let r = r.trim().to_ascii_lowercase();
            return ours.iter().any(|o| r.starts_with(&format!("{o}/")));
        }
        false
    }
}

fn forbidden(why: &str) -> Response {
    (
        StatusCode::FORBIDDEN,
        pages::message_page(StatusCode::FORBIDDEN, why, None),
    )
        .into_response()
}

/// Runs in front of every route.
pub(crate) async fn guard(State(app): State<Shared>, mut req: Request, next: Next) -> Response {
    if !app.auth.host_ok(req.headers()) {
        return forbidden("unexpected Host header (this server answers only to its own address)");
    }
    let path = req.uri().path().to_string();
    if path == "/login" || path.starts_with("/static/") {
        return next.run(req).await;
    }
    let safe = matches!(*req.method(), Method::GET | Method::HEAD);
    let Some(login) = app.auth.login_for(req.headers()) else {
        if safe {
            let next_path = req
                .uri()
                .path_and_query()
                .map(|p| p.as_str().to_string())
                .unwrap_or_else(|| "/".into());
            return (
                StatusCode::UNAUTHORIZED,
                pages::login_page(&next_path, None),
            )
                .into_response();
        }
        return forbidden("not logged in: open the login link printed by `warden serve`");
    };
    if !safe {
        if !app.auth.origin_ok(req.headers()) {
            return forbidden("cross-site request refused (Origin does not match this server)");
        }
        let header_csrf = req
            .headers()
            .get("x-warden-csrf")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let (parts, body) = req.into_parts();
        let bytes = match axum::body::to_bytes(body, MAX_FORM_BYTES).await {
            Ok(b) => b,
            Err(_) => return forbidden("request body too large or unreadable"),
        };
        let form_csrf = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes)
            .ok()
            .and_then(|pairs| pairs.into_iter().find(|(k, _)| k == "csrf").map(|(_, v)| v));
        let presented = header_csrf.or(form_csrf);
        match presented {
            Some(v) if eq_secret(&v, &login.csrf) => {}
            _ => return forbidden("missing or wrong CSRF value; reload the page and try again"),
        }
        req = Request::from_parts(parts, Body::from(bytes));
    }
    req.extensions_mut().insert(login);
    next.run(req).await
}

#[derive(Debug, Deserialize)]
pub(crate) struct LoginQuery {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    next: Option<String>,
}

/// Only a local path may follow a login (no open redirect).
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.contains('\\')
                && !n.chars().any(char::is_control) =>
        {
            n.to_string()
        }
        _ => "/".to_string(),
    }
}

pub(crate) async fn login(State(app): State<Shared>, Query(q): Query<LoginQuery>) -> Response {
    let next = safe_next(q.next.as_deref());
    let Some(token) = q.token else {
        return pages::login_page(&next, None).into_response();
    };
    if !eq_secret(token.trim(), &app.auth.token) {
        return (
            StatusCode::FORBIDDEN,
            pages::login_page(&next, Some("wrong token")),
        )
            .into_response();
    }
    let (sid, _login) = match app.auth.new_login() {
        Ok(x) => x,
        Err(e) => return super::error_response(&e, None),
    };
    let cookie = format!(
        "{}={sid}; HttpOnly; SameSite=Strict; Path=/",
        app.auth.cookie_name
    );
    let mut res = pages::logged_in_page(&next).into_response();
    match HeaderValue::from_str(&cookie) {
        Ok(v) => {
            res.headers_mut().insert(header::SET_COOKIE, v);
            res
        }
        Err(_) => forbidden("cannot set the session cookie"),
    }
}

pub(crate) async fn logout(
    State(app): State<Shared>,
    Extension(login): Extension<Login>,
) -> Response {
    if let Ok(mut logins) = app.auth.logins.lock() {
        logins.retain(|_, l| l.csrf != login.csrf);
    }
    let mut res = pages::login_page("/", Some("logged out")).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0",
        app.auth.cookie_name
    )) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_must_be_a_local_path() {
        assert_eq!(safe_next(Some("/requests/abc")), "/requests/abc");
        assert_eq!(safe_next(Some("//evil.example/x")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(Some("/\\evil")), "/");
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn origins_are_compared_on_scheme_and_host() {
        assert_eq!(
            origin_of("http://127.0.0.1:8642/x/y"),
            "http://127.0.0.1:8642"
        );
        assert_eq!(
            origin_of("HTTPS://Warden.Example"),
            "https://warden.example"
        );
    }
}
