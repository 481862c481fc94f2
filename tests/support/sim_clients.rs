//! The real clients against an embedded simulator, signed in with app-only tokens (`app_tokens.rs`): what the
//! integration tests that drive Graph and Exchange Online over loopback HTTP start from. Shared by `#[path]`
//! includes; the including file includes `app_tokens.rs` beside it as `app_tokens`.
// Each including test file uses some of these, not all of them.
#![allow(dead_code)]

use super::app_tokens::AppTokens;
use cutover::m365::exo::ExoClient;
use cutover::m365::graph::GraphClient;
use cutover::m365::{Cloud, HttpClient, Resource, RetryPolicy, Session};
use cutover::sim::{SimInfo, SimOptions, Simulator};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

pub struct Clients {
    pub info: SimInfo,
    pub exo: ExoClient,
    pub graph: GraphClient,
}

/// The simulator on `scenario`, and clients whose requests wait 30 s at most in all.
pub async fn start(scenario: &str) -> (Simulator, Clients) {
    start_waiting(scenario, Duration::from_secs(30)).await
}

/// The simulator on `scenario`, and clients whose requests wait `max_wait` at most in all, with short back-offs.
pub async fn start_waiting(scenario: &str, max_wait: Duration) -> (Simulator, Clients) {
    let sim = Simulator::start(SimOptions { scenario: scenario.into(), ..Default::default() })
        .await
        .expect("simulator starts");
    let info = sim.info().clone();
    let policy = RetryPolicy {
        max_total_wait: max_wait,
        base_delay: Duration::from_millis(50),
        max_delay: Duration::from_millis(500),
        ..RetryPolicy::default()
    };
    let http = HttpClient::new(policy, None).expect("client");
    let cloud = Cloud::custom(&info.login_url, &info.graph_url, &info.exo_url).expect("loopback cloud");
    let tokens = Arc::new(AppTokens::new(&info.login_url, &info.tenant_id, &info.app_id, &info.app_secret));
    let session = |resource| Session { http: http.clone(), tokens: tokens.clone(), resource };
    let exo = ExoClient::new(session(Resource::ExchangeOnline), &cloud.exo(), &info.tenant_id).expect("exo");
    let graph = GraphClient::new(session(Resource::Graph), &cloud.graph()).expect("graph");
    (sim, Clients { info, exo, graph })
}

/// A call to the simulator's control API: its status and JSON answer (`null` when it has none).
pub async fn control(info: &SimInfo, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut r = reqwest::Client::new().request(method, format!("{}{path}", info.control_url));
    if let Some(b) = body {
        r = r.json(&b);
    }
    let r = r.send().await.expect("control call");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}
