//! The rendering every path shares (single evaluations, runs, batches): a
//! decision becomes the same evaluation record, notification payload and
//! dedupe key whichever path made it.

use chrono::{DateTime, Utc};

use super::evaluation_repo::{EvaluationRecord, NewNotification, Subject};
use super::ids::{EVALUATION_ID_PREFIX, IdSource, NOTIFICATION_ID_PREFIX};
use super::json_text::JsonText;
use crate::rules::{Decision, MentorSnapshot, Metadata, MilestoneType, ReasonCode, format_instant};

/// The borrowed snapshot of a loaded subject, as [`evaluate`](crate::evaluate) reads it.
pub fn snapshot<'a>(subject: &'a Subject) -> MentorSnapshot<'a> {
    let m = &subject.record.mentor;
    MentorSnapshot {
        user_id: &m.user_id,
        status: m.status,
        created_at: m.created_at,
        last_active_at: m.last_active_at,
        sessions_count: m.sessions_count,
        first_session_at: m.first_session_at,
        milestones_achieved_at: subject.milestones_achieved_at,
        certifications: &subject.record.certifications,
        preferences: subject.record.preferences,
        history: &subject.history,
    }
}

/// The payload a sink delivers for a notification (its wire format:
/// docs/api.md, "Webhook body").
fn notification_payload(
    id: &str,
    org_id: &str,
    record: &EvaluationRecord,
    metadata: serde_json::Value,
) -> serde_json::Value {
    serde_json::json!({
        "version": 1,
        "notification_id": id,
        "user_id": record.user_id,
        "org_id": org_id,
        "scenario_type": record.scenario_type.as_str(),
        "reason_code": record.reason_code.as_str(),
        "reason": record.reason,
        "metadata": metadata,
        "created_at": format_instant(record.evaluated_at),
    })
}

/// Whom a decision is recorded for, and how.
pub(crate) struct Target<'a> {
    pub user_id: &'a str,
    pub org_id: &'a str,
    pub run_id: Option<&'a str>,
    pub batch_index: Option<i64>,
    pub dry_run: bool,
}

/// A decision rendered for storage: the evaluation, its notification when
/// it fired and is not a dry run, and a milestone time it saw first.
pub(crate) struct Rendered {
    pub record: EvaluationRecord,
    pub notification: Option<NewNotification>,
    pub milestone_seen: Option<(MilestoneType, DateTime<Utc>)>,
}

/// The evaluation record of `decision` (a fresh `trg_` id carrying `now`,
/// [`IdSource::id_at`]).
pub(crate) fn evaluation_record(
    ids: &dyn IdSource,
    target: &Target<'_>,
    decision: &Decision<'_>,
    now: DateTime<Utc>,
) -> EvaluationRecord {
    EvaluationRecord {
        id: ids.id_at(EVALUATION_ID_PREFIX, now),
        user_id: target.user_id.to_owned(),
        scenario_type: decision.scenario_type,
        should_notify: decision.should_notify,
        evaluated_at: now,
        evaluation_metadata: JsonText::of(&decision.metadata_json()),
        reason: decision.reason_sentence(),
        reason_code: decision.reason_code,
        run_id: target.run_id.map(str::to_owned),
        batch_index: target.batch_index,
        dry_run: target.dry_run,
    }
}

/// `decision` as it stands when its once-only key was taken meanwhile.
pub(crate) fn already_notified(decision: Decision<'_>) -> Decision<'_> {
    Decision {
        should_notify: false,
        reason_code: ReasonCode::AlreadyNotified,
        ..decision
    }
}

/// Renders a decision the way every path records it (single evaluations,
/// runs, batches): the same record, payload and dedupe key.
pub(crate) fn render(
    ids: &dyn IdSource,
    target: &Target<'_>,
    decision: &Decision<'_>,
    now: DateTime<Utc>,
) -> Rendered {
    let record = evaluation_record(ids, target, decision, now);
    let milestone_seen = match decision.metadata {
        Metadata::Milestone {
            milestone_type,
            achieved_at: Some(at),
            newly_achieved: true,
            ..
        } if !target.dry_run => Some((milestone_type, at)),
        _ => None,
    };
    let notification = match (
        decision.should_notify && !target.dry_run,
        decision.dedupe_key,
    ) {
        (true, Some(key)) => {
            let id = ids.id_at(NOTIFICATION_ID_PREFIX, now);
            // The metadata as a value for the payload, built again from the
            // decision rather than parsed back from the record's text.
            let payload =
                notification_payload(&id, target.org_id, &record, decision.metadata_json());
            Some(NewNotification {
                id,
                user_id: record.user_id.clone(),
                org_id: target.org_id.to_owned(),
                scenario_type: record.scenario_type,
                dedupe_key: key.render(&record.user_id),
                payload,
                created_at: now,
                run_id: record.run_id.clone(),
                evaluation_id: Some(record.id.clone()),
            })
        }
        _ => None,
    };
    Rendered {
        record,
        notification,
        milestone_seen,
    }
}
