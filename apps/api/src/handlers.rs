//! Thin handlers: parse the wire type, call one service method off the
//! async workers (`web::block`), map the result to a DTO.

pub mod certifications;
pub mod evaluations;
pub mod health;
pub mod invocations;
pub mod jobs;
pub mod mentors;
pub mod notifications;
pub mod runs;
pub mod schedules;
