//! Driving a hub's router in-process the way a client would, and the answer as tests see it.

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

/// Sends `req` through `router` and reads the whole answer.
pub async fn respond(router: &Router, req: Request<Body>) -> Res {
    let res = router.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Res {
        status,
        headers,
        json,
        text,
    }
}

/// A response as tests see it: the JSON body is `Null` when empty or not JSON.
#[derive(Debug)]
pub struct Res {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub json: Value,
    pub text: String,
}

impl Res {
    /// Asserts the status, printing the body when it differs.
    pub fn expect(self, status: u16) -> Self {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status; body: {}",
            self.text
        );
        self
    }

    /// Asserts an RFC 9457 problem with `status` and returns it.
    pub fn problem(self, status: u16) -> Value {
        let this = self.expect(status);
        assert_eq!(
            this.headers
                .get("content-type")
                .map(|v| v.to_str().unwrap()),
            Some("application/problem+json")
        );
        assert_eq!(this.json["status"], status);
        this.json
    }

    /// The `field` names of a problem's `errors`.
    pub fn fields(problem: &Value) -> Vec<String> {
        problem["errors"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|e| e["field"].as_str().unwrap_or_default().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    }
}
