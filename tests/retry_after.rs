//! The HTTP layer waits as long as a throttled answer asks, in each form Microsoft's services may say it, against
//! a bare listener on 127.0.0.1 that answers 429 once and then 200.

use cutover::m365::http::Request;
use cutover::m365::{HttpClient, RetryPolicy, Service};
use reqwest::Method;
use std::time::{Duration, Instant, SystemTime};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Serves one 429 with `headers`, then a 200; returns the URL and the arrival times of the requests.
async fn throttle_once(headers: Vec<(String, String)>) -> (String, tokio::task::JoinHandle<Vec<Instant>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/v1.0/organization", listener.local_addr().expect("addr"));
    let task = tokio::spawn(async move {
        let mut arrivals = Vec::new();
        for n in 0..2 {
            let (mut stream, _) = listener.accept().await.expect("accept");
            let mut buf = vec![0u8; 8192];
            let mut read = 0;
            while !buf[..read].windows(4).any(|w| w == b"\r\n\r\n") {
                let got = stream.read(&mut buf[read..]).await.expect("read");
                assert!(got > 0, "the request ended early");
                read += got;
            }
            arrivals.push(Instant::now());
            let (status, body, extra) = if n == 0 {
                (
                    "429 Too Many Requests",
                    r#"{"error":{"code":"TooManyRequests","message":"Too many requests."}}"#,
                    &headers[..],
                )
            } else {
                ("200 OK", r#"{"value":[]}"#, &[][..])
            };
            let mut answer = format!(
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
                body.len()
            );
            for (k, v) in extra {
                answer.push_str(&format!("{k}: {v}\r\n"));
            }
            answer.push_str("\r\n");
            answer.push_str(body);
            stream.write_all(answer.as_bytes()).await.expect("write");
            stream.shutdown().await.ok();
        }
        arrivals
    });
    (url, task)
}

/// Sends one request through the HTTP layer and returns the time between its two attempts.
async fn gap(headers: Vec<(String, String)>) -> Duration {
    let (url, server) = throttle_once(headers).await;
    let policy = RetryPolicy {
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(20),
        ..Default::default()
    };
    let http = HttpClient::new(policy, None).expect("client");
    let req = Request::new(Service::Graph, Method::GET, url.parse().expect("url"));
    let answer = http.send(&req, None).await.expect("the second attempt succeeds");
    assert_eq!(answer.status, 200);
    let arrivals = server.await.expect("server");
    arrivals[1] - arrivals[0]
}

fn date(at: SystemTime, form: &str) -> String {
    let at: chrono::DateTime<chrono::Utc> = at.into();
    at.format(form).to_string()
}

const IMF_FIXDATE: &str = "%a, %d %b %Y %H:%M:%S GMT";
const RFC850: &str = "%A, %d-%b-%y %H:%M:%S GMT";
const ASCTIME: &str = "%a %b %e %H:%M:%S %Y";

fn assert_waited(gap: Duration, asked: Duration) {
    assert!(gap >= asked, "retried after {gap:?}, before the {asked:?} asked");
    assert!(gap < asked + Duration::from_secs(3), "waited far longer than asked: {gap:?}");
}

#[tokio::test]
async fn delta_seconds() {
    assert_waited(gap(vec![("Retry-After".into(), "2".into())]).await, Duration::from_secs(2));
}

#[tokio::test]
async fn an_http_date_from_a_server_whose_clock_is_behind() {
    // The server's clock is a minute behind the laptop's: its date is two seconds after its own `Date`.
    let server_now = SystemTime::now() - Duration::from_secs(60);
    let headers = vec![
        ("Date".into(), date(server_now, IMF_FIXDATE)),
        ("Retry-After".into(), date(server_now + Duration::from_secs(2), IMF_FIXDATE)),
    ];
    assert_waited(gap(headers).await, Duration::from_secs(2));
}

#[tokio::test]
async fn the_obsolete_http_date_forms() {
    for form in [RFC850, ASCTIME] {
        let now = SystemTime::now();
        let headers = vec![
            ("Date".into(), date(now, IMF_FIXDATE)),
            ("Retry-After".into(), date(now + Duration::from_secs(2), form)),
        ];
        assert_waited(gap(headers).await, Duration::from_secs(2));
    }
}

#[tokio::test]
async fn an_http_date_without_a_date_header_is_not_cut_short() {
    let headers = vec![("Retry-After".into(), date(SystemTime::now() + Duration::from_secs(2), IMF_FIXDATE))];
    // Whole seconds only: the wait ends at the start of the second named, never before it.
    let g = gap(headers).await;
    assert!(g >= Duration::from_millis(1000) && g < Duration::from_secs(5), "{g:?}");
}

#[tokio::test]
async fn milliseconds_headers() {
    assert_waited(gap(vec![("retry-after-ms".into(), "1500".into())]).await, Duration::from_millis(1500));
    assert_waited(
        gap(vec![("Retry-After".into(), "1".into()), ("x-ms-retry-after-ms".into(), "2000".into())]).await,
        Duration::from_secs(2),
    );
}

/// The simulator's own HTTP-date form: `Retry-After` on the answer's `Date` (the simulated clock), both to the
/// whole second, which the client reads as the wait asked; a retry sent at once is logged as early.
#[tokio::test]
async fn the_simulator_writes_retry_after_as_an_http_date_and_logs_an_early_retry() {
    use cutover::sim::{SimOptions, Simulator};
    let sim = Simulator::start(SimOptions { scenario: "small".into(), speed: 600.0, ..Default::default() })
        .await
        .expect("simulator starts");
    let info = sim.info();
    let c = reqwest::Client::new();
    let rule = serde_json::json!({"service": "graph", "path_contains": "/organization", "times": 1,
        "kind": {"type": "throttle", "retry_after": 7, "retry_after_form": "http_date"}});
    let added = c.post(format!("{}/faults", info.control_url)).json(&rule).send().await.expect("add the fault");
    assert!(added.status().is_success());
    let url = format!("{}/v1.0/organization", info.graph_url);
    let answer = c.get(&url).send().await.expect("graph");
    assert_eq!(answer.status(), 429);
    let header = |name: &str| {
        let v = answer.headers().get(name).unwrap_or_else(|| panic!("{name}")).to_str().expect("text");
        httpdate::parse_http_date(v).unwrap_or_else(|e| panic!("{name}: {v}: {e}"))
    };
    assert_eq!(header("retry-after").duration_since(header("date")).expect("later"), Duration::from_secs(7));
    let read = cutover::m365::http::retry_after(answer.headers(), SystemTime::now());
    assert_eq!(read, Some(Duration::from_secs(7)), "the client reads the wait the simulator meant");
    // Sent again at once: early (the fault was used up, so the answer is the ordinary 401 without a token).
    c.get(&url).send().await.expect("graph again");
    let log: serde_json::Value =
        c.get(format!("{}/retry-after", info.control_url)).send().await.expect("retry log").json().await.expect("json");
    assert_eq!((log["retried"].as_u64(), log["early"].as_u64()), (Some(1), Some(1)), "{log}");
    assert_eq!(log["early_requests"][0]["request"], "GET /graph/v1.0/organization", "{log}");
    sim.shutdown().await;
}
