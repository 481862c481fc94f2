//! Stage 7, MX change: not built in this version; the screen lists its tasks and checks and says so, locked or
//! not, and Enter on a task says it again rather than pretend.

use super::Screen;

pub struct MxChange;

impl Screen for MxChange {
    fn built(&self) -> bool {
        false
    }
}
