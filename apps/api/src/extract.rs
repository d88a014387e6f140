//! The JSON body extractor: like `web::Json`, but a type error names the
//! field it happened at (`user_ids[2]`, `threshold_days`), as docs/api.md
//! says of `invalid_body`.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::error::PayloadError;
use actix_web::http::header::CONTENT_TYPE;
use actix_web::{FromRequest, HttpRequest, web};
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::state::AppState;

/// A JSON request body of type `T`.
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<T> Json<T> {
    /// The body.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for Json<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

/// Parses `bytes` as `T`, classifying failures as docs/api.md does
/// ("Requests and answers").
///
/// The syntax of the whole body is checked first ([`check_syntax`]): serde
/// reads a body front to back and stops at its first error, so a body cut
/// short after a field `T` does not know would otherwise be a 422
/// `unknown_field`, and one cut short after a field of the wrong type a 400
/// `invalid_body`. A body that is not JSON is a 400 `invalid_body` too,
/// whatever its fields.
///
/// # Errors
/// `MalformedJson` when the bytes are not JSON, `UnknownField` (422) for a
/// field `T` does not have, `InvalidBody` (400) for a wrong type or a missing
/// field, naming the path where serde knows it.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    check_syntax(bytes)?;
    if has_whole_float(bytes) {
        // `7.0` is the integer 7 in JSON Schema, as in the document this
        // service serves; serde reads it only as a float, so read such a
        // body through a value whose whole floats are integers.
        let mut value: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|e| ApiError::MalformedJson(e.to_string()))?;
        whole_floats_to_integers(&mut value);
        return serde_path_to_error::deserialize(value).map_err(typed_error);
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(typed_error)?;
    // Trailing garbage after the value is not JSON either.
    de.end()
        .map_err(|e| ApiError::MalformedJson(e.to_string()))?;
    Ok(value)
}

/// Maps a failure of the typed pass (the syntax is already known good).
fn typed_error(e: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let path = e.path().to_string();
    let inner = e.into_inner();
    let message = inner.to_string();
    if !inner.is_data() {
        ApiError::MalformedJson(message)
    } else if message.starts_with("unknown field") {
        ApiError::UnknownField(message)
    } else if path.is_empty() || path == "." {
        // serde names a missing field only in its message: "missing field `user_id`".
        let field = message
            .strip_prefix("missing field `")
            .and_then(|m| m.split('`').next())
            .map(str::to_owned);
        ApiError::InvalidBody { field, message }
    } else {
        ApiError::InvalidBody {
            message: format!("{path}: {message}"),
            field: Some(path),
        }
    }
}

/// Largest magnitude at which every whole float spells one integer.
const EXACT_FLOAT: f64 = 9_007_199_254_740_992.0;

/// Whether a well-formed JSON text holds a number written with a fraction or
/// an exponent that is a whole number (`7.0`, `1e3`): a cheap scan that
/// skips strings, so most bodies take the direct path.
fn has_whole_float(bytes: &[u8]) -> bool {
    let mut in_string = false;
    let mut escaped = false;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            i += 1;
        } else if b == b'"' {
            in_string = true;
            i += 1;
        } else if b == b'-' || b.is_ascii_digit() {
            let start = i;
            while i < bytes.len()
                && matches!(bytes[i], b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E')
            {
                i += 1;
            }
            let token = &bytes[start..i];
            if token.iter().any(|c| matches!(c, b'.' | b'e' | b'E'))
                && std::str::from_utf8(token)
                    .ok()
                    .and_then(|t| t.parse::<f64>().ok())
                    .is_some_and(|f| f.fract() == 0.0 && f.abs() <= EXACT_FLOAT)
            {
                return true;
            }
        } else {
            i += 1;
        }
    }
    false
}

/// Turns every whole float of `value` into the integer it spells.
fn whole_floats_to_integers(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Number(n) => {
            if let Some(f) = n.as_f64().filter(|_| n.is_f64())
                && f.fract() == 0.0
                && f.abs() <= EXACT_FLOAT
            {
                // In range by the check above, so the cast is exact.
                #[allow(clippy::cast_possible_truncation)]
                let whole = f as i64;
                *n = whole.into();
            }
        }
        Value::Array(items) => items.iter_mut().for_each(whole_floats_to_integers),
        Value::Object(map) => map.values_mut().for_each(whole_floats_to_integers),
        _ => {}
    }
}

/// Checks that `bytes` are exactly one well-formed JSON value: UTF-8,
/// valid syntax, nothing but whitespace after it. One pass that keeps
/// nothing (`IgnoredAny`), before the typed pass that reads the fields.
///
/// # Errors
/// `MalformedJson`, with serde_json's position of the fault.
pub fn check_syntax(bytes: &[u8]) -> Result<(), ApiError> {
    // JSON text is UTF-8; serde_json skips the strings it ignores without
    // checking their bytes, so check them all here.
    let text = std::str::from_utf8(bytes).map_err(|e| {
        ApiError::MalformedJson(format!("invalid UTF-8 at byte {}", e.valid_up_to()))
    })?;
    serde_json::from_str::<serde::de::IgnoredAny>(text)
        .map(drop)
        .map_err(|e| ApiError::MalformedJson(e.to_string()))
}

/// The media type JSON bodies must be sent as.
pub const JSON: &str = "application/json";

/// Whether a `Content-Type` says JSON: `application/json` or a `+json`
/// type, with any parameters.
fn is_json(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    essence.eq_ignore_ascii_case(JSON)
        || essence
            .rsplit_once('+')
            .is_some_and(|(_, suffix)| suffix.eq_ignore_ascii_case("json"))
}

/// Reads the whole body within the app's limit. A body (anything but
/// whitespace) must say it is JSON: a browser sends a form or `text/plain`
/// from any page without asking first, so accepting those would let another
/// site write here (docs/api.md, "Requests and answers").
fn read_body(
    req: &HttpRequest,
    payload: &mut Payload,
) -> impl Future<Output = Result<web::Bytes, ApiError>> + use<> {
    let limit = req
        .app_data::<web::Data<AppState>>()
        .map_or(crate::state::DEFAULT_MAX_BODY_BYTES, |s| {
            s.http.limits.max_body_bytes
        });
    let content_type = req
        .headers()
        .get(CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let body = web::Bytes::from_request(req, payload);
    async move {
        let bytes = body.await.map_err(|e| match e.as_error::<PayloadError>() {
            Some(PayloadError::Overflow) => ApiError::PayloadTooLarge { limit },
            _ => ApiError::MalformedJson(e.to_string()),
        })?;
        let empty = bytes.iter().all(u8::is_ascii_whitespace);
        if !empty && !content_type.as_deref().is_some_and(is_json) {
            return Err(ApiError::UnsupportedMediaType {
                expected: JSON,
                got: content_type,
            });
        }
        Ok(bytes)
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = read_body(req, payload);
        Box::pin(async move { Ok(Json(parse(&body.await?)?)) })
    }
}

/// A JSON request body that may be left out: an empty body (only
/// whitespace) or `null` reads as `T::default()`. For the trigger
/// endpoints, whose contracts show a body for some views and none for others.
#[derive(Debug)]
pub struct JsonOrEmpty<T>(pub T);

impl<T> JsonOrEmpty<T> {
    /// The body.
    pub fn into_inner(self) -> T {
        self.0
    }
}

/// [`parse`], with an empty body or `null` reading as `T::default()`.
///
/// # Errors
/// As [`parse`].
pub fn parse_or_default<T: DeserializeOwned + Default>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        Ok(T::default())
    } else {
        Ok(parse::<Option<T>>(bytes)?.unwrap_or_default())
    }
}

impl<T: DeserializeOwned + Default + 'static> FromRequest for JsonOrEmpty<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = read_body(req, payload);
        Box::pin(async move { Ok(JsonOrEmpty(parse_or_default(&body.await?)?)) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        user_id: String,
        threshold_days: Option<i64>,
    }

    #[test]
    fn a_wrong_type_names_the_field() {
        let err = parse::<Body>(br#"{"user_id": "u", "threshold_days": "7"}"#).unwrap_err();
        assert!(
            matches!(&err, ApiError::InvalidBody { field: Some(f), message } if f == "threshold_days" && message.starts_with("threshold_days:")),
            "{err:?}"
        );
    }

    #[test]
    fn a_missing_field_is_an_invalid_body() {
        let err = parse::<Body>(br#"{"threshold_days": 7}"#).unwrap_err();
        assert!(
            matches!(&err, ApiError::InvalidBody { field: Some(f), .. } if f == "user_id"),
            "{err:?}"
        );
    }

    #[test]
    fn an_unknown_field_is_a_validation_error() {
        let err = parse::<Body>(br#"{"user_id": "u", "treshold_days": 7}"#).unwrap_err();
        assert!(matches!(err, ApiError::UnknownField(_)), "{err:?}");
    }

    #[derive(Debug, Default, PartialEq, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Optional {
        dry_run: Option<bool>,
    }

    #[test]
    fn an_empty_optional_body_is_the_default() {
        for empty in [&b""[..], b"  \n", b"{}", b"null"] {
            assert_eq!(
                parse_or_default::<Optional>(empty).unwrap(),
                Optional::default()
            );
        }
        assert_eq!(
            parse_or_default::<Optional>(br#"{"dry_run": true}"#).unwrap(),
            Optional {
                dry_run: Some(true)
            }
        );
        assert!(matches!(
            parse_or_default::<Optional>(b"[]"),
            Err(ApiError::InvalidBody { .. })
        ));
        assert!(matches!(
            parse_or_default::<Optional>(br#"{"dry_run": 1}"#),
            Err(ApiError::InvalidBody { field: Some(f), .. }) if f == "dry_run"
        ));
        assert!(matches!(
            parse_or_default::<Optional>(br#"{"force": true}"#),
            Err(ApiError::UnknownField(_))
        ));
        assert!(matches!(
            parse_or_default::<Optional>(b"{bad"),
            Err(ApiError::MalformedJson(_))
        ));
    }

    /// serde stops at the first error it meets, front to back: the syntax
    /// of the whole body is checked before any field is read.
    #[test]
    fn a_body_cut_short_is_malformed_whatever_comes_before_the_cut() {
        for body in [
            &br#"{"user_id": "usr_x", "threshold_days": 7,"#[..],
            br#"{"treshold_days": 7"#,
            br#"{"user_id": 5, "threshold_days": 7"#,
            br#"{"threshold_days": 7}  {"#,
            b"{\"user_id\": \"\xff\"}",
        ] {
            let err = parse::<Body>(body).unwrap_err();
            assert!(
                matches!(err, ApiError::MalformedJson(_)),
                "{}: {err:?}",
                String::from_utf8_lossy(body)
            );
        }
        assert!(matches!(
            parse_or_default::<Optional>(br#"{"force": true"#),
            Err(ApiError::MalformedJson(_))
        ));
    }

    #[test]
    fn json_media_types_are_told_from_the_others() {
        for yes in [
            "application/json",
            "Application/JSON; charset=utf-8",
            "application/merge-patch+json",
        ] {
            assert!(is_json(yes), "{yes}");
        }
        for no in [
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "application/jsonx",
            "",
        ] {
            assert!(!is_json(no), "{no}");
        }
    }

    #[test]
    fn not_json_is_malformed() {
        assert!(matches!(
            parse::<Body>(b"{bad"),
            Err(ApiError::MalformedJson(_))
        ));
        assert!(matches!(
            parse::<Body>(b""),
            Err(ApiError::MalformedJson(_))
        ));
        assert!(matches!(
            parse::<Body>(br#"{"user_id": "u"} x"#),
            Err(ApiError::MalformedJson(_))
        ));
    }

    #[test]
    fn a_whole_float_is_the_integer_it_spells() {
        let body: Body = parse(br#"{"user_id": "u.1e3", "threshold_days": 7.0}"#).unwrap();
        assert_eq!(body.threshold_days, Some(7));
        let body: Body = parse(br#"{"user_id": "u", "threshold_days": 1e1}"#).unwrap();
        assert_eq!(body.threshold_days, Some(10));
        let err = parse::<Body>(br#"{"user_id": "u", "threshold_days": 7.5}"#).unwrap_err();
        assert_eq!(err.code(), "invalid_body");
        let err = parse::<Body>(br#"{"user_id": "u", "threshold_days": 7.0, "x": 1}"#).unwrap_err();
        assert_eq!(err.code(), "unknown_field");
    }

    #[test]
    fn numbers_inside_strings_are_not_whole_floats() {
        assert!(!has_whole_float(br#"{"a": "7.0", "b": "\"1.0"}"#));
        assert!(has_whole_float(br#"{"a": "x", "b": [1, 2.0]}"#));
        assert!(!has_whole_float(br#"{"a": 2.5, "b": -3}"#));
    }
}
