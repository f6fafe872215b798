//! A small blocking HTTP/1.1 client for the admin API, used by the CLI.
//!
//! Plain `http://` only (the API listens on loopback by default; reach a
//! remote node through an SSH tunnel or a TLS proxy). One request per
//! connection (`Connection: close`); bodies by `Content-Length`, chunked,
//! or up to the end of the stream; every read and write has a deadline and
//! the response a size limit.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

use anyhow::{bail, Context};

use super::auth::Token;

/// Largest response accepted.
const RESPONSE_SIZE_MAX_BYTES: u64 = 64 << 20;
/// Deadline of connecting, and of each read and write.
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// Deadline of the answer to a membership change (removing the leader
/// waits for a new leader, then for the change to be committed).
pub const MEMBERSHIP_TIMEOUT: Duration = Duration::from_secs(90);

/// Where the admin API is, parsed from `http://host:port`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `host:port` as given (sent as the `Host` header).
    authority: String,
}

impl Endpoint {
    /// `http://host[:port][/]`; the port defaults to 9049.
    pub fn parse(url: &str) -> anyhow::Result<Endpoint> {
        let rest = match url.split_once("://") {
            Some(("http", rest)) => rest,
            Some((scheme, _)) => {
                bail!("{scheme}:// is not supported: use http:// (through an SSH tunnel or a TLS proxy for a remote node)")
            }
            None => url,
        };
        let authority = rest.trim_end_matches('/');
        if authority.is_empty() || authority.contains('/') {
            bail!("'{url}' is not http://host:port");
        }
        let has_port = match authority.rsplit_once(':') {
            Some((host, port)) => {
                // `[::1]` has colons inside the brackets only.
                !(host.starts_with('[') ^ host.ends_with(']')) && port.parse::<u16>().is_ok()
            }
            None => false,
        };
        let authority = if has_port { authority.to_string() } else { format!("{authority}:9049") };
        Ok(Endpoint { authority })
    }

    /// The URL of an admin listen address (a wildcard address means this
    /// host, reached over loopback).
    pub fn of_listen(addr: SocketAddr) -> Endpoint {
        let ip = match addr.ip() {
            std::net::IpAddr::V4(v) if v.is_unspecified() => std::net::Ipv4Addr::LOCALHOST.into(),
            std::net::IpAddr::V6(v) if v.is_unspecified() => std::net::Ipv6Addr::LOCALHOST.into(),
            ip => ip,
        };
        Endpoint { authority: SocketAddr::new(ip, addr.port()).to_string() }
    }

    /// `http://host:port`.
    pub fn url(&self) -> String {
        format!("http://{}", self.authority)
    }
}

/// An HTTP response.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// The body as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The first header named `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// The message of a JSON error body, or the body itself.
    pub fn error_message(&self) -> String {
        serde_json::from_slice::<serde_json::Value>(&self.body)
            .ok()
            .and_then(|v| v["error"].as_str().map(str::to_string))
            .unwrap_or_else(|| self.text())
    }
}

/// `GET path` with the token, if any.
pub fn get(endpoint: &Endpoint, path: &str, token: Option<&Token>) -> anyhow::Result<Response> {
    request(endpoint, "GET", path, token, None)
}

/// `method path` with the token, if any, and a JSON body, if any.
pub fn request(
    endpoint: &Endpoint,
    method: &str,
    path: &str,
    token: Option<&Token>,
    json: Option<&[u8]>,
) -> anyhow::Result<Response> {
    request_with(endpoint, method, path, token, json, &[], TIMEOUT)
}

/// [`request`] with more headers, waiting up to `answer_timeout` for each
/// read of the answer.
pub fn request_with(
    endpoint: &Endpoint,
    method: &str,
    path: &str,
    token: Option<&Token>,
    json: Option<&[u8]>,
    headers: &[(&str, String)],
    answer_timeout: Duration,
) -> anyhow::Result<Response> {
    let addrs: Vec<SocketAddr> = endpoint
        .authority
        .to_socket_addrs()
        .with_context(|| format!("cannot resolve {}", endpoint.authority))?
        .collect();
    let mut last = None;
    let mut stream = None;
    for a in addrs {
        match TcpStream::connect_timeout(&a, TIMEOUT) {
            Ok(s) => {
                stream = Some(s);
                break;
            }
            Err(e) => last = Some(e),
        }
    }
    let Some(mut stream) = stream else {
        let why = last.map_or_else(|| "no address".to_string(), |e| e.to_string());
        bail!(
            "cannot reach the admin API at {} ({why}); is `cairn serve` running? Set --admin or [admin] listen",
            endpoint.url()
        );
    };
    stream.set_read_timeout(Some(answer_timeout))?;
    stream.set_write_timeout(Some(TIMEOUT))?;
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nUser-Agent: cairn/{}\r\nAccept: */*\r\nConnection: close\r\n",
        endpoint.authority,
        env!("CARGO_PKG_VERSION")
    );
    if let Some(t) = token {
        req.push_str(&format!("Authorization: Bearer {}\r\n", t.expose()));
    }
    for (name, value) in headers {
        req.push_str(&format!("{name}: {value}\r\n"));
    }
    if let Some(b) = json {
        req.push_str(&format!("Content-Type: application/json\r\nContent-Length: {}\r\n", b.len()));
    }
    req.push_str("\r\n");
    let mut bytes = req.into_bytes();
    bytes.extend_from_slice(json.unwrap_or_default());
    stream.write_all(&bytes)?;
    let mut raw = Vec::new();
    (&mut stream)
        .take(RESPONSE_SIZE_MAX_BYTES + 1)
        .read_to_end(&mut raw)
        .with_context(|| format!("reading the answer of {}", endpoint.url()))?;
    if raw.len() as u64 > RESPONSE_SIZE_MAX_BYTES {
        bail!("the answer of {} is larger than {RESPONSE_SIZE_MAX_BYTES} bytes", endpoint.url());
    }
    parse_response(&raw).with_context(|| format!("bad HTTP answer from {}", endpoint.url()))
}

/// Parse a complete HTTP/1.1 response (RFC 9112).
fn parse_response(raw: &[u8]) -> anyhow::Result<Response> {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n").context("no end of headers")?;
    let head = std::str::from_utf8(&raw[..end]).context("headers are not text")?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let mut parts = status_line.splitn(3, ' ');
    let (Some(version), Some(code)) = (parts.next(), parts.next()) else {
        bail!("bad status line '{status_line}'")
    };
    if !version.starts_with("HTTP/1.") {
        bail!("not HTTP/1.x: '{status_line}'");
    }
    let status: u16 = code.parse().with_context(|| format!("bad status '{code}'"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let rest = &raw[end + 4..];
    let find = |name: &str| headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
    let body = if find("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        dechunk(rest)?
    } else if let Some(len) = find("content-length") {
        let len: usize = len.parse().context("bad Content-Length")?;
        rest.get(..len).context("body shorter than Content-Length")?.to_vec()
    } else {
        rest.to_vec()
    };
    Ok(Response { status, headers, body })
}

/// Decode a chunked body (RFC 9112 §7.1); trailers are ignored.
fn dechunk(mut b: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let eol = b.windows(2).position(|w| w == b"\r\n").context("chunk size line")?;
        let line = std::str::from_utf8(&b[..eol]).context("chunk size")?;
        let size_hex = line.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_hex, 16).context("chunk size")?;
        b = &b[eol + 2..];
        if size == 0 {
            return Ok(out);
        }
        let chunk = b.get(..size).context("chunk cut short")?;
        out.extend_from_slice(chunk);
        b = b.get(size + 2..).context("chunk cut short")?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_parse() {
        let ok = |u: &str| Endpoint::parse(u).expect(u).url();
        assert_eq!(ok("http://127.0.0.1:9049"), "http://127.0.0.1:9049");
        assert_eq!(ok("http://127.0.0.1:19049/"), "http://127.0.0.1:19049");
        assert_eq!(ok("localhost"), "http://localhost:9049");
        assert_eq!(ok("http://[::1]:9"), "http://[::1]:9");
        assert_eq!(ok("http://[::1]"), "http://[::1]:9049");
        assert!(Endpoint::parse("https://x:1").is_err());
        assert!(Endpoint::parse("http://x:1/v1").is_err());
        assert_eq!(
            Endpoint::of_listen("0.0.0.0:9049".parse().expect("addr")).url(),
            "http://127.0.0.1:9049"
        );
    }

    #[test]
    fn responses_parse_by_length_chunks_or_end() {
        let r = parse_response(b"HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\nContent-Length: 2\r\n\r\n{}xx")
            .expect("parse");
        assert_eq!((r.status, r.body.as_slice()), (401, &b"{}"[..]));
        assert_eq!(r.header("content-type"), Some("application/json"));
        let r = parse_response(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n",
        )
        .expect("chunked");
        assert_eq!(r.text(), "abcde");
        let r = parse_response(b"HTTP/1.0 200 OK\r\n\r\nall of it").expect("to end");
        assert_eq!(r.text(), "all of it");
        assert!(parse_response(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nshort").is_err());
        assert!(parse_response(b"garbage").is_err());
        let e = Response {
            status: 401,
            headers: vec![],
            body: br#"{"error":"no","code":"x"}"#.to_vec(),
        };
        assert_eq!(e.error_message(), "no");
    }
}
