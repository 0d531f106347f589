//! Bounded, redacted body excerpts and JSON decoding that keeps the failing path: every
//! excerpt an error holds, and every decode error, come from here.

use std::borrow::Cow;

use super::{DecodeError, Error, Result};

/// The most bytes of a body quoted in an error.
pub const EXCERPT_LIMIT: usize = 512;

/// A bounded, lossy UTF-8 excerpt of a body, cut on a character boundary, with the values of
/// secret keys masked ([`crate::redact::redact`]): every excerpt an error keeps comes from here.
///
/// ```
/// let e = conn_core::error::excerpt(br#"{"data":{"access_token":"act.SECRET","error_code":0}}"#);
/// assert_eq!(e, r#"{"data":{"access_token":"[redacted]","error_code":0}}"#);
/// ```
pub fn excerpt(body: &[u8]) -> String {
    // Cut first, then redact: a cut inside a secret value leaves the rest of the value out, and
    // the part kept is masked up to the end.
    let cut = body.len().min(EXCERPT_LIMIT);
    let mut s = String::from_utf8_lossy(&body[..cut]).into_owned();
    let cut_short = body.len() > cut;
    if cut_short && s.ends_with('\u{FFFD}') {
        // from_utf8_lossy may end in a replacement char when we cut inside a character.
        s.pop();
    }
    let mut s = crate::redact::redact(&s);
    if cut_short {
        s.push('…');
    }
    s
}

/// Decodes JSON into `T`, keeping the failing path and a redacted body excerpt. serde's message
/// is kept with its quoted values masked ([`crate::redact::mask_quoted`]).
pub fn decode_json<T: serde::de::DeserializeOwned>(
    platform: impl Into<Cow<'static, str>>,
    operation: impl Into<Cow<'static, str>>,
    body: &[u8],
) -> Result<T> {
    decode_json_as(platform, operation, body, true)
}

/// [`decode_json`] for a body that holds secrets (a token endpoint's answer): on failure the
/// error keeps the path and serde's masked message, and no part of the body.
///
/// ```
/// #[derive(Debug, serde::Deserialize)]
/// struct Tok { #[allow(dead_code)] expires_in: u64 }
/// let err = conn_core::error::decode_json_secret::<Tok>("p", "token",
///     br#"{"access_token":"act.SECRET","expires_in":"act.SECRET"}"#).unwrap_err();
/// assert!(!format!("{err} {err:?}").contains("SECRET"));
/// assert!(err.to_string().contains("expires_in"));
/// ```
pub fn decode_json_secret<T: serde::de::DeserializeOwned>(
    platform: impl Into<Cow<'static, str>>,
    operation: impl Into<Cow<'static, str>>,
    body: &[u8],
) -> Result<T> {
    decode_json_as(platform, operation, body, false)
}

fn decode_json_as<T: serde::de::DeserializeOwned>(
    platform: impl Into<Cow<'static, str>>,
    operation: impl Into<Cow<'static, str>>,
    body: &[u8],
    keep_excerpt: bool,
) -> Result<T> {
    // Fast path: plain serde. Path tracking costs on every field, so it only runs again on
    // the (rare) failure, to say where decoding broke.
    if let Ok(v) = serde_json::from_slice(body) {
        return Ok(v);
    }
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        Error::from(DecodeError {
            platform: platform.into(),
            operation: operation.into(),
            path,
            excerpt: if keep_excerpt {
                excerpt(body)
            } else {
                String::new()
            },
            source: masked_serde_error(&e.into_inner()),
        })
    })
}

/// serde's error again, with the values it quotes masked. Its position stays in the message.
fn masked_serde_error(e: &serde_json::Error) -> serde_json::Error {
    <serde_json::Error as serde::de::Error>::custom(crate::redact::mask_quoted(&e.to_string()))
}
