//! The source's transport rules as `assets/Get-CutoverInventory.ps1` exports them for stage 9
//! (`cutover-transport-rules-<date>.json`): a JSON array, one object per rule with `Name`, `State` and every
//! `New-TransportRule` parameter the rule sets (`Priority`, `Mode`, `Comments` when set, conditions, exceptions
//! and actions), empty ones left out, sizes in bytes. Written beside the inventory CSV and served at
//! `GET {control_url}/transport-rules.json`.

use super::World;
use serde_json::{Map, Value};

/// The export's text.
pub fn json(world: &World) -> String {
    let rules: Vec<Value> = world
        .scenario
        .source
        .transport_rules
        .iter()
        .map(|r| {
            let mut o = Map::new();
            o.insert("Name".into(), Value::from(r.name.as_str()));
            o.insert("State".into(), Value::from(r.state.as_str()));
            o.insert("Priority".into(), Value::from(r.priority));
            o.insert("Mode".into(), Value::from(r.mode.as_str()));
            if !r.comments.is_empty() {
                o.insert("Comments".into(), Value::from(r.comments.as_str()));
            }
            for (k, v) in &r.parameters {
                o.entry(k.clone()).or_insert_with(|| v.clone());
            }
            Value::Object(o)
        })
        .collect();
    // Plain data always serializes; an empty list stands in for an impossible failure.
    serde_json::to_string_pretty(&rules).unwrap_or_else(|_| "[]".to_owned()) + "\n"
}
