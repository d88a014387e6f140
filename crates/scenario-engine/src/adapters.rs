//! Implementations of the service ports that ship with the engine.
//!
//! Unlike [`rules`](crate::rules), these are not pure: [`SystemClock`]
//! reads the wall clock, [`UlidIds`] makes ids from it, and
//! [`InMemoryStore`] keeps state behind a lock.
//!
//! - [`InMemoryStore`]: every port of [`service`](crate::service) in
//!   memory, for tests and for embedders without a database; its rows
//!   ([`StoredNotification`], [`StoredBatchDecision`],
//!   [`StoredBatchResult`]) can be read back.
//! - Time: [`SystemClock`] (the wall clock) and [`FixedClock`] (stands
//!   still until moved).
//! - Ids: [`UlidIds`].
//! - Demo data: [`demo_mentor`], [`demo_mentors`], [`demo_user_id`]
//!   ([`DEMO_ORGS`], [`MAX_DEMO_MENTORS`]): realistic mentors as a pure
//!   function of their number and "now".

mod clock;
mod demo;
mod ids;
mod memory;

pub use clock::{FixedClock, SystemClock};
pub use demo::{DEMO_ORGS, MAX_DEMO_MENTORS, demo_mentor, demo_mentors, demo_user_id};
pub use ids::UlidIds;
pub use memory::{InMemoryStore, StoredBatchDecision, StoredBatchResult, StoredNotification};
