//! The webhook signature of the Standard Webhooks specification: secrets
//! written `whsec_` and base64, and `v1,` signatures, one per secret, over
//! `id.timestamp.body` (docs/operations.md, "Verifying a webhook").

use std::fmt;
use std::sync::Arc;

use base64::Engine;
use base64::alphabet::STANDARD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// The prefix of a Standard Webhooks secret.
pub const SECRET_PREFIX: &str = "whsec_";
/// The shortest key accepted, in bytes once decoded (the specification's 192 bits).
pub const MIN_SECRET_BYTES: usize = 24;
/// The longest key accepted, in bytes once decoded (the specification's 512 bits).
pub const MAX_SECRET_BYTES: usize = 64;

/// Standard base64, with or without its `=` padding: the reference
/// libraries accept both, and some tools print secrets unpadded.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The configured secret text (`MENTOR_SCHEDULER_WEBHOOK_SECRET`), as
/// given: it never shows in logs or `Debug` output. Parsing it cannot fail,
/// so that a bad value is refused by [`SigningKeys::parse`], whose errors
/// never repeat it (an argument parser's error would print the value).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Arc<str>);

impl Secret {
    /// The configured text, for [`SigningKeys::parse`].
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl std::str::FromStr for Secret {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self(Arc::from(s)))
    }
}

/// Why the configured secrets were refused (a startup error). The messages
/// name a secret by its position, never by its text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    /// Nothing but separators.
    #[error(
        "MENTOR_SCHEDULER_WEBHOOK_SECRET holds no secret; expected whsec_ followed by the base64 of {MIN_SECRET_BYTES} to {MAX_SECRET_BYTES} random bytes"
    )]
    Empty,
    /// A secret without the `whsec_` prefix.
    #[error(
        "webhook secret {position} of {count} does not start with whsec_; expected whsec_ followed by the base64 of {MIN_SECRET_BYTES} to {MAX_SECRET_BYTES} random bytes (for example whsec_$(openssl rand -base64 32)), as Standard Webhooks receivers expect"
    )]
    MissingPrefix {
        /// Which secret, from 1.
        position: usize,
        /// How many were given.
        count: usize,
    },
    /// The part after `whsec_` is not standard base64.
    #[error(
        "webhook secret {position} of {count}: the part after whsec_ is not standard base64 (A-Z, a-z, 0-9, + and /, optionally = padded)"
    )]
    NotBase64 {
        /// Which secret, from 1.
        position: usize,
        /// How many were given.
        count: usize,
    },
    /// A key shorter or longer than the specification allows.
    #[error(
        "webhook secret {position} of {count} decodes to {bytes} bytes; a key must be {MIN_SECRET_BYTES} to {MAX_SECRET_BYTES} bytes"
    )]
    Length {
        /// Which secret, from 1.
        position: usize,
        /// How many were given.
        count: usize,
        /// Its decoded length.
        bytes: usize,
    },
}

/// The keys that sign every webhook request, in the order configured: one
/// `v1` signature each. Two during a rotation (the new and the old secret),
/// usually one. `Debug` shows only how many there are.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningKeys(Arc<[Box<[u8]>]>);

impl fmt::Debug for SigningKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SigningKeys({} keys, ***)", self.0.len())
    }
}

impl SigningKeys {
    /// The keys of `secrets`: one or more `whsec_<base64>` secrets separated
    /// by spaces or commas (neither occurs in base64), each decoding to
    /// [`MIN_SECRET_BYTES`] to [`MAX_SECRET_BYTES`] bytes.
    ///
    /// # Errors
    /// [`SecretError`] for no secret at all, or the first secret without
    /// the prefix, not in base64, or of a length out of bounds.
    ///
    /// ```
    /// use mentor_scheduler_api::webhook::{SecretError, SigningKeys};
    /// let new_and_old = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw, whsec_bWVudG9yLXNjaGVkdWxlci10ZXN0LWtleS0wMTIzNDU2Nzg5";
    /// assert_eq!(SigningKeys::parse(new_and_old).unwrap().len(), 2);
    /// assert_eq!(
    ///     SigningKeys::parse("correct-horse-battery-staple-0123"),
    ///     Err(SecretError::MissingPrefix { position: 1, count: 1 })
    /// );
    /// ```
    pub fn parse(secrets: &str) -> Result<Self, SecretError> {
        let parts: Vec<&str> = secrets
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|p| !p.is_empty())
            .collect();
        if parts.is_empty() {
            return Err(SecretError::Empty);
        }
        let count = parts.len();
        let keys = parts
            .iter()
            .enumerate()
            .map(|(i, part)| {
                let position = i + 1;
                let encoded = part
                    .strip_prefix(SECRET_PREFIX)
                    .ok_or(SecretError::MissingPrefix { position, count })?;
                let key = BASE64
                    .decode(encoded)
                    .map_err(|_| SecretError::NotBase64 { position, count })?;
                if !(MIN_SECRET_BYTES..=MAX_SECRET_BYTES).contains(&key.len()) {
                    return Err(SecretError::Length {
                        position,
                        count,
                        bytes: key.len(),
                    });
                }
                Ok(key.into_boxed_slice())
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self(keys.into()))
    }

    /// How many keys sign.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether no key signs (never, for keys from [`SigningKeys::parse`]).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The `webhook-signature` header: [`sign_v1`] with every key, in the
    /// order configured, separated by single spaces.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let signatures: Vec<String> = self
            .0
            .iter()
            .map(|key| sign_v1(key, id, timestamp, body))
            .collect();
        signatures.join(" ")
    }
}

/// One Standard Webhooks `v1` signature: `v1,` and the base64 HMAC-SHA256,
/// keyed with `key` (a secret's decoded bytes), of `id + "." + timestamp +
/// "." + body` (the exact bytes sent).
///
/// ```
/// use mentor_scheduler_api::webhook::sign_v1;
/// // The specification's own example: the key is the base64 after `whsec_`
/// // of whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw, decoded.
/// let key = [
///     0x31, 0xf2, 0x90, 0xf6, 0xbf, 0x06, 0x29, 0x8a, 0xab, 0x4f, 0x08, 0xd4,
///     0x3c, 0x3f, 0x08, 0x2c, 0xf6, 0x48, 0xa3, 0x62, 0xda, 0x2d, 0xa4, 0xb0,
/// ];
/// assert_eq!(
///     sign_v1(&key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1_614_265_330, br#"{"test": 2432232314}"#),
///     "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
/// );
/// ```
pub fn sign_v1(key: &[u8], id: &str, timestamp: i64, body: &[u8]) -> String {
    // HMAC takes keys of any length; `new_from_slice` cannot fail for it.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        unreachable!("HMAC accepts keys of every length")
    };
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", BASE64.encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The base64 of the 36 bytes `mentor-scheduler-test-key-0123456789`.
    const NEW: &str = "whsec_bWVudG9yLXNjaGVkdWxlci10ZXN0LWtleS0wMTIzNDU2Nzg5";
    /// The base64 of the 33 bytes `the-old-key-of-a-rotation-0123456`.
    const OLD: &str = "whsec_dGhlLW9sZC1rZXktb2YtYS1yb3RhdGlvbi0wMTIzNDU2";
    const ID: &str = "ntf_01JQ3K8Y2M4N6P8R0T2V4X6Z8A";
    const BODY: &[u8] = br#"{"version":1}"#;

    // The expected values were computed apart from this code, with Python's
    // standard library:
    //   import base64, hashlib, hmac
    //   key = base64.b64decode(secret.removeprefix("whsec_"))
    //   msg = f"{id}.{timestamp}.".encode() + body
    //   "v1," + base64.b64encode(hmac.new(key, msg, hashlib.sha256).digest()).decode()
    const NEW_SIGNATURE: &str = "v1,obdmohgYLPPG9/Jw8UyT4dNGiHvNmsEcXeOtUYGAaR8=";
    const OLD_SIGNATURE: &str = "v1,jTNQPhr3cwsDEc2AnID5BgL2c1uvnvsXDaY+YYwhCuw=";

    #[test]
    fn the_signature_is_hmac_sha256_over_id_dot_timestamp_dot_body_in_base64() {
        let keys = SigningKeys::parse(NEW).unwrap();
        assert_eq!(keys.sign(ID, 1_774_425_600, BODY), NEW_SIGNATURE);
        // Each of id, timestamp and body is signed.
        assert_ne!(keys.sign(ID, 1_774_425_601, BODY), NEW_SIGNATURE);
        assert_ne!(keys.sign("ntf_other", 1_774_425_600, BODY), NEW_SIGNATURE);
        assert_ne!(keys.sign(ID, 1_774_425_600, b"{}"), NEW_SIGNATURE);
    }

    #[test]
    fn the_specification_example_signs_as_the_specification_says() {
        let keys = SigningKeys::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        assert_eq!(
            keys.sign(
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1_614_265_330,
                br#"{"test": 2432232314}"#
            ),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn the_example_request_of_the_operations_guide_is_signed_as_shown() {
        let body = concat!(
            r#"{"version":1,"notification_id":"ntf_01JQ3K8Y2M4N6P8R0T2V4X6Z8A","user_id":"usr_mentor_7821","#,
            r#""org_id":"org_oslo_01","scenario_type":"inactivity","reason_code":"threshold_reached","#,
            r#""reason":"User inactive for 9 days; threshold 7 days; cooldown 3 days satisfied","#,
            r#""metadata":{"threshold_days":7,"days_inactive":9,"last_active_at":"2026-03-16T14:22:00Z"},"#,
            r#""created_at":"2026-03-25T08:00:00Z"}"#
        );
        let keys =
            SigningKeys::parse(&format!("{NEW} whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")).unwrap();
        assert_eq!(
            keys.sign(ID, 1_774_425_600, body.as_bytes()),
            "v1,RYfAN8QR9tbS1kGds26dyGZ1GXQ9Yip8pI14sua5hm4= v1,sDfBzUV0jsRLGCO4btV9C1shx6mHM5gFQaPRLVBpAvs="
        );
    }

    #[test]
    fn every_secret_signs_and_the_signatures_are_space_separated_in_order() {
        for both in [
            format!("{NEW} {OLD}"),
            format!("{NEW},{OLD}"),
            format!("  {NEW} ,\n{OLD},"),
        ] {
            let keys = SigningKeys::parse(&both).unwrap();
            assert_eq!(keys.len(), 2, "{both:?}");
            assert_eq!(
                keys.sign(ID, 1_774_425_600, BODY),
                format!("{NEW_SIGNATURE} {OLD_SIGNATURE}")
            );
        }
        let reversed = SigningKeys::parse(&format!("{OLD} {NEW}")).unwrap();
        assert_eq!(
            reversed.sign(ID, 1_774_425_600, BODY),
            format!("{OLD_SIGNATURE} {NEW_SIGNATURE}")
        );
    }

    #[test]
    fn base64_with_or_without_padding_is_the_same_key() {
        // 25 bytes: `0123456789abcdef012345678`, whose base64 ends in `==`.
        let padded = "whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3OA==";
        let unpadded = "whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3OA";
        let a = SigningKeys::parse(padded).unwrap();
        assert_eq!(a, SigningKeys::parse(unpadded).unwrap());
        assert_eq!(
            a.sign(ID, 1, BODY),
            sign_v1(b"0123456789abcdef012345678", ID, 1, BODY)
        );
    }

    #[test]
    fn a_secret_without_the_whsec_prefix_is_refused_by_its_position() {
        assert_eq!(
            SigningKeys::parse("test-secret-0123456789-0123456789"),
            Err(SecretError::MissingPrefix {
                position: 1,
                count: 1
            })
        );
        // Raw base64 without the prefix too: the prefix says which scheme it is.
        assert_eq!(
            SigningKeys::parse(&format!("{NEW} MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")),
            Err(SecretError::MissingPrefix {
                position: 2,
                count: 2
            })
        );
    }

    #[test]
    fn a_secret_that_is_not_base64_is_refused() {
        for bad in [
            "whsec_not-base64!",
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS!",
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw_-",
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwA",
        ] {
            let err = SigningKeys::parse(bad).unwrap_err();
            assert!(
                matches!(err, SecretError::NotBase64 { .. }),
                "{bad}: {err:?}"
            );
        }
    }

    #[test]
    fn a_key_shorter_than_24_or_longer_than_64_bytes_is_refused() {
        // 16 bytes: `0123456789abcdef`.
        assert_eq!(
            SigningKeys::parse("whsec_MDEyMzQ1Njc4OWFiY2RlZg=="),
            Err(SecretError::Length {
                position: 1,
                count: 1,
                bytes: 16
            })
        );
        assert_eq!(
            SigningKeys::parse("whsec_"),
            Err(SecretError::Length {
                position: 1,
                count: 1,
                bytes: 0
            })
        );
        let long = format!("whsec_{}", BASE64.encode([7_u8; 65]));
        assert!(matches!(
            SigningKeys::parse(&long),
            Err(SecretError::Length { bytes: 65, .. })
        ));
        let edges = format!(
            "whsec_{} whsec_{}",
            BASE64.encode([7_u8; 24]),
            BASE64.encode([7_u8; 64])
        );
        assert_eq!(SigningKeys::parse(&edges).unwrap().len(), 2);
    }

    #[test]
    fn no_secret_at_all_is_refused() {
        for empty in ["", "   ", ",", " , \n"] {
            assert_eq!(
                SigningKeys::parse(empty),
                Err(SecretError::Empty),
                "{empty:?}"
            );
        }
    }

    #[test]
    fn secrets_and_keys_never_show_in_debug_output_or_errors() {
        let secret: Secret = format!("{NEW} {OLD}").parse().unwrap();
        assert_eq!(format!("{secret:?}"), "Secret(***)");
        let keys = SigningKeys::parse(secret.expose()).unwrap();
        assert_eq!(format!("{keys:?}"), "SigningKeys(2 keys, ***)");
        for bad in [
            "hunter2-hunter2-hunter2-hunter2",
            "whsec_hunter2!",
            "whsec_hunter2hunter2",
            &format!("{NEW} hunter2-hunter2-hunter2-hunter2"),
        ] {
            let message = SigningKeys::parse(bad).unwrap_err().to_string();
            assert!(!message.contains("hunter"), "{message}");
            assert!(!message.contains(&NEW[6..]), "{message}");
        }
    }
}
