//! A lean HTTP/1.1 client for rmcp's streamable-HTTP client transport: one kept-alive
//! connection, the request written as prepared bytes and the answer read by its length, as a
//! load tool such as wrk would. reqwest's client costs about as much CPU per call as the hub's
//! whole answer, and on a two-core machine the load generator's CPU is taken from the server
//! it measures. It reads plain JSON answers (what the hub gives session-less calls) and SSE
//! answers (legacy sessions) to their end, so the connection stays usable for the next call.

use std::collections::HashMap;
use std::sync::Arc;

use axum::http::{HeaderName, HeaderValue};
use bytes::Bytes;
use futures::StreamExt;
use futures::stream::{self, BoxStream};
use rmcp::model::{ClientJsonRpcMessage, ServerJsonRpcMessage};
use rmcp::transport::streamable_http_client::{
    SseError, StreamableHttpClient, StreamableHttpError, StreamableHttpPostResponse,
};
use sse_stream::{Sse, SseStream};
use testkit::bench::{connect, exchange};
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
            *conn = Some(connect(host).await?);
        }
        let answer = match exchange(conn.as_mut().expect("connected"), &request).await {
            Ok(a) => a,
            Err(e) => {
                *conn = None;
                return Err(e.into());
            }
        };
        drop(conn);
        let json = answer
            .header("content-type")
            .is_some_and(|t| t.starts_with("application/json"));
        let sse = answer
            .header("content-type")
            .is_some_and(|t| t.starts_with("text/event-stream"));
        let session = answer.header("mcp-session-id").map(str::to_owned);
        match answer.status {
            202 | 204 => Ok(StreamableHttpPostResponse::Accepted),
            _ if json => Ok(StreamableHttpPostResponse::Json(
                serde_json::from_slice::<ServerJsonRpcMessage>(&answer.body)?,
                session,
            )),
            // The stream was read to its end: its events are handed on as rmcp's SSE parser
            // reads them.
            200 if sse => {
                let body = Bytes::from(answer.body);
                let events =
                    SseStream::from_bytes_stream(stream::iter([Ok::<_, std::io::Error>(body)]));
                Ok(StreamableHttpPostResponse::Sse(events.boxed(), session))
            }
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
