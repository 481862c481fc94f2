//! Simulator benchmarks: a full Get-MigrationUser page walk over HTTP for 2,000 mailboxes, and one engine tick
//! for 2,000 mailboxes. Figures go in BENCHMARKS.md.

use chrono::{Duration, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use cutover::sim::engine::{self, Move, Params};
use cutover::sim::{Scenario, SimOptions, Simulator};
use serde_json::{Value, json};

fn page_walk(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let (sim, token) = rt.block_on(async {
        let sim = Simulator::start(SimOptions { scenario: "large".into(), ..Default::default() }).await.expect("sim");
        let i = sim.info().clone();
        let http = reqwest::Client::new();
        let token: Value = http
            .post(format!("{}/{}/oauth2/v2.0/token", i.login_url, i.tenant_id))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", i.app_id.as_str()),
                ("client_secret", i.app_secret.as_str()),
                ("scope", "https://outlook.office365.com/.default"),
            ])
            .send()
            .await
            .expect("token")
            .json()
            .await
            .expect("token json");
        let token = token["access_token"].as_str().expect("access_token").to_string();
        let creds = json!({"UserName": i.source.admin_user, "Password": i.source.admin_password});
        for (name, params) in [
            ("New-MigrationEndpoint", json!({"ExchangeOutlookAnywhere": true, "Name": "Source", "ExchangeServer": i.source.host, "RPCProxyServer": i.source.host, "Credentials": creds})),
            ("New-MigrationBatch", json!({"Name": "Cutover", "SourceEndpoint": "Source", "AutoStart": true})),
        ] {
            let r = http
                .post(format!("{}/adminapi/beta/{}/InvokeCommand", i.exo_url, i.tenant_id))
                .bearer_auth(&token)
                .header("X-CmdletName", name)
                .json(&json!({"CmdletInput": {"CmdletName": name, "Parameters": params}}))
                .send()
                .await
                .expect("cmdlet");
            assert!(r.status().is_success(), "{name}: {}", r.text().await.unwrap_or_default());
        }
        (sim, token)
    });
    let i = sim.info().clone();
    let http = reqwest::Client::new();
    c.bench_function("Get-MigrationUser page walk, 2,000 mailboxes", |b| {
        b.iter(|| {
            rt.block_on(async {
                let mut url = format!("{}/adminapi/beta/{}/InvokeCommand", i.exo_url, i.tenant_id);
                let body = json!({"CmdletInput": {"CmdletName": "Get-MigrationUser", "Parameters": {"ResultSize": "Unlimited"}}});
                let mut n = 0;
                for _ in 0..10 {
                    let page: Value = http
                        .post(&url)
                        .bearer_auth(&token)
                        .header("X-CmdletName", "Get-MigrationUser")
                        .header("Prefer", "odata.maxpagesize=1000")
                        .json(&body)
                        .send()
                        .await
                        .expect("page")
                        .json()
                        .await
                        .expect("page json");
                    n += page["value"].as_array().map_or(0, Vec::len);
                    match page["@odata.nextLink"].as_str() {
                        Some(next) => url = next.to_string(),
                        None => break,
                    }
                }
                assert_eq!(n, 2000);
            })
        })
    });
    rt.block_on(sim.shutdown());
}

fn engine_tick(c: &mut Criterion) {
    let scenario = Scenario::load("large").expect("large");
    let params = Params::new(&scenario.migration);
    let mut moves: Vec<Move> = scenario.mailboxes.iter().map(Move::new).collect();
    let mut t = Utc::now();
    // Get the batch going first, so the tick sees a realistic mix of states.
    engine::advance(&mut moves, &scenario.mailboxes, &params, 100, t, t + Duration::hours(2), true, &[]);
    t += Duration::hours(2);
    c.bench_function("engine tick, 2,000 mailboxes", |b| {
        b.iter(|| {
            let next = t + Duration::seconds(1);
            engine::advance(&mut moves, &scenario.mailboxes, &params, 100, t, next, true, &[]);
            t = next;
        })
    });
}

criterion_group!(benches, page_walk, engine_tick);
criterion_main!(benches);
