//! The `JobRepository` contract (scheduler-core `repo.rs`) on the in-memory
//! store, SQLite and PostgreSQL.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a failed call is a failed test"
)]

use std::sync::{Arc, Barrier};

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use scheduler_core::{Handler, Job, JobName, JobRepository, Schedule, StoreError};

#[macro_use]
mod three_stores;

three_store_tests![
    scheduler_core::InMemoryJobs::default() =>
    a_duplicate_name_or_id_is_a_conflict_and_writes_nothing,
    a_job_round_trips_every_field,
    lists_page_in_creation_order_and_filter_by_handler,
    an_update_replaces_the_job_and_a_rename_onto_another_name_is_a_conflict,
    delete_says_whether_the_job_existed,
    due_jobs_are_enabled_jobs_at_or_before_now_oldest_first,
    next_wake_is_the_earliest_next_run_of_the_enabled_jobs,
    default_jobs_are_seeded_once_and_a_deleted_one_stays_deleted,
    instances_seeding_together_seed_once,
    an_update_never_undoes_a_recorded_run,
    next_run_moves_only_from_the_expected_value,
    a_capped_insert_stores_jobs_up_to_the_cap_and_then_nothing,
    jobs_created_at_once_never_pass_the_cap_together,
];

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 26, 10, 0, 0).unwrap()
}

fn job(id: &str, name: &str, expr: &str, handler: Handler, at: DateTime<Utc>) -> Job {
    Job::new(
        id.into(),
        JobName::parse(name).unwrap(),
        Schedule::parse(expr, "UTC").unwrap(),
        handler,
        at,
    )
}

fn a_duplicate_name_or_id_is_a_conflict_and_writes_nothing<S: JobRepository>(s: &Arc<S>) {
    s.insert(&job(
        "job_1",
        "nightly",
        "0 2 * * *",
        Handler::CertificationExpiryCheck,
        t0(),
    ))
    .unwrap();
    let same_name = job(
        "job_2",
        "nightly",
        "0 3 * * *",
        Handler::PauseAutoLift,
        t0(),
    );
    assert!(matches!(
        s.insert(&same_name),
        Err(StoreError::Conflict("jobs.name"))
    ));
    let same_id = job("job_1", "other", "0 3 * * *", Handler::PauseAutoLift, t0());
    assert!(matches!(
        s.insert(&same_id),
        Err(StoreError::Conflict("jobs.id"))
    ));
    assert_eq!(s.list(1, 20, None).unwrap().1, 1);
    assert_eq!(
        s.get("job_1").unwrap().unwrap().schedule.spec.as_str(),
        "0 2 * * *"
    );
}

fn a_job_round_trips_every_field<S: JobRepository>(s: &Arc<S>) {
    let mut j = Job::new(
        "job_1".into(),
        JobName::parse("Daily Reminder Check").unwrap(),
        Schedule::parse("30 1,14 * * *", "America/New_York").unwrap(),
        Handler::ScenarioEvaluation,
        t0(),
    );
    j.params.insert("batch_size".into(), serde_json::json!(50));
    j.params.insert(
        "evaluation_timezone".into(),
        serde_json::json!("Europe/Oslo"),
    );
    j.last_run_at = Some(t0() - TimeDelta::hours(3));
    j.last_run_status = Some("success".into());
    j.misfire_deadline = TimeDelta::minutes(20);
    s.insert(&j).unwrap();
    assert_eq!(s.get("job_1").unwrap().unwrap(), j);
    assert_eq!(s.get_by_name("Daily Reminder Check").unwrap().unwrap(), j);
    assert!(
        s.get_by_name("daily reminder check").unwrap().is_none(),
        "names are exact"
    );
    assert!(s.get("job_x").unwrap().is_none());
}

fn lists_page_in_creation_order_and_filter_by_handler<S: JobRepository>(s: &Arc<S>) {
    for i in 0..5 {
        let handler = if i % 2 == 0 {
            Handler::CertificationExpiryCheck
        } else {
            Handler::PauseAutoLift
        };
        s.insert(&job(
            &format!("job_{i}"),
            &format!("job {i}"),
            "0 2 * * *",
            handler,
            t0() + TimeDelta::minutes(i),
        ))
        .unwrap();
    }
    let names = |page, limit, handler| {
        let (jobs, total) = s.list(page, limit, handler).unwrap();
        (jobs.into_iter().map(|j| j.id).collect::<Vec<_>>(), total)
    };
    assert_eq!(
        names(1, 2, None),
        (vec!["job_0".to_owned(), "job_1".into()], 5)
    );
    assert_eq!(names(3, 2, None), (vec!["job_4".to_owned()], 5));
    assert_eq!(names(4, 2, None), (vec![], 5));
    assert_eq!(
        names(1, 20, Some(Handler::CertificationExpiryCheck)),
        (vec!["job_0".to_owned(), "job_2".into(), "job_4".into()], 3)
    );
}

fn an_update_replaces_the_job_and_a_rename_onto_another_name_is_a_conflict<S: JobRepository>(
    s: &Arc<S>,
) {
    s.insert(&job(
        "job_1",
        "a",
        "0 2 * * *",
        Handler::PauseAutoLift,
        t0(),
    ))
    .unwrap();
    s.insert(&job(
        "job_2",
        "b",
        "0 2 * * *",
        Handler::PauseAutoLift,
        t0(),
    ))
    .unwrap();
    let mut j = s.get("job_1").unwrap().unwrap();
    j.set_enabled(false, t0());
    j.params.insert("days".into(), serde_json::json!(7));
    assert!(s.update(&j).unwrap());
    let back = s.get("job_1").unwrap().unwrap();
    assert_eq!(back, j);
    assert_eq!(back.next_run_at, None, "disabled");
    let mut renamed = back.clone();
    renamed.name = JobName::parse("b").unwrap();
    assert!(matches!(
        s.update(&renamed),
        Err(StoreError::Conflict("jobs.name"))
    ));
    assert_eq!(s.get("job_1").unwrap().unwrap().name.as_str(), "a");
    assert!(
        !s.update(&job(
            "job_x",
            "x",
            "0 2 * * *",
            Handler::PauseAutoLift,
            t0()
        ))
        .unwrap()
    );
}

fn delete_says_whether_the_job_existed<S: JobRepository>(s: &Arc<S>) {
    s.insert(&job(
        "job_1",
        "a",
        "0 2 * * *",
        Handler::PauseAutoLift,
        t0(),
    ))
    .unwrap();
    assert!(s.delete("job_1").unwrap());
    assert!(!s.delete("job_1").unwrap());
    assert!(s.get("job_1").unwrap().is_none());
    assert_eq!(
        s.list(1, 20, None).unwrap().1,
        0,
        "the total counts the delete"
    );
    // The name is free again.
    s.insert(&job(
        "job_2",
        "a",
        "0 2 * * *",
        Handler::PauseAutoLift,
        t0(),
    ))
    .unwrap();
    assert_eq!(s.list(1, 20, None).unwrap().1, 1);
    assert_eq!(s.list(1, 20, Some(Handler::PauseAutoLift)).unwrap().1, 1);
    assert_eq!(
        s.list(1, 20, Some(Handler::CertificationExpiryCheck))
            .unwrap()
            .1,
        0
    );
}

fn due_jobs_are_enabled_jobs_at_or_before_now_oldest_first<S: JobRepository>(s: &Arc<S>) {
    // next_run_at: 10:05, 10:01, 11:00 (hourly from 10:00), and a disabled one.
    s.insert(&job(
        "job_a",
        "a",
        "5 * * * *",
        Handler::PauseAutoLift,
        t0(),
    ))
    .unwrap();
    s.insert(&job(
        "job_b",
        "b",
        "1 * * * *",
        Handler::PauseAutoLift,
        t0(),
    ))
    .unwrap();
    s.insert(&job(
        "job_c",
        "c",
        "0 * * * *",
        Handler::PauseAutoLift,
        t0(),
    ))
    .unwrap();
    let mut off = job("job_d", "d", "* * * * *", Handler::PauseAutoLift, t0());
    off.set_enabled(false, t0());
    s.insert(&off).unwrap();
    let due = |at, limit| {
        s.due(at, limit)
            .unwrap()
            .into_iter()
            .map(|j| j.id)
            .collect::<Vec<_>>()
    };
    assert!(due(t0(), 10).is_empty());
    assert_eq!(due(t0() + TimeDelta::minutes(5), 10), ["job_b", "job_a"]);
    assert_eq!(due(t0() + TimeDelta::minutes(5), 1), ["job_b"]);
    assert_eq!(
        due(t0() + TimeDelta::hours(2), 10),
        ["job_b", "job_a", "job_c"]
    );
}

fn next_wake_is_the_earliest_next_run_of_the_enabled_jobs<S: JobRepository>(s: &Arc<S>) {
    assert_eq!(s.next_wake().unwrap(), None);
    let mut off = job("job_d", "d", "* * * * *", Handler::PauseAutoLift, t0());
    off.set_enabled(false, t0());
    s.insert(&off).unwrap();
    assert_eq!(
        s.next_wake().unwrap(),
        None,
        "disabled jobs never wake the loop"
    );
    s.insert(&job(
        "job_a",
        "a",
        "5 * * * *",
        Handler::PauseAutoLift,
        t0(),
    ))
    .unwrap();
    s.insert(&job(
        "job_b",
        "b",
        "1 * * * *",
        Handler::PauseAutoLift,
        t0(),
    ))
    .unwrap();
    assert_eq!(s.next_wake().unwrap(), Some(t0() + TimeDelta::minutes(1)));
}

fn defaults() -> Vec<Job> {
    vec![
        job(
            "job_d1",
            "certification-expiry-nightly",
            "0 2 * * *",
            Handler::CertificationExpiryCheck,
            t0(),
        ),
        job(
            "job_d2",
            "pause-auto-lift-check",
            "0 6 * * *",
            Handler::PauseAutoLift,
            t0(),
        ),
    ]
}

fn default_jobs_are_seeded_once_and_a_deleted_one_stays_deleted<S: JobRepository>(s: &Arc<S>) {
    // A user registered one of the names first: it is kept, not an error.
    s.insert(&job(
        "job_user",
        "pause-auto-lift-check",
        "0 7 * * *",
        Handler::PauseAutoLift,
        t0(),
    ))
    .unwrap();
    assert!(
        s.seed_once("default_jobs_seeded", &defaults(), t0())
            .unwrap()
    );
    assert_eq!(s.list(1, 20, None).unwrap().1, 2);
    assert_eq!(
        s.get_by_name("pause-auto-lift-check").unwrap().unwrap().id,
        "job_user"
    );
    assert!(s.delete("job_d1").unwrap());
    assert!(
        !s.seed_once("default_jobs_seeded", &defaults(), t0())
            .unwrap()
    );
    assert!(
        s.get_by_name("certification-expiry-nightly")
            .unwrap()
            .is_none()
    );
}

fn instances_seeding_together_seed_once<S: JobRepository + 'static>(s: &Arc<S>) {
    let barrier = Arc::new(Barrier::new(4));
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let (s, barrier) = (Arc::clone(s), Arc::clone(&barrier));
            std::thread::spawn(move || {
                barrier.wait();
                s.seed_once("default_jobs_seeded", &defaults(), t0())
            })
        })
        .collect();
    let results: Vec<bool> = handles
        .into_iter()
        .map(|h| h.join().unwrap().unwrap())
        .collect();
    assert_eq!(results.iter().filter(|r| **r).count(), 1, "{results:?}");
    assert_eq!(s.list(1, 20, None).unwrap().1, 2);
}

fn an_update_never_undoes_a_recorded_run<S: JobRepository>(s: &Arc<S>) {
    s.insert(&job(
        "job_1",
        "a",
        "0 2 * * *",
        Handler::PauseAutoLift,
        t0(),
    ))
    .unwrap();
    // A PUT read the job before its run finished...
    let mut stale = s.get("job_1").unwrap().unwrap();
    assert!(s.record_last_run("job_1", t0(), "success").unwrap());
    // ...and writes after: the run's record stays.
    stale.params.insert("days".into(), serde_json::json!(3));
    assert!(s.update(&stale).unwrap());
    let back = s.get("job_1").unwrap().unwrap();
    assert_eq!(back.last_run_at, Some(t0()));
    assert_eq!(back.last_run_status.as_deref(), Some("success"));
    assert_eq!(back.params["days"], 3);
    assert!(!s.record_last_run("job_x", t0(), "success").unwrap());
}

fn next_run_moves_only_from_the_expected_value<S: JobRepository>(s: &Arc<S>) {
    let j = job("job_1", "a", "0 2 * * *", Handler::PauseAutoLift, t0());
    s.insert(&j).unwrap();
    let planned = j.next_run_at;
    let later = planned.map(|t| t + TimeDelta::days(1));
    assert!(s.set_next_run("job_1", planned, later).unwrap());
    assert_eq!(s.get("job_1").unwrap().unwrap().next_run_at, later);
    // A second tick planned from the old value loses.
    assert!(
        !s.set_next_run("job_1", planned, later.map(|t| t + TimeDelta::days(1)))
            .unwrap()
    );
    assert_eq!(s.get("job_1").unwrap().unwrap().next_run_at, later);
    assert!(s.set_next_run("job_1", later, None).unwrap());
    assert!(s.set_next_run("job_1", None, planned).unwrap());
    assert!(!s.set_next_run("job_x", None, planned).unwrap());
}

fn a_capped_insert_stores_jobs_up_to_the_cap_and_then_nothing<S: JobRepository>(s: &Arc<S>) {
    let nth = |i: u32| {
        job(
            &format!("job_{i}"),
            &format!("job {i}"),
            "0 2 * * *",
            Handler::PauseAutoLift,
            t0(),
        )
    };
    assert!(s.insert_capped(&nth(1), 2).unwrap());
    assert!(s.insert_capped(&nth(2), 2).unwrap());
    assert!(!s.insert_capped(&nth(3), 2).unwrap(), "the cap is reached");
    assert_eq!(s.list(1, 20, None).unwrap().1, 2);
    assert!(s.get("job_3").unwrap().is_none(), "nothing was written");
    // Under the cap, the usual conflicts hold.
    let same_name = job("job_4", "job 1", "0 3 * * *", Handler::PauseAutoLift, t0());
    assert!(matches!(
        s.insert_capped(&same_name, 5),
        Err(StoreError::Conflict("jobs.name"))
    ));
    let same_id = job("job_1", "other", "0 3 * * *", Handler::PauseAutoLift, t0());
    assert!(matches!(
        s.insert_capped(&same_id, 5),
        Err(StoreError::Conflict("jobs.id"))
    ));
    // A job deleted makes room for another.
    assert!(s.delete("job_1").unwrap());
    assert!(s.insert_capped(&nth(3), 2).unwrap());
    assert_eq!(s.list(1, 20, None).unwrap().1, 2);
}

fn jobs_created_at_once_never_pass_the_cap_together<S: JobRepository + 'static>(s: &Arc<S>) {
    s.insert(&job(
        "job_0",
        "job 0",
        "0 2 * * *",
        Handler::PauseAutoLift,
        t0(),
    ))
    .unwrap();
    let barrier = Arc::new(Barrier::new(8));
    let handles: Vec<_> = (1..=8)
        .map(|i| {
            let (s, barrier) = (Arc::clone(s), Arc::clone(&barrier));
            std::thread::spawn(move || {
                let j = job(
                    &format!("job_{i}"),
                    &format!("job {i}"),
                    "0 2 * * *",
                    Handler::PauseAutoLift,
                    t0(),
                );
                barrier.wait();
                s.insert_capped(&j, 4)
            })
        })
        .collect();
    let stored = handles
        .into_iter()
        .map(|h| h.join().unwrap().unwrap())
        .filter(|stored| *stored)
        .count();
    assert_eq!(stored, 3, "the cap of 4 holds with one job stored before");
    assert_eq!(s.list(1, 20, None).unwrap().1, 4);
}
