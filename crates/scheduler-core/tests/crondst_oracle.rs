//! `Schedule::upcoming` against crondst, an independent implementation of
//! Vixie cron's DST rules, on 5-field expressions (docs/scheduling.md, "Why
//! this needs correcting").
//!
//! The cases live in `fixtures/crondst_cases.json`, made by
//! `fixtures/gen_crondst.py` (random expressions, six zones, start instants
//! around DST transitions); CI reads the checked-in file and needs no Python.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a malformed fixture should stop the test loudly"
)]

use chrono::{DateTime, Utc};
use scheduler_core::Schedule;
use serde_json::Value;

const FIXTURE: &str = include_str!("fixtures/crondst_cases.json");

/// Mismatches shown in full; the rest are only counted.
const SHOWN: usize = 10;

fn instant(value: &Value) -> DateTime<Utc> {
    value.as_str().unwrap().parse().unwrap()
}

#[test]
fn schedule_agrees_with_crondst_on_every_fixture_case() {
    let document: Value = serde_json::from_str(FIXTURE).unwrap();
    let cases = document["cases"].as_array().unwrap();
    assert!(cases.len() >= 1000, "the fixture lost its cases");

    let mut mismatches = Vec::new();
    for case in cases {
        let expr = case["expr"].as_str().unwrap();
        let tz = case["tz"].as_str().unwrap();
        let after = instant(&case["after"]);
        let expected: Vec<DateTime<Utc>> = case["next"]
            .as_array()
            .unwrap()
            .iter()
            .map(instant)
            .collect();
        let schedule = match Schedule::parse(expr, tz) {
            Ok(schedule) => schedule,
            Err(e) => {
                mismatches.push(format!("{expr:?} in {tz}: refused: {e}"));
                continue;
            }
        };
        let actual = schedule.upcoming(after, expected.len());
        if actual != expected {
            let first_difference = actual
                .iter()
                .zip(&expected)
                .position(|(a, e)| a != e)
                .unwrap_or(actual.len().min(expected.len()));
            mismatches.push(format!(
                "{expr:?} in {tz} after {after}: instant #{first_difference} differs\n  \
                 crondst:  {expected:?}\n  schedule: {actual:?}"
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of {} cases differ from crondst; first {}:\n{}",
        mismatches.len(),
        cases.len(),
        SHOWN.min(mismatches.len()),
        mismatches[..SHOWN.min(mismatches.len())].join("\n")
    );
}
