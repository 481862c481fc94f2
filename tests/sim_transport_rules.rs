//! The simulator exports the source's transport rules as `assets/Get-CutoverInventory.ps1` does for stage 9:
//! a JSON array of rules with `Name`, `State` and the `New-TransportRule` parameters each sets, written beside the
//! inventory CSV (`SimInfo::transport_rules_json`) and served by the control API; a source without rules gives
//! an empty list.

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
    assert_eq!(rules.len(), 3);
    let tag = &rules[0];
    assert_eq!(
        (tag["Name"].as_str(), tag["State"].as_str(), tag["Mode"].as_str()),
        (Some("External mail tag"), Some("Enabled"), Some("Enforce"))
    );
    assert_eq!((tag["Priority"].as_u64(), tag["PrependSubject"].as_str()), (Some(0), Some("[External] ")));
    assert_eq!(tag["FromScope"], "NotInOrganization");
    let block = &rules[2];
    assert_eq!((block["State"].as_str(), block["AttachmentSizeOver"].as_u64()), (Some("Disabled"), Some(26_214_400)));
    assert!(block.get("Comments").is_none(), "empty properties are left out");
    let path = info.transport_rules_json.clone();
    sim.shutdown().await;
    assert!(!path.exists(), "removed with the simulator");

    let small = start("small").await;
    let text = std::fs::read_to_string(&small.info().transport_rules_json).expect("the file");
    assert_eq!(serde_json::from_str::<Value>(&text).expect("JSON"), serde_json::json!([]), "no rules: an empty list");
    small.shutdown().await;
}
