//! A receiver's `Retry-After` header (RFC 9110, section 10.2.3): a number
//! of seconds, or an HTTP date.

use chrono::{DateTime, TimeDelta, Utc};

/// The earliest instant a `Retry-After` value allows, for an answer that
/// arrived at `now`; `None` when the value is neither form (the header is
/// then ignored, and the backoff alone decides). The retry policy cuts a
/// far instant to its cap.
pub(crate) fn retry_after(value: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // Too many seconds to count is a very long wait, which the policy
        // cuts to its cap anyway.
        let wait = value
            .parse::<i64>()
            .ok()
            .and_then(TimeDelta::try_seconds)
            .unwrap_or(TimeDelta::MAX);
        return Some(
            now.checked_add_signed(wait)
                .unwrap_or(DateTime::<Utc>::MAX_UTC),
        );
    }
    // IMF-fixdate, and the obsolete RFC 850 and asctime forms a recipient
    // must also accept.
    let at = httpdate::parse_http_date(value).ok()?;
    Some(DateTime::<Utc>::from(at))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        // Wed, 25 Mar 2026 08:00:00 GMT.
        DateTime::from_timestamp(1_774_425_600, 0).unwrap()
    }

    #[test]
    fn seconds_count_from_the_answer() {
        assert_eq!(
            retry_after("120", now()),
            Some(now() + TimeDelta::seconds(120))
        );
        assert_eq!(
            retry_after(" 1 ", now()),
            Some(now() + TimeDelta::seconds(1))
        );
        assert_eq!(retry_after("0", now()), Some(now()));
    }

    #[test]
    fn an_http_date_is_an_instant_in_any_of_its_three_forms() {
        let at = Some(now() + TimeDelta::minutes(5));
        assert_eq!(retry_after("Wed, 25 Mar 2026 08:05:00 GMT", now()), at);
        assert_eq!(retry_after("Wednesday, 25-Mar-26 08:05:00 GMT", now()), at);
        assert_eq!(retry_after("Wed Mar 25 08:05:00 2026", now()), at);
        // A date already past allows a retry at once; the backoff still holds.
        assert_eq!(
            retry_after("Tue, 24 Mar 2026 08:00:00 GMT", now()),
            Some(now() - TimeDelta::days(1))
        );
    }

    #[test]
    fn a_huge_number_of_seconds_is_a_very_long_wait_not_an_error() {
        let far = retry_after("99999999999999999999999", now()).unwrap();
        assert!(far > now() + TimeDelta::days(365 * 100), "{far}");
        assert!(retry_after(&i64::MAX.to_string(), now()).unwrap() > now());
    }

    #[test]
    fn anything_else_is_ignored() {
        for bad in [
            "",
            " ",
            "-5",
            "1.5",
            "+3",
            "soon",
            "120s",
            "2026-03-25T08:05:00Z",
            "Wed, 25 Mar 2026 08:05:00 CET",
        ] {
            assert_eq!(retry_after(bad, now()), None, "{bad:?}");
        }
    }
}
