//! The actix-web shell of Mentor Scheduler: routing, JSON (de)serialisation,
//! the mapping of errors to statuses, configuration, the webhook sink, and
//! the app factory shared by `main` and the tests. Jobs, runs, the
//! scheduler loop and the notification worker live in the `runtime` crate,
//! which knows nothing of HTTP.

pub mod access;
pub mod config;
pub mod demo;
pub mod dto;
pub mod error;
pub mod extract;
pub mod handlers;
pub mod idempotency;
pub mod import;
pub mod job_view;
pub mod observe;
pub mod openapi;
pub mod routes;
pub mod shutdown;
pub mod state;
pub mod ui;
pub mod webhook;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::from_fn;
use actix_web::{App, web};

use crate::error::ApiError;
use crate::state::AppState;

/// Builds the application: state, extractor error handlers (so every bad
/// input gets the error body of docs/api.md), routes and the JSON 404.
pub fn build_app(
    state: AppState,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let limit = state.http.limits.max_body_bytes;
    // Installed before the first request: what is recorded before a
    // recorder exists is lost.
    observe::recorder();
    let tokens = state.http.tokens.clone();
    App::new()
        .app_data(web::Data::new(state))
        .app_data(web::Data::new(tokens))
        // Bodies are read by `extract::Json`, which checks their type.
        .app_data(web::PayloadConfig::new(limit))
        .app_data(
            web::QueryConfig::default().error_handler(|err, _req| ApiError::from_query(err).into()),
        )
        .app_data(
            web::PathConfig::default().error_handler(|err, _req| ApiError::from_path(err).into()),
        )
        // The last wrapped runs first: the request id and its span, then
        // the cross-site check, then the tokens.
        .wrap(from_fn(access::authenticate))
        .wrap(from_fn(access::same_site_writes))
        .wrap(from_fn(observe::observe))
        .configure(routes::configure)
        .default_service(web::to(routes::not_found))
}
