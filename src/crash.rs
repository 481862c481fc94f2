//! Test-only crash points on the two write paths ([`crate::runner::jobs::JobContext::audited`] and
//! [`crate::project::Project::change`]): `CUTOVER_CRASH_AT=POINT:ACTION` kills the process, as a lost terminal
//! or a power cut would, at the first write of ACTION when it reaches POINT (`about-to`: its intent is recorded;
//! `written`: the write returned; `done`: its outcome is recorded). Without the variable nothing happens; the
//! resume tests use it to prove that a project reopened after any of these finds the write done or not done.

use std::sync::OnceLock;

/// Where in a write the process may be killed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Point {
    AboutTo,
    Written,
    Done,
}

impl Point {
    pub const ALL: [Point; 3] = [Point::AboutTo, Point::Written, Point::Done];

    /// The point as `CUTOVER_CRASH_AT` names it.
    pub fn word(self) -> &'static str {
        match self {
            Point::AboutTo => "about-to",
            Point::Written => "written",
            Point::Done => "done",
        }
    }

    fn parse(text: &str) -> Option<Point> {
        Point::ALL.into_iter().find(|p| p.word() == text)
    }
}

/// The environment variable that arms a crash point.
pub const CRASH_AT: &str = "CUTOVER_CRASH_AT";

fn armed() -> Option<&'static (Point, String)> {
    static ARMED: OnceLock<Option<(Point, String)>> = OnceLock::new();
    ARMED.get_or_init(|| parse(&std::env::var(CRASH_AT).ok()?)).as_ref()
}

fn parse(text: &str) -> Option<(Point, String)> {
    let (point, action) = text.trim().split_once(':')?;
    Some((Point::parse(point)?, action.to_owned())).filter(|(_, a)| !a.is_empty())
}

/// Kills the process here when the crash point of `action` at `point` is armed: SIGKILL, so nothing is flushed,
/// dropped or unlocked, as in a real crash.
pub fn at(point: Point, action: &str) {
    if armed().is_some_and(|(p, a)| *p == point && a == action) {
        eprintln!("{CRASH_AT}: killed at {} of {action}", point.word());
        #[cfg(unix)]
        // SAFETY: kill(2) on our own pid with a valid signal number.
        unsafe {
            libc::kill(libc::getpid(), libc::SIGKILL);
        }
        std::process::abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_crash_point_names_a_point_and_an_action() {
        assert_eq!(parse("about-to:add-domain"), Some((Point::AboutTo, "add-domain".into())));
        assert_eq!(parse("done:set-setting"), Some((Point::Done, "set-setting".into())));
        for bad in ["", "about-to", "about-to:", "later:add-domain", "add-domain"] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}
