//! The simulated clock: simulated time runs `speed` times faster than real time, and the control endpoint can
//! jump it forward, so a two-hour sync plays in a minute and a test can reach "24 hours later" at once.

use chrono::{DateTime, Duration, Utc};
use std::time::Instant;

#[derive(Debug, Clone)]
pub struct Clock {
    started_real: Instant,
    started_sim: DateTime<Utc>,
    speed: f64,
    /// Jumps added by the control endpoint.
    offset: Duration,
}

impl Clock {
    pub fn new(speed: f64) -> Clock {
        Clock { started_real: Instant::now(), started_sim: Utc::now(), speed, offset: Duration::zero() }
    }

    pub fn now(&self) -> DateTime<Utc> {
        let real = self.started_real.elapsed().as_secs_f64() * self.speed;
        self.started_sim + Duration::milliseconds((real * 1000.0) as i64) + self.offset
    }

    pub fn advance(&mut self, seconds: f64) {
        self.offset += Duration::milliseconds((seconds * 1000.0) as i64);
    }

    pub fn speed(&self) -> f64 {
        self.speed
    }
}
