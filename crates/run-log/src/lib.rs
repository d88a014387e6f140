//! Run records (pure): the run status state machine, batch results, result
//! summaries, leases and retention.
//!
//! **Not built yet.** This crate is filled by the job-scheduler issue; until
//! then it exports nothing, and no endpoint or job claims to use it.
