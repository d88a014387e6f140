//! Bulk import of mentors (docs/api.md, "NDJSON import"): many mentor
//! upserts, with their certifications and preferences, all or nothing.
//!
//! The wire format is the caller's: it hands
//! [`MentorService::import`](crate::service::MentorService::import) an
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

use super::checks::{MentorError, checked_certification, checked_upsert, upsert_conflict};
use super::mentor_repo::{ImportCounts, ImportFeed, ImportLine, MentorImport, MentorRepository};
use crate::rules::Mentor;

/// Line errors an import reports at most; the count says how many there were.
pub const MAX_REPORTED_LINES: usize = 100;

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
mod tests;
