//! The result summaries of the expiry and auto-lift runs (the contracts'
//! `result_summary` / `last_run_result` fields).

use serde_json::{Value, json};

/// Counts of one `certification_expiry_check` run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExpiryCheckSummary {
    /// Mentors looked at.
    pub mentors_checked: u64,
    /// Mentors with at least one expired required certification.
    pub expired_found: u64,
    /// Mentors paused by this run.
    pub auto_paused: u64,
    /// Reminders enqueued by this run.
    pub reminders_sent: u64,
    /// Mentors whose processing failed.
    pub errors: u64,
}

impl ExpiryCheckSummary {
    /// Adds one mentor's outcome.
    pub fn add(&mut self, expired_found: bool, paused: bool, reminded: bool) {
        self.mentors_checked += 1;
        self.expired_found += u64::from(expired_found);
        self.auto_paused += u64::from(paused);
        self.reminders_sent += u64::from(reminded);
    }

    /// The JSON summary.
    pub fn to_json(&self) -> Value {
        json!({
            "mentors_checked": self.mentors_checked,
            "expired_found": self.expired_found,
            "auto_paused": self.auto_paused,
            "reminders_sent": self.reminders_sent,
            "errors": self.errors,
        })
    }
}

/// Counts of one `pause_auto_lift` run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AutoLiftSummary {
    /// Paused mentors looked at.
    pub mentors_checked: u64,
    /// Pauses lifted.
    pub pauses_lifted: u64,
    /// Mentors whose processing failed.
    pub errors: u64,
}

impl AutoLiftSummary {
    /// The JSON summary.
    pub fn to_json(&self) -> Value {
        json!({
            "mentors_checked": self.mentors_checked,
            "pauses_lifted": self.pauses_lifted,
            "errors": self.errors,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_expiry_summary_has_the_contract_fields() {
        let mut s = ExpiryCheckSummary::default();
        s.add(true, true, false);
        s.add(false, false, true);
        s.add(false, false, false);
        assert_eq!(
            s.to_json(),
            json!({"mentors_checked": 3, "expired_found": 1, "auto_paused": 1, "reminders_sent": 1, "errors": 0})
        );
    }

    #[test]
    fn the_auto_lift_summary_has_its_fields() {
        let s = AutoLiftSummary {
            mentors_checked: 4,
            pauses_lifted: 2,
            errors: 1,
        };
        assert_eq!(
            s.to_json(),
            json!({"mentors_checked": 4, "pauses_lifted": 2, "errors": 1})
        );
    }
}
