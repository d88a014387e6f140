//! The import's two passes, over an in-memory store.

use std::sync::Arc;

use chrono::TimeZone;

use super::*;
use crate::adapters::{FixedClock, InMemoryStore};
use crate::rules::{Certification, MentorStatus, PauseReason};
use crate::service::{MentorFilter, MentorService, MentorUpsert, PageRequest};

/// Test lines: `Ok` mentors, or `Err` messages standing for parse errors.
struct Lines {
    lines: Vec<(u64, Result<MentorImport, String>)>,
    at: usize,
    rewinds: usize,
}

#[derive(Debug, PartialEq)]
enum TestError {
    Parse(String),
    Mentor(String),
}

impl From<MentorError> for TestError {
    fn from(e: MentorError) -> Self {
        Self::Mentor(e.to_string())
    }
}

impl ImportSource for Lines {
    type Error = TestError;

    fn rewind(&mut self) -> Result<(), TestError> {
        self.at = 0;
        self.rewinds += 1;
        Ok(())
    }

    fn next_line(&mut self) -> Result<Option<SourceLine<TestError>>, TestError> {
        let Some((n, l)) = self.lines.get(self.at) else {
            return Ok(None);
        };
        self.at += 1;
        Ok(Some((*n, l.clone().map_err(TestError::Parse))))
    }
}

fn lines(lines: Vec<Result<MentorImport, String>>) -> Lines {
    Lines {
        lines: (1..).zip(lines).collect(),
        at: 0,
        rewinds: 0,
    }
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 25, 8, 0, 0).unwrap()
}

fn mentor(user_id: &str, org: Option<&str>) -> MentorImport {
    MentorImport {
        user_id: user_id.to_owned(),
        upsert: MentorUpsert {
            org_id: org.map(str::to_owned),
            ..MentorUpsert::default()
        },
        ..MentorImport::default()
    }
}

fn service() -> (Arc<InMemoryStore>, MentorService) {
    let store = Arc::new(InMemoryStore::default());
    let clock = Arc::new(FixedClock::new(now()));
    (store.clone(), MentorService::new(store, clock))
}

fn rejected(outcome: ImportOutcome<TestError>) -> RejectedImport<TestError> {
    match outcome {
        ImportOutcome::Rejected(r) => r,
        ImportOutcome::Imported(c) => panic!("imported {c:?}"),
    }
}

fn count(store: &InMemoryStore) -> u64 {
    store
        .list_mentors(&MentorFilter::default(), PageRequest { page: 1, limit: 1 })
        .unwrap()
        .total
}

#[test]
fn an_import_creates_and_updates_and_counts_each() {
    let (store, service) = service();
    service
        .upsert("usr_b", mentor("usr_b", Some("org_a")).upsert)
        .unwrap();
    let mut src = lines(vec![
        Ok(mentor("usr_a", Some("org_a"))),
        Ok(mentor("usr_b", None)),
    ]);
    let outcome = service.import(&mut src).unwrap();
    assert!(matches!(
        outcome,
        ImportOutcome::Imported(ImportCounts {
            created: 1,
            updated: 1
        })
    ));
    assert_eq!(count(&store), 2);
    assert_eq!(src.rewinds, 2, "no suspects: two passes");
}

#[test]
fn a_user_id_twice_fails_the_later_line_and_writes_nothing() {
    let (store, service) = service();
    let mut src = lines(vec![
        Ok(mentor("usr_a", Some("org_a"))),
        Ok(mentor("usr_b", Some("org_a"))),
        Ok(mentor("usr_a", Some("org_b"))),
        Ok(mentor("usr_a", Some("org_c"))),
    ]);
    let r = rejected(service.import(&mut src).unwrap());
    assert_eq!(r.error_count, 2);
    let lines: Vec<u64> = r.errors.iter().map(|(l, _)| *l).collect();
    assert_eq!(lines, [3, 4]);
    assert_eq!(
        r.errors[0].1,
        TestError::Mentor("mentor `usr_a` is already imported by line 1".into())
    );
    assert_eq!(count(&store), 0);
}

#[test]
fn bad_lines_of_both_passes_are_reported_in_line_order() {
    let (_store, service) = service();
    service
        .upsert("usr_p", mentor("usr_p", Some("org_a")).upsert)
        .unwrap();
    service.pause("usr_p", PauseReason::Admin, None).unwrap();
    let status_change = MentorImport {
        upsert: MentorUpsert {
            status: Some(MentorStatus::Inactive),
            ..MentorUpsert::default()
        },
        ..mentor("usr_p", None)
    };
    let mut src = lines(vec![
        Ok(mentor("usr_new", None)),
        Err("not json".into()),
        Ok(status_change),
        Ok(mentor("bad\u{7}id", Some("org_a"))),
    ]);
    let r = rejected(service.import(&mut src).unwrap());
    let lines: Vec<u64> = r.errors.iter().map(|(l, _)| *l).collect();
    assert_eq!(lines, [1, 2, 3, 4]);
    assert_eq!(
        r.errors[0].1,
        TestError::Mentor("org_id is required".into())
    );
    assert_eq!(r.errors[1].1, TestError::Parse("not json".into()));
    assert!(matches!(&r.errors[2].1, TestError::Mentor(m) if m.contains("paused")));
    assert!(!r.truncated());
}

#[test]
fn more_than_100_bad_lines_keep_the_first_100_and_count_all() {
    let (_store, service) = service();
    let mut src = lines((0..250).map(|i| Err(format!("bad {i}"))).collect());
    let r = rejected(service.import(&mut src).unwrap());
    assert_eq!(r.error_count, 250);
    assert_eq!(r.errors.len(), MAX_REPORTED_LINES);
    assert_eq!(r.errors.last().map(|(l, _)| *l), Some(100));
    assert!(r.truncated());
}

#[test]
fn a_certification_listed_twice_in_one_line_is_refused() {
    let (_store, service) = service();
    let cert = Certification {
        certification_id: "cert_a".into(),
        name: "A".into(),
        issued_at: None,
        expires_at: now(),
        required: false,
    };
    let mut src = lines(vec![Ok(MentorImport {
        certifications: vec![cert.clone(), cert],
        ..mentor("usr_a", Some("org_a"))
    })]);
    let r = rejected(service.import(&mut src).unwrap());
    assert!(matches!(&r.errors[0].1, TestError::Mentor(m) if m.contains("listed twice")));
}
