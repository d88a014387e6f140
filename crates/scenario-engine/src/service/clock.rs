//! Where "now" comes from: a port, so that the services never read the
//! wall clock themselves.

use chrono::{DateTime, Utc};

/// Where "now" comes from. [`SystemClock`](crate::adapters::SystemClock)
/// reads the wall clock; [`FixedClock`](crate::adapters::FixedClock) stands
/// still until moved.
pub trait Clock: Send + Sync {
    /// The current instant.
    fn now(&self) -> DateTime<Utc>;
}
