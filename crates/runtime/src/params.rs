//! What a job's runs read from its `params`: each handler's parameters,
//! their defaults and bounds, and `params.evaluation_timezone`. Read once per
//! run, and by [`check_params`] when a job is created or its params change,
//! so that what is accepted is what runs (docs/scheduling.md, "Handlers and
//! their parameters").

use scheduler_core::{Handler, InvalidParams};
use serde_json::{Map, Value};

/// Mentors per batch of a scenario-evaluation run unless its job's
/// `params.batch_size` or the invocation says otherwise.
pub const DEFAULT_BATCH_SIZE: u32 = 50;

/// The largest batch a run the service processes may be planned with.
pub const MAX_BATCH_SIZE: u32 = 500;

/// A numeric handler parameter from a job's `params`, with its default.
fn param<T>(
    params: &Map<String, Value>,
    name: &str,
    default: T,
    range: std::ops::RangeInclusive<i64>,
) -> Result<T, InvalidParams>
where
    T: TryFrom<i64>,
{
    match params.get(name) {
        None | Some(Value::Null) => Ok(default),
        Some(v) => v
            .as_i64()
            .filter(|n| range.contains(n))
            .and_then(|n| T::try_from(n).ok())
            .ok_or_else(|| InvalidParams {
                field: format!("params.{name}"),
                problem: format!(
                    "must be an integer between {} and {}, got {v}",
                    range.start(),
                    range.end()
                ),
            }),
    }
}

/// What a job's runs read from its `params`.
pub(crate) struct JobParams {
    /// `params.evaluation_timezone`; never read for
    /// retention, which counts no calendar days.
    pub(crate) zone: Option<chrono_tz::Tz>,
    pub(crate) handler: HandlerParams,
}

/// The parameters of each handler.
pub(crate) enum HandlerParams {
    ExpiryCheck { lead_time_days: u32 },
    AutoLift,
    WeeklyReport { days: u32 },
    Retention { days: i64 },
    ScenarioEvaluation { batch_size: u32 },
}

impl JobParams {
    /// `handler`'s parameters in `params`, `retention_days` being the
    /// service's default for the retention job.
    pub(crate) fn read(
        handler: Handler,
        params: &Map<String, Value>,
        retention_days: i64,
    ) -> Result<Self, InvalidParams> {
        let zone = match handler {
            Handler::RunLogRetention => None,
            _ => evaluation_timezone_param(params)?,
        };
        let handler = match handler {
            Handler::CertificationExpiryCheck => HandlerParams::ExpiryCheck {
                lead_time_days: param(params, "lead_time_days", 30, 0..=3650)?,
            },
            Handler::PauseAutoLift => HandlerParams::AutoLift,
            Handler::WeeklyExpiryReport => HandlerParams::WeeklyReport {
                days: param(params, "days", cert_expiry::DEFAULT_REPORT_DAYS, 1..=3650)?,
            },
            Handler::RunLogRetention => HandlerParams::Retention {
                days: param(params, "retention_days", retention_days, 1..=36500)?,
            },
            Handler::ScenarioEvaluation => HandlerParams::ScenarioEvaluation {
                batch_size: batch_size_param(params)?,
            },
        };
        Ok(Self { zone, handler })
    }
}

/// Checks a job's `params` as its runs will read them (refused when a job
/// is created or its params change, rather than a run that fails later):
/// the handler's own parameters and
/// their bounds, and `params.evaluation_timezone` for every handler that
/// counts days. Other keys are left alone. A job stored before this check
/// existed still fails its run, with the same message.
///
/// # Errors
/// [`InvalidParams`] naming the first parameter refused.
pub fn check_params(handler: Handler, params: &Map<String, Value>) -> Result<(), InvalidParams> {
    JobParams::read(handler, params, run_log::DEFAULT_RETENTION_DAYS).map(drop)
}

/// A job's `params.evaluation_timezone`: an IANA zone
/// name that overrides the service's evaluation time zone for its runs, or
/// `None` when absent or null.
pub(crate) fn evaluation_timezone_param(
    params: &Map<String, Value>,
) -> Result<Option<chrono_tz::Tz>, InvalidParams> {
    let refused = |problem: String| InvalidParams {
        field: "params.evaluation_timezone".to_owned(),
        problem,
    };
    match params.get("evaluation_timezone") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(name)) => name
            .parse()
            .map(Some)
            .map_err(|_| refused(format!("is not a known time zone: `{name}`"))),
        Some(v) => Err(refused(format!(
            "must be a time zone name such as \"Europe/Oslo\", got {v}"
        ))),
    }
}

/// A scenario-evaluation job's `params.batch_size` (1 to [`MAX_BATCH_SIZE`]).
pub(crate) fn batch_size_param(params: &Map<String, Value>) -> Result<u32, InvalidParams> {
    param(
        params,
        "batch_size",
        DEFAULT_BATCH_SIZE,
        1..=i64::from(MAX_BATCH_SIZE),
    )
}
