//! [`Money`]: an exact decimal amount, read from JSON strings or numbers.

use std::fmt;
use std::iter::Sum;
use std::ops::{Add, Sub};
use std::str::FromStr;

use conn_core::{Error, Result};
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A money amount: an exact decimal.
///
/// ```
/// use conn_erp::Money;
/// let a: Money = serde_json::from_str("\"0.1\"").unwrap();
/// let b: Money = serde_json::from_str("0.2").unwrap();
/// assert_eq!((a + b).to_string(), "0.3");
/// assert_eq!(serde_json::to_string(&(a + b)).unwrap(), "\"0.3\"");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Money(Decimal);

impl Money {
    /// Zero.
    pub const ZERO: Money = Money(Decimal::ZERO);

    /// Wraps a decimal.
    pub fn new(amount: Decimal) -> Self {
        Self(amount)
    }

    /// Parses a decimal string (`"12.30"`, `"-5"`, `"1e3"`); a bad one is a validation error
    /// naming `field`.
    pub fn parse(field: &str, s: &str) -> Result<Self> {
        conn_core::lenient::parse_decimal(s)
            .map(Self)
            .ok_or_else(|| Error::validation(field, format!("not a decimal amount: {s:?}")))
    }

    /// The amount.
    pub fn amount(&self) -> Decimal {
        self.0
    }

    /// True when below zero.
    pub fn is_negative(&self) -> bool {
        self.0.is_sign_negative() && !self.0.is_zero()
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl FromStr for Money {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::parse("amount", s)
    }
}

impl From<Decimal> for Money {
    fn from(d: Decimal) -> Self {
        Self(d)
    }
}

impl Add for Money {
    type Output = Money;
    fn add(self, rhs: Money) -> Money {
        Money(self.0 + rhs.0)
    }
}

impl Sub for Money {
    type Output = Money;
    fn sub(self, rhs: Money) -> Money {
        Money(self.0 - rhs.0)
    }
}

impl Sum for Money {
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        iter.fold(Money::ZERO, |a, b| a + b)
    }
}

impl<'a> Sum<&'a Money> for Money {
    fn sum<I: Iterator<Item = &'a Money>>(iter: I) -> Money {
        iter.fold(Money::ZERO, |a, b| a + *b)
    }
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.0.to_string())
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        conn_core::lenient::decimal(d).map(Money)
    }
}

pub(super) fn ser_decimal<S: Serializer>(
    d: &Decimal,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    s.collect_str(d)
}
