//! Prometheus metrics of one hub: request counts and latencies per route, outbox depth.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use metrics::{Key, Label, Level, Metadata, Recorder};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusRecorder};

use crate::hub::Hub;

static METADATA: Metadata<'static> = Metadata::new("hubmesh", Level::INFO, Some(module_path!()));

/// A recorder of this hub's own, so that several hubs in one process keep separate figures.
#[derive(Clone)]
pub struct Metrics(Arc<PrometheusRecorder>);

impl Metrics {
    pub fn new() -> Self {
        let recorder = PrometheusBuilder::new()
            .set_buckets(&[
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
            ])
            .expect("static bucket list is not empty")
            .build_recorder();
        Self(Arc::new(recorder))
    }

    fn record_request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let labels = vec![
            Label::new("method", method.to_owned()),
            Label::new("route", route.to_owned()),
        ];
        let mut counted = labels.clone();
        counted.push(Label::new("status", status.to_string()));
        self.0
            .register_counter(
                &Key::from_parts("hubmesh_http_requests_total", counted),
                &METADATA,
            )
            .increment(1);
        self.0
            .register_histogram(
                &Key::from_parts("hubmesh_http_request_duration_seconds", labels),
                &METADATA,
            )
            .record(seconds);
    }

    pub fn set_gauge(&self, name: &'static str, value: f64) {
        self.0
            .register_gauge(&Key::from_name(name), &METADATA)
            .set(value);
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        self.0.handle().render()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// Middleware recording every request under its route template (not the raw path, which would
/// make one series per id).
pub async fn track(State(hub): State<Hub>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().to_string();
    let start = Instant::now();
    let res = next.run(req).await;
    hub.metrics().record_request(
        &method,
        &route,
        res.status().as_u16(),
        start.elapsed().as_secs_f64(),
    );
    res
}
