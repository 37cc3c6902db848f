//! A lean HTTP/1.1 client for rmcp's streamable-HTTP client transport: one kept-alive
//! connection, the request written as prepared bytes and the answer read by its length, as a
//! load tool such as wrk would. reqwest's client costs about as much CPU per call as the hub's
//! whole answer, and on a two-core machine the load generator's CPU is taken from the server
//! it measures. It reads plain JSON answers only (what the hub gives session-less calls);
//! legacy sessions, whose answers are SSE streams, keep rmcp's own reqwest client.

use std::collections::HashMap;
use std::sync::Arc;

use axum::http::{HeaderName, HeaderValue};
use futures::stream::BoxStream;
use rmcp::model::{ClientJsonRpcMessage, ServerJsonRpcMessage};
use rmcp::transport::streamable_http_client::{
    SseError, StreamableHttpClient, StreamableHttpError, StreamableHttpPostResponse,
};
use sse_stream::Sse;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::Mutex;

type Error = StreamableHttpError<std::io::Error>;

/// One connection to the hub, opened on first use and again after a failure.
#[derive(Clone, Default)]
pub struct LeanHttp {
    conn: Arc<Mutex<Option<BufReader<TcpStream>>>>,
}

/// `host:port` and the path of an `http://` URL.
fn split_url(uri: &str) -> Result<(&str, &str), Error> {
    let rest = uri.strip_prefix("http://").ok_or_else(|| {
        Error::UnexpectedServerResponse("the lean client speaks http:// only".into())
    })?;
    Ok(rest
        .find('/')
        .map_or((rest, "/"), |i| (&rest[..i], &rest[i..])))
}

/// The answer's status, its headers of interest and its body.
struct Answer {
    status: u16,
    json: bool,
    session: Option<String>,
    body: Vec<u8>,
}

async fn exchange(stream: &mut BufReader<TcpStream>, request: &[u8]) -> std::io::Result<Answer> {
    stream.get_mut().write_all(request).await?;
    let mut line = String::new();
    stream.read_line(&mut line).await?;
    let status = line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("bad status line {line:?}")))?;
    let (mut length, mut json, mut session) = (0, false, None);
    loop {
        line.clear();
        stream.read_line(&mut line).await?;
        if line == "\r\n" || line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                length = value.parse().map_err(std::io::Error::other)?;
            } else if name.eq_ignore_ascii_case("content-type") {
                json = value.starts_with("application/json");
            } else if name.eq_ignore_ascii_case("mcp-session-id") {
                session = Some(value.to_owned());
            }
        }
    }
    let mut body = vec![0; length];
    stream.read_exact(&mut body).await?;
    Ok(Answer {
        status,
        json,
        session,
        body,
    })
}

impl StreamableHttpClient for LeanHttp {
    type Error = std::io::Error;

    async fn post_message(
        &self,
        uri: Arc<str>,
        message: ClientJsonRpcMessage,
        session_id: Option<Arc<str>>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> Result<StreamableHttpPostResponse, Error> {
        let (host, path) = split_url(&uri)?;
        let body = serde_json::to_vec(&message)?;
        let mut request = format!(
            "POST {path} HTTP/1.1\r\nhost: {host}\r\ncontent-type: application/json\r\n\
             accept: application/json, text/event-stream\r\ncontent-length: {}\r\n",
            body.len()
        )
        .into_bytes();
        let headers = auth_header
            .map(|t| ("authorization".to_owned(), format!("Bearer {t}")))
            .into_iter()
            .chain(session_id.map(|s| ("mcp-session-id".to_owned(), s.to_string())))
            .chain(custom_headers.iter().map(|(n, v)| {
                (
                    n.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            }));
        for (name, value) in headers {
            request.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
        }
        request.extend_from_slice(b"\r\n");
        request.extend_from_slice(&body);

        let mut conn = self.conn.lock().await;
        if conn.is_none() {
            let stream = TcpStream::connect(host).await?;
            stream.set_nodelay(true)?;
            *conn = Some(BufReader::new(stream));
        }
        let answer = match exchange(conn.as_mut().expect("connected"), &request).await {
            Ok(a) => a,
            Err(e) => {
                *conn = None;
                return Err(e.into());
            }
        };
        drop(conn);
        match answer.status {
            202 | 204 => Ok(StreamableHttpPostResponse::Accepted),
            _ if answer.json => Ok(StreamableHttpPostResponse::Json(
                serde_json::from_slice::<ServerJsonRpcMessage>(&answer.body)?,
                answer.session,
            )),
            status => Err(Error::UnexpectedServerResponse(
                format!("HTTP {status}: {}", String::from_utf8_lossy(&answer.body)).into(),
            )),
        }
    }

    async fn delete_session(
        &self,
        _uri: Arc<str>,
        _session_id: Arc<str>,
        _auth_header: Option<String>,
        _custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> Result<(), Error> {
        Err(Error::ServerDoesNotSupportDeleteSession)
    }

    async fn get_stream(
        &self,
        _uri: Arc<str>,
        _session_id: Option<Arc<str>>,
        _last_event_id: Option<String>,
        _auth_header: Option<String>,
        _custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> Result<BoxStream<'static, Result<Sse, SseError>>, Error> {
        Err(Error::ServerDoesNotSupportSse)
    }
}
