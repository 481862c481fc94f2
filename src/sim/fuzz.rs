//! Property tests of the simulator's scenario files ([`super::scenario::Scenario::load`]): the built-in
//! scenarios with one field of wrong type, extreme or missing, and spoiled as text, load as a valid scenario or
//! fail with a typed error naming the file; never a panic, and never a world past what validation allows.

use super::SimError;
use super::scenario::Scenario;
use crate::fuzz_support::{apply, mutate_json, spoil};
use proptest::prelude::*;

const SMALL: &str = include_str!("../../assets/scenarios/small.json");

fn load(bytes: &[u8]) -> Result<Scenario, SimError> {
    let dir = tempfile::tempdir().map_err(|e| SimError::Certificate(e.to_string()))?;
    let path = dir.path().join("scenario.json");
    std::fs::write(&path, bytes).map_err(|e| SimError::Certificate(e.to_string()))?;
    let loaded = Scenario::load(&path.display().to_string());
    if let Err(SimError::Scenario { scenario, reason }) = &loaded {
        assert!(scenario.ends_with("scenario.json") && !reason.is_empty());
    }
    loaded
}

proptest! {
    #[test]
    fn fuzz_scenario_wrong_field(doc in mutate_json(serde_json::from_str(SMALL).unwrap_or_default())) {
        let bytes = serde_json::to_vec(&doc).map_err(|e| TestCaseError::fail(e.to_string()))?;
        match load(&bytes) {
            Ok(s) => prop_assert!(s.mailboxes.len() <= 2_000 && !s.tenant.domains.is_empty()),
            Err(e) => prop_assert!(matches!(e, SimError::Scenario { .. }), "{e}"),
        }
    }

    #[test]
    fn fuzz_scenario_spoiled(how in spoil()) {
        if let Err(e) = load(&apply(SMALL.as_bytes(), &how)) {
            prop_assert!(matches!(e, SimError::Scenario { .. }), "{e}");
        }
    }
}
