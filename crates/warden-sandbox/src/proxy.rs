//! The domain-allowlisting proxy that runs *outside* the sandbox.
//!
//! The sandbox has only a loopback interface. [`run`](crate::run) creates a TCP
//! listener on `127.0.0.1` *inside* the sandbox's network namespace, hands the
//! listening socket out to the calling process, and serves it with [`spawn`]
//! there: so the proxy sees the host's network while the sandbox sees only the
//! proxy. No code runs inside the sandbox to bridge the two.
//!
//! The proxy speaks HTTP `CONNECT` (for HTTPS and any TLS) and plain HTTP with an
//! absolute-form request target (`GET http://host/path`), one request per
//! connection. Every attempt, allowed or not, is reported to the observer.
//!
//! It can also be used alone:
//!
//! ```no_run
//! use std::sync::Arc;
//! use warden_sandbox::proxy::{spawn, Allowlist};
//!
//! let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
//! let allow = Allowlist::new(&["api.anthropic.com".to_string(), "*.github.com".to_string()])?;
//! let handle = spawn(listener, allow, Arc::new(|a: &warden_sandbox::proxy::ProxyAttempt| {
//!     eprintln!("{} {}:{} allowed={}", a.method, a.host, a.port, a.allowed);
//! }))?;
//! handle.stop();
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::io::{self, Read, Write};
use std::net::{IpAddr, Shutdown, TcpListener, TcpStream, ToSocketAddrs};
use std::os::fd::AsFd;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use crate::{ProxyObserver, SandboxError};

/// Largest request head the proxy reads.
const MAX_HEAD: usize = 16 * 1024;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const HEAD_TIMEOUT: Duration = Duration::from_secs(30);

/// One connection attempt through the proxy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyAttempt {
    /// `CONNECT`, `GET`, ... (or `?` when the request could not be parsed).
    pub method: String,
    /// The host asked for (lower-cased), empty when unparseable.
    pub host: String,
    /// The port asked for.
    pub port: u16,
    /// Whether the allowlist let it through.
    pub allowed: bool,
    /// Why, or what went wrong after the decision.
    pub detail: String,
}

/// Domain patterns: `example.com` (exactly), `*.example.com` (subdomains only),
/// `.example.com` (the domain and its subdomains). IP literals match only when
/// listed literally. Matching ignores case and a trailing dot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allowlist {
    patterns: Vec<Pattern>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Pattern {
    Exact(String),
    Subdomains(String),
    DomainAndSubdomains(String),
}

fn normalize_host(h: &str) -> String {
    let h = h.trim().trim_end_matches('.').to_ascii_lowercase();
    h.strip_prefix('[')
        .and_then(|s| s.strip_suffix(']'))
        .map(str::to_string)
        .unwrap_or(h)
}

fn valid_domain_chars(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | ':' | '_'))
}

impl Allowlist {
    /// Parse patterns; an empty or malformed pattern is an error (never "allow all").
    pub fn new(patterns: &[String]) -> Result<Self, SandboxError> {
        let mut out = Vec::new();
        for raw in patterns {
            let p = raw.trim().to_ascii_lowercase();
            let p = p.trim_end_matches('.');
            let pat = if let Some(rest) = p.strip_prefix("*.") {
                Pattern::Subdomains(rest.to_string())
            } else if let Some(rest) = p.strip_prefix('.') {
                Pattern::DomainAndSubdomains(rest.to_string())
            } else {
                Pattern::Exact(normalize_host(p))
            };
            let body = match &pat {
                Pattern::Exact(s) | Pattern::Subdomains(s) | Pattern::DomainAndSubdomains(s) => s,
            };
            if !valid_domain_chars(body) || body.contains('*') || body.starts_with('.') {
                return Err(SandboxError::InvalidSpec(format!(
                    "bad domain pattern {raw:?}: use example.com, *.example.com or .example.com"
                )));
            }
            out.push(pat);
        }
        Ok(Allowlist { patterns: out })
    }

    /// Whether `host` may be reached.
    pub fn allows(&self, host: &str) -> bool {
        let host = normalize_host(host);
        if host.is_empty() {
            return false;
        }
        let is_ip = host.parse::<IpAddr>().is_ok();
        self.patterns.iter().any(|p| match p {
            Pattern::Exact(d) => *d == host,
            Pattern::Subdomains(d) => !is_ip && host.ends_with(&format!(".{d}")),
            Pattern::DomainAndSubdomains(d) => {
                !is_ip && (host == *d || host.ends_with(&format!(".{d}")))
            }
        })
    }
}

/// A running proxy; [`ProxyHandle::stop`] shuts the listener and joins the
/// accept loop (connections in flight finish on their own threads).
#[derive(Debug)]
pub struct ProxyHandle {
    listener: Arc<TcpListener>,
    thread: Option<JoinHandle<()>>,
}

impl ProxyHandle {
    /// Stop accepting connections.
    pub fn stop(mut self) {
        self.stop_inner();
    }

    fn stop_inner(&mut self) {
        // shutdown(2) on a listening socket wakes a blocked accept(2) with EINVAL.
        let _ = nix::sys::socket::shutdown(
            std::os::fd::AsRawFd::as_raw_fd(&self.listener.as_fd()),
            nix::sys::socket::Shutdown::Both,
        );
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for ProxyHandle {
    fn drop(&mut self) {
        self.stop_inner();
    }
}

/// Serve `listener` on a background thread until [`ProxyHandle::stop`].
pub fn spawn(
    listener: TcpListener,
    allowlist: Allowlist,
    observer: ProxyObserver,
) -> io::Result<ProxyHandle> {
    let listener = Arc::new(listener);
    let l2 = Arc::clone(&listener);
    let allowlist = Arc::new(allowlist);
    let thread = std::thread::Builder::new()
        .name("warden-proxy".into())
        .spawn(move || {
            for conn in l2.incoming() {
                let Ok(stream) = conn else {
                    break;
                };
                let allowlist = Arc::clone(&allowlist);
                let observer = Arc::clone(&observer);
                let _ = std::thread::Builder::new()
                    .name("warden-proxy-conn".into())
                    .spawn(move || handle(stream, &allowlist, &observer));
            }
        })?;
    Ok(ProxyHandle {
        listener,
        thread: Some(thread),
    })
}

struct Request {
    method: String,
    host: String,
    port: u16,
    /// For plain HTTP: the head to send upstream (origin-form, `Connection: close`).
    upstream_head: Option<Vec<u8>>,
    /// Request body length to forward (plain HTTP).
    body_len: u64,
}

fn respond(stream: &mut TcpStream, status: &str, msg: &str) {
    let body = format!("warden sandbox proxy: {msg}\n");
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.flush();
}

fn handle(mut client: TcpStream, allowlist: &Allowlist, observer: &ProxyObserver) {
    let _ = client.set_read_timeout(Some(HEAD_TIMEOUT));
    let (head_len, buf) = match read_head(&mut client) {
        Ok(x) => x,
        Err(e) => {
            observer(&ProxyAttempt {
                method: "?".into(),
                host: String::new(),
                port: 0,
                allowed: false,
                detail: format!("unreadable request: {e}"),
            });
            respond(&mut client, "400 Bad Request", "unreadable request");
            return;
        }
    };
    let req = match parse_request(&buf[..head_len]) {
        Ok(r) => r,
        Err(why) => {
            observer(&ProxyAttempt {
                method: "?".into(),
                host: String::new(),
                port: 0,
                allowed: false,
                detail: why.clone(),
            });
            respond(&mut client, "400 Bad Request", &why);
            return;
        }
    };
    let allowed = allowlist.allows(&req.host);
    let mut attempt = ProxyAttempt {
        method: req.method.clone(),
        host: req.host.clone(),
        port: req.port,
        allowed,
        detail: if allowed {
            "on the allowlist".into()
        } else {
            "not on the allowlist".into()
        },
    };
    if !allowed {
        observer(&attempt);
        respond(
            &mut client,
            "403 Forbidden",
            &format!("{} is not on the sandbox's domain allowlist", req.host),
        );
        return;
    }
    let upstream = match connect(&req.host, req.port) {
        Ok(s) => s,
        Err(e) => {
            attempt.detail = format!("on the allowlist; upstream connect failed: {e}");
            observer(&attempt);
            respond(&mut client, "502 Bad Gateway", "cannot reach upstream");
            return;
        }
    };
    observer(&attempt);
    let _ = client.set_read_timeout(None);
    let leftover = &buf[head_len..];
    match req.upstream_head {
        None => {
            if client
                .write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n")
                .is_err()
            {
                return;
            }
            let mut up = upstream;
            if !leftover.is_empty() && up.write_all(leftover).is_err() {
                return;
            }
            splice_both(client, up);
        }
        Some(head) => {
            let mut up = upstream;
            if up.write_all(&head).is_err() {
                return;
            }
            // Forward exactly the declared body, never a second request: a
            // pipelined request to another host must not ride this connection.
            let from_buf = leftover
                .len()
                .min(usize::try_from(req.body_len).unwrap_or(usize::MAX));
            if up.write_all(&leftover[..from_buf]).is_err() {
                return;
            }
            let rest = req.body_len.saturating_sub(from_buf as u64);
            if rest > 0 {
                let mut limited = (&client).take(rest);
                if io::copy(&mut limited, &mut up).is_err() {
                    return;
                }
            }
            let _ = io::copy(&mut up, &mut client);
            let _ = client.shutdown(Shutdown::Both);
        }
    }
}

fn read_head(stream: &mut TcpStream) -> io::Result<(usize, Vec<u8>)> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 2048];
    loop {
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "connection closed",
            ));
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            return Ok((pos + 4, buf));
        }
        if buf.len() > MAX_HEAD {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "request head too large",
            ));
        }
    }
}

/// Split `host:port` (with `[v6]:port`); `default_port` when no port is given.
fn split_host_port(s: &str, default_port: Option<u16>) -> Result<(String, u16), String> {
    let (host, port) = if let Some(rest) = s.strip_prefix('[') {
        let (h, after) = rest
            .split_once(']')
            .ok_or_else(|| format!("bad authority {s:?}"))?;
        (h.to_string(), after.strip_prefix(':'))
    } else {
        match s.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), Some(p)),
            None => (s.to_string(), None),
        }
    };
    let port = match port {
        Some(p) => p.parse::<u16>().map_err(|_| format!("bad port in {s:?}"))?,
        None => default_port.ok_or_else(|| format!("missing port in {s:?}"))?,
    };
    let host = normalize_host(&host);
    if host.is_empty() || !valid_domain_chars(&host) {
        return Err(format!("bad host in {s:?}"));
    }
    Ok((host, port))
}

fn parse_request(head: &[u8]) -> Result<Request, String> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut req = httparse::Request::new(&mut headers);
    match req.parse(head) {
        Ok(httparse::Status::Complete(_)) => {}
        Ok(httparse::Status::Partial) => return Err("incomplete request head".into()),
        Err(e) => return Err(format!("malformed request: {e}")),
    }
    let method = req.method.unwrap_or("").to_string();
    let target = req.path.unwrap_or("");
    if method == "CONNECT" {
        let (host, port) = split_host_port(target, None)?;
        return Ok(Request {
            method,
            host,
            port,
            upstream_head: None,
            body_len: 0,
        });
    }
    let Some(rest) = target.strip_prefix("http://") else {
        return Err(format!(
            "only CONNECT and absolute http:// targets are proxied (got {:?})",
            target.chars().take(64).collect::<String>()
        ));
    };
    let (authority, path) = match rest.find(['/', '?']) {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let path = if path.starts_with('?') {
        format!("/{path}")
    } else {
        path.to_string()
    };
    if authority.contains('@') {
        return Err("credentials in the proxy URL are refused".into());
    }
    let (host, port) = split_host_port(authority, Some(80))?;
    let mut body_len = 0u64;
    let mut out = format!("{method} {path} HTTP/1.1\r\n").into_bytes();
    let mut saw_host = false;
    for h in req.headers.iter() {
        let name = h.name.to_ascii_lowercase();
        match name.as_str() {
            "proxy-connection" | "proxy-authorization" | "connection" | "keep-alive" => continue,
            "transfer-encoding" => {
                return Err("chunked request bodies are not supported by the proxy".into())
            }
            "content-length" => {
                body_len = std::str::from_utf8(h.value)
                    .ok()
                    .and_then(|v| v.trim().parse().ok())
                    .ok_or("bad Content-Length")?;
            }
            "host" => saw_host = true,
            _ => {}
        }
        out.extend_from_slice(h.name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(h.value);
        out.extend_from_slice(b"\r\n");
    }
    if !saw_host {
        out.extend_from_slice(format!("Host: {authority}\r\n").as_bytes());
    }
    out.extend_from_slice(b"Connection: close\r\n\r\n");
    Ok(Request {
        method,
        host,
        port,
        upstream_head: Some(out),
        body_len,
    })
}

fn connect(host: &str, port: u16) -> io::Result<TcpStream> {
    let mut last = io::Error::new(io::ErrorKind::NotFound, "no address");
    for addr in (host, port).to_socket_addrs()? {
        match TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT) {
            Ok(s) => return Ok(s),
            Err(e) => last = e,
        }
    }
    Err(last)
}

fn splice_both(client: TcpStream, upstream: TcpStream) {
    let (Ok(mut c2), Ok(mut u2)) = (client.try_clone(), upstream.try_clone()) else {
        return;
    };
    let t = std::thread::spawn(move || {
        let mut c = client;
        let mut u = upstream;
        let _ = io::copy(&mut c, &mut u);
        let _ = u.shutdown(Shutdown::Write);
    });
    let _ = io::copy(&mut u2, &mut c2);
    let _ = c2.shutdown(Shutdown::Write);
    let _ = t.join();
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    fn list(p: &[&str]) -> Allowlist {
        Allowlist::new(&p.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn patterns() {
        let a = list(&[
            "api.anthropic.com",
            "*.github.com",
            ".example.org",
            "127.0.0.1",
        ]);
        assert!(a.allows("api.anthropic.com"));
        assert!(a.allows("API.Anthropic.com."));
        assert!(!a.allows("evil-api.anthropic.com"));
        assert!(!a.allows("anthropic.com"));
        assert!(a.allows("raw.github.com"));
        assert!(!a.allows("github.com"));
        assert!(!a.allows("evilgithub.com"));
        assert!(a.allows("example.org"));
        assert!(a.allows("a.b.example.org"));
        assert!(a.allows("127.0.0.1"));
        assert!(!a.allows("127.0.0.2"));
        assert!(!a.allows(""));
    }

    #[test]
    fn bad_patterns_are_errors() {
        for p in ["", "*", "*.", "a b", "exa*mple.com", "..com"] {
            assert!(Allowlist::new(&[p.to_string()]).is_err(), "{p:?}");
        }
    }

    #[test]
    fn parses_connect_and_absolute_form() {
        let r = parse_request(b"CONNECT Example.com:443 HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        assert_eq!(
            (r.method.as_str(), r.host.as_str(), r.port),
            ("CONNECT", "example.com", 443)
        );
        let r = parse_request(
            b"POST http://h.test:8080/a?b HTTP/1.1\r\nHost: h.test:8080\r\nProxy-Connection: keep-alive\r\nContent-Length: 3\r\n\r\n",
        )
        .unwrap();
        assert_eq!((r.host.as_str(), r.port, r.body_len), ("h.test", 8080, 3));
        let head = String::from_utf8(r.upstream_head.unwrap()).unwrap();
        assert!(head.starts_with("POST /a?b HTTP/1.1\r\n"));
        assert!(!head.to_ascii_lowercase().contains("proxy-connection"));
        assert!(head.ends_with("Connection: close\r\n\r\n"));
        assert!(parse_request(b"GET /relative HTTP/1.1\r\n\r\n").is_err());
        assert!(parse_request(b"GET http://u:p@h/ HTTP/1.1\r\n\r\n").is_err());
        assert!(parse_request(b"CONNECT h HTTP/1.1\r\n\r\n").is_err());
    }

    #[test]
    fn end_to_end_allow_and_deny() {
        // A tiny upstream HTTP server.
        let upstream = TcpListener::bind("127.0.0.1:0").unwrap();
        let up_port = upstream.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for s in upstream.incoming().flatten() {
                let mut s = s;
                let mut b = [0u8; 1024];
                let _ = s.read(&mut b);
                let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
            }
        });
        let seen = Arc::new(Mutex::new(Vec::new()));
        let seen2 = Arc::clone(&seen);
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let h = spawn(
            l,
            list(&["localhost"]),
            Arc::new(move |a: &ProxyAttempt| seen2.lock().unwrap().push(a.clone())),
        )
        .unwrap();
        let ask = |req: String| {
            let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
            s.write_all(req.as_bytes()).unwrap();
            let mut out = String::new();
            let _ = s.read_to_string(&mut out);
            out
        };
        let ok = ask(format!(
            "GET http://localhost:{up_port}/ HTTP/1.1\r\nHost: localhost\r\n\r\n"
        ));
        assert!(ok.ends_with("hello"), "{ok}");
        let denied = ask(format!("CONNECT example.com:{up_port} HTTP/1.1\r\n\r\n"));
        assert!(denied.starts_with("HTTP/1.1 403"), "{denied}");
        h.stop();
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 2);
        assert!(seen[0].allowed && seen[0].host == "localhost");
        assert!(!seen[1].allowed && seen[1].host == "example.com");
    }
}
