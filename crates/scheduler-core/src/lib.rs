//! Job scheduling (pure): the job model, cron schedules (croner) in IANA
//! time zones with Vixie cron's DST rules, due-job selection, misfire and
//! concurrency policies, the handler registry and run leases.
//!
//! **Not built yet.** This crate is filled by the job-scheduler issue; until
//! then it exports nothing, and no endpoint or job claims to use it.
