//! Firing instants across DST transitions, with fixed instants.
//!
//! Transitions used (all 2027):
//! - Europe/Oslo: 03-28 01:00Z the clock skips 02:00-02:59 (CET to CEST);
//!   10-31 01:00Z it shows 02:00-02:59 twice (CEST to CET).
//! - America/New_York: 03-14 07:00Z it skips 02:00-02:59 (EST to EDT);
//!   11-07 06:00Z it shows 01:00-01:59 twice (EDT to EST).

use super::*;

const OSLO: &str = "Europe/Oslo";
const NEW_YORK: &str = "America/New_York";

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

/// The next `count` instants after `after`, as `...Z` strings.
fn next(expr: &str, tz: &str, after: &str, count: usize) -> Vec<String> {
    Schedule::parse(expr, tz)
        .unwrap()
        .upcoming(at(after), count)
        .iter()
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .collect()
}

// Fixed-time, single values.

#[test]
fn fixed_time_in_the_oslo_spring_gap_fires_when_the_gap_ends() {
    assert_eq!(
        next("30 2 * * *", OSLO, "2027-03-27T12:00:00Z", 2),
        ["2027-03-28T01:00:00Z", "2027-03-29T00:30:00Z"]
    );
}

#[test]
fn fixed_time_in_the_oslo_repeated_hour_fires_at_the_first_occurrence_only() {
    assert_eq!(
        next("30 2 * * *", OSLO, "2027-10-30T12:00:00Z", 2),
        ["2027-10-31T00:30:00Z", "2027-11-01T01:30:00Z"]
    );
}

#[test]
fn fixed_time_in_the_new_york_spring_gap_fires_at_three_o_clock() {
    assert_eq!(
        next("30 2 * * *", NEW_YORK, "2027-03-13T12:00:00Z", 2),
        ["2027-03-14T07:00:00Z", "2027-03-15T06:30:00Z"]
    );
}

#[test]
fn fixed_time_outside_the_new_york_repeated_hour_is_untouched() {
    assert_eq!(
        next("30 2 * * *", NEW_YORK, "2027-11-06T12:00:00Z", 2),
        ["2027-11-07T07:30:00Z", "2027-11-08T07:30:00Z"]
    );
}

#[test]
fn six_field_fixed_time_follows_the_same_rules() {
    assert_eq!(
        next("0 30 2 * * *", OSLO, "2027-03-27T12:00:00Z", 2),
        ["2027-03-28T01:00:00Z", "2027-03-29T00:30:00Z"]
    );
    assert_eq!(
        next("0 30 2 * * *", OSLO, "2027-10-30T12:00:00Z", 2),
        ["2027-10-31T00:30:00Z", "2027-11-01T01:30:00Z"]
    );
    assert_eq!(
        next("15 30 2 * * *", NEW_YORK, "2027-03-13T12:00:00Z", 2),
        ["2027-03-14T07:00:00Z", "2027-03-15T06:30:15Z"]
    );
}

// Fixed-time lists and ranges: croner alone gets these wrong.

#[test]
fn a_listed_hour_in_the_repeated_hour_fires_once() {
    // Plain croner fires at 05:30Z and again at 06:30Z.
    assert_eq!(
        next("30 1,14 * * *", NEW_YORK, "2027-11-06T12:00:00Z", 4),
        [
            "2027-11-06T18:30:00Z",
            "2027-11-07T05:30:00Z",
            "2027-11-07T19:30:00Z",
            "2027-11-08T06:30:00Z",
        ]
    );
    assert_eq!(
        next("30 2,14 * * *", OSLO, "2027-10-30T13:00:00Z", 3),
        [
            "2027-10-31T00:30:00Z",
            "2027-10-31T13:30:00Z",
            "2027-11-01T01:30:00Z",
        ]
    );
}

#[test]
fn a_listed_hour_in_the_spring_gap_fires_when_the_gap_ends() {
    // Plain croner skips 2027-03-14 02:30 altogether.
    assert_eq!(
        next("30 2,14 * * *", NEW_YORK, "2027-03-13T12:00:00Z", 4),
        [
            "2027-03-13T19:30:00Z",
            "2027-03-14T07:00:00Z",
            "2027-03-14T18:30:00Z",
            "2027-03-15T06:30:00Z",
        ]
    );
    assert_eq!(
        next("30 1,14 * * *", NEW_YORK, "2027-03-13T12:00:00Z", 3),
        [
            "2027-03-13T19:30:00Z",
            "2027-03-14T06:30:00Z",
            "2027-03-14T18:30:00Z",
        ]
    );
}

#[test]
fn several_times_in_one_gap_fire_once_when_it_ends() {
    assert_eq!(
        next("0,30 2 * * *", NEW_YORK, "2027-03-13T12:00:00Z", 3),
        [
            "2027-03-14T07:00:00Z",
            "2027-03-15T06:00:00Z",
            "2027-03-15T06:30:00Z",
        ]
    );
    assert_eq!(
        next("0,30 2 * * *", OSLO, "2027-03-27T12:00:00Z", 3),
        [
            "2027-03-28T01:00:00Z",
            "2027-03-29T00:00:00Z",
            "2027-03-29T00:30:00Z",
        ]
    );
}

#[test]
fn a_listed_minute_in_the_repeated_hour_fires_in_the_first_pass_only() {
    assert_eq!(
        next("0,30 2 * * *", OSLO, "2027-10-30T12:00:00Z", 3),
        [
            "2027-10-31T00:00:00Z",
            "2027-10-31T00:30:00Z",
            "2027-11-01T01:00:00Z",
        ]
    );
}

#[test]
fn a_gap_time_and_the_time_the_gap_ends_fire_once_together() {
    // 02:00 and 02:30 fall into the gap, 03:00 is its end: one firing.
    assert_eq!(
        next("0,30 2,3 * * *", NEW_YORK, "2027-03-14T06:00:00Z", 3),
        [
            "2027-03-14T07:00:00Z",
            "2027-03-14T07:30:00Z",
            "2027-03-15T06:00:00Z",
        ]
    );
}

#[test]
fn a_stepped_range_counts_as_fixed_time() {
    assert_eq!(
        next("0-30/10 2 * * *", OSLO, "2027-03-27T23:00:00Z", 3),
        [
            "2027-03-28T01:00:00Z",
            "2027-03-29T00:00:00Z",
            "2027-03-29T00:10:00Z",
        ]
    );
    assert_eq!(
        next("0-30/10 2 * * *", OSLO, "2027-10-30T23:00:00Z", 5),
        [
            "2027-10-31T00:00:00Z",
            "2027-10-31T00:10:00Z",
            "2027-10-31T00:20:00Z",
            "2027-10-31T00:30:00Z",
            "2027-11-01T01:00:00Z",
        ]
    );
    assert_eq!(
        next("0-30/10 2 * * *", NEW_YORK, "2027-03-14T05:00:00Z", 2),
        ["2027-03-14T07:00:00Z", "2027-03-15T06:00:00Z"]
    );
}

#[test]
fn a_fixed_time_job_looked_at_during_the_second_pass_waits_for_the_next_day() {
    // 06:10Z is 01:10 EST, the second pass: 01:30 already fired at 05:30Z.
    assert_eq!(
        next("30 1,14 * * *", NEW_YORK, "2027-11-07T06:10:00Z", 1),
        ["2027-11-07T19:30:00Z"]
    );
    assert_eq!(
        next("0,15,30,45 1 * * *", NEW_YORK, "2027-11-07T06:10:00Z", 1),
        ["2027-11-08T06:00:00Z"]
    );
    // ... but a time after the repeated hour still fires.
    assert_eq!(
        next("0 2 * * *", NEW_YORK, "2027-11-07T06:10:00Z", 1),
        ["2027-11-07T07:00:00Z"]
    );
}

#[test]
fn a_fixed_time_job_looked_at_during_the_first_pass_fires_later_in_it() {
    // 05:10Z is 01:10 EDT.
    assert_eq!(
        next("0,15,30,45 1 * * *", NEW_YORK, "2027-11-07T05:10:00Z", 3),
        [
            "2027-11-07T05:15:00Z",
            "2027-11-07T05:30:00Z",
            "2027-11-07T05:45:00Z",
        ]
    );
}

// Interval expressions.

#[test]
fn an_interval_job_skips_the_spring_gap() {
    assert_eq!(
        next("*/15 * * * *", NEW_YORK, "2027-03-14T06:40:00Z", 3),
        [
            "2027-03-14T06:45:00Z",
            "2027-03-14T07:00:00Z",
            "2027-03-14T07:15:00Z",
        ]
    );
    assert_eq!(
        next("*/15 * * * *", OSLO, "2027-03-28T00:40:00Z", 3),
        [
            "2027-03-28T00:45:00Z",
            "2027-03-28T01:00:00Z",
            "2027-03-28T01:15:00Z",
        ]
    );
    assert_eq!(
        next("0 * * * *", NEW_YORK, "2027-03-14T05:30:00Z", 3),
        [
            "2027-03-14T06:00:00Z",
            "2027-03-14T07:00:00Z",
            "2027-03-14T08:00:00Z",
        ]
    );
}

#[test]
fn an_interval_job_fires_in_both_passes_of_the_repeated_hour() {
    let expected: Vec<String> = (0..10)
        .map(|i| {
            (at("2027-11-07T04:45:00Z") + chrono::TimeDelta::minutes(15 * i))
                .format("%Y-%m-%dT%H:%M:%SZ")
                .to_string()
        })
        .collect();
    assert_eq!(
        next("*/15 * * * *", NEW_YORK, "2027-11-07T04:40:00Z", 10),
        expected
    );
    assert_eq!(
        next("*/15 * * * *", OSLO, "2027-10-31T00:40:00Z", 4),
        [
            "2027-10-31T00:45:00Z",
            "2027-10-31T01:00:00Z",
            "2027-10-31T01:15:00Z",
            "2027-10-31T01:30:00Z",
        ]
    );
    assert_eq!(
        next("0 * * * *", NEW_YORK, "2027-11-07T03:30:00Z", 4),
        [
            "2027-11-07T04:00:00Z",
            "2027-11-07T05:00:00Z",
            "2027-11-07T06:00:00Z",
            "2027-11-07T07:00:00Z",
        ]
    );
    assert_eq!(
        next("0 * * * *", OSLO, "2027-10-30T23:30:00Z", 3),
        [
            "2027-10-31T00:00:00Z",
            "2027-10-31T01:00:00Z",
            "2027-10-31T02:00:00Z",
        ]
    );
}

#[test]
fn an_interval_job_looked_at_late_in_the_first_pass_finds_the_second_pass() {
    // 05:30Z is 01:30 EDT; 01:15 comes again at 06:15Z (EST).
    assert_eq!(
        next("15 * * * *", NEW_YORK, "2027-11-07T05:30:00Z", 2),
        ["2027-11-07T06:15:00Z", "2027-11-07T07:15:00Z"]
    );
    assert_eq!(
        next("0 * * * *", NEW_YORK, "2027-11-07T05:30:00Z", 1),
        ["2027-11-07T06:00:00Z"]
    );
}

#[test]
fn an_interval_job_looked_at_during_the_second_pass_continues_in_it() {
    assert_eq!(
        next("*/15 * * * *", NEW_YORK, "2027-11-07T06:20:00Z", 2),
        ["2027-11-07T06:30:00Z", "2027-11-07T06:45:00Z"]
    );
}

#[test]
fn a_seconds_interval_job_runs_by_elapsed_time_across_both_transitions() {
    assert_eq!(
        next("*/20 * * * * *", NEW_YORK, "2027-03-14T06:59:30Z", 3),
        [
            "2027-03-14T06:59:40Z",
            "2027-03-14T07:00:00Z",
            "2027-03-14T07:00:20Z",
        ]
    );
    assert_eq!(
        next("*/20 * * * * *", NEW_YORK, "2027-11-07T05:59:30Z", 4),
        [
            "2027-11-07T05:59:40Z",
            "2027-11-07T06:00:00Z",
            "2027-11-07T06:00:20Z",
            "2027-11-07T06:00:40Z",
        ]
    );
    assert_eq!(
        next("*/20 * * * * *", OSLO, "2027-10-31T00:59:30Z", 3),
        [
            "2027-10-31T00:59:40Z",
            "2027-10-31T01:00:00Z",
            "2027-10-31T01:00:20Z",
        ]
    );
}

#[test]
fn a_seconds_field_starting_with_a_star_makes_an_interval_job() {
    // Fires every 20 seconds during 02:30 local, both passes in Oslo's
    // repeated hour.
    assert_eq!(
        next("*/20 30 2 * * *", OSLO, "2027-10-31T00:00:00Z", 6),
        [
            "2027-10-31T00:30:00Z",
            "2027-10-31T00:30:20Z",
            "2027-10-31T00:30:40Z",
            "2027-10-31T01:30:00Z",
            "2027-10-31T01:30:20Z",
            "2027-10-31T01:30:40Z",
        ]
    );
    // ... and nothing in the spring gap.
    assert_eq!(
        next("*/20 30 2 * * *", OSLO, "2027-03-28T00:00:00Z", 1),
        ["2027-03-29T00:30:00Z"]
    );
}

#[test]
fn every_listed_shape_behaves_across_the_remaining_transitions() {
    // The shapes above on the transitions their own tests do not cover
    // (5-field rows checked against crondst 1.0.3).
    let cases: [(&str, &str, &str, &[&str]); 10] = [
        (
            "30 1,14 * * *",
            OSLO,
            "2027-03-27T12:00:00Z",
            &[
                "2027-03-27T13:30:00Z",
                "2027-03-28T00:30:00Z",
                "2027-03-28T12:30:00Z",
            ],
        ),
        (
            "30 1,14 * * *",
            OSLO,
            "2027-10-30T13:00:00Z",
            &["2027-10-30T23:30:00Z", "2027-10-31T13:30:00Z"],
        ),
        (
            "30 2,14 * * *",
            OSLO,
            "2027-03-27T14:00:00Z",
            &[
                "2027-03-28T01:00:00Z",
                "2027-03-28T12:30:00Z",
                "2027-03-29T00:30:00Z",
            ],
        ),
        (
            "30 2,14 * * *",
            NEW_YORK,
            "2027-11-06T19:00:00Z",
            &["2027-11-07T07:30:00Z", "2027-11-07T19:30:00Z"],
        ),
        (
            "0,30 2 * * *",
            NEW_YORK,
            "2027-11-07T00:00:00Z",
            &[
                "2027-11-07T07:00:00Z",
                "2027-11-07T07:30:00Z",
                "2027-11-08T07:00:00Z",
            ],
        ),
        (
            "0-30/10 2 * * *",
            NEW_YORK,
            "2027-11-07T06:30:00Z",
            &[
                "2027-11-07T07:00:00Z",
                "2027-11-07T07:10:00Z",
                "2027-11-07T07:20:00Z",
                "2027-11-07T07:30:00Z",
            ],
        ),
        (
            "0 30 2 * * *",
            NEW_YORK,
            "2027-03-13T12:00:00Z",
            &["2027-03-14T07:00:00Z", "2027-03-15T06:30:00Z"],
        ),
        (
            "0 30 2 * * *",
            NEW_YORK,
            "2027-11-06T12:00:00Z",
            &["2027-11-07T07:30:00Z", "2027-11-08T07:30:00Z"],
        ),
        (
            "0 * * * *",
            OSLO,
            "2027-03-27T23:30:00Z",
            &[
                "2027-03-28T00:00:00Z",
                "2027-03-28T01:00:00Z",
                "2027-03-28T02:00:00Z",
            ],
        ),
        (
            "*/20 * * * * *",
            OSLO,
            "2027-03-28T00:59:30Z",
            &[
                "2027-03-28T00:59:40Z",
                "2027-03-28T01:00:00Z",
                "2027-03-28T01:00:20Z",
            ],
        ),
    ];
    for (expr, tz, after, expected) in cases {
        assert_eq!(
            next(expr, tz, after, expected.len()),
            expected,
            "{expr} in {tz} after {after}"
        );
    }
}

// Other zones.

#[test]
fn santiago_midnight_in_the_gap_fires_at_one_o_clock() {
    // Chile skips 00:00-00:59 on 2027-09-05 and repeats 23:00-23:59 of
    // 2027-04-03.
    assert_eq!(
        next("0 0 * * *", "America/Santiago", "2027-09-04T12:00:00Z", 2),
        ["2027-09-05T04:00:00Z", "2027-09-06T03:00:00Z"]
    );
    assert_eq!(
        next("30 23 * * *", "America/Santiago", "2027-04-03T12:00:00Z", 2),
        ["2027-04-04T02:30:00Z", "2027-04-05T03:30:00Z"]
    );
}

#[test]
fn a_half_hour_gap_fires_when_it_ends() {
    // Lord Howe Island skips 02:00-02:29 on 2027-10-03.
    assert_eq!(
        next(
            "15 2 * * *",
            "Australia/Lord_Howe",
            "2027-10-02T12:00:00Z",
            2
        ),
        ["2027-10-02T15:30:00Z", "2027-10-03T15:15:00Z"]
    );
}

// Calendar.

#[test]
fn a_leap_day_job_waits_for_the_next_leap_year() {
    assert_eq!(
        next("0 0 29 2 *", "UTC", "2026-01-01T00:00:00Z", 2),
        ["2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z"]
    );
}

#[test]
fn the_thirty_first_skips_short_months() {
    assert_eq!(
        next("0 0 31 * *", "UTC", "2027-01-01T00:00:00Z", 5),
        [
            "2027-01-31T00:00:00Z",
            "2027-03-31T00:00:00Z",
            "2027-05-31T00:00:00Z",
            "2027-07-31T00:00:00Z",
            "2027-08-31T00:00:00Z",
        ]
    );
}

#[test]
fn daily_nickname_fires_at_local_midnight() {
    assert_eq!(
        next("@daily", OSLO, "2027-03-27T12:00:00Z", 3),
        [
            "2027-03-27T23:00:00Z",
            "2027-03-28T22:00:00Z",
            "2027-03-29T22:00:00Z",
        ]
    );
}

#[test]
fn next_after_is_strictly_after() {
    let schedule = Schedule::parse("0 2 * * *", "UTC").unwrap();
    assert_eq!(
        schedule.next_after(at("2026-03-26T02:00:00Z")),
        Some(at("2026-03-27T02:00:00Z"))
    );
    assert_eq!(
        schedule.next_after(at("2026-03-26T01:59:59.999Z")),
        Some(at("2026-03-26T02:00:00Z"))
    );
}

#[test]
fn upcoming_is_strictly_increasing_and_matches_the_rules_everywhere() {
    let expressions = [
        "30 2 * * *",
        "30 1,14 * * *",
        "30 2,14 * * *",
        "0,30 2 * * *",
        "0-30/10 2 * * *",
        "0 30 2 * * *",
        "*/15 * * * *",
        "0 * * * *",
        "*/20 * * * * *",
        "0 0 * * *",
        "30 23 * * 6",
        "0 1-3 * * 0",
    ];
    let zones = [
        OSLO,
        NEW_YORK,
        "Australia/Sydney",
        "America/Santiago",
        "Australia/Lord_Howe",
        "Asia/Kolkata",
        "UTC",
    ];
    for expr in expressions {
        for zone in zones {
            let schedule = Schedule::parse(expr, zone).unwrap();
            // Starts a few hours before the transitions of the zones above.
            for start in [
                "2027-03-27T20:00:00Z",
                "2027-10-02T00:00:00Z",
                "2027-10-30T20:00:00Z",
                "2027-04-02T20:00:00Z",
                "2027-09-03T20:00:00Z",
                "2027-11-06T20:00:00Z",
            ] {
                let all = schedule.upcoming(at(start), 150);
                assert_eq!(all.len(), 150);
                for pair in all.windows(2) {
                    assert!(pair[0] < pair[1], "{expr} in {zone}: {pair:?}");
                }
                for instant in &all {
                    let local = wall_clock::local(schedule.tz, *instant);
                    let matches = schedule.spec.cron.is_time_matching(&local).unwrap();
                    let fixed_time_gap_end = schedule.spec.is_fixed_time()
                        && matches!(
                            wall_clock::land(schedule.tz, local - chrono::TimeDelta::seconds(1)),
                            Some(Landing::Gap { .. })
                        );
                    assert!(
                        matches || fixed_time_gap_end,
                        "{expr} in {zone} fired at {instant} ({local})"
                    );
                }
                if schedule.spec.is_fixed_time() {
                    let mut locals: Vec<_> = all
                        .iter()
                        .map(|t| wall_clock::local(schedule.tz, *t))
                        .collect();
                    let before = locals.len();
                    locals.dedup();
                    locals.sort();
                    locals.dedup();
                    assert_eq!(
                        locals.len(),
                        before,
                        "{expr} in {zone} repeated a local time"
                    );
                }
            }
        }
    }
}

// Parsing.

#[test]
fn invalid_expressions_carry_croner_s_explanation() {
    let cases = [
        ("61 * * * *", "Component error: Number out of bounds."),
        ("*/0 * * * *", "Component error: Step cannot be zero."),
        (
            "0 0 * *",
            "Invalid pattern: Pattern must have 5 or 6 fields when years are disallowed.",
        ),
        (
            "0 0 0 1 1 * 2027",
            "Invalid pattern: Pattern must have 5 or 6 fields when years are disallowed.",
        ),
        (
            "a b c d e",
            "Pattern contains illegal characters: CronPattern contains illegal character 'A' in part 'A'",
        ),
        ("", "CronPattern cannot be an empty string."),
        (
            "@every_5m",
            "Invalid pattern: Pattern must have 5 or 6 fields when years are disallowed.",
        ),
    ];
    for (expr, reason) in cases {
        assert_eq!(
            CronSpec::parse(expr),
            Err(CronError::Invalid {
                expr: expr.to_owned(),
                reason: reason.to_owned(),
            }),
            "{expr}"
        );
    }
}

#[test]
fn an_expression_is_trimmed_and_kept_as_given() {
    let spec = CronSpec::parse("  0 2 * * MON\n").unwrap();
    assert_eq!(spec.as_str(), "0 2 * * MON");
    assert_eq!(spec.to_string(), "0 2 * * MON");
    assert_eq!(spec.expanded(), "0 2 * * MON");
}

#[test]
fn nicknames_expand_to_five_fields() {
    let cases = [
        ("@yearly", "0 0 1 1 *"),
        ("@annually", "0 0 1 1 *"),
        ("@monthly", "0 0 1 * *"),
        ("@weekly", "0 0 * * 0"),
        ("@daily", "0 0 * * *"),
        ("@midnight", "0 0 * * *"),
        ("@hourly", "0 * * * *"),
        ("@DAILY", "0 0 * * *"),
    ];
    for (nickname, expanded) in cases {
        let spec = CronSpec::parse(nickname).unwrap();
        assert_eq!(spec.as_str(), nickname);
        assert_eq!(spec.expanded(), expanded);
    }
    assert!(!CronSpec::parse("@hourly").unwrap().is_fixed_time());
    assert!(CronSpec::parse("@weekly").unwrap().is_fixed_time());
}

#[test]
fn an_expression_longer_than_256_characters_is_refused() {
    let long = format!("0 0 {} * *", vec!["1"; 130].join(","));
    assert_eq!(
        CronSpec::parse(&long),
        Err(CronError::TooLong { len: 267, max: 256 })
    );
    let just_fits = format!("0 0 1 * *{}", " ".repeat(300));
    assert!(CronSpec::parse(&just_fits).is_ok());
}

#[test]
fn an_expression_that_never_fires_is_refused() {
    for expr in ["0 0 30 2 *", "0 0 31 4,6,9,11 *", "0 0 30 2 +1"] {
        assert_eq!(
            CronSpec::parse(expr),
            Err(CronError::NeverFires {
                expr: expr.to_owned()
            }),
            "{expr}"
        );
    }
    // Day 30 or any Monday in February does fire.
    assert!(CronSpec::parse("0 0 30 2 1").is_ok());
}

#[test]
fn fixed_time_is_decided_by_the_first_character_of_the_time_fields() {
    let cases = [
        ("30 2 * * *", true),
        ("30 1,14 * * *", true),
        ("0-30 1 * * *", true),
        ("0-30/10 2 * * *", true),
        ("0 30 2 * * *", true),
        ("0 0 * * 1", true),
        ("*/15 * * * *", false),
        ("0 * * * *", false),
        ("0 */2 * * *", false),
        ("* 2 * * *", false),
        ("*/20 * * * * *", false),
        ("* 30 2 * * *", false),
    ];
    for (expr, fixed) in cases {
        assert_eq!(
            CronSpec::parse(expr).unwrap().is_fixed_time(),
            fixed,
            "{expr}"
        );
    }
}

#[test]
fn an_unknown_time_zone_is_refused_with_its_name() {
    assert_eq!(
        Schedule::parse("0 2 * * *", "Europe/Atlantis"),
        Err(ScheduleError::UnknownTimezone("Europe/Atlantis".to_owned()))
    );
    assert_eq!(
        Schedule::parse("0 2 * *", "UTC"),
        Err(ScheduleError::Cron(CronError::Invalid {
            expr: "0 2 * *".to_owned(),
            reason: "Invalid pattern: Pattern must have 5 or 6 fields when years are disallowed."
                .to_owned(),
        }))
    );
}

#[test]
fn a_starred_day_field_must_match_together_with_the_other_as_in_vixie_cron() {
    // crondst (Vixie's rules) gives 2027-05-31 for this: the first Monday
    // that is also a day 1, 11, 21 or 31 after 2027-03-01.
    let s = Schedule::parse("0 0 */10 * 1", "UTC").unwrap();
    let from = Utc.with_ymd_and_hms(2027, 3, 1, 0, 0, 0).unwrap();
    assert_eq!(
        s.next_after(from),
        Some(Utc.with_ymd_and_hms(2027, 5, 31, 0, 0, 0).unwrap())
    );
    // Both restricted: either day field suffices (the 15th, and Mondays).
    let either = Schedule::parse("0 0 15 * 1", "UTC").unwrap();
    let next: Vec<_> = either.upcoming(from, 3);
    assert_eq!(
        next,
        vec![
            Utc.with_ymd_and_hms(2027, 3, 8, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(2027, 3, 15, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(2027, 3, 22, 0, 0, 0).unwrap(),
        ]
    );
}

#[test]
fn an_expression_parsed_again_is_the_same_spec() {
    let first = CronSpec::parse("5 4 * * sun").expect("valid");
    assert_eq!(CronSpec::parse("5 4 * * sun").expect("valid"), first);
    assert!(CronSpec::parse("0 0 30 2 *").is_err());
    assert!(
        CronSpec::parse("0 0 30 2 *").is_err(),
        "a refusal is not kept as a spec"
    );
}

// The kept answers of `upcoming`.

#[test]
fn kept_upcoming_answers_equal_fresh_ones_through_dst_transitions() {
    for zone in [OSLO, NEW_YORK, "UTC"] {
        for expr in ["30 2 * * *", "*/20 1-3 * * *", "0 * * * *", "15 1 * * 0"] {
            let schedule = Schedule::parse(expr, zone).unwrap();
            for start in [
                "2027-03-27T18:00:00Z",
                "2027-10-30T18:00:00Z",
                "2027-11-06T18:00:00Z",
            ] {
                // Steps of 7 minutes over a day and a half: many reads
                // between two instants, and each instant passing.
                let mut after = at(start);
                for _ in 0..310 {
                    let fresh: Vec<_> = schedule.iter_after(after).take(5).collect();
                    assert_eq!(
                        schedule.upcoming(after, 5),
                        fresh,
                        "{expr} in {zone} after {after}"
                    );
                    after += chrono::TimeDelta::minutes(7);
                }
                // And back in time: an answer kept for a later instant is
                // not the answer for an earlier one.
                let early = at(start) - chrono::TimeDelta::days(2);
                let fresh: Vec<_> = schedule.iter_after(early).take(5).collect();
                assert_eq!(
                    schedule.upcoming(early, 5),
                    fresh,
                    "{expr} in {zone} after {early}"
                );
            }
        }
    }
}
