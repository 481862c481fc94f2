//! Property tests of the identity platform's answers: a device code answer and a token answer, from any JSON
//! and with one field spoiled (huge lifetimes included), read into a prompt and a token life without a panic.

use super::{DeviceCodeAnswer, DeviceCodePrompt, MAX_INTERVAL, MAX_LIFE, Resource, TokenAnswer, life};
use crate::fuzz_support::{json_value, mutate_json};
use proptest::prelude::*;
use serde_json::json;
use std::time::{Duration, Instant};

fn device_code() -> serde_json::Value {
    json!({"user_code": "FHJ3K8P2Q", "device_code": "GMMhmHCXhWEzkobqIHGG", "verification_uri": "https://microsoft.com/devicelogin",
           "expires_in": 900, "interval": 5, "message": "To sign in, use a web browser"})
}

fn token() -> serde_json::Value {
    json!({"token_type": "Bearer", "scope": "https://graph.microsoft.com/.default", "expires_in": 3599,
           "access_token": "eyJ0eXAiOi", "refresh_token": "0.AAAA", "id_token": "h.e30.s"})
}

proptest! {
    #[test]
    fn fuzz_identity_answers(any_doc in json_value(), code in mutate_json(device_code()), tok in mutate_json(token()),
                             huge in any::<u64>()) {
        for doc in [any_doc.clone(), code, json!({"user_code": "X", "device_code": "Y", "verification_uri": "Z",
                                                  "expires_in": huge, "interval": huge.to_string()})] {
            if let Ok(answer) = serde_json::from_value::<DeviceCodeAnswer>(doc) {
                let prompt = DeviceCodePrompt::from_answer(answer, Instant::now(), Resource::Graph);
                prop_assert!(prompt.expires_in <= MAX_LIFE);
                prop_assert!(prompt.interval >= Duration::from_secs(1) && prompt.interval <= MAX_INTERVAL);
            }
        }
        for doc in [any_doc, tok, json!({"access_token": "a", "expires_in": huge})] {
            if let Ok(answer) = serde_json::from_value::<TokenAnswer>(doc) {
                let lived = life(answer.expires_in.unwrap_or(0));
                prop_assert!(lived <= MAX_LIFE);
                let _ = Instant::now() + lived;
            }
        }
    }
}
