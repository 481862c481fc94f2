//! App-only tokens from the simulator's client-credentials grant, one per resource, fetched once: what the tests,
//! benchmarks and examples that drive the real clients use instead of a signed-in project (no keyring needed).
//! Shared by `#[path]` includes, since tests, benches and examples are separate crates.

use cutover::m365::http::TokenSource;
use cutover::m365::{M365Error, Resource};
use cutover::secrets::Secret;
use futures::future::BoxFuture;
use serde_json::Value;
use std::sync::Mutex;

pub struct AppTokens {
    token_url: String,
    app_id: String,
    app_secret: String,
    cache: Mutex<Vec<(Resource, Secret)>>,
}

impl AppTokens {
    pub fn new(login_url: &str, tenant_id: &str, app_id: &str, app_secret: &str) -> AppTokens {
        AppTokens {
            token_url: format!("{login_url}/{tenant_id}/oauth2/v2.0/token"),
            app_id: app_id.to_owned(),
            app_secret: app_secret.to_owned(),
            cache: Mutex::new(Vec::new()),
        }
    }
}

impl TokenSource for AppTokens {
    fn token(&self, resource: Resource) -> BoxFuture<'_, Result<Secret, M365Error>> {
        Box::pin(async move {
            if let Some((_, t)) = self.cache.lock().expect("cache").iter().find(|(r, _)| *r == resource) {
                return Ok(t.clone());
            }
            let scope = match resource {
                Resource::Graph => "https://graph.microsoft.com/.default",
                _ => "https://outlook.office365.com/.default",
            };
            let body: Value = reqwest::Client::new()
                .post(&self.token_url)
                .form(&[
                    ("grant_type", "client_credentials"),
                    ("client_id", &self.app_id),
                    ("client_secret", &self.app_secret),
                    ("scope", scope),
                ])
                .send()
                .await
                .expect("token endpoint")
                .json()
                .await
                .expect("token JSON");
            let token = Secret::new(body["access_token"].as_str().expect("access_token"));
            self.cache.lock().expect("cache").push((resource, token.clone()));
            Ok(token)
        })
    }

    fn invalidate(&self, resource: Resource, _token: &Secret) {
        self.cache.lock().expect("cache").retain(|(r, _)| *r != resource);
    }
}
