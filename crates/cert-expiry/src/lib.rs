//! Certification expiry jobs (pure): the nightly expiry check (reminder
//! stages, auto-pause of mentors whose required certification expired),
//! pause auto-lift, and the weekly expiry report.
//!
//! **Not built yet.** This crate is filled by the job-scheduler issue; until
//! then it exports nothing, and no endpoint or job claims to use it.
