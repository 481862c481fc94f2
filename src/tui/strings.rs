//! Every sentence the wizard shows, in one place.

pub const DEMO_WITHOUT_SIMULATOR: &str =
    "DEMO: the simulator is not built yet, so this demo runs without live services; only stage 1 works.";
