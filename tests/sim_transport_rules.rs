//! The simulator exports the source's transport rules as `assets/Get-CutoverInventory.ps1` does for stage 9:
//! a JSON array of rules with `Name`, `State` and the `New-TransportRule` parameters each sets, written beside the
//! inventory CSV (`SimInfo::transport_rules_json`) and served by the control API, removed with the simulator.

use cutover::sim::{SimOptions, Simulator};
use serde_json::Value;

async fn start(scenario: &str) -> Simulator {
    Simulator::start(SimOptions { scenario: scenario.into(), ..Default::default() }).await.expect("simulator starts")
}

#[tokio::test]
async fn the_rules_export_is_beside_the_inventory_and_served_the_same() {
    let sim = start("typical").await;
    let info = sim.info();
    assert_eq!(info.transport_rules_json.parent(), info.inventory_csv.parent(), "beside the inventory");
    let file: Value =
        serde_json::from_str(&std::fs::read_to_string(&info.transport_rules_json).expect("the file")).expect("JSON");
    let served: Value = reqwest::get(format!("{}/transport-rules.json", info.control_url))
        .await
        .and_then(reqwest::Response::error_for_status)
        .expect("served")
        .json()
        .await
        .expect("JSON");
    assert_eq!(file, served);
    let rules = file.as_array().expect("an array of rules");
    assert!(!rules.is_empty(), "typical has rules");
    for rule in rules {
        assert!(rule["Name"].as_str().is_some_and(|n| !n.is_empty()), "every rule is named: {rule}");
        assert!(matches!(rule["State"].as_str(), Some("Enabled" | "Disabled")), "its state: {rule}");
        let empty = rule
            .as_object()
            .expect("an object")
            .values()
            .any(|v| v.is_null() || *v == "" || *v == Value::Array(vec![]));
        assert!(!empty, "empty properties are left out: {rule}");
    }
    let path = info.transport_rules_json.clone();
    sim.shutdown().await;
    assert!(!path.exists(), "removed with the simulator");

    let small = start("small").await;
    let text = std::fs::read_to_string(&small.info().transport_rules_json).expect("the file");
    assert!(serde_json::from_str::<Value>(&text).expect("JSON").is_array(), "a list, whatever the scenario");
    small.shutdown().await;
}
