//! The weekly expiry report: certifications expiring soon, per organisation.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use scenario_engine::rules::{calendar_days_between, format_instant};
use serde_json::{Value, json};

/// Default horizon of the report, in days.
pub const DEFAULT_REPORT_DAYS: u32 = 30;

/// One certification as the report lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportLine {
    /// The mentor's organisation.
    pub org_id: String,
    /// The mentor.
    pub user_id: String,
    /// The certification.
    pub certification_id: String,
    /// Its name.
    pub name: String,
    /// When it expires.
    pub expires_at: DateTime<Utc>,
    /// Whether its expiry pauses the mentor.
    pub required: bool,
}

/// The report: lines expiring within `days` of `generated_at`, grouped by
/// organisation (by `org_id`), soonest first within each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpiryReport {
    /// When it was made.
    pub generated_at: DateTime<Utc>,
    /// The horizon in days.
    pub days: u32,
    /// The zone days are counted in.
    pub timezone: Tz,
    /// `(org_id, lines)`, by `org_id`.
    pub organisations: Vec<(String, Vec<ReportLine>)>,
}

impl ExpiryReport {
    /// Builds the report from any lines: those not expired yet and expiring
    /// within `days` calendar days are kept.
    ///
    /// ```
    /// use chrono::{TimeDelta, TimeZone, Utc};
    /// use cert_expiry::{ExpiryReport, ReportLine};
    /// let now = Utc.with_ymd_and_hms(2026, 3, 30, 8, 0, 0).unwrap();
    /// let line = |org: &str, days| ReportLine {
    ///     org_id: org.into(),
    ///     user_id: "usr_1".into(),
    ///     certification_id: "cert_a".into(),
    ///     name: "Safety".into(),
    ///     expires_at: now + TimeDelta::days(days),
    ///     required: true,
    /// };
    /// let report = ExpiryReport::build(vec![line("org_b", 3), line("org_a", 40), line("org_a", 10)], now, 30, chrono_tz::UTC);
    /// assert_eq!(report.organisations.len(), 2);
    /// assert_eq!(report.total(), 2);
    /// assert!(report.to_csv().starts_with("org_id,user_id,certification_id,name,expires_at,days_until_expiry,required\n"));
    /// ```
    pub fn build(
        lines: impl IntoIterator<Item = ReportLine>,
        generated_at: DateTime<Utc>,
        days: u32,
        timezone: Tz,
    ) -> Self {
        let mut kept: Vec<ReportLine> = lines
            .into_iter()
            .filter(|l| {
                l.expires_at > generated_at
                    && calendar_days_between(generated_at, l.expires_at, timezone)
                        <= i64::from(days)
            })
            .collect();
        kept.sort_by(|a, b| {
            (&a.org_id, a.expires_at, &a.user_id, &a.certification_id).cmp(&(
                &b.org_id,
                b.expires_at,
                &b.user_id,
                &b.certification_id,
            ))
        });
        let mut organisations: Vec<(String, Vec<ReportLine>)> = Vec::new();
        for line in kept {
            match organisations.last_mut() {
                Some((org, lines)) if *org == line.org_id => lines.push(line),
                _ => organisations.push((line.org_id.clone(), vec![line])),
            }
        }
        Self {
            generated_at,
            days,
            timezone,
            organisations,
        }
    }

    /// Certifications in the report.
    pub fn total(&self) -> usize {
        self.organisations.iter().map(|(_, l)| l.len()).sum()
    }

    fn days_until(&self, l: &ReportLine) -> i64 {
        calendar_days_between(self.generated_at, l.expires_at, self.timezone)
    }

    /// The JSON form kept as the run's result.
    pub fn to_json(&self) -> Value {
        json!({
            "generated_at": format_instant(self.generated_at),
            "days": self.days,
            "timezone": self.timezone.name(),
            "total": self.total(),
            "organisations": self.organisations.iter().map(|(org, lines)| json!({
                "org_id": org,
                "count": lines.len(),
                "certifications": lines.iter().map(|l| json!({
                    "user_id": l.user_id,
                    "certification_id": l.certification_id,
                    "name": l.name,
                    "expires_at": format_instant(l.expires_at),
                    "days_until_expiry": self.days_until(l),
                    "required": l.required,
                })).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        })
    }

    /// Reads back the JSON form written by [`to_json`](Self::to_json) (a
    /// run's stored result); `None` when `value` is not such a report.
    pub fn from_json(value: &Value) -> Option<Self> {
        let instant = |v: &Value| {
            DateTime::parse_from_rfc3339(v.as_str()?)
                .ok()
                .map(|t| t.with_timezone(&Utc))
        };
        let organisations = value["organisations"]
            .as_array()?
            .iter()
            .map(|org| {
                let org_id = org["org_id"].as_str()?.to_owned();
                let lines = org["certifications"]
                    .as_array()?
                    .iter()
                    .map(|c| {
                        Some(ReportLine {
                            org_id: org_id.clone(),
                            user_id: c["user_id"].as_str()?.to_owned(),
                            certification_id: c["certification_id"].as_str()?.to_owned(),
                            name: c["name"].as_str()?.to_owned(),
                            expires_at: instant(&c["expires_at"])?,
                            required: c["required"].as_bool()?,
                        })
                    })
                    .collect::<Option<Vec<_>>>()?;
                Some((org_id, lines))
            })
            .collect::<Option<Vec<_>>>()?;
        Some(Self {
            generated_at: instant(&value["generated_at"])?,
            days: u32::try_from(value["days"].as_u64()?).ok()?,
            timezone: value["timezone"].as_str()?.parse().ok()?,
            organisations,
        })
    }

    /// The CSV download of a report kept as JSON (a weekly report run's
    /// `result_summary`): exactly what [`to_csv`](Self::to_csv) wrote for
    /// the report. `None` when `value` is not a report.
    ///
    /// ```
    /// use chrono::{TimeDelta, TimeZone, Utc};
    /// use cert_expiry::{ExpiryReport, ReportLine};
    /// let now = Utc.with_ymd_and_hms(2026, 3, 30, 8, 0, 0).unwrap();
    /// let line = ReportLine {
    ///     org_id: "org_a".into(),
    ///     user_id: "usr_1".into(),
    ///     certification_id: "cert_a".into(),
    ///     name: "Safety".into(),
    ///     expires_at: now + TimeDelta::days(3),
    ///     required: true,
    /// };
    /// let report = ExpiryReport::build(vec![line], now, 30, chrono_tz::UTC);
    /// assert_eq!(ExpiryReport::csv_from_json(&report.to_json()), Some(report.to_csv()));
    /// assert_eq!(ExpiryReport::csv_from_json(&serde_json::json!({"mentors_checked": 3})), None);
    /// ```
    pub fn csv_from_json(value: &Value) -> Option<String> {
        Self::from_json(value).map(|r| r.to_csv())
    }

    /// The CSV download: one row per certification, RFC 4180 quoting.
    pub fn to_csv(&self) -> String {
        let mut out = String::from(
            "org_id,user_id,certification_id,name,expires_at,days_until_expiry,required\n",
        );
        for (_, lines) in &self.organisations {
            for l in lines {
                let row = [
                    csv_field(&l.org_id),
                    csv_field(&l.user_id),
                    csv_field(&l.certification_id),
                    csv_field(&l.name),
                    format_instant(l.expires_at),
                    self.days_until(l).to_string(),
                    l.required.to_string(),
                ];
                out.push_str(&row.join(","));
                out.push('\n');
            }
        }
        out
    }
}

/// Quotes a CSV field when it holds a comma, quote or line break, and
/// defuses spreadsheet formulas (a leading `=`, `+`, `-` or `@`).
fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeDelta, TimeZone};

    use super::*;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 30, 8, 0, 0).unwrap()
    }

    fn line(org: &str, user: &str, name: &str, in_days: i64) -> ReportLine {
        ReportLine {
            org_id: org.into(),
            user_id: user.into(),
            certification_id: format!("cert_{user}"),
            name: name.into(),
            expires_at: now() + TimeDelta::days(in_days),
            required: in_days % 2 == 0,
        }
    }

    #[test]
    fn the_report_keeps_only_certifications_expiring_within_the_horizon() {
        let report = ExpiryReport::build(
            vec![
                line("o", "past", "x", -1),
                line("o", "edge", "x", 30),
                line("o", "far", "x", 31),
            ],
            now(),
            30,
            chrono_tz::UTC,
        );
        let users: Vec<&str> = report.organisations[0]
            .1
            .iter()
            .map(|l| l.user_id.as_str())
            .collect();
        assert_eq!(users, ["edge"]);
    }

    #[test]
    fn organisations_are_sorted_and_lines_soonest_first() {
        let report = ExpiryReport::build(
            vec![
                line("org_b", "u1", "x", 5),
                line("org_a", "u2", "x", 9),
                line("org_a", "u3", "x", 2),
            ],
            now(),
            30,
            chrono_tz::UTC,
        );
        let json = report.to_json();
        assert_eq!(json["total"], 3);
        assert_eq!(json["organisations"][0]["org_id"], "org_a");
        assert_eq!(
            json["organisations"][0]["certifications"][0]["user_id"],
            "u3"
        );
        assert_eq!(
            json["organisations"][0]["certifications"][0]["days_until_expiry"],
            2
        );
        assert_eq!(json["organisations"][1]["count"], 1);
    }

    #[test]
    fn the_json_form_reads_back_into_the_same_report_and_csv() {
        let report = ExpiryReport::build(
            vec![
                line("org_b", "u1", "First aid, \"basic\"", 4),
                line("org_a", "u2", "=HYPERLINK(1)", 6),
                line("org_a", "u3", "Safety", 1),
            ],
            now(),
            30,
            chrono_tz::Europe::Oslo,
        );
        let json = report.to_json();
        assert_eq!(ExpiryReport::from_json(&json), Some(report.clone()));
        assert_eq!(ExpiryReport::csv_from_json(&json), Some(report.to_csv()));
        let empty = ExpiryReport::build(Vec::new(), now(), 7, chrono_tz::UTC);
        assert_eq!(
            ExpiryReport::csv_from_json(&empty.to_json()).as_deref(),
            Some("org_id,user_id,certification_id,name,expires_at,days_until_expiry,required\n")
        );
    }

    #[test]
    fn json_that_is_not_a_report_gives_no_csv() {
        let report = ExpiryReport::build(vec![line("o", "u1", "x", 4)], now(), 30, chrono_tz::UTC);
        let mut broken = report.to_json();
        broken["organisations"][0]["certifications"][0]["expires_at"] = json!("yesterday");
        assert_eq!(ExpiryReport::csv_from_json(&broken), None);
        let mut zone = report.to_json();
        zone["timezone"] = json!("Mars/Olympus");
        assert_eq!(ExpiryReport::csv_from_json(&zone), None);
        for other in [
            json!(null),
            json!({}),
            json!({"mentors_checked": 1, "errors": 0}),
        ] {
            assert_eq!(ExpiryReport::csv_from_json(&other), None, "{other}");
        }
    }

    #[test]
    fn csv_quotes_awkward_names_and_defuses_formulas() {
        let report = ExpiryReport::build(
            vec![
                line("o", "u1", "First aid, \"basic\"", 4),
                line("o", "u2", "=HYPERLINK(1)", 6),
            ],
            now(),
            30,
            chrono_tz::UTC,
        );
        let csv = report.to_csv();
        let rows: Vec<&str> = csv.lines().collect();
        assert_eq!(rows.len(), 3);
        assert_eq!(
            rows[1],
            "o,u1,cert_u1,\"First aid, \"\"basic\"\"\",2026-04-03T08:00:00Z,4,true"
        );
        assert!(rows[2].contains(",'=HYPERLINK(1),"), "{}", rows[2]);
    }
}
