//! Bulk import of mentors (SPEC section 15, "NDJSON import"): many mentor
//! upserts, with their certifications and preferences, all or nothing.
//!
//! The wire format is the caller's: it hands [`MentorService::import`] an
//! [`ImportSource`] of parsed lines. The import reads the source twice (and
//! a third time only to confirm a suspected duplicate):
//!
//! 1. every line is checked without storage, as the single-mentor calls
//!    check them (ids, status, certification names), and each mentor's id
//!    is remembered as a 64-bit fingerprint, so that memory grows by about
//!    20 bytes per line, never with the size of the lines;
//! 2. the lines go to [`MentorRepository::import_mentors`] chunk by chunk,
//!    inside ONE transaction, where each chunk is checked against the
//!    mentors it updates (a create needs `org_id`, a paused mentor's status
//!    does not change) and written only while no line has failed. A failure
//!    anywhere rolls everything back.
//!
//! When the first pass found bad lines, the second still runs, writing
//! nothing, so that the lines that fail only against storage are reported
//! too. Only the first [`MAX_REPORTED_LINES`] errors (by line) are kept.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{BuildHasher, RandomState};

use chrono::{DateTime, Utc};

use crate::mentor::{Certification, Mentor};
use crate::repo::{MentorRepository, MentorUpsert, PreferencesPatch};
use crate::service::{MentorError, checked_certification, checked_upsert, upsert_conflict};

/// Line errors an import reports at most; the count says how many there were.
pub const MAX_REPORTED_LINES: usize = 100;

/// One mentor of an import: the upsert of [`MentorService::upsert`](crate::MentorService::upsert),
/// the certifications to create or replace (others stay), and a preference
/// patch (omitted switches stay).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MentorImport {
    /// The mentor.
    pub user_id: String,
    /// The mentor's fields; `org_id` is required when the mentor is new.
    pub upsert: MentorUpsert,
    /// Certifications created or replaced; each id at most once.
    pub certifications: Vec<Certification>,
    /// Notification switches to change.
    pub preferences: PreferencesPatch,
}

/// A line of an import that passed every check needing no storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportLine {
    /// Its line number, from 1.
    pub line: u64,
    /// The mentor it imports.
    pub mentor: MentorImport,
}

/// What an import wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportCounts {
    /// Mentors that did not exist before.
    pub created: u64,
    /// Mentors that existed and were updated.
    pub updated: u64,
}

impl ImportCounts {
    /// Every mentor imported: created plus updated.
    pub const fn imported(&self) -> u64 {
        self.created + self.updated
    }
}

/// What [`MentorRepository::import_mentors`] pulls an import from, inside
/// its transaction. Implemented by the import itself; storage only asks.
pub trait ImportFeed {
    /// The next lines to write, at most `max`, in file order; empty at the end.
    fn next_chunk(&mut self, max: usize) -> Vec<ImportLine>;

    /// Checks `chunk` against the mentors it would update: `existing[i]` is
    /// the stored mentor of `chunk[i]`, `None` when the line creates one.
    /// Lines that fail are recorded, and [`ImportFeed::failed`] turns true.
    fn admit(&mut self, chunk: &[ImportLine], existing: &[Option<&Mentor>]);

    /// Whether any line has failed (or the source broke): from then on
    /// storage writes nothing, and rolls back at the end.
    fn failed(&self) -> bool;
}

/// The parsed lines of an import, in a format only the caller knows
/// (NDJSON in `apps/api`). The import reads them more than once.
pub trait ImportSource {
    /// What a line fails with, and what reading fails with: the caller's
    /// error type, which must hold a [`MentorError`] too.
    type Error: From<MentorError>;

    /// Starts again from the first line.
    ///
    /// # Errors
    /// When the source cannot be read again.
    fn rewind(&mut self) -> Result<(), Self::Error>;

    /// The next line that holds a mentor (blank lines are the source's to
    /// skip): its number, from 1, and the mentor or why the line is not
    /// one. `None` at the end.
    ///
    /// # Errors
    /// When reading fails (not when a line is bad): the import stops.
    fn next_line(&mut self) -> Result<Option<SourceLine<Self::Error>>, Self::Error>;
}

/// A line of an [`ImportSource`]: its number, from 1, and the mentor or
/// why the line is not one.
pub type SourceLine<E> = (u64, Result<MentorImport, E>);

/// An import refused because of its lines; nothing was written.
#[derive(Debug)]
pub struct RejectedImport<E> {
    /// The first [`MAX_REPORTED_LINES`] bad lines, by line number, each with its error.
    pub errors: Vec<(u64, E)>,
    /// How many lines were bad in all.
    pub error_count: u64,
}

impl<E> RejectedImport<E> {
    /// Whether errors were left out of [`RejectedImport::errors`].
    pub fn truncated(&self) -> bool {
        self.error_count > self.errors.len() as u64
    }
}

/// How an import ended.
#[derive(Debug)]
pub enum ImportOutcome<E> {
    /// Every line was written, in one transaction.
    Imported(ImportCounts),
    /// Some lines were bad; nothing was written.
    Rejected(RejectedImport<E>),
}

/// The first [`MAX_REPORTED_LINES`] errors by line number, and a count of all.
struct LineErrors<E> {
    first: BTreeMap<u64, E>,
    count: u64,
}

impl<E> LineErrors<E> {
    fn new() -> Self {
        Self {
            first: BTreeMap::new(),
            count: 0,
        }
    }

    fn push(&mut self, line: u64, error: E) {
        self.count += 1;
        self.first.insert(line, error);
        if self.first.len() > MAX_REPORTED_LINES {
            self.first.pop_last();
        }
    }

    fn is_empty(&self) -> bool {
        self.count == 0
    }

    fn into_rejected(self) -> RejectedImport<E> {
        RejectedImport {
            errors: self.first.into_iter().collect(),
            error_count: self.count,
        }
    }
}

/// The checks of one line that need no storage: those of the single
/// mentor and certification calls, and each certification id once.
fn checked(m: MentorImport) -> Result<MentorImport, MentorError> {
    let upsert = checked_upsert(&m.user_id, m.upsert)?;
    let mut seen = HashSet::with_capacity(m.certifications.len());
    let mut certifications = Vec::with_capacity(m.certifications.len());
    for cert in m.certifications {
        let cert = checked_certification(cert)?;
        if !seen.insert(cert.certification_id.clone()) {
            return Err(MentorError::InvalidValue {
                field: "certifications",
                message: format!("certification `{}` is listed twice", cert.certification_id),
            });
        }
        certifications.push(cert);
    }
    Ok(MentorImport {
        upsert,
        certifications,
        ..m
    })
}

/// A source's next line, checked: `Ok(None)` at the end.
fn next_checked<S: ImportSource + ?Sized>(
    source: &mut S,
) -> Result<Option<SourceLine<S::Error>>, S::Error> {
    Ok(source.next_line()?.map(|(line, parsed)| {
        (
            line,
            parsed.and_then(|m| checked(m).map_err(S::Error::from)),
        )
    }))
}

/// Runs an import (see the module docs) over `repo` at `now`.
pub(crate) fn run<S: ImportSource + ?Sized>(
    repo: &dyn MentorRepository,
    source: &mut S,
    now: DateTime<Utc>,
) -> Result<ImportOutcome<S::Error>, S::Error> {
    let fingerprint = RandomState::new();
    let mut errors = LineErrors::new();

    // Pass 1: every line, no storage. A fingerprint seen twice marks a
    // suspect: the same id twice, or two ids whose 64-bit fingerprints
    // collide (about once in 10^19 pairs); pass 1b tells them apart exactly.
    let mut first_line: HashMap<u64, u64> = HashMap::new();
    let mut suspects: HashSet<u64> = HashSet::new();
    source.rewind()?;
    while let Some((line, checked)) = next_checked(source)? {
        match checked {
            Err(e) => errors.push(line, e),
            Ok(m) => match first_line.entry(fingerprint.hash_one(&m.user_id)) {
                Entry::Vacant(v) => {
                    v.insert(line);
                }
                Entry::Occupied(o) => {
                    suspects.insert(*o.key());
                }
            },
        }
    }
    drop(first_line);

    // Pass 1b, only with suspects: the real ids behind their fingerprints.
    let mut duplicates: HashSet<u64> = HashSet::new();
    if !suspects.is_empty() {
        let mut first_by_id: HashMap<String, u64> = HashMap::new();
        source.rewind()?;
        while let Some((line, checked)) = next_checked(source)? {
            let Ok(m) = checked else { continue };
            if !suspects.contains(&fingerprint.hash_one(&m.user_id)) {
                continue;
            }
            match first_by_id.entry(m.user_id) {
                Entry::Vacant(v) => {
                    v.insert(line);
                }
                Entry::Occupied(o) => {
                    duplicates.insert(line);
                    let e = MentorError::DuplicateUserId {
                        user_id: o.key().clone(),
                        first_line: *o.get(),
                    };
                    errors.push(line, e.into());
                }
            }
        }
    }

    // Pass 2: in storage's one transaction.
    source.rewind()?;
    let mut feed = Feed {
        source,
        recheck: !errors.is_empty(),
        duplicates,
        errors,
        broken: None,
    };
    let written = repo
        .import_mentors(&mut feed, now)
        .map_err(|e| S::Error::from(MentorError::Store(e)))?;
    if let Some(e) = feed.broken {
        return Err(e);
    }
    match written {
        Some(counts) if feed.errors.is_empty() => Ok(ImportOutcome::Imported(counts)),
        _ => Ok(ImportOutcome::Rejected(feed.errors.into_rejected())),
    }
}

/// Pass 2's view of the source, as storage pulls it.
struct Feed<'a, S: ImportSource + ?Sized> {
    source: &'a mut S,
    /// Pass 1 failed: its bad lines are reported already and skipped here,
    /// and this pass only finds the lines that fail against storage.
    recheck: bool,
    /// Lines naming a mentor an earlier line names: reported, skipped.
    duplicates: HashSet<u64>,
    errors: LineErrors<S::Error>,
    /// The source failed to read; the import stops with this error.
    broken: Option<S::Error>,
}

impl<S: ImportSource + ?Sized> ImportFeed for Feed<'_, S> {
    fn next_chunk(&mut self, max: usize) -> Vec<ImportLine> {
        let mut chunk = Vec::new();
        while chunk.len() < max && self.broken.is_none() {
            match next_checked(self.source) {
                Err(e) => self.broken = Some(e),
                Ok(None) => break,
                Ok(Some((line, _))) if self.duplicates.contains(&line) => {}
                Ok(Some((line, Ok(mentor)))) => chunk.push(ImportLine { line, mentor }),
                // Reported by pass 1 already.
                Ok(Some((_, Err(_)))) if self.recheck => {}
                // Only if the source changed since pass 1: still never written.
                Ok(Some((line, Err(e)))) => self.errors.push(line, e),
            }
        }
        chunk
    }

    fn admit(&mut self, chunk: &[ImportLine], existing: &[Option<&Mentor>]) {
        for (l, existing) in chunk.iter().zip(existing) {
            let m = &l.mentor;
            if let Err(e) = upsert_conflict(&m.user_id, &m.upsert, *existing) {
                self.errors.push(l.line, e.into());
            }
        }
    }

    fn failed(&self) -> bool {
        !self.errors.is_empty() || self.broken.is_some()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use chrono::TimeZone;

    use super::*;
    use crate::clock::FixedClock;
    use crate::memory::InMemoryStore;
    use crate::mentor::{MentorStatus, PauseReason};
    use crate::service::MentorService;

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
            .list_mentors(
                &crate::MentorFilter::default(),
                crate::PageRequest { page: 1, limit: 1 },
            )
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
}
