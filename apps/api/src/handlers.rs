//! Thin handlers: parse the wire type, call one service method off the
//! async workers (`web::block`), map the result to a DTO.

pub mod evaluations;
pub mod health;
pub mod mentors;
