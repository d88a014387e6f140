//! Human-readable descriptions of cron expressions ("At 02:00 every day").
//!
//! The common shapes get a sentence written here; anything else falls back
//! to croner's own English description.

/// Weekday names, Sunday first, as cron numbers them (7 is Sunday again).
const WEEKDAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

const WEEKDAY_ABBREVIATIONS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

const MONTH_ABBREVIATIONS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];

/// Lists of more times than this are left to croner's description.
const MAX_LISTED_TIMES: usize = 6;

/// Describes the expanded expression `fields` (5 or 6 of them), or `None`
/// when the shape is not one of the common ones.
pub(crate) fn describe(fields: &[&str]) -> Option<String> {
    let (second, rest) = match fields {
        [s, rest @ ..] if fields.len() == 6 => (Some(*s), rest),
        _ if fields.len() == 5 => (None, fields),
        _ => return None,
    };
    let [minute, hour, dom, month, dow] = rest else {
        return None;
    };
    let days = days(dom, month, dow)?;
    let second_is_zero = second.is_none_or(|s| number(s, 0, 59) == Some(0));

    // Fixed times of day: "At 02:00", "At 01:30 and 14:30".
    if let Some(times) = times_of_day(second, minute, hour) {
        let every_day = if days.is_empty() { " every day" } else { "" };
        return Some(format!("At {times}{every_day}{days}"));
    }

    let every = if second_is_zero {
        interval_minutes(minute, hour)?
    } else if *minute == "*" && *hour == "*" {
        match second.and_then(step_of_star)? {
            1 => "Every second".to_owned(),
            n => format!("Every {n} seconds"),
        }
    } else {
        return None;
    };
    Some(format!("{every}{days}"))
}

/// The times of day of a fixed-time expression with few enough times.
fn times_of_day(second: Option<&str>, minute: &str, hour: &str) -> Option<String> {
    let seconds = match second {
        Some(s) => numbers(s, 0, 59)?,
        None => vec![0],
    };
    let minutes = numbers(minute, 0, 59)?;
    let hours = numbers(hour, 0, 23)?;
    if seconds.len() * minutes.len() * hours.len() > MAX_LISTED_TIMES {
        return None;
    }
    let with_seconds = seconds.iter().any(|&s| s != 0);
    let mut times = Vec::new();
    for &h in &hours {
        for &m in &minutes {
            for &s in &seconds {
                times.push(if with_seconds {
                    format!("{h:02}:{m:02}:{s:02}")
                } else {
                    format!("{h:02}:{m:02}")
                });
            }
        }
    }
    Some(join(&times))
}

/// "Every 15 minutes", "Every hour", "Every 2 hours at minute 30".
fn interval_minutes(minute: &str, hour: &str) -> Option<String> {
    if hour == "*"
        && let Some(step) = step_of_star(minute)
    {
        return Some(match step {
            1 => "Every minute".to_owned(),
            n => format!("Every {n} minutes"),
        });
    }
    let at = number(minute, 0, 59)?;
    let every = match step_of_star(hour)? {
        1 => "Every hour".to_owned(),
        n => format!("Every {n} hours"),
    };
    Some(if at == 0 {
        every
    } else {
        format!("{every} at minute {at}")
    })
}

/// The day part: "" for every day, " on Monday", " on day 1 of every month".
fn days(dom: &str, month: &str, dow: &str) -> Option<String> {
    match (dom, month, dow) {
        ("*", "*", "*") => Some(String::new()),
        ("*", "*", dow) => Some(format!(" on {}", weekdays(dow)?)),
        (dom, "*", "*") => Some(format!(" on day {} of every month", day_numbers(dom)?)),
        (dom, month, "*") if dom != "*" => Some(format!(
            " on day {} of {}",
            day_numbers(dom)?,
            months(month)?
        )),
        ("*", month, "*") => Some(format!(" every day in {}", months(month)?)),
        _ => None,
    }
}

fn day_numbers(field: &str) -> Option<String> {
    let days = numbers(field, 1, 31)?;
    Some(join(&days.iter().map(u32::to_string).collect::<Vec<_>>()))
}

/// "Monday", "Monday and Friday", "Monday through Friday".
fn weekdays(field: &str) -> Option<String> {
    let name = |token: &str| -> Option<&'static str> {
        let index = named_number(token, &WEEKDAY_ABBREVIATIONS, 0, 7)?;
        WEEKDAYS.get((index % 7) as usize).copied()
    };
    if let Some((from, to)) = field.split_once('-') {
        return Some(format!("{} through {}", name(from)?, name(to)?));
    }
    let names = field.split(',').map(name).collect::<Option<Vec<_>>>()?;
    Some(join(&names))
}

/// "March", "March and April", "March through May".
fn months(field: &str) -> Option<String> {
    let name = |token: &str| -> Option<&'static str> {
        let number = named_number(token, &MONTH_ABBREVIATIONS, 1, 12)?;
        MONTHS.get((number - 1) as usize).copied()
    };
    if let Some((from, to)) = field.split_once('-') {
        return Some(format!("{} through {}", name(from)?, name(to)?));
    }
    let names = field.split(',').map(name).collect::<Option<Vec<_>>>()?;
    Some(join(&names))
}

/// A number or a three-letter name (`MON`, `jan`); names number from
/// `first`.
fn named_number(token: &str, names: &[&str], first: u32, max: u32) -> Option<u32> {
    if let Some(n) = number(token, first, max) {
        return Some(n);
    }
    let index = names
        .iter()
        .position(|name| name.eq_ignore_ascii_case(token))?;
    u32::try_from(index).ok().map(|i| i + first)
}

/// The step of `*` or `*/n`: 1 or n.
fn step_of_star(field: &str) -> Option<u32> {
    match field {
        "*" => Some(1),
        _ => field
            .strip_prefix("*/")?
            .parse()
            .ok()
            .filter(|&n: &u32| n > 0),
    }
}

/// A plain comma-separated list of numbers, each in `min..=max`.
fn numbers(field: &str, min: u32, max: u32) -> Option<Vec<u32>> {
    field.split(',').map(|t| number(t, min, max)).collect()
}

fn number(token: &str, min: u32, max: u32) -> Option<u32> {
    if token.is_empty() || !token.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    token.parse().ok().filter(|n| (min..=max).contains(n))
}

/// "a", "a and b", "a, b and c".
fn join<S: AsRef<str>>(items: &[S]) -> String {
    match items {
        [] => String::new(),
        [one] => one.as_ref().to_owned(),
        [init @ .., last] => {
            let init: Vec<&str> = init.iter().map(AsRef::as_ref).collect();
            format!("{} and {}", init.join(", "), last.as_ref())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(expr: &str) -> Option<String> {
        describe(&expr.split_whitespace().collect::<Vec<_>>())
    }

    #[test]
    fn common_shapes_read_as_sentences() {
        let cases = [
            ("0 2 * * *", "At 02:00 every day"),
            ("*/15 * * * *", "Every 15 minutes"),
            ("0 8 * * 1", "At 08:00 on Monday"),
            ("0 8 * * MON", "At 08:00 on Monday"),
            ("0 8 * * 1-5", "At 08:00 on Monday through Friday"),
            ("0 8 * * 1,3,5", "At 08:00 on Monday, Wednesday and Friday"),
            ("0 8 * * 7", "At 08:00 on Sunday"),
            ("30 1,14 * * *", "At 01:30 and 14:30 every day"),
            ("0,30 2 * * *", "At 02:00 and 02:30 every day"),
            ("0 30 2 * * *", "At 02:30 every day"),
            ("15 30 2 * * *", "At 02:30:15 every day"),
            ("*/20 * * * * *", "Every 20 seconds"),
            ("* * * * * *", "Every second"),
            ("* * * * *", "Every minute"),
            ("0 * * * *", "Every hour"),
            ("15 * * * *", "Every hour at minute 15"),
            ("0 */2 * * *", "Every 2 hours"),
            ("30 */6 * * *", "Every 6 hours at minute 30"),
            ("0 0 1 * *", "At 00:00 on day 1 of every month"),
            ("0 0 1,15 * *", "At 00:00 on day 1 and 15 of every month"),
            ("0 0 29 2 *", "At 00:00 on day 29 of February"),
            ("0 0 1 1 *", "At 00:00 on day 1 of January"),
            ("0 9 * 3-5 *", "At 09:00 every day in March through May"),
            (
                "*/15 * * * 1-5",
                "Every 15 minutes on Monday through Friday",
            ),
        ];
        for (expr, expected) in cases {
            assert_eq!(d(expr).as_deref(), Some(expected), "{expr}");
        }
    }

    #[test]
    fn unusual_shapes_are_left_to_the_fallback() {
        for expr in [
            "0-30/10 2 * * *",
            "0 0 L * *",
            "0 12 * * 5#2",
            "0 0 1 * 1",
            "*/5 9-17 * * *",
            "0 1,2,3,4,5,6,7 * * *",
        ] {
            assert_eq!(d(expr), None, "{expr}");
        }
    }
}
