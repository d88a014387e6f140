//! [`JsonText`]: a stored JSON value kept as its text.

use serde_json::value::RawValue;

/// A JSON value kept as the text it was stored as, written out as it is:
/// a notification's payload is read back from storage and answered or
/// sent unchanged, so parsing it into a [`serde_json::Value`] and writing
/// it again on every read would be work for nothing (the webhook body is
/// these very bytes).
///
/// ```
/// use scenario_engine::service::JsonText;
///
/// let stored = JsonText::parse(r#"{"version":1,"reason":"a \"quote\""}"#.to_owned()).unwrap();
/// assert_eq!(stored.to_value()["version"], 1);
/// // Written out as it is, inside any other JSON.
/// let answer = serde_json::to_string(&serde_json::json!({ "payload": stored })).unwrap();
/// assert_eq!(answer, r#"{"payload":{"version":1,"reason":"a \"quote\""}}"#);
/// assert!(JsonText::parse("{not json".to_owned()).is_err());
/// ```
#[derive(Debug, Clone)]
pub struct JsonText(Box<RawValue>);

impl JsonText {
    /// The text, once checked to be one JSON value.
    ///
    /// # Errors
    /// serde_json's error when `text` is not one JSON value.
    pub fn parse(text: String) -> Result<Self, serde_json::Error> {
        RawValue::from_string(text).map(Self)
    }

    /// The text of `value`, compact (as [`json_text`](super::json_text)
    /// writes it).
    pub fn of(value: &serde_json::Value) -> Self {
        // Serialising a `Value` cannot fail (its keys are strings), and
        // its text is one JSON value.
        match serde_json::value::to_raw_value(value) {
            Ok(raw) => Self(raw),
            Err(_) => Self(RawValue::NULL.to_owned()),
        }
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        self.0.get()
    }

    /// The value, parsed (for a reader that looks inside it).
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::from_str(self.as_str()).unwrap_or(serde_json::Value::Null)
    }
}

impl PartialEq for JsonText {
    /// The same text: values stored by this service are written compact,
    /// in one key order.
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl From<serde_json::Value> for JsonText {
    fn from(value: serde_json::Value) -> Self {
        Self::of(&value)
    }
}

impl serde::Serialize for JsonText {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}
