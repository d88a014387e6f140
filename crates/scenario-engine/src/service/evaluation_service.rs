//! [`EvaluationService`]: decide one evaluation, record it and enqueue its
//! notification in one transaction, and manage the records.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::clock::Clock;
use super::evaluation_repo::{
    EvaluationFilter, EvaluationOverride, EvaluationRecord, EvaluationRepository, Subject,
};
use super::ids::{IdSource, lookup_id};
use super::render::{Rendered, Target, already_notified, evaluation_record, render, snapshot};
use super::store::{PageRequest, Paged, StoreError};
use crate::rules::{
    Decision, ReasonCode, Rules, Scenario, ScenarioType, evaluate, truncate_to_seconds,
};

/// Why an evaluation operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum EvaluationError {
    /// The mentor to evaluate does not exist.
    #[error("mentor `{0}` not found")]
    UnknownUser(String),
    /// No evaluation with this id.
    #[error("evaluation `{0}` not found")]
    NotFound(String),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One evaluation to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvaluateRequest {
    /// The mentor.
    pub user_id: String,
    /// The scenario and its parameters.
    pub scenario: Scenario,
    /// Record with `dry_run: true` and enqueue nothing.
    pub dry_run: bool,
    /// The run this evaluation belongs to.
    pub run_id: Option<String>,
}

/// The read-only answer of "should this mentor be notified now?".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShouldNotify {
    /// The mentor.
    pub user_id: String,
    /// The scenario.
    pub scenario_type: ScenarioType,
    /// The decision.
    pub should_notify: bool,
    /// Whether the cooldown is satisfied.
    pub cooldown_satisfied: bool,
    /// Whether preferences allow it.
    pub preference_enabled: bool,
    /// When it was decided.
    pub evaluated_at: DateTime<Utc>,
    /// The sentence.
    pub reason: String,
    /// The machine code.
    pub reason_code: ReasonCode,
}

/// Evaluations: decide, record, enqueue, and manage the records.
#[derive(Clone)]
pub struct EvaluationService {
    repo: Arc<dyn EvaluationRepository>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdSource>,
    rules: Rules,
}

/// The store, the clock and the ids are trait objects, so they show as `..`.
impl std::fmt::Debug for EvaluationService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EvaluationService")
            .field("rules", &self.rules)
            .finish_non_exhaustive()
    }
}

impl EvaluationService {
    /// A service over `repo` with the given rules.
    pub fn new(
        repo: Arc<dyn EvaluationRepository>,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdSource>,
        rules: Rules,
    ) -> Self {
        Self {
            repo,
            clock,
            ids,
            rules,
        }
    }

    /// The rules in force.
    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    /// The same service (store, clock, ids) under other rules: a job's own
    /// evaluation time zone, for example (`params.evaluation_timezone`,
    /// docs/scheduling.md).
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use scenario_engine::adapters::{FixedClock, InMemoryStore, UlidIds};
    /// # use scenario_engine::rules::Rules;
    /// # use scenario_engine::service::EvaluationService;
    /// # use chrono::Utc;
    /// let service = EvaluationService::new(
    ///     Arc::new(InMemoryStore::default()),
    ///     Arc::new(FixedClock::new(Utc::now())),
    ///     Arc::new(UlidIds::new()),
    ///     Rules::default(),
    /// );
    /// let tokyo = service.with_rules(Rules {
    ///     timezone: chrono_tz::Asia::Tokyo,
    ///     ..*service.rules()
    /// });
    /// assert_eq!(tokyo.rules().timezone, chrono_tz::Asia::Tokyo);
    /// ```
    #[must_use]
    pub fn with_rules(&self, rules: Rules) -> Self {
        Self {
            rules,
            ..self.clone()
        }
    }

    fn load(&self, user_id: &str) -> Result<Subject, EvaluationError> {
        if !lookup_id(user_id) {
            return Err(EvaluationError::UnknownUser(user_id.to_owned()));
        }
        self.repo
            .load_subject(user_id)?
            .ok_or_else(|| EvaluationError::UnknownUser(user_id.to_owned()))
    }

    /// Decides, records the evaluation, and (when it fires and is not a dry
    /// run) enqueues its notification in the same transaction.
    ///
    /// # Errors
    /// [`EvaluationError::UnknownUser`]; [`EvaluationError::Store`].
    pub fn evaluate(&self, request: EvaluateRequest) -> Result<EvaluationRecord, EvaluationError> {
        let subject = self.load(&request.user_id)?;
        let now = truncate_to_seconds(self.clock.now());
        let decision = evaluate(&snapshot(&subject), &request.scenario, &self.rules, now);
        self.record_decision(&subject, decision, &request, now)
    }

    /// What evaluating `user_id` reads, for callers that decide themselves
    /// (the certification expiry job decides with `cert_expiry::check_mentor`).
    ///
    /// # Errors
    /// [`EvaluationError::UnknownUser`]; [`EvaluationError::Store`].
    pub fn load_subject(&self, user_id: &str) -> Result<Subject, EvaluationError> {
        self.load(user_id)
    }

    /// Records a decision made about `subject` at `now` and, when it fires
    /// and the request is not a dry run, enqueues its notification in the
    /// same transaction. A once-only key taken meanwhile by another writer
    /// turns the decision into `already_notified`.
    ///
    /// # Errors
    /// [`EvaluationError::Store`].
    pub fn record_decision(
        &self,
        subject: &Subject,
        decision: Decision<'_>,
        request: &EvaluateRequest,
        now: DateTime<Utc>,
    ) -> Result<EvaluationRecord, EvaluationError> {
        let target = Target {
            user_id: &request.user_id,
            org_id: &subject.record.mentor.org_id,
            run_id: request.run_id.as_deref(),
            batch_index: None,
            dry_run: request.dry_run,
        };
        let Rendered {
            record,
            notification,
            milestone_seen,
        } = render(&*self.ids, &target, &decision, now);
        match self
            .repo
            .record_evaluation(&record, notification.as_ref(), milestone_seen)
        {
            Ok(()) => Ok(record),
            // Another request enqueued the same once-only notification between
            // our read and our write: this decision is now a duplicate.
            Err(StoreError::Conflict(_)) if notification.is_some() => {
                let record =
                    evaluation_record(&*self.ids, &target, &already_notified(decision), now);
                self.repo.record_evaluation(&record, None, milestone_seen)?;
                Ok(record)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// "Now" as the services see it: the clock, truncated to seconds.
    pub fn now(&self) -> DateTime<Utc> {
        truncate_to_seconds(self.clock.now())
    }

    /// Decides without recording or enqueuing anything.
    ///
    /// # Errors
    /// [`EvaluationError::UnknownUser`]; [`EvaluationError::Store`].
    pub fn should_notify(
        &self,
        user_id: &str,
        scenario: Scenario,
    ) -> Result<ShouldNotify, EvaluationError> {
        let subject = self.load(user_id)?;
        let now = truncate_to_seconds(self.clock.now());
        let decision = evaluate(&snapshot(&subject), &scenario, &self.rules, now);
        Ok(ShouldNotify {
            user_id: user_id.to_owned(),
            scenario_type: decision.scenario_type,
            should_notify: decision.should_notify,
            cooldown_satisfied: decision.cooldown_satisfied,
            preference_enabled: decision.preference_enabled,
            evaluated_at: now,
            reason: decision.reason_sentence(),
            reason_code: decision.reason_code,
        })
    }

    /// One evaluation.
    ///
    /// # Errors
    /// [`EvaluationError::NotFound`].
    pub fn get(&self, id: &str) -> Result<EvaluationRecord, EvaluationError> {
        if !lookup_id(id) {
            return Err(EvaluationError::NotFound(id.to_owned()));
        }
        self.repo
            .get_evaluation(id)?
            .ok_or_else(|| EvaluationError::NotFound(id.to_owned()))
    }

    /// A page of evaluations, newest first.
    ///
    /// # Errors
    /// [`EvaluationError::Store`].
    pub fn list(
        &self,
        filter: &EvaluationFilter,
        page: PageRequest,
    ) -> Result<Paged<EvaluationRecord>, EvaluationError> {
        Ok(self.repo.list_evaluations(filter, page)?)
    }

    /// Overrides `should_notify` and/or replaces the metadata.
    ///
    /// # Errors
    /// [`EvaluationError::NotFound`].
    pub fn override_evaluation(
        &self,
        id: &str,
        change: &EvaluationOverride,
    ) -> Result<EvaluationRecord, EvaluationError> {
        if !lookup_id(id) {
            return Err(EvaluationError::NotFound(id.to_owned()));
        }
        let now = truncate_to_seconds(self.clock.now());
        self.repo
            .override_evaluation(id, change, now)?
            .ok_or_else(|| EvaluationError::NotFound(id.to_owned()))
    }

    /// Deletes an evaluation; its notification stays.
    ///
    /// # Errors
    /// [`EvaluationError::NotFound`].
    pub fn delete(&self, id: &str) -> Result<(), EvaluationError> {
        if !lookup_id(id) {
            return Err(EvaluationError::NotFound(id.to_owned()));
        }
        if self.repo.delete_evaluation(id)? {
            Ok(())
        } else {
            Err(EvaluationError::NotFound(id.to_owned()))
        }
    }
}
