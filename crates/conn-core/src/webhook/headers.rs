//! Reading the headers a verifier needs: presence, timestamps, ids, prefixes, and signature
//! values in hex or base64. Errors name the header and never quote a signature.

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;
use http::{HeaderMap, HeaderName, HeaderValue};

use super::{WebhookError, MAX_ID_LEN};

/// Base64 as senders write it: standard alphabet, padding optional.
const BASE64_LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

pub(super) fn required<'h>(
    headers: &'h HeaderMap,
    name: &HeaderName,
) -> Result<&'h HeaderValue, WebhookError> {
    headers
        .get(name)
        .ok_or_else(|| WebhookError::MissingHeader {
            header: name.to_string(),
        })
}

pub(super) fn malformed(name: &HeaderName, reason: impl Into<String>) -> WebhookError {
    WebhookError::MalformedHeader {
        header: name.to_string(),
        reason: reason.into(),
    }
}

/// The timestamp as sent (trimmed, for a signed payload) and its value.
pub(super) fn read_timestamp<'h>(
    headers: &'h HeaderMap,
    name: &HeaderName,
) -> Result<(&'h str, i64), WebhookError> {
    let raw = required(headers, name)?
        .to_str()
        .map(str::trim)
        .map_err(|_| malformed(name, "expected an integer of seconds since the Unix epoch"))?;
    let ts = raw
        .parse::<i64>()
        .map_err(|_| malformed(name, "expected an integer of seconds since the Unix epoch"))?;
    Ok((raw, ts))
}

pub(super) fn read_id<'h>(
    headers: &'h HeaderMap,
    name: &HeaderName,
) -> Result<&'h str, WebhookError> {
    let id = required(headers, name)?
        .to_str()
        .map(str::trim)
        .map_err(|_| malformed(name, "the id is not visible ASCII"))?;
    if id.is_empty() {
        return Err(malformed(name, "the id is empty"));
    }
    if id.len() > MAX_ID_LEN {
        return Err(malformed(
            name,
            format!("the id is longer than {MAX_ID_LEN} bytes"),
        ));
    }
    Ok(id)
}

pub(super) fn strip_prefix<'a>(
    value: &'a [u8],
    prefix: Option<&str>,
    name: &HeaderName,
) -> Result<&'a [u8], WebhookError> {
    let value = value.trim_ascii();
    let Some(prefix) = prefix else {
        return Ok(value);
    };
    match value.split_at_checked(prefix.len()) {
        Some((head, rest)) if head.eq_ignore_ascii_case(prefix.as_bytes()) => Ok(rest),
        _ => Err(malformed(name, format!("expected the prefix `{prefix}`"))),
    }
}

/// Hex digit values, `0xFF` for anything else.
const HEX_VALUE: [u8; 256] = {
    let mut table = [0xFF_u8; 256];
    let mut i = 0;
    while i < 10 {
        table[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        table[b'a' as usize + i] = 10 + i as u8;
        table[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    table
};

/// Decodes hex of either case into a fixed array, without allocating or branching per digit (a
/// signature is decoded on every message; this is a few times faster than `hex::decode_to_slice`).
/// The reason never quotes the value.
pub(super) fn decode_hex<const N: usize>(
    value: &[u8],
    name: &HeaderName,
) -> Result<[u8; N], WebhookError> {
    let value = value.trim_ascii();
    if value.len() != N * 2 {
        return Err(malformed(
            name,
            format!("expected {} hex digits, got {}", N * 2, value.len()),
        ));
    }
    let mut out = [0u8; N];
    let mut invalid = 0u8;
    for (byte, pair) in out.iter_mut().zip(value.chunks_exact(2)) {
        let hi = HEX_VALUE[usize::from(pair[0])];
        let lo = HEX_VALUE[usize::from(pair[1])];
        invalid |= hi | lo;
        *byte = (hi << 4) | (lo & 0x0F);
    }
    if invalid & 0xF0 != 0 {
        let index = value
            .iter()
            .position(|b| HEX_VALUE[usize::from(*b)] == 0xFF)
            .unwrap_or(0);
        return Err(malformed(
            name,
            format!("not hex (invalid character at position {index})"),
        ));
    }
    Ok(out)
}

/// Decodes base64 (padding optional) into a fixed array (no allocation).
pub(super) fn decode_base64<const N: usize>(
    value: &[u8],
    name: &HeaderName,
) -> Result<[u8; N], WebhookError> {
    let value = value.trim_ascii();
    // Room for any base64 of N bytes; longer input fails as too large below.
    let mut buf = [0u8; 64];
    let len = BASE64_LENIENT
        .decode_slice(value, &mut buf)
        .map_err(|_| malformed(name, format!("expected base64 of {N} bytes")))?;
    if len != N {
        return Err(malformed(
            name,
            format!("expected base64 of {N} bytes, got {len}"),
        ));
    }
    let mut out = [0u8; N];
    out.copy_from_slice(&buf[..N]);
    Ok(out)
}
