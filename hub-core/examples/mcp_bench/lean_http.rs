//! A lean HTTP/1.1 client for rmcp's streamable-HTTP client transport: one kept-alive
//! connection, the request written as prepared bytes and the answer read by its length or to its
//! last chunk, as a load tool such as wrk would. reqwest's client costs about as much CPU per
//! call as the hub's whole answer, and on a two-core machine the load generator's CPU is taken
//! from the server it measures. It reads plain JSON answers (what the hub gives session-less
//! calls) and SSE answers (legacy sessions) to their end, so the connection stays usable for the
//! next call.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::http::{HeaderName, HeaderValue};
use bytes::Bytes;
use futures::StreamExt;
use futures::stream::{self, BoxStream};
use rmcp::model::{
    CallToolResult, ClientJsonRpcMessage, ClientRequest, JsonRpcMessage, JsonRpcResponse,
    ServerJsonRpcMessage, ServerResult,
};
use rmcp::transport::streamable_http_client::{
    SseError, StreamableHttpClient, StreamableHttpError, StreamableHttpPostResponse,
};
use sse_stream::{Sse, SseStream};
use testkit::bench::{Answer, connect, exchange};
use tokio::io::BufReader;
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

/// What a request carries besides its method and body: the caller's token, the session and
/// rmcp's own headers (the protocol version).
struct Headers {
    session_id: Option<Arc<str>>,
    auth_header: Option<String>,
    custom: HashMap<HeaderName, HeaderValue>,
}

impl LeanHttp {
    /// Sends `method` with `body` (JSON, if any) to `uri` on the kept-alive connection, opened
    /// on first use and again after a failure, and reads the answer.
    async fn send(
        &self,
        method: &str,
        uri: &str,
        body: Option<&[u8]>,
        headers: Headers,
    ) -> Result<Answer, Error> {
        let (host, path) = split_url(uri)?;
        let mut request = format!(
            "{method} {path} HTTP/1.1\r\nhost: {host}\r\naccept: application/json, text/event-stream\r\n"
        )
        .into_bytes();
        if let Some(body) = body {
            request.extend_from_slice(
                format!(
                    "content-type: application/json\r\ncontent-length: {}\r\n",
                    body.len()
                )
                .as_bytes(),
            );
        }
        let lines = headers
            .auth_header
            .map(|t| ("authorization".to_owned(), format!("Bearer {t}")))
            .into_iter()
            .chain(
                headers
                    .session_id
                    .map(|s| ("mcp-session-id".to_owned(), s.to_string())),
            )
            .chain(headers.custom.iter().map(|(n, v)| {
                (
                    n.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            }));
        for (name, value) in lines {
            request.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
        }
        request.extend_from_slice(b"\r\n");
        request.extend_from_slice(body.unwrap_or_default());

        let mut conn = self.conn.lock().await;
        if conn.is_none() {
            *conn = Some(connect(host).await?);
        }
        let answer = exchange(conn.as_mut().expect("connected"), &request).await;
        if answer.is_err() {
            *conn = None;
        }
        Ok(answer?)
    }
}

/// The answer to `tools/call`, read as what it must be: a response carrying a `CallToolResult`.
/// rmcp reads any server message through two untagged enums: the whole answer is first copied
/// into serde's buffer, then tried against each message shape and each of some twenty result
/// types, `CallToolResult` sixteenth. The typed read gives the same message (the first answer is
/// read both ways and compared) for less of the client's CPU, which on this machine is taken from
/// the hub it measures. `None` for any other answer (an error), which is read the general way.
fn tool_answer(body: &[u8]) -> Option<ServerJsonRpcMessage> {
    static COMPARED: AtomicBool = AtomicBool::new(false);
    let r = serde_json::from_slice::<JsonRpcResponse<CallToolResult>>(body).ok()?;
    if !COMPARED.swap(true, Ordering::Relaxed) {
        let general = match serde_json::from_slice::<ServerJsonRpcMessage>(body) {
            Ok(JsonRpcMessage::Response(JsonRpcResponse {
                id,
                result: ServerResult::CallToolResult(result),
                ..
            })) => Some((id, result)),
            _ => None,
        };
        assert_eq!(
            general.as_ref(),
            Some(&(r.id.clone(), r.result.clone())),
            "the typed read of a tool answer differs from rmcp's"
        );
    }
    Some(JsonRpcMessage::Response(JsonRpcResponse {
        jsonrpc: r.jsonrpc,
        id: r.id,
        result: ServerResult::CallToolResult(r.result),
    }))
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
        let body = serde_json::to_vec(&message)?;
        let calls_tool = matches!(&message, JsonRpcMessage::Request(r)
            if matches!(r.request, ClientRequest::CallToolRequest(_)));
        let headers = Headers {
            session_id,
            auth_header,
            custom: custom_headers,
        };
        let answer = self.send("POST", &uri, Some(&body), headers).await?;
        let content_type = answer.header("content-type").unwrap_or_default();
        let json = content_type.starts_with("application/json");
        let sse = content_type.starts_with("text/event-stream");
        let session = answer.header("mcp-session-id").map(str::to_owned);
        match answer.status {
            202 | 204 => Ok(StreamableHttpPostResponse::Accepted),
            _ if json => {
                let message = match calls_tool.then(|| tool_answer(&answer.body)).flatten() {
                    Some(message) => message,
                    None => serde_json::from_slice(&answer.body)?,
                };
                Ok(StreamableHttpPostResponse::Json(message, session))
            }
            // The stream was read to its end. A stream whose one message is the tool's answer
            // (beside events without data, such as a priming event) is that answer, as if sent
            // as JSON; any other is handed on event by event to rmcp's SSE reader.
            200 if sse => {
                let body = Bytes::from(answer.body);
                let events: Vec<_> =
                    SseStream::from_bytes_stream(stream::iter([Ok::<_, std::io::Error>(body)]))
                        .collect()
                        .await;
                let mut data = events
                    .iter()
                    .map(|e| e.as_ref().map(|e| e.data.as_deref().unwrap_or_default()))
                    .filter(|d| !matches!(d, Ok("")));
                if calls_tool
                    && let (Some(Ok(only)), None) = (data.next(), data.next())
                    && let Some(message) = tool_answer(only.as_bytes())
                {
                    return Ok(StreamableHttpPostResponse::Json(message, session));
                }
                Ok(StreamableHttpPostResponse::Sse(
                    stream::iter(events).boxed(),
                    session,
                ))
            }
            status => Err(Error::UnexpectedServerResponse(
                format!("HTTP {status}: {}", String::from_utf8_lossy(&answer.body)).into(),
            )),
        }
    }

    async fn delete_session(
        &self,
        uri: Arc<str>,
        session_id: Arc<str>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> Result<(), Error> {
        let headers = Headers {
            session_id: Some(session_id),
            auth_header,
            custom: custom_headers,
        };
        let answer = self.send("DELETE", &uri, None, headers).await?;
        match answer.status {
            200 | 202 | 204 => Ok(()),
            405 => Err(Error::ServerDoesNotSupportDeleteSession),
            status => Err(Error::UnexpectedServerResponse(
                format!("HTTP {status} to DELETE").into(),
            )),
        }
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
