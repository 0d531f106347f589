//! iFinD's response envelope: `{"errorcode": 0, "errmsg": "", ...}`, and what each error code
//! means to a client.
//!
//! | codes | meaning | [`ApiErrorKind`] | retried |
//! |---|---|---|---|
//! | -1010, -1300, -1301 | refresh token invalid/expired, token missing | `ReauthRequired` | no: a user must set a new `THS_REFRESH_TOKEN` |
//! | -1302 | access token expired | `TokenExpired` | fetch a token once, replay once |
//! | -1303 | access token used from more than 20 IPs | `PermissionDenied` | no |
//! | -1305 | daily token-fetch limit reached | `QuotaExceeded` | no |
//! | -1202, -4203..=-4206, -4210, -4211 | bad parameter, bad code | `InvalidRequest` | no |
//! | -4301..=-4322 | data quota used up | `QuotaExceeded` | no |
//! | -4400 | more than 600 requests a minute | `RateLimited` | yes, any operation |
//! | -4103 | account locked after too many timeouts | `PermissionDenied` | no |
//! | -1000..=-1002, -4102, -5001..=-5010 | server error | `ServerError` | reads only |
//! | anything else | | `Other` | no |
//!
//! The code is kept as text (`"-1302"`) in [`ApiError::code`] and `errmsg` in
//! [`ApiError::message`]; [`describe`] gives an English line for known codes, added as detail.

use conn_core::error::{ApiError, ApiErrorKind};
use conn_core::lenient::LooseI64;
use conn_core::transport::{EnvelopeDecoder, ResponseParts};
use conn_core::Error;
use serde::de::{self, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;

use crate::PLATFORM;

/// Access token expired: fetch once, replay once.
pub const TOKEN_EXPIRED: i64 = -1302;
/// Too many requests per minute.
pub const RATE_LIMITED: i64 = -4400;

/// What an iFinD error code means to a client (see the module table).
///
/// ```
/// use conn_ths::envelope::kind_of;
/// use conn_core::error::ApiErrorKind;
/// assert_eq!(kind_of(-1302), ApiErrorKind::TokenExpired);
/// assert_eq!(kind_of(-4400), ApiErrorKind::RateLimited);
/// assert_eq!(kind_of(-4310), ApiErrorKind::QuotaExceeded);
/// ```
pub fn kind_of(code: i64) -> ApiErrorKind {
    match code {
        -1010 | -1300 | -1301 => ApiErrorKind::ReauthRequired,
        -1302 => ApiErrorKind::TokenExpired,
        -1303 | -4103 => ApiErrorKind::PermissionDenied,
        -1305 | -4322..=-4301 => ApiErrorKind::QuotaExceeded,
        -1202 | -4206..=-4203 | -4210 | -4211 => ApiErrorKind::InvalidRequest,
        -4400 => ApiErrorKind::RateLimited,
        -1002..=-1000 | -4102 | -5010..=-5001 => ApiErrorKind::ServerError,
        _ => ApiErrorKind::Other,
    }
}

/// An English description of a known code.
pub fn describe(code: i64) -> Option<&'static str> {
    Some(match code {
        -1010 => "token invalid: the iFinD account was logged out or the token revoked",
        -1300 => "token missing or invalid",
        -1301 => "refresh_token invalid or expired: copy a new one from the iFinD client into THS_REFRESH_TOKEN",
        -1302 => "access_token expired",
        -1303 => "access_token used from more than 20 IP addresses",
        -1305 => "daily limit of access-token fetches reached",
        -1202 => "parameter error",
        -4206..=-4203 => "invalid security code",
        -4210 => "invalid parameter value",
        -4211 => "invalid indicator or parameter",
        -4322..=-4301 => "data quota used up",
        -4400 => "more than 600 requests per minute",
        -4103 => "account locked after too many timeouts",
        -1002..=-1000 => "iFinD server error",
        -4102 => "iFinD server timeout",
        -5010..=-5001 => "iFinD server error",
        _ => return None,
    })
}

/// Builds the typed error for a code and message.
pub fn api_error(code: i64, message: &str) -> ApiError {
    let mut e = ApiError::new(PLATFORM, code.to_string(), message, kind_of(code));
    if let Some(d) = describe(code) {
        if !message.contains(d) {
            e = e.with_detail(d);
        }
    }
    e
}

/// The envelope decoder installed in the transport.
#[derive(Debug, Clone, Copy, Default)]
pub struct IfindEnvelope;

impl EnvelopeDecoder for IfindEnvelope {
    fn decode_error(&self, r: &ResponseParts<'_>) -> Option<Error> {
        let (code, msg) = read_envelope(r.body)?;
        if code == 0 {
            return None;
        }
        let mut e = api_error(code, &msg);
        if !r.status.is_success() {
            e = e.with_status(r.status);
        }
        Some(e.into())
    }
}

/// The `errorcode` and `errmsg` of a body, or `None` when the body is not an iFinD envelope.
///
/// Every response passes through here, large histories included, so the common case is cheap:
/// when `errorcode` is the first key (as iFinD writes it) and is 0, only those bytes are read.
pub fn read_envelope(body: &[u8]) -> Option<(i64, String)> {
    match first_key_code(body) {
        Some(0) => Some((0, String::new())),
        _ => full_envelope(body),
    }
}

fn first_key_code(body: &[u8]) -> Option<i64> {
    let rest = skip_ws(body).strip_prefix(b"{")?;
    let rest = skip_ws(rest).strip_prefix(b"\"errorcode\"")?;
    let rest = skip_ws(skip_ws(rest).strip_prefix(b":")?);
    let rest = rest.strip_prefix(b"\"").unwrap_or(rest);
    let (neg, rest) = match rest.strip_prefix(b"-") {
        Some(r) => (true, r),
        None => (false, rest),
    };
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 || digits > 12 {
        return None;
    }
    let after = rest.get(digits).copied();
    // A fraction or exponent is not a code we understand; let the full parse decide.
    if matches!(after, Some(b'.' | b'e' | b'E')) {
        return None;
    }
    let n: i64 = std::str::from_utf8(&rest[..digits]).ok()?.parse().ok()?;
    Some(if neg { -n } else { n })
}

fn skip_ws(b: &[u8]) -> &[u8] {
    let n = b.iter().take_while(|c| c.is_ascii_whitespace()).count();
    &b[n..]
}

/// Like [`read_envelope`] but always parses the whole body, so `errmsg` of a success is kept.
pub fn read_envelope_full(body: &[u8]) -> Option<(i64, String)> {
    full_envelope(body)
}

fn full_envelope(body: &[u8]) -> Option<(i64, String)> {
    let env: Envelope = serde_json::from_slice(body).ok()?;
    Some((env.code?, env.msg.unwrap_or_default()))
}

struct Envelope {
    code: Option<i64>,
    msg: Option<String>,
}

impl<'de> Deserialize<'de> for Envelope {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Envelope;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an iFinD response object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Envelope, A::Error> {
                let mut env = Envelope {
                    code: None,
                    msg: None,
                };
                while let Some(k) = m.next_key::<KeyName>()? {
                    match k {
                        KeyName::Code => env.code = m.next_value::<LooseI64>()?.0,
                        KeyName::Msg => env.msg = m.next_value::<Option<String>>()?,
                        KeyName::Other => {
                            m.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(env)
            }
        }
        d.deserialize_map(V)
    }
}

enum KeyName {
    Code,
    Msg,
    Other,
}

impl<'de> Deserialize<'de> for KeyName {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = KeyName;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a key")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<KeyName, E> {
                Ok(match v {
                    "errorcode" => KeyName::Code,
                    "errmsg" => KeyName::Msg,
                    _ => KeyName::Other,
                })
            }
        }
        d.deserialize_identifier(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_path_and_full_parse_agree() {
        for (body, want) in [
            (
                &br#"{"errorcode":0,"errmsg":"Success!","tables":[]}"#[..],
                Some((0, "")),
            ),
            (
                br#" { "errorcode" : -1302 , "errmsg":"token expired"}"#,
                Some((-1302, "token expired")),
            ),
            (
                br#"{"tables":[],"errmsg":"x","errorcode":"-4400"}"#,
                Some((-4400, "x")),
            ),
            (br#"{"errorcode":"0"}"#, Some((0, ""))),
            (br#"<html>502</html>"#, None),
            (br#"{"data":1}"#, None),
        ] {
            let got = read_envelope(body);
            assert_eq!(
                got.as_ref().map(|(c, m)| (*c, m.as_str())),
                want,
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn every_listed_code_has_a_kind_and_description() {
        let mut codes = vec![
            -1010, -1300, -1301, -1302, -1303, -1305, -1202, -4210, -4211,
        ];
        codes.extend(-4206..=-4203);
        codes.extend(-4322..=-4301);
        codes.extend([-4400, -4103, -1000, -1001, -1002, -4102]);
        codes.extend(-5010..=-5001);
        for c in codes {
            assert_ne!(kind_of(c), ApiErrorKind::Other, "{c}");
            assert!(describe(c).is_some(), "{c}");
        }
        assert_eq!(kind_of(-9999), ApiErrorKind::Other);
        assert_eq!(describe(-9999), None);
    }
}
