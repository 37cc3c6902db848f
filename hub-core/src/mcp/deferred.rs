//! A tool's result written into its HTTP answer once, as the JSON text of the typed value.
//!
//! rmcp frames an answer from a `CallToolResult`, whose structured content is a tree of JSON
//! values: the result would be built into that tree, written out as the text block beside it,
//! then written again with the text escaped inside it, and the tree dropped, which took about
//! half of the hub's CPU for an inbox page (docs/BENCHMARKS.md, session 20). Where an answer is
//! one body that `/mcp` hands on itself (a session-less call), the handler instead keeps the
//! result's text in a [`Deferred`] slot of the request and gives rmcp a placeholder result;
//! rmcp still reads, checks and routes the call and frames the answer, and [`Deferred::answer`]
//! writes the text into the placeholder's two places.

use std::sync::{Arc, LazyLock, Mutex};

use axum::body::Body;
use axum::http::{Response, header};
use axum::response::IntoResponse;
use rmcp::model::{CallToolResult, ContentBlock};
use serde_json::Value;

use super::tool::Output;
use crate::error::HubError;

/// What stands for the result in rmcp's answer: random per process, so no request can name it.
static PLACEHOLDER: LazyLock<String> =
    LazyLock::new(|| format!("hubmesh-deferred-result-{}", uuid::Uuid::new_v4().simple()));

/// The placeholder as rmcp writes it, a JSON string.
static QUOTED: LazyLock<String> = LazyLock::new(|| format!("\"{}\"", PLACEHOLDER.as_str()));

/// A request's slot for its tool result, put into the request's extensions.
#[derive(Clone, Default)]
pub(crate) struct Deferred {
    out: Arc<Mutex<Option<Output>>>,
}

impl Deferred {
    /// Keeps `out` for the answer and gives rmcp the placeholder result to frame.
    pub(crate) fn hold(&self, out: Output) -> CallToolResult {
        *self.out.lock().expect("deferred poisoned") = Some(out);
        let mut res = CallToolResult::success(vec![ContentBlock::text(PLACEHOLDER.as_str())]);
        res.structured_content = Some(Value::String(PLACEHOLDER.clone()));
        res
    }

    /// rmcp's answer `res`, with the held result (if any) in place of the placeholder.
    pub(crate) async fn answer<B>(self, res: Response<B>) -> axum::response::Response
    where
        Response<B>: IntoResponse,
    {
        let Some(out) = self.out.lock().expect("deferred poisoned").take() else {
            return res.into_response();
        };
        let (mut parts, body) = res.into_response().into_parts();
        // rmcp's answer to one call is a short body (JSON, or SSE from a handler that sent
        // something first), complete when the handler is done.
        let body = match axum::body::to_bytes(body, usize::MAX).await {
            Ok(body) => body,
            Err(e) => return internal(format!("reading rmcp's answer: {e}")),
        };
        match fill(&body, &out) {
            Some(filled) => {
                parts.headers.remove(header::CONTENT_LENGTH);
                Response::from_parts(parts, Body::from(filled))
            }
            None => internal("rmcp's answer does not hold the result's placeholder".into()),
        }
    }
}

fn internal(why: String) -> axum::response::Response {
    HubError::Internal(format!("tool result: {why}")).into_response()
}

/// `body` with `out` written where rmcp wrote the placeholder: as a JSON string in the text
/// block and as JSON in `structuredContent`. `None` unless both are found, once each.
fn fill(body: &[u8], out: &Output) -> Option<Vec<u8>> {
    let quoted = QUOTED.as_bytes();
    // rmcp's framing of a placeholder result is a couple of hundred bytes.
    let at: Vec<usize> = body
        .windows(quoted.len())
        .enumerate()
        .filter_map(|(i, w)| (w == quoted).then_some(i))
        .collect();
    let [first, second] = at[..] else {
        return None;
    };
    let key_before = |i: usize, key: &[u8]| body[..i].ends_with(key);
    let (in_text, in_structured) = if key_before(first, br#""text":"#) {
        (first, second)
    } else {
        (second, first)
    };
    if !key_before(in_text, br#""text":"#) || !key_before(in_structured, br#""structuredContent":"#)
    {
        return None;
    }
    let (json, escaped) = (out.json().as_bytes(), out.escaped());
    let mut filled = Vec::with_capacity(body.len() + json.len() + escaped.len());
    let mut from = 0;
    for i in [first, second] {
        filled.extend_from_slice(&body[from..i]);
        if i == in_text {
            filled.push(b'"');
            filled.extend_from_slice(escaped);
            filled.push(b'"');
        } else {
            filled.extend_from_slice(json);
        }
        from = i + quoted.len();
    }
    filled.extend_from_slice(&body[from..]);
    Some(filled)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rmcp::model::{
        JsonRpcResponse, JsonRpcVersion2_0, NumberOrString, ServerJsonRpcMessage, ServerResult,
    };
    use serde_json::json;

    /// rmcp's answer to a call whose result is `res`, framed as rmcp frames it.
    fn framed(res: CallToolResult) -> Vec<u8> {
        let message = ServerJsonRpcMessage::Response(JsonRpcResponse {
            jsonrpc: JsonRpcVersion2_0,
            id: NumberOrString::Number(7),
            result: ServerResult::CallToolResult(res),
        });
        serde_json::to_vec(&message).unwrap()
    }

    #[tokio::test]
    async fn the_held_text_fills_the_answer_as_rmcp_would_have_written_the_result() {
        let page = json!({
            "items": [{ "subject": "a \"quoted\" line\n", "body": "naïve ✓", "n": 3 }],
            "next_cursor": null,
        });
        let deferred = Deferred::default();
        let placeholder = deferred.hold(Output::of(&page).unwrap());
        let body = framed(placeholder);
        let res = Response::builder()
            .header(header::CONTENT_LENGTH, body.len())
            .body(Body::from(body))
            .unwrap();

        let res = deferred.answer(res).await;
        assert!(res.headers().get(header::CONTENT_LENGTH).is_none());
        let filled = axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .unwrap();
        let whole: Value = serde_json::from_slice(&framed(Output::of(&page).unwrap().into()))
            .expect("rmcp's own answer");
        let filled: Value = serde_json::from_slice(&filled).expect("the filled answer is JSON");
        assert_eq!(filled, whole);
        assert_eq!(filled["result"]["structuredContent"], page);
    }

    #[tokio::test]
    async fn an_answer_without_a_held_result_passes_unchanged() {
        let body = framed(CallToolResult::error(vec![ContentBlock::text(
            "no such agent",
        )]));
        let res = Deferred::default()
            .answer(Response::new(Body::from(body.clone())))
            .await;
        let passed = axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .unwrap();
        assert_eq!(passed, body);
    }

    #[test]
    fn a_placeholder_found_elsewhere_than_in_the_results_two_places_is_refused() {
        let quoted = QUOTED.as_str();
        let empty = Output::of(&json!({})).unwrap();
        let twice_as_id = format!(r#"{{"id":{quoted},"result":{{"text":{quoted}}}}}"#);
        assert_eq!(fill(twice_as_id.as_bytes(), &empty), None);
        let once = format!(r#"{{"result":{{"text":{quoted}}}}}"#);
        assert_eq!(fill(once.as_bytes(), &empty), None);
        let both = format!(r#"{{"content":[{{"text":{quoted}}}],"structuredContent":{quoted}}}"#);
        assert_eq!(
            fill(both.as_bytes(), &Output::of(&json!({"a": "b"})).unwrap()).map(String::from_utf8),
            Some(Ok(
                r#"{"content":[{"text":"{\"a\":\"b\"}"}],"structuredContent":{"a":"b"}}"#.into()
            ))
        );
    }
}
