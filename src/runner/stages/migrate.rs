//! Stage 5, Start migration: its checks and tasks are not built in this version; every request for them is answered
//! with "not built yet", never faked.

use super::StageWork;

pub struct Work;

impl StageWork for Work {}
