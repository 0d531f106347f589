//! Redaction by structure: the one place that decides which parts of a response body may be
//! quoted in an error.
//!
//! Errors keep a bounded excerpt of a body they could not use ([`crate::error::excerpt`]), and
//! serde's messages quote the offending value. Both pass through this module, so an error's
//! `Display`, `Debug` and source chain never carry the value of a secret field, whatever the
//! body's shape: JSON at any depth, `application/x-www-form-urlencoded`, a query string, or
//! free text such as `access_token: …`. Token endpoints go further and keep no excerpt at all
//! ([`crate::transport::Request::secret_response`], [`crate::error::decode_json_secret`]).
//!
//! ## Which keys are secret
//! A key is split into words at `_`, `-`, `.` and lower→upper case changes (`accessToken` →
//! `access`, `token`), and is secret when one of its words is one of [`SECRET_WORDS`]:
//! `token`/`tokens`, `secret`, `password`/`passwd`/`pwd`, `sign`/`signature`/`sig`, `ticket`,
//! `key`, `credential(s)`, `cookie`, `authorization`, `session`, `jwt`. So `access_token`,
//! `refresh_token`, `client_token`, `client_secret`, `app_secret`, `user_password`, `sign`,
//! `signature`, `jsapi_ticket`, `api_key`, `appKey`, `private_key` are masked, and `error_code`,
//! `description`, `open_id`, `expires_in`, `log_id` are not.
//!
//! `code` (also `auth_code`, `authorization_code`) is masked **only when its value is not an
//! integer**: response envelopes use `code` for the platform's error code (`"code": 0`,
//! `"code": "-1302"`), the one thing an error must show, while an OAuth authorization code is
//! never a plain integer.
//!
//! ## What is masked
//! The value after `key:` or `key=` (the key optionally quoted): a string up to its closing
//! quote, an object or array up to its matching bracket, a bare value up to the next `&`, `,`,
//! `;`, quote, bracket or whitespace; in every case also up to the end of the text, so a body
//! cut in the middle of a secret stays masked. The mask is [`MASK`].
//!
//! ```
//! use conn_core::redact::redact;
//! assert_eq!(
//!     redact(r#"{"data":{"access_token":"act.123","expires_in":86400,"nested":{"client_secret":"s"}}}"#),
//!     r#"{"data":{"access_token":"[redacted]","expires_in":86400,"nested":{"client_secret":"[redacted]"}}}"#
//! );
//! assert_eq!(redact("grant_type=refresh_token&refresh_token=rft.9&client_key=k"),
//!            "grant_type=refresh_token&refresh_token=[redacted]&client_key=[redacted]");
//! assert_eq!(redact("error: access_token act.1 expired"), "error: access_token act.1 expired");
//! assert_eq!(redact("access_token: act.1 expired"), "access_token: [redacted] expired");
//! assert_eq!(redact(r#"{"refresh_token":"rft.cut-in-the-mid"#), r#"{"refresh_token":"[redacted]"#);
//! ```

/// What replaces a secret value.
pub const MASK: &str = "[redacted]";

/// Words that make a key secret (see the module docs).
pub const SECRET_WORDS: &[&str] = &[
    "token",
    "tokens",
    "secret",
    "secrets",
    "password",
    "passwd",
    "pwd",
    "sign",
    "signature",
    "sig",
    "ticket",
    "key",
    "credential",
    "credentials",
    "cookie",
    "authorization",
    "session",
    "jwt",
];

/// True when a key names a secret (see the module docs for the rule).
///
/// ```
/// use conn_core::redact::is_secret_key;
/// assert!(is_secret_key("access_token") && is_secret_key("appKey") && is_secret_key("SIGN"));
/// assert!(!is_secret_key("error_code") && !is_secret_key("open_id") && !is_secret_key("keyword"));
/// ```
pub fn is_secret_key(key: &str) -> bool {
    words(key).any(|w| SECRET_WORDS.iter().any(|s| w.eq_ignore_ascii_case(s)))
}

/// True when the value under `key` is a secret: its key names one ([`is_secret_key`]), or it
/// is an authorization `code` that is not a plain integer (envelopes use an integer `code` for
/// the platform's error code, the one thing an error must show).
///
/// ```
/// use conn_core::redact::is_secret_field;
/// assert!(is_secret_field("code", "0aB9xQ") && is_secret_field("refresh_token", "1"));
/// assert!(!is_secret_field("code", "40001") && !is_secret_field("open_id", "ou_1"));
/// ```
pub fn is_secret_field(key: &str, value: &str) -> bool {
    is_secret_key(key) || (is_code_key(key) && !is_integer(value))
}

/// The words of a key: split at `_ - .` and at lower→upper case changes.
fn words(key: &str) -> impl Iterator<Item = &str> {
    let b = key.as_bytes();
    let mut parts = Vec::new();
    let mut start = 0;
    for i in 0..b.len() {
        if matches!(b[i], b'_' | b'-' | b'.') {
            if start < i {
                parts.push((start, i));
            }
            start = i + 1;
        } else if i > start && b[i].is_ascii_uppercase() && b[i - 1].is_ascii_lowercase() {
            parts.push((start, i));
            start = i;
        }
    }
    if start < b.len() {
        parts.push((start, b.len()));
    }
    // The split points are ASCII bytes, so every range is on a char boundary.
    parts.into_iter().filter_map(move |(s, e)| key.get(s..e))
}

/// `code`, `auth_code`, `authorization_code` (any case and separator).
fn is_code_key(key: &str) -> bool {
    let w: Vec<&str> = words(key).collect();
    let is = |i: usize, s: &str| w.get(i).is_some_and(|x| x.eq_ignore_ascii_case(s));
    match w.len() {
        1 => is(0, "code"),
        2 => (is(0, "auth") || is(0, "authorization")) && is(1, "code"),
        _ => false,
    }
}

fn is_integer(v: &str) -> bool {
    let d = v.strip_prefix('-').unwrap_or(v);
    !d.is_empty() && d.bytes().all(|c| c.is_ascii_digit())
}

fn is_word_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.')
}

/// Masks the values of secret keys anywhere in `text` (see the module docs).
///
/// The output is at most `text.len() + MASK.len()` times the number of masked values, and
/// never longer than `text.len() + MASK.len() * (text.len() / 2 + 1)`.
pub fn redact(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    // `copied` is the end of what has been copied to `out`.
    let mut copied = 0;
    let mut i = 0;
    while i < b.len() {
        let at_word = is_word_byte(b[i]) && (i == 0 || !is_word_byte(b[i - 1]));
        if !at_word {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && is_word_byte(b[i]) {
            i += 1;
        }
        let key = &text[start..i];
        let code_key = is_code_key(key);
        if !code_key && !is_secret_key(key) {
            continue;
        }
        // After the key: an optional closing quote, spaces, then `:` or `=`.
        let mut j = i;
        if j < b.len() && matches!(b[j], b'"' | b'\'') {
            j += 1;
        }
        while j < b.len() && b[j] == b' ' {
            j += 1;
        }
        if j >= b.len() || !matches!(b[j], b':' | b'=') {
            continue;
        }
        j += 1;
        while j < b.len() && matches!(b[j], b' ' | b'\t') {
            j += 1;
        }
        if j >= b.len() {
            continue;
        }
        let (value_start, value_end, closing) = value_span(b, j);
        if value_start == value_end && closing.is_none() {
            continue;
        }
        if code_key && is_integer(&text[value_start..value_end]) {
            continue;
        }
        out.push_str(&text[copied..value_start]);
        out.push_str(MASK);
        if let Some(c) = closing {
            out.push(c);
        }
        copied = value_end + usize::from(closing.is_some());
        i = copied;
    }
    out.push_str(&text[copied..]);
    out
}

/// The span of the value starting at `j`: (first masked byte, end of the masked bytes, closing
/// delimiter kept after the mask).
fn value_span(b: &[u8], j: usize) -> (usize, usize, Option<char>) {
    match b[j] {
        q @ (b'"' | b'\'') => {
            let mut k = j + 1;
            while k < b.len() {
                if b[k] == b'\\' {
                    k += 2;
                    continue;
                }
                if b[k] == q {
                    return (j + 1, k, Some(char::from(q)));
                }
                k += 1;
            }
            (j + 1, b.len(), None)
        }
        open @ (b'{' | b'[') => {
            let close = if open == b'{' { b'}' } else { b']' };
            let mut depth = 0usize;
            let mut in_str = false;
            let mut k = j;
            while k < b.len() {
                let c = b[k];
                if in_str {
                    if c == b'\\' {
                        k += 2;
                        continue;
                    }
                    if c == b'"' {
                        in_str = false;
                    }
                } else if c == b'"' {
                    in_str = true;
                } else if c == open {
                    depth += 1;
                } else if c == close {
                    depth -= 1;
                    if depth == 0 {
                        return (j, k + 1, None);
                    }
                }
                k += 1;
            }
            (j, b.len(), None)
        }
        _ => {
            let mut k = j;
            while k < b.len()
                && !matches!(
                    b[k],
                    b'&' | b',' | b';' | b'"' | b'\'' | b'}' | b']' | b' ' | b'\t' | b'\r' | b'\n'
                )
            {
                k += 1;
            }
            (j, k, None)
        }
    }
}

/// Masks every double-quoted part of a message (serde quotes the offending *value* in double
/// quotes, `invalid type: string "act.…", expected u64`, and field names in backticks, which
/// are kept). A quote left open masks to the end.
///
/// ```
/// use conn_core::redact::mask_quoted;
/// assert_eq!(mask_quoted(r#"invalid type: string "act.1", expected u64"#),
///            r#"invalid type: string "[redacted]", expected u64"#);
/// assert_eq!(mask_quoted("missing field `access_token`"), "missing field `access_token`");
/// ```
pub fn mask_quoted(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut parts = message.split('"');
    if let Some(first) = parts.next() {
        out.push_str(first);
    }
    let mut inside = true;
    for part in parts {
        out.push('"');
        if inside {
            out.push_str(MASK);
        } else {
            out.push_str(part);
        }
        inside = !inside;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_at_any_depth_and_every_value_shape() {
        let body = r#"{"a":{"b":[{"refresh_token":"rft.1"}]},"token":12345,"sign":null,"secret_list":["x","y"],"cred":{"password":{"v":"p"}},"ok":"v"}"#;
        let r = redact(body);
        for s in ["rft.1", "12345", "\"x\"", "\"p\""] {
            assert!(!r.contains(s), "{s} in {r}");
        }
        assert!(r.contains(r#""ok":"v""#), "{r}");
        assert!(r.contains(r#""sign":[redacted]"#), "{r}");
    }

    #[test]
    fn escaped_quotes_do_not_end_a_secret() {
        let r = redact(r#"{"client_secret":"a\"b-SECRET","x":1}"#);
        assert!(!r.contains("SECRET"), "{r}");
        assert!(r.ends_with(r#""x":1}"#), "{r}");
    }

    #[test]
    fn form_query_and_text() {
        assert_eq!(
            redact("access_token=act.1&open_id=o"),
            "access_token=[redacted]&open_id=o"
        );
        assert_eq!(
            redact("https://h/p?client_token=clt.1&x=2"),
            "https://h/p?client_token=[redacted]&x=2"
        );
        assert_eq!(
            redact("Sign = ABC; next"),
            "Sign = [redacted]; next",
            "case and spaces"
        );
        assert_eq!(redact("appSecret: s3 more"), "appSecret: [redacted] more");
    }

    #[test]
    fn non_secret_keys_and_plain_text_are_kept() {
        let s = r#"{"error_code":10008,"description":"token expired","keyword":"k","open_id":"o"}"#;
        assert_eq!(redact(s), s);
        assert_eq!(redact(""), "");
        assert_eq!(redact("抖音 token"), "抖音 token");
    }

    #[test]
    fn words_split_camel_and_separators() {
        assert!(is_secret_key("refreshToken"));
        assert!(is_secret_key("X-Api-Key"));
        assert!(is_secret_key("jsapi_ticket"));
        assert!(!is_secret_key("monkey"));
        assert!(!is_secret_key("code"));
    }

    #[test]
    fn codes_are_kept_when_integers_and_masked_otherwise() {
        assert_eq!(
            redact(r#"{"code":0,"msg":"ok"}"#),
            r#"{"code":0,"msg":"ok"}"#
        );
        assert_eq!(redact(r#"{"code":"-1302"}"#), r#"{"code":"-1302"}"#);
        assert_eq!(
            redact("client_key=k&code=Ab9xYz&grant_type=authorization_code"),
            "client_key=[redacted]&code=[redacted]&grant_type=authorization_code"
        );
        assert_eq!(
            redact(r#"{"auth_code":"x1"}"#),
            r#"{"auth_code":"[redacted]"}"#
        );
        assert_eq!(
            redact(r#"{"error_code":"E_BAD"}"#),
            r#"{"error_code":"E_BAD"}"#
        );
    }
}
