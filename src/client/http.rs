//! A small REST client for one hub: JSON in, the response text out, failures as [`ClientError`].

use std::time::Duration;

use anyhow::Context;
use reqwest::{Method, StatusCode, Url};
use serde_json::Value;

use super::endpoints::Target;
use super::error::{ClientError, Problem};

/// Query parameters; `None` values are left out.
#[derive(Debug, Default, Clone)]
pub struct Params(Vec<(&'static str, String)>);

impl Params {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn opt(mut self, key: &'static str, value: Option<impl ToString>) -> Self {
        if let Some(v) = value {
            self.0.push((key, v.to_string()));
        }
        self
    }

    pub fn set(self, key: &'static str, value: impl ToString) -> Self {
        self.opt(key, Some(value))
    }

    /// The same parameters with `key` set to `value`, replacing an earlier one.
    pub fn with(&self, key: &'static str, value: &str) -> Self {
        let mut next = self.clone();
        next.0.retain(|(k, _)| *k != key);
        next.set(key, value)
    }
}

/// Percent-encodes one path segment (an id or slug typed by the operator).
pub fn seg(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Talks to one hub.
pub struct Client {
    http: reqwest::Client,
    pub target: Target,
    token: Option<String>,
}

impl Client {
    pub fn new(target: Target, token: Option<String>) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(60))
            .build()
            .context("cannot build the HTTP client")?;
        Ok(Self {
            http,
            target,
            token,
        })
    }

    pub async fn get(&self, path: &str, params: &Params) -> anyhow::Result<String> {
        self.send(Method::GET, path, params, None).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> anyhow::Result<String> {
        self.send(Method::POST, path, &Params::new(), Some(body))
            .await
    }

    pub async fn patch(&self, path: &str, body: &Value) -> anyhow::Result<String> {
        self.send(Method::PATCH, path, &Params::new(), Some(body))
            .await
    }

    /// Sends a request to `path` (starting with `/`) and returns the body of a 2xx answer.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        params: &Params,
        body: Option<&Value>,
    ) -> anyhow::Result<String> {
        let mut req = self.request(method, path, params)?;
        if let Some(body) = body {
            req = req.json(body);
        }
        self.answer(req).await
    }

    /// POSTs `text` as a `content_type` body (a document upload) and returns a 2xx answer's body.
    pub async fn post_text(
        &self,
        path: &str,
        params: &Params,
        content_type: &str,
        text: String,
    ) -> anyhow::Result<String> {
        let req = self
            .request(Method::POST, path, params)?
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(text);
        self.answer(req).await
    }

    fn request(
        &self,
        method: Method,
        path: &str,
        params: &Params,
    ) -> anyhow::Result<reqwest::RequestBuilder> {
        let url = format!("{}{path}", self.target.url);
        let url = Url::parse_with_params(&url, &params.0)
            .with_context(|| format!("bad hub URL {url}"))?;
        let mut req = self.http.request(method, url);
        if let Some(token) = &self.token {
            req = req.bearer_auth(token);
        }
        Ok(req)
    }

    async fn answer(&self, req: reqwest::RequestBuilder) -> anyhow::Result<String> {
        let res = req.send().await.map_err(|e| self.unreachable(&e))?;
        let status = res.status();
        let is_problem = res
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
        let text = res.text().await.map_err(|e| self.unreachable(&e))?;
        if status.is_success() {
            return Ok(text);
        }
        Err(self.failure(status, is_problem, text).into())
    }

    fn unreachable(&self, err: &reqwest::Error) -> ClientError {
        // reqwest's own text is "error sending request": the cause says what went wrong.
        let mut reason = err.to_string();
        let mut source = std::error::Error::source(err);
        while let Some(s) = source {
            reason = s.to_string();
            source = s.source();
        }
        ClientError::Unreachable {
            hub: self.target.to_string(),
            reason,
        }
    }

    fn failure(&self, status: StatusCode, is_problem: bool, text: String) -> ClientError {
        let hub = self.target.name.clone();
        match serde_json::from_str::<Problem>(&text) {
            Ok(problem) if is_problem => ClientError::Problem { hub, problem },
            _ => ClientError::Http {
                hub,
                status: status.as_u16(),
                body: text.chars().take(200).collect(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_encoded() {
        assert_eq!(seg("ops.deploy-1_x~"), "ops.deploy-1_x~");
        assert_eq!(seg("a/b c"), "a%2Fb%20c");
    }
}
