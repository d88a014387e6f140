//! Prints the DST examples quoted in docs/scheduling.md.
//! `cargo run -p scheduler-core --example dst_examples`
use chrono::{TimeZone, Utc};
use scheduler_core::Schedule;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let cases = [
        ("30 2 * * *", "America/New_York", (2027, 3, 13, 12)),
        ("30 2,14 * * *", "America/New_York", (2027, 3, 13, 12)),
        ("0,30 2 * * *", "Europe/Oslo", (2027, 3, 27, 12)),
        ("30 1,14 * * *", "America/New_York", (2027, 11, 6, 12)),
        ("*/30 * * * *", "America/New_York", (2027, 11, 7, 4)),
        ("*/30 * * * *", "America/New_York", (2027, 3, 14, 6)),
        ("0 0 31 * *", "UTC", (2027, 1, 1, 0)),
        ("0 0 29 2 *", "UTC", (2026, 1, 1, 0)),
    ];
    for (expr, tz, (y, m, d, h)) in cases {
        let s = Schedule::parse(expr, tz)?;
        let from = Utc
            .with_ymd_and_hms(y, m, d, h, 0, 0)
            .single()
            .ok_or("bad start")?;
        let next: Vec<String> = s
            .upcoming(from, 4)
            .into_iter()
            .map(|t| {
                format!(
                    "{} ({})",
                    t.format("%Y-%m-%dT%H:%M:%SZ"),
                    t.with_timezone(&s.tz).format("%H:%M %Z")
                )
            })
            .collect();
        println!(
            "{expr:16} {tz:18} from {from}: {}  [{}]",
            next.join(", "),
            s.spec.describe()
        );
    }
    Ok(())
}
