//! HTTP/1.1 and GraphQL calls: raw exchanges over a fresh connection, and
//! requests as a caller named by its identity headers or bearer token.

use std::net::SocketAddr;

use serde_json::{json, Value};

/// Who calls: the header lines a request carries to say so.
pub trait Caller {
    /// Complete header lines (each ending in `\r\n`), possibly none.
    fn headers(&self) -> String;
}

/// Header lines as written (`"x-user-id: a-1\r\nx-user-role: agent\r\n"`,
/// `"Authorization: Bearer …\r\n"`, or `""` for none).
impl Caller for &str {
    fn headers(&self) -> String {
        (*self).to_string()
    }
}

impl Caller for &String {
    fn headers(&self) -> String {
        (*self).clone()
    }
}

/// `(user, role)` in the trusted identity headers.
impl Caller for (&str, &str) {
    fn headers(&self) -> String {
        format!("x-user-id: {}\r\nx-user-role: {}\r\n", self.0, self.1)
    }
}

/// A caller in the trusted identity headers: user, role, and the company
/// or owner record it acts for.
#[derive(Clone, Copy, Debug)]
pub struct Who {
    pub user: &'static str,
    pub role: &'static str,
    pub contractor: Option<&'static str>,
    pub owner: Option<&'static str>,
}

/// A member of staff in `role`.
pub const fn staff(user: &'static str, role: &'static str) -> Who {
    Who {
        user,
        role,
        contractor: None,
        owner: None,
    }
}

impl Caller for Who {
    fn headers(&self) -> String {
        let mut headers = format!("x-user-id: {}\r\nx-user-role: {}\r\n", self.user, self.role);
        if let Some(c) = self.contractor {
            headers.push_str(&format!("x-contractor-id: {c}\r\n"));
        }
        if let Some(o) = self.owner {
            headers.push_str(&format!("x-owner-id: {o}\r\n"));
        }
        headers
    }
}

/// The agent most tests act as: `agent-7` in role `agent`.
pub const AGENT_7: Who = staff("agent-7", "agent");

/// The header line of a bearer token.
pub fn bearer(token: &str) -> String {
    format!("Authorization: Bearer {token}\r\n")
}

/// An HTTP/1.1 answer: the status, the head lower-cased (status line and
/// headers), and the body with chunked transfer encoding undone.
pub struct Answer {
    pub status: u16,
    pub head: String,
    pub body: String,
}

impl Answer {
    /// The value of header `name` (lower-case), if the answer has it.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|l| {
            l.split_once(':')
                .filter(|(n, _)| n.trim() == name)
                .map(|(_, v)| v.trim())
        })
    }
}

/// The bytes of an HTTP/1.1 request as `who` with a JSON body: `framing`
/// replaces the framing header (`Content-Length: <len>`) when given.
pub fn request_bytes(
    addr: SocketAddr,
    who: impl Caller,
    method: &str,
    path: &str,
    framing: Option<&str>,
    body: &[u8],
) -> Vec<u8> {
    let framing = framing
        .map(str::to_string)
        .unwrap_or_else(|| format!("Content-Length: {}\r\n", body.len()));
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n{}{framing}Connection: close\r\n\r\n",
        who.headers()
    )
    .into_bytes();
    request.extend_from_slice(body);
    request
}

/// A request as `who` (whose header lines may carry more than identity,
/// such as `Accept`) with a JSON body; returns the status and the body.
pub async fn request(addr: SocketAddr, method: &str, path: &str, who: impl Caller, body: &str) -> (u16, String) {
    let answer = exchange(addr, request_bytes(addr, who, method, path, None, body.as_bytes())).await;
    (answer.status, answer.body)
}

/// A GraphQL request as `who`, accepting `application/json`; the raw JSON
/// text of its answer, which must be a 200.
pub async fn gql_text(addr: SocketAddr, who: impl Caller, query: &str, variables: Value) -> String {
    let body = json!({ "query": query, "variables": variables }).to_string();
    let who = format!("Accept: application/json\r\n{}", who.headers());
    let (status, text) = request(addr, "POST", "/graphql", who.as_str(), &body).await;
    assert_eq!(status, 200, "{text}");
    text
}

/// A GraphQL request as `who`; the JSON answer (data and errors), which
/// must be a 200.
pub async fn gql(addr: SocketAddr, who: impl Caller, query: &str, variables: Value) -> Value {
    let text = gql_text(addr, who, query, variables).await;
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text:?}"))
}

/// The data of a GraphQL answer that must have no errors.
pub async fn ok(addr: SocketAddr, who: impl Caller, query: &str, variables: Value) -> Value {
    let r = gql(addr, who, query, variables).await;
    assert!(r.get("errors").is_none(), "unexpected errors: {r}");
    r["data"].clone()
}

/// The code of an answer's first error (`""` without one).
pub fn code(v: &Value) -> &str {
    v["errors"][0]["extensions"]["code"].as_str().unwrap_or("")
}

/// The message of an answer's first error (`""` without one).
pub fn message(v: &Value) -> &str {
    v["errors"][0]["message"].as_str().unwrap_or("")
}

/// A JSON integer that must be there.
pub fn int(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not an integer: {v}"))
}

/// One raw HTTP/1.1 exchange over a fresh connection: writes `request`
/// (head and body as given) while reading the answer until the server
/// closes, so that a server that answers before reading everything (413)
/// is seen.
pub async fn exchange(addr: SocketAddr, request: Vec<u8>) -> Answer {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let stream = tokio::net::TcpStream::connect(addr)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let (mut reader, mut writer) = stream.into_split();
    let writing = tokio::spawn(async move {
        // The server may close early (a refused body); that is its answer.
        if writer.write_all(&request).await.is_ok() {
            let _ = writer.flush().await;
        }
        writer
    });
    let mut response = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match reader.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => response.extend_from_slice(&buf[..n]),
        }
    }
    drop(writing.await);
    let split = find(&response, b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no complete response head in {:?}", String::from_utf8_lossy(&response)));
    let head = String::from_utf8_lossy(&response[..split]).to_ascii_lowercase();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {head:?}"));
    let raw = &response[split + 4..];
    let body = if head.contains("transfer-encoding: chunked") {
        decode_chunked(raw)
    } else {
        raw.to_vec()
    };
    Answer {
        status,
        head,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn decode_chunked(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(end) = find(body, b"\r\n") {
        let line = String::from_utf8_lossy(&body[..end]);
        let Ok(size) = usize::from_str_radix(line.split(';').next().unwrap_or("").trim(), 16) else {
            break;
        };
        body = &body[end + 2..];
        if size == 0 {
            break;
        }
        out.extend_from_slice(&body[..size.min(body.len())]);
        body = &body[(size + 2).min(body.len())..];
    }
    out
}
