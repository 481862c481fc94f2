//! A request that waits says so as it waits and gives up within the whole wait of the policy (the
//! `CUTOVER_NETWORK_WAIT` setting), naming the fix: against a listener that accepts and never answers, and one
//! that always answers 503 with `Retry-After`. The waits are short policies, not real minutes.

use cutover::m365::http::Request;
use cutover::m365::{HttpClient, M365Error, RetryNotice, RetryPolicy, Service, Waiting};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;

/// A whole wait of 2 s, attempts of at most 0.8 s, a notice every 0.3 s of silence.
fn short() -> RetryPolicy {
    let mut policy = RetryPolicy::with_wait_setting(Some("2")).expect("2 s is a valid wait");
    policy.timeout = Duration::from_millis(800);
    policy.notice_every = Duration::from_millis(300);
    policy.base_delay = Duration::from_millis(50);
    policy
}

/// Accepts every connection and never answers; the sockets are kept open so nothing is refused or reset.
async fn silent_listener() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    format!("http://{addr}")
}

/// Answers every request with 503 and `Retry-After: 1`.
async fn unavailable_listener() -> String {
    use axum::http::StatusCode;
    let app = axum::Router::new().fallback(|| async {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            [("retry-after", "1")],
            r#"{"error":{"code":"serviceUnavailable","message":"Service Unavailable"}}"#,
        )
    });
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}")
}

fn get(base: &str, path: &str) -> Request {
    let url = url::Url::parse(&format!("{base}{path}")).expect("url");
    Request::new(Service::Graph, reqwest::Method::GET, url)
}

/// What an observer was told, with when.
type Seen = Arc<Mutex<Vec<(Duration, RetryNotice)>>>;

/// An observer that keeps what it was told, with when.
fn recorder() -> (cutover::m365::RetryObserver, Seen) {
    let seen: Seen = Arc::default();
    let kept = seen.clone();
    let began = Instant::now();
    let observer: cutover::m365::RetryObserver =
        Arc::new(move |n: &RetryNotice| kept.lock().expect("notices").push((began.elapsed(), n.clone())));
    (observer, seen)
}

#[tokio::test]
async fn a_service_that_never_answers_is_told_while_waited_for_and_given_up_on_in_time() {
    let base = silent_listener().await;
    let http = HttpClient::new(short(), None).expect("client");
    let (observer, seen) = recorder();
    let started = Instant::now();
    let err = cutover::m365::observed(observer, http.send(&get(&base, "/v1.0/domains"), None))
        .await
        .expect_err("no answer ever comes");
    let took = started.elapsed();
    assert!(took < Duration::from_millis(3_000), "bounded by the whole wait of 2 s, took {took:?}");

    let seen = seen.lock().expect("notices").clone();
    let (first_at, first) = seen.first().expect("the wait was told").clone();
    assert!(first_at < Duration::from_millis(600), "told within the notice interval, at {first_at:?}");
    assert!(matches!(first.waiting, Waiting::NoAnswer { .. }), "{first:?}");
    let text = first.to_string();
    assert!(
        text.starts_with("waiting for Microsoft Graph (GET /v1.0/domains): no answer for 0.3 s, attempt 1 of 4"),
        "{text}"
    );
    assert!(text.ends_with("giving up at 2 s"), "{text}");
    assert!(seen.iter().any(|(_, n)| matches!(n.waiting, Waiting::Retrying { .. })), "the retry was told too");

    assert!(matches!(err, M365Error::Network { .. }), "{err:?}");
    let text = err.to_string();
    for fix in ["network", "proxy", "health", "try again later", "CUTOVER_NETWORK_WAIT"] {
        assert!(text.contains(fix), "names {fix}: {text}");
    }
}

#[tokio::test]
async fn a_503_storm_is_retried_as_asked_within_the_whole_wait_and_names_the_fix() {
    let base = unavailable_listener().await;
    let mut policy = short();
    policy.max_total_wait = Duration::from_millis(2_500);
    let (observer, seen) = recorder();
    let http = HttpClient::new(policy, None).expect("client").with_observer(observer);
    let started = Instant::now();
    let err = http.send(&get(&base, "/v1.0/organization"), None).await.expect_err("always 503");
    let took = started.elapsed();
    assert!(took < Duration::from_millis(3_500), "bounded by the whole wait, took {took:?}");
    assert!(took >= Duration::from_secs(1), "Retry-After was honoured, took {took:?}");

    let seen = seen.lock().expect("notices").clone();
    let retries: Vec<String> = seen
        .iter()
        .filter(|(_, n)| matches!(n.waiting, Waiting::Retrying { .. }))
        .map(|(_, n)| n.to_string())
        .collect();
    assert!(!retries.is_empty(), "{seen:?}");
    assert!(
        retries[0].starts_with("waiting for Microsoft Graph (GET /v1.0/organization): HTTP 503; attempt 2 of 4 in 1 s"),
        "{}",
        retries[0]
    );
    assert_eq!(err.api().map(|e| e.status), Some(503), "{err:?}");
    let text = err.to_string();
    for fix in ["gave up after", "health", "try again later", "CUTOVER_NETWORK_WAIT"] {
        assert!(text.contains(fix), "names {fix}: {text}");
    }
}

#[test]
fn the_wait_setting_takes_seconds_and_refuses_anything_else() {
    let default = RetryPolicy::with_wait_setting(None).expect("default");
    assert_eq!(default.max_total_wait, Duration::from_secs(60));
    assert!(default.timeout < default.max_total_wait, "an attempt is shorter than the whole wait");
    assert!(default.notice_every <= Duration::from_secs(5));
    let short = RetryPolicy::with_wait_setting(Some(" 8 ")).expect("8 s");
    assert_eq!(short.max_total_wait, Duration::from_secs(8));
    assert_eq!(short.notice_every, Duration::from_secs(2));
    for bad in ["0", "-5", "1m", "99999"] {
        let err = RetryPolicy::with_wait_setting(Some(bad)).expect_err(bad);
        assert!(err.to_string().contains("CUTOVER_NETWORK_WAIT"), "{err}");
    }
}

/// Reads each request's head and drops the connection without a word, as a proxy or a reset would.
async fn dropping_listener() -> String {
    use tokio::io::AsyncReadExt;
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 8192];
                let _ = socket.read(&mut buf).await;
                drop(socket);
            });
        }
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn a_write_whose_connection_dropped_may_have_reached_the_service_like_a_503() {
    let base = dropping_listener().await;
    let http = HttpClient::new(short(), None).expect("client");
    for method in [reqwest::Method::POST, reqwest::Method::PATCH, reqwest::Method::DELETE] {
        let url = url::Url::parse(&format!("{base}/v1.0/domains")).expect("url");
        let req = Request::new(Service::Graph, method.clone(), url).json(serde_json::json!({"id": "contoso.com"}));
        let err = http.send(&req, None).await.expect_err("dropped");
        let text = err.to_string();
        assert!(matches!(err, M365Error::Network { .. }), "{method}: {err:?}");
        assert!(
            text.contains("may or may not have acted on this change") && text.contains("check the current state"),
            "{method}: {text}"
        );
        assert!(!text.contains("nothing was half-written"), "{method}: {text}");
    }
    // A read that dropped changes nothing: it is retried, and gives up without the write's warning.
    let err = http.send(&get(&base, "/v1.0/domains"), None).await.expect_err("dropped");
    assert!(!err.to_string().contains("may or may not have acted"), "{err}");
}
