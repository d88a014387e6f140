//! The coordinator dashboard: one HTML page, one script and one stylesheet,
//! embedded in the binary and served at `/` and under `/ui/`
//! (docs/operations.md, "Dashboard"). The page uses only the JSON API,
//! with the token the viewer gives it; these three answers need no token,
//! since they hold nothing but the page's code.

use actix_web::HttpResponse;
use actix_web::http::header::{self, HeaderValue};

/// The page.
pub const PAGE: &str = "/";
/// Its script.
pub const SCRIPT: &str = "/ui/dashboard.js";
/// Its stylesheet.
pub const STYLE: &str = "/ui/dashboard.css";
/// Every path of the dashboard: open to `GET` and `HEAD` without a token.
pub const PATHS: [&str; 3] = [PAGE, SCRIPT, STYLE];

/// Only the page's own script, style and API; no inline code, no frames,
/// no other origin.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const HTML: &str = include_str!("ui/index.html");
const JS: &str = include_str!("ui/dashboard.js");
const CSS: &str = include_str!("ui/dashboard.css");

fn asset(content_type: &'static str, body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, HeaderValue::from_static(content_type)))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ))
        .insert_header((
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .insert_header((
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-cache")))
        .body(body)
}

/// `GET /`: the page.
pub async fn page() -> HttpResponse {
    asset("text/html; charset=utf-8", HTML)
}

/// `GET /ui/dashboard.js`.
pub async fn script() -> HttpResponse {
    asset("text/javascript; charset=utf-8", JS)
}

/// `GET /ui/dashboard.css`.
pub async fn style() -> HttpResponse {
    asset("text/css; charset=utf-8", CSS)
}

#[cfg(test)]
mod tests {
    use run_log::RunStatus;
    use scenario_engine::rules::{ReasonCode, ScenarioType};
    use scenario_engine::service::NotificationStatus;
    use scheduler_core::Handler;

    use super::*;

    /// The names a quoted list in the script holds, `const NAME = [...]`.
    fn list(name: &str) -> Vec<&'static str> {
        let start = JS.find(&format!("const {name} = [")).unwrap();
        let rest = &JS[start..];
        let body = &rest[rest.find('[').unwrap() + 1..rest.find(']').unwrap()];
        body.split(',')
            .map(|s| s.trim().trim_matches('\''))
            .filter(|s| !s.is_empty())
            .collect()
    }

    #[test]
    fn the_script_offers_every_value_the_api_filters_by() {
        let codes: Vec<&str> = ReasonCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(list("REASON_CODES"), codes);
        let types: Vec<&str> = ScenarioType::ALL.iter().map(|t| t.as_str()).collect();
        assert_eq!(list("SCENARIO_TYPES"), types);
        let statuses: Vec<&str> = RunStatus::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(list("RUN_STATUSES"), statuses);
        let statuses: Vec<&str> = NotificationStatus::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(list("NOTIFICATION_STATUSES"), statuses);
        let kinds: Vec<&str> = Handler::ALL.iter().map(|h| h.as_str()).collect();
        assert_eq!(list("KINDS"), kinds);
    }

    #[test]
    fn the_page_loads_only_its_own_assets_and_no_inline_code() {
        assert!(HTML.contains(&format!("src=\"{SCRIPT}\"")));
        assert!(HTML.contains(&format!("href=\"{STYLE}\"")));
        assert!(!HTML.contains("<script>"), "inline scripts break the CSP");
        assert!(!HTML.contains("style="), "inline styles break the CSP");
        for asset in [HTML, JS, CSS] {
            assert!(!asset.contains("http://") || asset.contains("http://www.w3.org/2000/svg"));
            assert!(!asset.contains("https://"), "no other origin");
            assert!(!asset.contains("innerHTML"), "text goes in as text");
        }
        assert!(
            !JS.contains("localStorage"),
            "the token stays in the session"
        );
    }
}
