//! The one routing table. Every path is listed once, with the contract whose
//! doubled form it also answers to (docs/api.md, "Paths": a client generated
//! verbatim from the contracts calls `/api/v1/x/api/v1/x/...`).

use actix_web::http::Method;
use actix_web::{Route, guard, web};

use crate::error::ApiError;
use crate::handlers::{
    certifications, evaluations, health, invocations, jobs, mentors, notifications, runs, schedules,
};
use crate::job_view::{Certification, Cron, Scheduler, View};
use crate::observe;
use crate::openapi;
use crate::ui;

const EVALUATIONS: &str = "/api/v1/scenario-trigger-evaluations";
const INVOCATIONS: &str = "/api/v1/scheduler-invocations";

/// One mounted route: its method, canonical path, and the contract base
/// path it is doubled under (if it comes from a contract).
pub struct RouteSpec {
    /// HTTP method.
    pub method: Method,
    /// Canonical path, as in the OpenAPI document.
    pub path: &'static str,
    /// The contract's base path, for the doubled alias.
    pub contract_base: Option<&'static str>,
    /// The handler.
    pub route: fn() -> Route,
}

macro_rules! spec {
    ($method:ident, $path:expr, $base:expr, $handler:path) => {
        RouteSpec {
            method: Method::$method,
            path: $path,
            contract_base: $base,
            route: || web::route().method(Method::$method).to($handler),
        }
    };
}

/// Every route of the service.
pub fn table() -> Vec<RouteSpec> {
    let ev = Some(EVALUATIONS);
    let inv = Some(INVOCATIONS);
    let mut routes = vec![
        spec!(GET, "/healthz", None, health::healthz),
        spec!(GET, "/readyz", None, health::readyz),
        spec!(GET, "/metrics", None, observe::metrics),
        spec!(GET, "/api/v1/openapi.json", None, openapi::document),
        // Mentor data (docs/api.md, "Mentors"). The import comes before
        // `{user_id}`, which would match it too (see `configure`).
        spec!(GET, "/api/v1/mentors", None, mentors::list),
        spec!(POST, "/api/v1/mentors/import", None, mentors::import),
        spec!(GET, "/api/v1/mentors/{user_id}", None, mentors::get),
        spec!(PUT, "/api/v1/mentors/{user_id}", None, mentors::upsert),
        spec!(DELETE, "/api/v1/mentors/{user_id}", None, mentors::delete),
        spec!(
            POST,
            "/api/v1/mentors/{user_id}/activity",
            None,
            mentors::activity
        ),
        spec!(
            PUT,
            "/api/v1/mentors/{user_id}/certifications/{certification_id}",
            None,
            mentors::put_certification
        ),
        spec!(
            DELETE,
            "/api/v1/mentors/{user_id}/certifications/{certification_id}",
            None,
            mentors::delete_certification
        ),
        spec!(
            PUT,
            "/api/v1/mentors/{user_id}/preferences",
            None,
            mentors::set_preferences
        ),
        spec!(
            POST,
            "/api/v1/mentors/{user_id}/pause",
            None,
            mentors::pause
        ),
        spec!(
            DELETE,
            "/api/v1/mentors/{user_id}/pause",
            None,
            mentors::lift_pause
        ),
        // Across mentors, for the dashboard (docs/api.md, "Certifications
        // expiring soon").
        spec!(
            GET,
            "/api/v1/certifications/expiring",
            None,
            certifications::expiring
        ),
        // The scenario-trigger-evaluations contract.
        spec!(
            GET,
            "/api/v1/scenario-trigger-evaluations",
            ev,
            evaluations::list
        ),
        spec!(
            POST,
            "/api/v1/scenario-trigger-evaluations",
            ev,
            evaluations::create
        ),
        spec!(
            POST,
            "/api/v1/scenario-trigger-evaluations/evaluate/inactivity",
            ev,
            evaluations::evaluate_inactivity
        ),
        spec!(
            POST,
            "/api/v1/scenario-trigger-evaluations/evaluate/milestone",
            ev,
            evaluations::evaluate_milestone
        ),
        spec!(
            POST,
            "/api/v1/scenario-trigger-evaluations/evaluate/certification-expiry",
            ev,
            evaluations::evaluate_certification_expiry
        ),
        spec!(
            GET,
            "/api/v1/scenario-trigger-evaluations/users/{user_id}/should-notify",
            ev,
            evaluations::should_notify
        ),
        spec!(
            GET,
            "/api/v1/scenario-trigger-evaluations/{id}",
            ev,
            evaluations::get
        ),
        spec!(
            PUT,
            "/api/v1/scenario-trigger-evaluations/{id}",
            ev,
            evaluations::override_evaluation
        ),
        spec!(
            DELETE,
            "/api/v1/scenario-trigger-evaluations/{id}",
            ev,
            evaluations::delete
        ),
        // The three job views come after these (see `job_views`).
        // The scheduler-invocations contract. The two fixed paths come before
        // `{id}`, which would otherwise take them.
        spec!(
            GET,
            "/api/v1/scheduler-invocations/active-peer-mentors",
            inv,
            invocations::active_peer_mentors
        ),
        spec!(
            POST,
            "/api/v1/scheduler-invocations/evaluation-batch",
            inv,
            invocations::evaluation_batch
        ),
        spec!(GET, "/api/v1/scheduler-invocations", inv, invocations::list),
        spec!(
            POST,
            "/api/v1/scheduler-invocations",
            inv,
            invocations::create
        ),
        spec!(
            GET,
            "/api/v1/scheduler-invocations/{id}",
            inv,
            invocations::get
        ),
        spec!(
            PUT,
            "/api/v1/scheduler-invocations/{id}",
            inv,
            invocations::update
        ),
        spec!(
            DELETE,
            "/api/v1/scheduler-invocations/{id}",
            inv,
            invocations::delete
        ),
        // Runs of any job and the schedule preview (docs/api.md, "Jobs and runs").
        spec!(GET, "/api/v1/runs", None, runs::list),
        spec!(GET, "/api/v1/runs/{id}", None, runs::get),
        spec!(POST, "/api/v1/runs/{id}/cancel", None, runs::cancel),
        spec!(GET, "/api/v1/runs/{id}/report", None, runs::report),
        spec!(GET, "/api/v1/schedules/preview", None, schedules::preview),
        // The outbox (beyond the contracts; no doubled form).
        spec!(GET, "/api/v1/notifications", None, notifications::list),
        spec!(GET, "/api/v1/notifications/{id}", None, notifications::get),
        spec!(
            POST,
            "/api/v1/notifications/{id}/retry",
            None,
            notifications::retry
        ),
    ];
    // The nightly-scheduler, certification-cron and cron-jobs contracts (the
    // three job views of docs/api.md): one set of handlers, mounted once per
    // view.
    routes.extend(job_views::<Scheduler>());
    routes.extend(job_views::<Certification>());
    routes.extend(job_views::<Cron>());
    routes
}

/// The dashboard's page and assets (docs/operations.md, "Dashboard"):
/// routed like the API, but not part of it, so the OpenAPI document leaves
/// them out (its test checks [`table`], and that these stay out).
pub fn pages() -> Vec<RouteSpec> {
    vec![
        spec!(GET, ui::PAGE, None, ui::page),
        spec!(GET, ui::SCRIPT, None, ui::script),
        spec!(GET, ui::STYLE, None, ui::style),
    ]
}

/// The routes of one job view, from its description: the contract's
/// endpoints, plus every view's `runs` and the scheduler view's `last-result`.
fn job_views<V: View>() -> Vec<RouteSpec> {
    let v = V::VIEW;
    let base = Some(v.contract_base);
    let mut routes = vec![
        spec!(GET, v.collection, base, jobs::list::<V>),
        spec!(POST, v.collection, base, jobs::create::<V>),
        spec!(GET, v.item, base, jobs::get::<V>),
        spec!(PUT, v.item, base, jobs::update::<V>),
        spec!(DELETE, v.item, base, jobs::delete::<V>),
        spec!(POST, v.trigger, base, jobs::trigger::<V>),
        spec!(GET, v.runs, base, jobs::runs::<V>),
    ];
    if let Some(last) = v.last_result {
        routes.push(spec!(GET, last, base, jobs::last_result::<V>));
    }
    routes
}

/// The doubled contract form of a canonical path, if it has one.
pub fn doubled(spec: &RouteSpec) -> Option<String> {
    spec.contract_base
        .map(|base| format!("{base}{}", spec.path))
}

/// The 405 of a path, naming the methods it answers in `Allow`. A `{param}`
/// path that also serves literal paths (`/api/v1/mentors/{user_id}` serves
/// `/api/v1/mentors/import` for the methods the import does not have) adds
/// the literal's own methods when the request is for that literal.
fn method_not_allowed(methods: Vec<Method>, literals: Vec<(String, Vec<Method>)>) -> Route {
    web::to(move |req: actix_web::HttpRequest| {
        let mut all = methods.clone();
        for (literal, own) in &literals {
            if req.path() == literal {
                all.extend(own.iter().filter(|m| !methods.contains(m)).cloned());
            }
        }
        let allow = all
            .iter()
            .map(Method::as_str)
            .collect::<Vec<_>>()
            .join(", ");
        async move { Err::<actix_web::HttpResponse, _>(ApiError::MethodNotAllowed { allow }) }
    })
}

/// Whether `pattern` (with `{param}` segments) also matches the literal
/// path `literal`, as `/api/v1/mentors/{user_id}` matches `/api/v1/mentors/import`.
fn shadowed_by(literal: &str, pattern: &str) -> bool {
    let param = |seg: &str| seg.starts_with('{') && seg.ends_with('}');
    let (l, p): (Vec<&str>, Vec<&str>) =
        (literal.split('/').collect(), pattern.split('/').collect());
    literal != pattern
        && !l.iter().any(|seg| param(seg))
        && l.len() == p.len()
        && l.iter().zip(&p).all(|(a, b)| a == b || param(b))
}

/// Mounts every route at its canonical path and its doubled alias. Routes of
/// one path share one resource, so another method on a known path is a 405.
///
/// A literal path that a `{param}` path also matches (`POST
/// /api/v1/mentors/import` beside `/api/v1/mentors/{user_id}`) is mounted
/// first and only for its own methods: any other method falls through to
/// the `{param}` resource, so a mentor whose id is `import` can still be
/// read, written and erased.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let mut table = table();
    table.extend(pages());
    let mut paths: Vec<String> = Vec::new();
    for spec in &table {
        for path in std::iter::once(spec.path.to_owned()).chain(doubled(spec)) {
            if !paths.contains(&path) {
                paths.push(path);
            }
        }
    }
    // Resources in scopes of their first three segments: the router tries
    // a scope's resources only when the path starts with its prefix, so a
    // request meets the patterns of its own contract, not all of them.
    let mut groups: Vec<(Option<&str>, Vec<actix_web::Resource>)> = Vec::new();
    for path in &paths {
        let prefix = mount_prefix(path);
        let relative = prefix.map_or(path.as_str(), |p| &path[p.len()..]);
        let mut resource =
            web::resource(relative).app_data(observe::RoutePattern(path.as_str().into()));
        for spec in &table {
            if spec.path == path || doubled(spec).as_deref() == Some(path.as_str()) {
                resource = resource.route((spec.route)());
            }
        }
        let methods = methods_of(&table, path);
        let literals = paths
            .iter()
            .filter(|literal| shadowed_by(literal, path))
            .map(|literal| (literal.clone(), methods_of(&table, literal)))
            .collect();
        let not_allowed = method_not_allowed(methods.clone(), literals);
        if paths.iter().any(|other| shadowed_by(path, other)) {
            let only_its_methods =
                move |ctx: &guard::GuardContext<'_>| methods.contains(&ctx.head().method);
            resource = resource.guard(guard::fn_guard(only_its_methods));
        }
        let resource = resource.default_service(not_allowed);
        match groups.iter_mut().find(|(p, _)| p.is_some() && *p == prefix) {
            Some((_, resources)) => resources.push(resource),
            None => groups.push((prefix, vec![resource])),
        }
    }
    for (prefix, resources) in groups {
        match prefix {
            Some(prefix) => {
                let scope = resources
                    .into_iter()
                    .fold(web::scope(prefix), actix_web::Scope::service);
                cfg.service(scope);
            }
            None => resources.into_iter().for_each(|r| {
                cfg.service(r);
            }),
        }
    }
}

/// The scope a path is mounted in: its first three segments
/// (`/api/v1/mentors` of `/api/v1/mentors/{user_id}`), or none for a
/// shorter path. A `{param}` segment matches one segment only, so paths of
/// different scopes never match the same request, and a path of fewer
/// segments never matches a path of a scope.
fn mount_prefix(path: &str) -> Option<&str> {
    let mut ends = path.match_indices('/').map(|(i, _)| i).skip(3);
    let end = ends.next().unwrap_or(path.len());
    let prefix = &path[..end];
    (prefix.matches('/').count() == 3 && !prefix.contains('{')).then_some(prefix)
}

/// The methods mounted at `path` (canonical or doubled).
fn methods_of(table: &[RouteSpec], path: &str) -> Vec<Method> {
    table
        .iter()
        .filter(|spec| spec.path == path || doubled(spec).as_deref() == Some(path))
        .map(|spec| spec.method.clone())
        .collect()
}

/// The JSON 404 for unknown paths.
pub async fn not_found(req: actix_web::HttpRequest) -> Result<actix_web::HttpResponse, ApiError> {
    Err(ApiError::RouteNotFound(format!(
        "{} {}",
        req.method(),
        req.path()
    )))
}

#[cfg(test)]
mod tests {
    use super::mount_prefix;

    #[test]
    fn a_path_is_mounted_in_the_scope_of_its_first_three_segments() {
        let p = "/api/v1/mentors/{user_id}/activity";
        assert_eq!(mount_prefix(p), Some("/api/v1/mentors"));
        assert_eq!(mount_prefix("/api/v1/mentors"), Some("/api/v1/mentors"));
        let doubled = "/api/v1/scheduler/api/v1/scheduler/jobs";
        assert_eq!(mount_prefix(doubled), Some("/api/v1/scheduler"));
        assert_eq!(mount_prefix("/healthz"), None);
        assert_eq!(mount_prefix("/ui/dashboard.js"), None);
        assert_eq!(mount_prefix("/"), None);
        assert_eq!(mount_prefix("/a/{b}/c"), None);
    }
}
