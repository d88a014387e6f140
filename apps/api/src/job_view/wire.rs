//! The wire forms of a [`JobView`]: answers written field by field in the
//! view's order, and bodies read by the view's field names.
//!
//! Bodies are read the way `#[derive(Deserialize)]` with
//! `deny_unknown_fields` reads a struct (the same serde errors at the same
//! positions), so a view's 400 and 422 answers name its own fields.

use std::fmt;
use std::marker::PhantomData;

use chrono::{DateTime, Utc};
use run_log::Run;
use runtime::JobDetail;
use scheduler_core::{Job, JobPatch, NewJob};
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value};

use super::{
    BodyField, BodySpec, DeletedField, DetailField, JobField, JobView, RUN_FACTS, RunField,
    TriggeredField, View,
};
use crate::dto::{instant, opt_instant};
use crate::error::ApiError;

/// A job as a view shows it.
#[derive(Debug)]
pub struct JobOut<'a> {
    /// The view.
    pub view: &'static JobView,
    /// The job.
    pub job: &'a Job,
}

/// A job's detail as a view shows it.
#[derive(Debug)]
pub struct DetailOut<'a> {
    /// The view.
    pub view: &'static JobView,
    /// The detail.
    pub detail: &'a JobDetail,
}

/// A run of a job as a view shows it.
#[derive(Debug)]
pub struct RunOut<'a> {
    /// The view.
    pub view: &'static JobView,
    /// The job.
    pub job: &'a Job,
    /// The run.
    pub run: &'a Run,
}

/// The answer to a trigger.
#[derive(Debug)]
pub struct TriggeredOut<'a> {
    /// The view.
    pub view: &'static JobView,
    /// The job.
    pub job: &'a Job,
    /// The run just started.
    pub run: &'a Run,
}

/// The answer to a delete.
#[derive(Debug)]
pub struct DeletedOut<'a> {
    /// The view.
    pub view: &'static JobView,
    /// The deleted job.
    pub job: &'a Job,
    /// When.
    pub at: DateTime<Utc>,
}

fn job_entry<M: SerializeMap>(
    map: &mut M,
    name: &str,
    f: JobField,
    j: &Job,
) -> Result<(), M::Error> {
    match f {
        JobField::Id => map.serialize_entry(name, &j.id),
        JobField::Name => map.serialize_entry(name, j.name.as_str()),
        JobField::Expression => map.serialize_entry(name, j.schedule.spec.as_str()),
        JobField::Enabled => map.serialize_entry(name, &j.enabled),
        JobField::Status => map.serialize_entry(name, j.status()),
        JobField::LastRunAt => map.serialize_entry(name, &opt_instant(j.last_run_at)),
        JobField::LastRunStatus => map.serialize_entry(name, &j.last_run_status),
        JobField::NextRunAt => map.serialize_entry(name, &opt_instant(j.next_run_at)),
        JobField::Timezone => map.serialize_entry(name, j.schedule.timezone_name()),
        JobField::Handler => map.serialize_entry(name, j.handler.as_str()),
        JobField::Params => map.serialize_entry(name, &j.params),
        JobField::CreatedAt => map.serialize_entry(name, &instant(j.created_at)),
        JobField::UpdatedAt => map.serialize_entry(name, &instant(j.updated_at)),
    }
}

fn job_entries<M: SerializeMap>(map: &mut M, view: &JobView, j: &Job) -> Result<(), M::Error> {
    for &(name, f) in view.job.fields {
        job_entry(map, name, f, j)?;
    }
    Ok(())
}

impl Serialize for JobOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.view.job.fields.len()))?;
        job_entries(&mut map, self.view, self.job)?;
        map.end()
    }
}

impl Serialize for DetailOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (view, d) = (self.view, self.detail);
        let len = view.job.fields.len() + view.detail.fields.len();
        let mut map = s.serialize_map(Some(len))?;
        job_entries(&mut map, view, &d.job)?;
        for &(name, f) in view.detail.fields {
            match f {
                DetailField::LockAcquired => map.serialize_entry(name, &d.lock_acquired)?,
                DetailField::Upcoming => {
                    let upcoming: Vec<String> = d.upcoming.iter().copied().map(instant).collect();
                    map.serialize_entry(name, &upcoming)?;
                }
                DetailField::LastRunResult => map.serialize_entry(
                    name,
                    &d.last_run.as_ref().and_then(|r| r.result_summary.as_ref()),
                )?,
                DetailField::LastRunDurationMs => {
                    map.serialize_entry(name, &d.last_run.as_ref().and_then(|r| r.duration_ms))?
                }
            }
        }
        map.end()
    }
}

impl Serialize for RunOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (job, r) = (self.job, self.run);
        let fields = self.view.run.fields;
        let mut map = s.serialize_map(Some(fields.len() + RUN_FACTS.len()))?;
        for &(name, f) in fields {
            match f {
                RunField::JobName => map.serialize_entry(name, job.name.as_str())?,
                RunField::JobId => map.serialize_entry(name, &job.id)?,
                RunField::RunId => map.serialize_entry(name, &r.id)?,
                RunField::StartedAt => map.serialize_entry(name, &instant(r.invoked_at))?,
                RunField::CompletedAt => map.serialize_entry(name, &opt_instant(r.completed_at))?,
                RunField::Status => map.serialize_entry(name, r.status.as_str())?,
                RunField::Result => map.serialize_entry(name, &r.result_summary)?,
            }
        }
        let [
            trigger,
            triggered_by,
            reason,
            dry_run,
            duration_ms,
            error_message,
        ] = RUN_FACTS;
        map.serialize_entry(trigger, r.trigger.as_str())?;
        map.serialize_entry(triggered_by, &r.triggered_by)?;
        map.serialize_entry(reason, &r.reason)?;
        map.serialize_entry(dry_run, &r.dry_run)?;
        map.serialize_entry(duration_ms, &r.duration_ms)?;
        map.serialize_entry(error_message, &r.error_message)?;
        map.end()
    }
}

impl Serialize for TriggeredOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (job, r) = (self.job, self.run);
        let fields = self.view.triggered.fields;
        let mut map = s.serialize_map(Some(fields.len()))?;
        for &(name, f) in fields {
            match f {
                TriggeredField::JobName => map.serialize_entry(name, job.name.as_str())?,
                TriggeredField::JobId => map.serialize_entry(name, &job.id)?,
                TriggeredField::TriggeredAt => map.serialize_entry(name, &instant(r.invoked_at))?,
                TriggeredField::RunId => map.serialize_entry(name, &r.id)?,
                TriggeredField::Status => map.serialize_entry(name, r.status.as_str())?,
                TriggeredField::DryRun => map.serialize_entry(name, &r.dry_run)?,
                TriggeredField::LockAcquired => map.serialize_entry(name, &true)?,
            }
        }
        map.end()
    }
}

impl Serialize for DeletedOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let fields = self.view.deleted.fields;
        let mut map = s.serialize_map(Some(fields.len()))?;
        for &(name, f) in fields {
            match f {
                DeletedField::Deleted => map.serialize_entry(name, &true)?,
                DeletedField::JobName => map.serialize_entry(name, self.job.name.as_str())?,
                DeletedField::JobId => map.serialize_entry(name, &self.job.id)?,
                DeletedField::CancelledAt => map.serialize_entry(name, &instant(self.at))?,
            }
        }
        map.end()
    }
}

/// The fields a create or update body may carry, whatever a view calls them.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct BodyFields {
    name: Option<String>,
    expression: Option<String>,
    handler: Option<String>,
    enabled: Option<bool>,
    timezone: Option<String>,
    params: Option<Map<String, Value>>,
}

/// `POST` on a view's collection, read by the view's field names.
#[derive(Debug)]
pub struct CreateBody<V>(BodyFields, PhantomData<V>);

/// `PUT` on one job of a view, read by the view's field names.
#[derive(Debug)]
pub struct UpdateBody<V>(BodyFields, PhantomData<V>);

impl<V: View> CreateBody<V> {
    /// The job to register. A view limited to one handler registers that
    /// handler's jobs.
    pub fn into_new_job(self) -> NewJob {
        let b = self.0;
        let handler = match V::VIEW.handler {
            Some(h) => h.as_str().to_owned(),
            // Required by the body's spec: present once it was read.
            None => b.handler.unwrap_or_default(),
        };
        NewJob {
            name: b.name.unwrap_or_default(),
            cron_expression: b.expression.unwrap_or_default(),
            timezone: b.timezone,
            handler,
            enabled: b.enabled,
            params: b.params,
        }
    }
}

impl<V: View> UpdateBody<V> {
    /// The change.
    ///
    /// # Errors
    /// 422 `invalid_value` for a body that changes nothing.
    pub fn into_patch(self) -> Result<JobPatch, ApiError> {
        let b = self.0;
        let patch = JobPatch {
            name: b.name,
            cron_expression: b.expression,
            timezone: b.timezone,
            enabled: b.enabled,
            params: b.params,
            handler: b.handler,
            misfire_deadline_seconds: None,
        };
        if patch == JobPatch::default() {
            return Err(ApiError::Invalid {
                field: None,
                message: "nothing to update: give at least one field".into(),
            });
        }
        Ok(patch)
    }
}

impl<'de, V: View> Deserialize<'de> for CreateBody<V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        read(d, &V::VIEW.create).map(|b| Self(b, PhantomData))
    }
}

impl<'de, V: View> Deserialize<'de> for UpdateBody<V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        read(d, &V::VIEW.update).map(|b| Self(b, PhantomData))
    }
}

fn read<'de, D: Deserializer<'de>>(d: D, spec: &'static BodySpec) -> Result<BodyFields, D::Error> {
    d.deserialize_struct(spec.name, spec.names, BodyVisitor(spec))
}

/// Reads a body as a struct of `spec`'s fields.
struct BodyVisitor(&'static BodySpec);

/// A key of a body: the index of its field in the spec.
struct Key(&'static BodySpec);

impl<'de> de::DeserializeSeed<'de> for Key {
    type Value = usize;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<usize, D::Error> {
        d.deserialize_identifier(self)
    }
}

impl de::Visitor<'_> for Key {
    type Value = usize;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("field identifier")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<usize, E> {
        self.0
            .names
            .iter()
            .position(|n| *n == v)
            .ok_or_else(|| E::unknown_field(v, self.0.names))
    }
}

impl BodyVisitor {
    fn required(&self, f: BodyField) -> bool {
        self.0.required.contains(&f)
    }
}

impl<'de> de::Visitor<'de> for BodyVisitor {
    type Value = BodyFields;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "struct {}", self.0.name)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<BodyFields, A::Error> {
        let spec = self.0;
        let mut out = BodyFields::default();
        let mut seen = vec![false; spec.fields.len()];
        while let Some(i) = map.next_key_seed(Key(spec))? {
            if std::mem::replace(&mut seen[i], true) {
                return Err(de::Error::duplicate_field(spec.names[i]));
            }
            let f = spec.fields[i];
            // A required field reads as its type: `null` is a wrong type,
            // not an absent field.
            let required = self.required(f);
            match f {
                BodyField::Name => out.name = string(&mut map, required)?,
                BodyField::Expression => out.expression = string(&mut map, required)?,
                BodyField::Handler => out.handler = string(&mut map, required)?,
                BodyField::Timezone => out.timezone = string(&mut map, required)?,
                BodyField::Enabled => out.enabled = map.next_value()?,
                BodyField::Params => out.params = map.next_value()?,
            }
        }
        for (i, f) in spec.fields.iter().enumerate() {
            if !seen[i] && self.required(*f) {
                return Err(de::Error::missing_field(spec.names[i]));
            }
        }
        Ok(out)
    }

    /// A struct written as an array takes its fields in order, as serde's
    /// derived structs do.
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<BodyFields, A::Error> {
        let spec = self.0;
        let mut out = BodyFields::default();
        let expected = Elements(spec);
        for (i, f) in spec.fields.iter().enumerate() {
            let missing = || de::Error::invalid_length(i, &expected);
            match f {
                BodyField::Name => {
                    out.name = element(&mut seq, self.required(*f))?.ok_or_else(missing)?
                }
                BodyField::Expression => {
                    out.expression = element(&mut seq, self.required(*f))?.ok_or_else(missing)?;
                }
                BodyField::Handler => {
                    out.handler = element(&mut seq, self.required(*f))?.ok_or_else(missing)?;
                }
                BodyField::Timezone => {
                    out.timezone = element(&mut seq, self.required(*f))?.ok_or_else(missing)?;
                }
                BodyField::Enabled => out.enabled = seq.next_element()?.ok_or_else(missing)?,
                BodyField::Params => out.params = seq.next_element()?.ok_or_else(missing)?,
            }
        }
        Ok(out)
    }
}

/// `struct X with N elements`, for an array that is too short.
struct Elements(&'static BodySpec);

impl de::Expected for Elements {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "struct {} with {} elements",
            self.0.name,
            self.0.fields.len()
        )
    }
}

fn string<'de, A: MapAccess<'de>>(map: &mut A, required: bool) -> Result<Option<String>, A::Error> {
    if required {
        map.next_value::<String>().map(Some)
    } else {
        map.next_value()
    }
}

/// The next element of an array body: `None` at its end, else the field's
/// value (`Some(None)` for a `null` optional field).
fn element<'de, A: SeqAccess<'de>>(
    seq: &mut A,
    required: bool,
) -> Result<Option<Option<String>>, A::Error> {
    if required {
        Ok(seq.next_element::<String>()?.map(Some))
    } else {
        seq.next_element::<Option<String>>()
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;
    use crate::extract::parse;
    use crate::job_view::{Certification, Cron};

    /// What serde derives for the cron view's create body: the reference
    /// the view-driven reader must match, error for error.
    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct CreateCronJobBody {
        name: String,
        schedule: String,
        handler: String,
        enabled: Option<bool>,
        timezone: Option<String>,
        params: Option<Map<String, Value>>,
    }

    /// The same for the certification view's update body (all optional).
    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct UpdateCertificationCronBody {
        cron_expression: Option<String>,
        enabled: Option<bool>,
        timezone: Option<String>,
        params: Option<Map<String, Value>>,
        name: Option<String>,
        handler: Option<String>,
    }

    const BODIES: [&str; 16] = [
        r#"{"name": "a", "schedule": "0 9 * * *", "handler": "pause_auto_lift"}"#,
        r#"{"name": "a", "schedule": "0 9 * * *"}"#,
        r#"{"name": null, "schedule": "0 9 * * *", "handler": "x"}"#,
        r#"{"name": "a", "schedule": "0 9 * * *", "handler": "x", "enabled": "yes"}"#,
        r#"{"name": "a", "schedule": "0 9 * * *", "handler": "x", "params": []}"#,
        r#"{"name": "a", "schedule": "0 9 * * *", "handler": "x", "timezone": null}"#,
        r#"{"name": "a", "name": "b", "schedule": "0 9 * * *", "handler": "x"}"#,
        r#"{"nme": "a"}"#,
        r#"{"cron_expression": "0 9 * * *", "enabled": false}"#,
        r#"{"enabled": 1}"#,
        r#"[]"#,
        r#"["a", "0 9 * * *", "x", true, null, {}]"#,
        r#"["a", "0 9 * * *"]"#,
        r#"5"#,
        r#""x""#,
        r#"{}"#,
    ];

    fn outcome<T: serde::de::DeserializeOwned>(body: &str) -> Result<(), String> {
        parse::<T>(body.as_bytes())
            .map(drop)
            .map_err(|e| format!("{}: {e}", e.code()))
    }

    #[test]
    fn a_view_body_is_read_exactly_as_serde_reads_the_derived_struct() {
        for body in BODIES {
            assert_eq!(
                outcome::<CreateBody<Cron>>(body),
                outcome::<CreateCronJobBody>(body),
                "create {body}"
            );
            assert_eq!(
                outcome::<UpdateBody<Certification>>(body),
                outcome::<UpdateCertificationCronBody>(body),
                "update {body}"
            );
        }
    }

    #[test]
    fn a_view_body_reads_its_own_field_names() {
        let body: CreateBody<Cron> = parse(
            br#"{"name": "a", "schedule": "0 9 * * *", "handler": "run_log_retention", "enabled": false, "timezone": "Europe/Oslo", "params": {"retention_days": 30}}"#,
        )
        .unwrap();
        let job = body.into_new_job();
        assert_eq!(
            (
                job.name.as_str(),
                job.cron_expression.as_str(),
                job.handler.as_str(),
                job.enabled,
                job.timezone.as_deref()
            ),
            (
                "a",
                "0 9 * * *",
                "run_log_retention",
                Some(false),
                Some("Europe/Oslo")
            )
        );
        // The certification view creates certification checks only.
        let body: CreateBody<Certification> =
            parse(br#"{"name": "c", "cron_expression": "0 2 * * *"}"#).unwrap();
        assert_eq!(body.into_new_job().handler, "certification_expiry_check");
    }
}
