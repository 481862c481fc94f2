//! The source's transport rules as `assets/Get-CutoverInventory.ps1` exports them
//! (`cutover-transport-rules-<date>.json`: a JSON list, one object per `Get-TransportRule` result with its
//! non-empty properties), from the scenario, so a demo reads the same rules the simulated server has
//! (`GET {control_url}/transport-rules.json`).

use super::World;
use serde_json::{Value, json};

/// The export's text: each scenario rule with its `Priority` (its place in the list) and the `State` and
/// `Mode` the script writes when the scenario leaves them out.
pub fn json(world: &World) -> String {
    let rules: Vec<Value> = world
        .scenario
        .source
        .transport_rules
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let mut r = r.clone();
            r.entry("State").or_insert(json!("Enabled"));
            r.entry("Mode").or_insert(json!("Enforce"));
            r.insert("Priority".into(), json!(i));
            Value::Object(r)
        })
        .collect();
    Value::Array(rules).to_string()
}
