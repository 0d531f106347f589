//! Security codes (`600519.SH`), checked for shape before any request.
//!
//! iFinD names a security `SYMBOL.MARKET`. The client checks only the shape, so every market
//! iFinD serves works, including ones added later; whether a code exists is the server's call
//! (it answers -4206, a typed validation error):
//!
//! - exactly one `.`;
//! - the symbol is 1–20 ASCII letters or digits (upper-cased on the wire): `600519`,
//!   `10004000` (an SSE option), `HSI`, `IF2406`, `AAPL`;
//! - the market is 1–4 ASCII letters (upper-cased): see [`MARKETS`] for the ones in use
//!   (`SH`, `SZ`, `BJ`, `OF`, `HK`, `SL` 申万 indexes, `CFE`, ...).

use std::fmt;
use std::str::FromStr;

use conn_core::{Error, Result};

/// Market suffixes iFinD uses, with what they are: documentation, not a gate (any 1–4 letter
/// suffix is accepted).
pub const MARKETS: &[(&str, &str)] = &[
    (
        "SH",
        "Shanghai Stock Exchange (stocks, bonds, funds, indexes)",
    ),
    (
        "SZ",
        "Shenzhen Stock Exchange (stocks, bonds, funds, indexes)",
    ),
    ("BJ", "Beijing Stock Exchange"),
    ("OF", "open-end funds"),
    ("HK", "Hong Kong Exchange (stocks, indexes)"),
    ("CFE", "China Financial Futures Exchange"),
    ("SHF", "Shanghai Futures Exchange"),
    ("INE", "Shanghai International Energy Exchange"),
    ("DCE", "Dalian Commodity Exchange"),
    ("CZC", "Zhengzhou Commodity Exchange"),
    ("GFE", "Guangzhou Futures Exchange"),
    ("SGE", "Shanghai Gold Exchange"),
    ("IB", "China interbank bond market"),
    ("CSI", "China Securities Index indexes"),
    ("CNI", "China National indexes"),
    ("SL", "Shenwan (申万) industry indexes, such as 801010.SL"),
    ("SI", "industry indexes"),
    ("TI", "Tonghuashun concept and industry indexes"),
    ("O", "NASDAQ"),
    ("N", "New York Stock Exchange"),
    ("A", "NYSE American"),
    ("GI", "global indexes"),
    ("FX", "foreign exchange"),
];

const MAX_SYMBOL: usize = 20;

/// A validated iFinD security code such as `600519.SH`.
///
/// ```
/// use conn_ths::SecurityCode;
/// let c: SecurityCode = "600519.sh".parse().unwrap();
/// assert_eq!(c.as_str(), "600519.SH");
/// assert_eq!(c.symbol(), "600519");
/// assert_eq!(c.market(), "SH");
/// assert!("600519".parse::<SecurityCode>().is_err()); // no market
/// assert!("801010.SL".parse::<SecurityCode>().is_ok()); // 申万 index
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SecurityCode {
    code: String,
    dot: usize,
}

impl fmt::Debug for SecurityCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecurityCode({})", self.code)
    }
}

impl fmt::Display for SecurityCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.code)
    }
}

impl FromStr for SecurityCode {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

impl serde::Serialize for SecurityCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.code)
    }
}

impl SecurityCode {
    /// Parses a code by its shape (one `.`, a symbol of 1–20 ASCII letters or digits, a market
    /// of 1–4 ASCII letters; see [`MARKETS`]); the error names the field `code`.
    pub fn parse(s: &str) -> Result<Self> {
        Self::parse_field(s, "code")
    }

    /// Like [`SecurityCode::parse`], with the field name used in the error (`codes[2]`).
    pub fn parse_field(s: &str, field: &str) -> Result<Self> {
        let (symbol, market) = split(s, field)?;
        Ok(Self::build(symbol, market))
    }

    fn build(symbol: String, market: String) -> Self {
        let dot = symbol.len();
        Self {
            code: format!("{symbol}.{market}"),
            dot,
        }
    }

    /// The code as sent (`600519.SH`).
    pub fn as_str(&self) -> &str {
        &self.code
    }

    /// The symbol (`600519`).
    pub fn symbol(&self) -> &str {
        &self.code[..self.dot]
    }

    /// The market suffix (`SH`).
    pub fn market(&self) -> &str {
        &self.code[self.dot + 1..]
    }
}

fn split(s: &str, field: &str) -> Result<(String, String)> {
    let t = s.trim();
    if t.is_empty() {
        return Err(Error::validation(
            field,
            "a security code is required (SYMBOL.MARKET such as 600519.SH)",
        ));
    }
    let mut parts = t.split('.');
    let (Some(symbol), Some(market), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(Error::validation(
            field,
            format!("expected SYMBOL.MARKET with one dot, such as 600519.SH, got {s:?}"),
        ));
    };
    if symbol.is_empty()
        || symbol.len() > MAX_SYMBOL
        || !symbol.bytes().all(|b| b.is_ascii_alphanumeric())
    {
        return Err(Error::validation(
            field,
            format!(
                "the symbol before the dot is 1-{MAX_SYMBOL} ASCII letters or digits, got {s:?}"
            ),
        ));
    }
    if market.is_empty() || market.len() > 4 || !market.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(Error::validation(
            field,
            format!("the market after the dot is 1-4 ASCII letters (SH, SZ, OF, ...), got {s:?}"),
        ));
    }
    Ok((symbol.to_ascii_uppercase(), market.to_ascii_uppercase()))
}

/// A non-empty list of security codes, sent comma-separated.
///
/// ```
/// use conn_ths::Codes;
/// let c = Codes::parse(["600519.SH", "000001.SZ"]).unwrap();
/// assert_eq!(c.joined(), "600519.SH,000001.SZ");
/// let err = Codes::parse(["600519.SH", "bad"]).unwrap_err();
/// assert!(err.to_string().contains("codes[1]"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Codes(Vec<SecurityCode>);

impl Codes {
    /// Parses every code (errors name `codes[i]`); an empty list is an error.
    pub fn parse<I, S>(codes: I) -> Result<Self>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut out = Vec::new();
        for (i, c) in codes.into_iter().enumerate() {
            out.push(SecurityCode::parse_field(
                c.as_ref(),
                &format!("codes[{i}]"),
            )?);
        }
        Self::new(out)
    }

    /// Parses a comma-separated list (`"600519.SH,000001.SZ"`), as a CLI receives it.
    pub fn parse_list(list: &str) -> Result<Self> {
        Self::parse(list.split(',').map(str::trim).filter(|s| !s.is_empty()))
    }

    /// Wraps already-validated codes; an empty list is an error.
    pub fn new(codes: Vec<SecurityCode>) -> Result<Self> {
        if codes.is_empty() {
            return Err(Error::validation("codes", "at least one security code"));
        }
        Ok(Self(codes))
    }

    /// The codes.
    pub fn as_slice(&self) -> &[SecurityCode] {
        &self.0
    }

    /// Comma-separated, as the API takes them.
    pub fn joined(&self) -> String {
        let parts: Vec<&str> = self.0.iter().map(SecurityCode::as_str).collect();
        parts.join(",")
    }
}

impl From<SecurityCode> for Codes {
    fn from(c: SecurityCode) -> Self {
        Self(vec![c])
    }
}

/// Anything that can become a validated [`Codes`]: `Codes`, a [`SecurityCode`], a
/// comma-separated `&str`, or an array/slice/`Vec` of strings.
pub trait IntoCodes {
    /// Validates and converts.
    fn into_codes(self) -> Result<Codes>;
}

impl IntoCodes for Codes {
    fn into_codes(self) -> Result<Codes> {
        Ok(self)
    }
}

impl IntoCodes for &Codes {
    fn into_codes(self) -> Result<Codes> {
        Ok(self.clone())
    }
}

impl IntoCodes for SecurityCode {
    fn into_codes(self) -> Result<Codes> {
        Ok(Codes::from(self))
    }
}

impl IntoCodes for &str {
    fn into_codes(self) -> Result<Codes> {
        Codes::parse_list(self)
    }
}

impl IntoCodes for &String {
    fn into_codes(self) -> Result<Codes> {
        Codes::parse_list(self)
    }
}

impl<S: AsRef<str>, const N: usize> IntoCodes for [S; N] {
    fn into_codes(self) -> Result<Codes> {
        Codes::parse(self)
    }
}

impl<S: AsRef<str>> IntoCodes for &[S] {
    fn into_codes(self) -> Result<Codes> {
        Codes::parse(self)
    }
}

impl<S: AsRef<str>> IntoCodes for Vec<S> {
    fn into_codes(self) -> Result<Codes> {
        Codes::parse(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted_codes() {
        for (input, wire) in [
            ("600519.SH", "600519.SH"),
            ("000001.sz", "000001.SZ"),
            ("000001.OF", "000001.OF"),
            ("430047.BJ", "430047.BJ"),
            ("801010.SL", "801010.SL"),
            ("10004000.SH", "10004000.SH"),
            ("00700.HK", "00700.HK"),
            ("HSI.HK", "HSI.HK"),
            ("IF2406.CFE", "IF2406.CFE"),
            ("cu2407.shf", "CU2407.SHF"),
            ("H30269.CSI", "H30269.CSI"),
            ("AAPL.O", "AAPL.O"),
            ("ABC.XYZ", "ABC.XYZ"),
            (" 885338.TI ", "885338.TI"),
        ] {
            let c = SecurityCode::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(c.as_str(), wire);
        }
    }

    #[test]
    fn rejected_shapes_name_the_rule() {
        for (input, needle) in [
            ("", "required"),
            ("600519", "one dot"),
            ("600519.SH.X", "one dot"),
            ("600 519.SH", "ASCII letters or digits"),
            ("600519.S1", "1-4 ASCII letters"),
            ("600519.SHSZX", "1-4 ASCII letters"),
            (".SH", "symbol"),
        ] {
            let e = SecurityCode::parse(input).unwrap_err();
            assert!(matches!(e, Error::Validation(_)), "{input}: {e:?}");
            assert!(e.to_string().contains(needle), "{input}: {e}");
        }
        assert!(Codes::parse(Vec::<&str>::new()).is_err());
    }
}
