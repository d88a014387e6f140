//! Who may call what: bearer tokens with two roles, and the refusal of
//! cross-site browser requests (docs/operations.md, "Security").
//!
//! - `MENTOR_SCHEDULER_ADMIN_TOKENS` may do everything,
//!   `MENTOR_SCHEDULER_READ_TOKENS` only `GET` and `HEAD`. No token (or an
//!   unknown one) is a 401 with `WWW-Authenticate: Bearer`; a read token on
//!   a write is a 403. `/healthz` and `/readyz` stay open, and so do the
//!   dashboard's page and assets (`ui.rs`), which hold no data. With no token
//!   configured, everything is open, and `serve` binds loopback only.
//! - A browser request from another site may not change anything: a write
//!   whose `Origin` is not the server's own, or whose `Sec-Fetch-Site` says
//!   `cross-site`, is a 403. No CORS headers are ever sent, so a browser
//!   does not let another site read the answers either.
//!
//! Tokens are compared in constant time, as SHA-256 digests (so the
//! comparison does not even leak a token's length), and never logged.

use std::net::ToSocketAddrs;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{AUTHORIZATION, HeaderName, ORIGIN};
use actix_web::middleware::Next;
use actix_web::web;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::ApiError;
use crate::ui;

/// The shortest token accepted, in bytes: a token is a password a machine
/// sends, long enough that guessing it is hopeless.
pub const MIN_TOKEN_BYTES: usize = 16;

/// Paths every caller may reach, tokens or not: a load balancer's probes.
const OPEN_PATHS: [&str; 2] = ["/healthz", "/readyz"];

/// A comma-separated list of tokens as configured, never shown in logs or
/// `Debug` output.
#[derive(Clone)]
pub struct TokenList(String);

impl TokenList {
    /// The list, for [`Tokens::new`].
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for TokenList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenList(***)")
    }
}

impl std::str::FromStr for TokenList {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self(s.to_owned()))
    }
}

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// `GET` and `HEAD` only.
    Read,
    /// Everything.
    Admin,
}

/// The configured bearer tokens, kept as digests.
#[derive(Clone, Default)]
pub struct Tokens {
    tokens: Vec<([u8; 32], Role)>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens")
            .field("count", &self.tokens.len())
            .finish_non_exhaustive()
    }
}

/// Why a token list was refused (a startup error).
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// A token shorter than [`MIN_TOKEN_BYTES`]; its value is not shown.
    #[error("{list} holds a token of {len} bytes; tokens must be at least {MIN_TOKEN_BYTES} bytes")]
    TooShort {
        /// The variable it came from.
        list: &'static str,
        /// Its length.
        len: usize,
    },
    /// A token with a character a header cannot carry.
    #[error("{list} holds a token with a space, a control or a non-ASCII character")]
    Unprintable {
        /// The variable it came from.
        list: &'static str,
    },
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

impl Tokens {
    /// The tokens of two comma-separated lists (empty entries ignored).
    ///
    /// # Errors
    /// [`TokenError`] for a token that is too short or unprintable.
    pub fn new(admin: Option<&str>, read: Option<&str>) -> Result<Self, TokenError> {
        let mut tokens = Vec::new();
        for (list, value, role) in [
            ("MENTOR_SCHEDULER_ADMIN_TOKENS", admin, Role::Admin),
            ("MENTOR_SCHEDULER_READ_TOKENS", read, Role::Read),
        ] {
            for token in value.unwrap_or_default().split(',').map(str::trim) {
                if token.is_empty() {
                    continue;
                }
                if !token.bytes().all(|b| b.is_ascii_graphic()) {
                    return Err(TokenError::Unprintable { list });
                }
                if token.len() < MIN_TOKEN_BYTES {
                    return Err(TokenError::TooShort {
                        list,
                        len: token.len(),
                    });
                }
                tokens.push((digest(token), role));
            }
        }
        Ok(Self { tokens })
    }

    /// Whether any token is configured (else everything is open).
    pub fn configured(&self) -> bool {
        !self.tokens.is_empty()
    }

    /// The role of `token`, if it is one: every configured token is
    /// compared, in constant time, whichever matches.
    pub fn role(&self, token: &str) -> Option<Role> {
        let given = digest(token);
        let mut found = None;
        for (known, role) in &self.tokens {
            if bool::from(known.ct_eq(&given)) {
                found = Some(*role);
            }
        }
        found
    }
}

/// Whether `bind` (`host:port`) resolves to loopback addresses only.
///
/// # Errors
/// The resolver's error, for an address that does not resolve.
pub fn loopback_only(bind: &str) -> std::io::Result<bool> {
    let mut any = false;
    for addr in bind.to_socket_addrs()? {
        any = true;
        if !addr.ip().is_loopback() {
            return Ok(false);
        }
    }
    Ok(any)
}

fn reads_only(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD)
}

/// Whether `req` needs no token: the probes, and reading the dashboard's
/// page and assets (which hold no data; the page asks for a token and
/// sends it on its API calls).
fn open(req: &ServiceRequest) -> bool {
    OPEN_PATHS.contains(&req.path())
        || (reads_only(req.method()) && ui::PATHS.contains(&req.path()))
}

/// The bearer token of a request, if it has one.
fn bearer(req: &ServiceRequest) -> Option<&str> {
    let value = req.headers().get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// The authentication middleware.
///
/// Refusals ([`ApiError::Unauthorized`], [`ApiError::Forbidden`]) are
/// answered here, as responses, so that the outer middleware logs them
/// with their request id.
///
/// # Errors
/// Whatever the rest of the app fails with.
pub async fn authenticate<B: MessageBody>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    let tokens = req.app_data::<web::Data<Tokens>>().cloned();
    if let Some(tokens) = tokens
        && tokens.configured()
        && !open(&req)
    {
        let refusal = match bearer(&req).and_then(|t| tokens.role(t)) {
            None => Some(ApiError::Unauthorized),
            Some(Role::Read) if !reads_only(req.method()) => Some(ApiError::Forbidden(format!(
                "a read token may only GET and HEAD, not {}",
                req.method()
            ))),
            Some(_) => None,
        };
        if let Some(e) = refusal {
            return Ok(req.error_response(e).map_into_right_body());
        }
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}

const SEC_FETCH_SITE: HeaderName = HeaderName::from_static("sec-fetch-site");

/// The cross-site middleware: a write from another site's page is a 403.
///
/// # Errors
/// Whatever the rest of the app fails with ([`ApiError::CrossSite`] is an
/// answer, not an error).
pub async fn same_site_writes<B: MessageBody>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    if let Some(why) = cross_site(&req) {
        return Ok(req
            .error_response(ApiError::CrossSite(why))
            .map_into_right_body());
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}

/// Why `req` is a write from another site, if it is one.
fn cross_site(req: &ServiceRequest) -> Option<String> {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return None;
    }
    if req
        .headers()
        .get(SEC_FETCH_SITE)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"cross-site"))
    {
        return Some("Sec-Fetch-Site: cross-site".to_owned());
    }
    let origin = String::from_utf8_lossy(req.headers().get(ORIGIN)?.as_bytes()).into_owned();
    // The host (and port) the request reached, as the browser named it;
    // the scheme is left out, since a TLS proxy in front turns https into
    // http on the way here.
    let info = req.connection_info();
    let own = info.host();
    let authority = origin.split_once("://").map_or("", |(_, rest)| rest);
    (!authority.eq_ignore_ascii_case(own))
        .then(|| format!("Origin {origin} is not this service ({own})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ADMIN: &str = "admin-token-0123456789";
    const READ: &str = "read-token-0123456789";

    #[test]
    fn each_token_has_its_role_and_others_have_none() {
        let tokens = Tokens::new(
            Some(&format!("{ADMIN}, other-admin-0123456789")),
            Some(READ),
        )
        .unwrap();
        assert!(tokens.configured());
        assert_eq!(tokens.role(ADMIN), Some(Role::Admin));
        assert_eq!(tokens.role("other-admin-0123456789"), Some(Role::Admin));
        assert_eq!(tokens.role(READ), Some(Role::Read));
        assert_eq!(tokens.role("read-token-012345678"), None);
        assert_eq!(tokens.role(""), None);
        assert!(!Tokens::new(None, Some(" , ")).unwrap().configured());
    }

    #[test]
    fn short_or_unprintable_tokens_refuse_to_start_without_showing_them() {
        let e = Tokens::new(Some("short"), None).unwrap_err();
        assert!(matches!(e, TokenError::TooShort { len: 5, .. }));
        assert!(!e.to_string().contains("short"));
        let e = Tokens::new(None, Some("has a space in it, yes")).unwrap_err();
        assert!(matches!(e, TokenError::Unprintable { .. }));
    }

    #[test]
    fn tokens_never_show_in_debug_output() {
        let tokens = Tokens::new(Some(ADMIN), Some(READ)).unwrap();
        let shown = format!("{tokens:?}");
        assert!(!shown.contains("token-0123"), "{shown}");
    }

    #[test]
    fn loopback_binds_are_told_from_the_others() {
        assert!(loopback_only("127.0.0.1:8080").unwrap());
        assert!(loopback_only("[::1]:8080").unwrap());
        assert!(loopback_only("localhost:8080").unwrap());
        assert!(!loopback_only("0.0.0.0:8080").unwrap());
        assert!(!loopback_only("[::]:8080").unwrap());
        assert!(!loopback_only("10.1.2.3:8080").unwrap());
    }
}
