//! The error table, the envelope readers and the transport decoder of iFinD answers; the
//! public view is [`crate::envelope`] (functions and constants) and the crate root (types).

use conn_core::error::{ApiError, ApiErrorKind};
use conn_core::lenient::LooseI64;
use conn_core::transport::{EnvelopeDecoder, ResponseParts};
use conn_core::Error;
use serde::de::{self, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::PLATFORM;

/// Access token expired: fetch once, replay once.
pub const TOKEN_EXPIRED: i64 = -1302;
/// Token invalidated (the account logged out elsewhere): fetch once, replay once.
pub const TOKEN_INVALIDATED: i64 = -1010;
/// Too many requests per minute.
pub const RATE_LIMITED: i64 = -4400;
/// No data: an empty result.
pub const NO_DATA: i64 = -4001;
/// No trading day in the range: an empty result.
pub const NO_TRADING_DAY: i64 = -4211;

/// Which limit a limit code names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// Too many values in one command (the number is the limit).
    CommandSize(&'static str),
    /// The date range of one command is too wide.
    DateRange(&'static str),
    /// A trial account sees only a window of history.
    TrialWindow(&'static str),
    /// A weekly or monthly usage quota is used up.
    Quota(&'static str),
}

impl Limit {
    /// The limit, in words.
    pub fn describe(self) -> &'static str {
        match self {
            Limit::CommandSize(s)
            | Limit::DateRange(s)
            | Limit::TrialWindow(s)
            | Limit::Quota(s) => s,
        }
    }
}

/// What a client does about a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Fetch a new access token once and replay once.
    ReplayWithNewToken,
    /// The refresh token is dead: a user must set a new one.
    Reconfigure,
    /// Not an error: the answer is an empty result.
    EmptyResult,
    /// The request is wrong: a validation error, never retried.
    Validation,
    /// A limit was hit: never retried; the request (or the account) must change.
    Limit(Limit),
    /// The account lacks a permission.
    Permission,
    /// Too fast: slow the account's limiter, then retry.
    SlowDown,
    /// A server-side failure: retry later (reads only; `busy` for any operation).
    RetryLater,
    /// Stop: retrying makes it worse.
    Stop,
}

/// One row of the manual's error table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeInfo {
    /// The code.
    pub code: i64,
    /// What it means, in English.
    pub meaning: &'static str,
    /// What a client does.
    pub action: Action,
}

const fn row(code: i64, meaning: &'static str, action: Action) -> CodeInfo {
    CodeInfo {
        code,
        meaning,
        action,
    }
}

use Action::{
    EmptyResult, Permission, Reconfigure, ReplayWithNewToken, RetryLater, SlowDown, Stop,
    Validation,
};
use Limit::{CommandSize, DateRange, Quota, TrialWindow};

/// Every code of the manual's error table (v2.1), with its action.
pub const ERROR_TABLE: &[CodeInfo] = &[
    row(-1010, "token invalidated (account logged out)", ReplayWithNewToken),
    row(-1000, "data server error", RetryLater),
    row(-1001, "gateway server error", RetryLater),
    row(-1002, "server timeout", RetryLater),
    row(-1003, "access_token header is empty", Validation),
    row(-1004, "a required value is empty", Validation),
    row(-1005, "user verification failed", Permission),
    row(-1201, "query failed; change the input", Validation),
    row(-1202, "parameter error", Validation),
    row(-1203, "request parsing failed", Validation),
    row(-1300, "token invalid (not a legal user)", Reconfigure),
    row(-1301, "refresh_token invalid or expired: copy a new one from the iFinD client into THS_REFRESH_TOKEN", Reconfigure),
    row(-1302, "access_token expired or invalid", ReplayWithNewToken),
    row(-1303, "access_token bound to more than 20 IP addresses", Permission),
    row(-1305, "daily limit of token fetches reached", Stop),
    row(-4001, "no data", EmptyResult),
    row(-4100, "not logged in to iFinD", Reconfigure),
    row(-4101, "database execution error", RetryLater),
    row(-4102, "server request timeout", RetryLater),
    row(-4103, "account locked after too many timed-out requests; contact iFinD sales", Stop),
    row(-4201, "data server returned a wrong value", RetryLater),
    row(-4203, "request format is wrong", Validation),
    row(-4204, "wrong time format", Validation),
    row(-4205, "start time after end time", Validation),
    row(-4206, "a security code is wrong", Validation),
    row(-4207, "bonds of this market (interbank) are not supported", Validation),
    row(-4208, "only SSE, SZSE and CFFEX securities are supported here", Validation),
    row(-4209, "a snapshot's start and end dates must be the same day", Validation),
    row(-4210, "input parameter error", Validation),
    row(-4211, "no trading day in the date range", EmptyResult),
    row(-4212, "the end date is before the securities' listing dates", Validation),
    row(-4213, "start date after end date", Validation),
    row(-4230, "no permission for real-time US quotes", Permission),
    row(-4301, "weekly basic-data quota used up", Action::Limit(Quota("basic data: 5,000,000 values a week"))),
    row(-4302, "weekly quote-data quota used up", Action::Limit(Quota("quote data: 150,000,000 values a week"))),
    row(-4303, "weekly EDB quota used up", Action::Limit(Quota("EDB data: 5,000,000 values a week"))),
    row(-4304, "too many values for one high-frequency command", Action::Limit(CommandSize("high_frequency: 2,000,000 values per command"))),
    row(-4305, "too many values for one basic-data command", Action::Limit(CommandSize("basic_data_service: 200,000 values per command"))),
    row(-4306, "too many values for one snapshot command", Action::Limit(CommandSize("snap_shot: 2,000,000 values per command"))),
    row(-4307, "data extraction over its limit", Action::Limit(Quota("data extraction limit of the account"))),
    row(-4308, "date range wider than one month", Action::Limit(DateRange("1 month between startdate and enddate"))),
    row(-4309, "trial account: 1 year of data", Action::Limit(TrialWindow("trial account: 1 year of history"))),
    row(-4310, "trial account: 1 month of data", Action::Limit(TrialWindow("trial account: 1 month of history"))),
    row(-4311, "trial account: 5 years of data", Action::Limit(TrialWindow("trial account: 5 years of history"))),
    row(-4312, "too many values for one history command", Action::Limit(CommandSize("cmd_history_quotation: 2,000,000 values per command"))),
    row(-4313, "date range wider than 3 years", Action::Limit(DateRange("3 years between startdate and enddate"))),
    row(-4314, "date range wider than 6 months", Action::Limit(DateRange("6 months between startdate and enddate"))),
    row(-4315, "date range wider than 3 months", Action::Limit(DateRange("3 months between startdate and enddate"))),
    row(-4316, "date range wider than 1 year", Action::Limit(DateRange("1 year between startdate and enddate"))),
    row(-4317, "weekly data quota used up", Action::Limit(Quota("10,000 values a week"))),
    row(-4318, "monthly data quota used up", Action::Limit(Quota("the account's monthly usage"))),
    row(-4319, "free account: too many values for one command", Action::Limit(CommandSize("free account: 50,000 values per command"))),
    row(-4320, "the account must use its own client type", Permission),
    row(-4321, "free account: too many values for one command", Action::Limit(CommandSize("free account: 100,000 values per command"))),
    row(-4322, "free account: too many values for one command", Action::Limit(CommandSize("free account: 10,000 values per command"))),
    row(-4400, "more than 600 requests per minute", SlowDown),
    row(-5000, "unreasonable expected dividend growth rate", Validation),
    row(-5001, "data server parameter error", Validation),
    row(-5002, "data server busy", RetryLater),
    row(-5003, "stock-box selection calculation not supported", Validation),
    row(-5004, "data process waiting timeout", RetryLater),
    row(-5005, "data calculation error", RetryLater),
    row(-5006, "data process query failed", RetryLater),
    row(-5007, "waiting for calculation", RetryLater),
    row(-5008, "still calculating", RetryLater),
    row(-5009, "the previous request must complete first", RetryLater),
    row(-5010, "only one code per request", Validation),
    row(-5100, "account type not supported", Permission),
    row(-5101, "this month's data volume is unused; nothing to clear", Validation),
    row(-5102, "maximum number of usage clears exceeded", Action::Limit(Quota("usage clears of the account"))),
    row(-5103, "the account may not run outside its bound machine", Permission),
    row(-5104, "this machine is already bound", Permission),
];

/// The table row of a code.
pub fn info(code: i64) -> Option<&'static CodeInfo> {
    ERROR_TABLE.iter().find(|r| r.code == code)
}

/// What a client does about a code (`None` for codes outside the manual's table).
pub fn action_of(code: i64) -> Option<Action> {
    info(code).map(|r| r.action)
}

/// The limit a code names, if it is a limit code.
pub fn limit_of(code: i64) -> Option<Limit> {
    match action_of(code)? {
        Action::Limit(l) => Some(l),
        _ => None,
    }
}

/// What an iFinD error code means to a client (see the module table).
///
/// ```
/// use conn_ths::envelope::kind_of;
/// use conn_core::error::ApiErrorKind;
/// assert_eq!(kind_of(-1302), ApiErrorKind::TokenExpired);
/// assert_eq!(kind_of(-1010), ApiErrorKind::TokenExpired);
/// assert_eq!(kind_of(-4400), ApiErrorKind::RateLimited);
/// assert_eq!(kind_of(-4310), ApiErrorKind::QuotaExceeded);
/// assert_eq!(kind_of(-4301), ApiErrorKind::QuotaExceeded);
/// assert_eq!(kind_of(-5001), ApiErrorKind::InvalidRequest);
/// ```
pub fn kind_of(code: i64) -> ApiErrorKind {
    match (code, action_of(code)) {
        (-5002, _) => ApiErrorKind::Busy,
        (-1305, _) => ApiErrorKind::QuotaExceeded,
        (_, Some(ReplayWithNewToken)) => ApiErrorKind::TokenExpired,
        (_, Some(Reconfigure)) => ApiErrorKind::ReauthRequired,
        (_, Some(Validation | EmptyResult)) => ApiErrorKind::InvalidRequest,
        (_, Some(Action::Limit(Quota(_) | TrialWindow(_)))) => ApiErrorKind::QuotaExceeded,
        (_, Some(Action::Limit(_))) => ApiErrorKind::InvalidRequest,
        (_, Some(Permission | Stop)) => ApiErrorKind::PermissionDenied,
        (_, Some(SlowDown)) => ApiErrorKind::RateLimited,
        (_, Some(RetryLater)) => ApiErrorKind::ServerError,
        (_, None) => ApiErrorKind::Other,
    }
}

/// An English description of a known code (with the limit, for limit codes).
pub fn describe(code: i64) -> Option<&'static str> {
    let r = info(code)?;
    Some(match r.action {
        Action::Limit(l) => l.describe(),
        _ => r.meaning,
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

/// The envelope decoder installed in the transport. It lets -4001 and -4211 through as
/// successes (empty results) and raises [`RateSignal`] on -4400 so the limiter slows down.
#[derive(Debug, Clone, Default)]
pub struct IfindEnvelope {
    signal: RateSignal,
}

impl IfindEnvelope {
    /// A decoder raising `signal` on every -4400.
    pub fn with_signal(signal: RateSignal) -> Self {
        Self { signal }
    }
}

/// Set by the envelope decoder when the server answered -4400; taken by the limiter hook
/// before the next attempt, which then penalizes the account's limiter. (The decoder runs
/// synchronously inside the transport, the limiter is async: this flag joins them.)
#[derive(Debug, Clone, Default)]
pub struct RateSignal(Arc<AtomicBool>);

impl RateSignal {
    /// Raises the signal.
    pub fn raise(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Takes the signal: true once per raise.
    pub fn take(&self) -> bool {
        self.0.swap(false, Ordering::SeqCst)
    }
}

impl EnvelopeDecoder for IfindEnvelope {
    fn decode_error(&self, r: &ResponseParts<'_>) -> Option<Error> {
        let (code, msg) = read_envelope(r.body)?;
        if code == 0 || action_of(code) == Some(Action::EmptyResult) {
            return None;
        }
        if code == RATE_LIMITED {
            self.signal.raise();
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
    fn every_code_of_the_table_has_a_kind_and_description() {
        for r in ERROR_TABLE {
            assert!(describe(r.code).is_some(), "{}", r.code);
            if r.action != Action::EmptyResult {
                assert_ne!(kind_of(r.code), ApiErrorKind::Other, "{}", r.code);
            }
        }
        let mut codes: Vec<i64> = ERROR_TABLE.iter().map(|r| r.code).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), ERROR_TABLE.len(), "a code is listed twice");
        assert_eq!(kind_of(-9999), ApiErrorKind::Other);
        assert_eq!(describe(-9999), None);
        assert_eq!(
            limit_of(-4304),
            Some(Limit::CommandSize(
                "high_frequency: 2,000,000 values per command"
            ))
        );
        assert_eq!(action_of(-4211), Some(Action::EmptyResult));
    }
}
