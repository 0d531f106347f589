//! `functionpara`: the per-function options of the iFinD manual, as Rust enums.
//!
//! Each request type has typed setters for the options its function documents
//! ([`HistoryQuotation::adjust`](crate::HistoryQuotation::adjust) takes an [`Adjust`],
//! [`HighFrequency::adjust`](crate::HighFrequency::adjust) takes a [`HfAdjust`]: the two
//! functions spell `CPS` differently on the wire), so a value a function does not take cannot
//! be sent. [`FunctionPara`] is the bag they fill, and the escape hatch for options the manual
//! adds later ([`FunctionPara::raw`]).

use std::collections::BTreeMap;

use conn_core::{Error, Result};
use rust_decimal::Decimal;
use serde_json::Value;

use crate::params::check_name;

/// `functionpara`: options sent as a JSON object, in key order. Values are strings, except
/// `calculate` of `high_frequency` (a nested object).
///
/// ```
/// use conn_ths::FunctionPara;
/// let p = FunctionPara::new().raw("Currency", "RMB").unwrap();
/// assert_eq!(serde_json::to_string(&p).unwrap(), r#"{"Currency":"RMB"}"#);
/// assert!(FunctionPara::new().raw("a b", "x").is_err());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct FunctionPara(BTreeMap<String, Value>);

impl FunctionPara {
    /// No options.
    pub fn new() -> Self {
        Self::default()
    }

    /// The escape hatch: any key with a string value (an option this crate does not model, or
    /// a new value of one it does). The key must be non-empty without spaces; the value may be
    /// empty.
    pub fn raw(self, key: impl AsRef<str>, value: impl Into<String>) -> Result<Self> {
        let k = check_name(key.as_ref(), "functionpara")?;
        Ok(self.set(&k, value))
    }

    pub(crate) fn set(mut self, key: &str, value: impl Into<String>) -> Self {
        self.0.insert(key.to_owned(), Value::String(value.into()));
        self
    }

    pub(crate) fn set_value(mut self, key: &str, value: Value) -> Self {
        self.0.insert(key.to_owned(), value);
        self
    }

    pub(crate) fn remove(mut self, key: &str) -> Self {
        self.0.remove(key);
        self
    }

    /// An option's value when it is a string.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(Value::as_str)
    }

    /// True when no option is set (optional `functionpara` is then omitted).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The options, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }
}

macro_rules! string_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident => $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vm])* $variant),+
        }
        impl $name {
            /// Every value, in the manual's order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// The value on the wire.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $s),+ }
            }
            /// The variant of a wire value.
            pub fn from_wire(s: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.as_str() == s)
            }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use string_enum;

string_enum! {
    /// Period of a daily-or-longer series (`Interval`, `SampleInterval`, `period`).
    Interval {
        /// Daily.
        Day => "D",
        /// Weekly.
        Week => "W",
        /// Monthly.
        Month => "M",
        /// Quarterly.
        Quarter => "Q",
        /// Half-yearly.
        HalfYear => "S",
        /// Yearly.
        Year => "Y",
    }
}

string_enum! {
    /// `cmd_history_quotation` price adjustment (`CPS`, 复权方式): the manual's seven values.
    Adjust {
        /// 1: unadjusted (不复权, the default).
        None => "1",
        /// 2: forward-adjusted, dividends reinvested.
        Forward => "2",
        /// 3: backward-adjusted, dividends reinvested.
        Backward => "3",
        /// 4: forward-adjusted over the full float, dividends reinvested.
        ForwardFullFloat => "4",
        /// 5: backward-adjusted over the full float, dividends reinvested.
        BackwardFullFloat => "5",
        /// 6: forward-adjusted, cash dividends.
        ForwardCash => "6",
        /// 7: backward-adjusted, cash dividends.
        BackwardCash => "7",
    }
}

string_enum! {
    /// `high_frequency` price adjustment (`CPS`): `no`, `forward1..4`, `backward1..4`.
    /// Suffix 1/2: from dividend schemes (2: full float); 3/4: from exchange prices (4: full
    /// float). ⚠ The manual's table lists every value but `forward1`; PLATFORMS.md and the
    /// pattern of the others give it, so it is offered.
    HfAdjust {
        /// Unadjusted (the default).
        No => "no",
        /// Forward, dividend schemes.
        Forward1 => "forward1",
        /// Forward, full float, dividend schemes.
        Forward2 => "forward2",
        /// Forward, exchange prices.
        Forward3 => "forward3",
        /// Forward, full float, exchange prices.
        Forward4 => "forward4",
        /// Backward, dividend schemes.
        Backward1 => "backward1",
        /// Backward, full float, dividend schemes.
        Backward2 => "backward2",
        /// Backward, exchange prices.
        Backward3 => "backward3",
        /// Backward, full float, exchange prices.
        Backward4 => "backward4",
    }
}

string_enum! {
    /// Bond quote type of a history (`PriceType`; bonds only).
    PriceType {
        /// 1: full price (the default).
        Full => "1",
        /// 2: clean price.
        Clean => "2",
    }
}

string_enum! {
    /// Currency of history prices (`Currency`).
    Currency {
        /// `MHB`: US dollars.
        Usd => "MHB",
        /// `GHB`: Hong Kong dollars.
        Hkd => "GHB",
        /// `RMB`: renminbi.
        Rmb => "RMB",
        /// `YSHB`: the security's own currency (the default).
        Original => "YSHB",
    }
}

string_enum! {
    /// Which days a `date_sequence` covers (`Days`).
    Days {
        /// Trading days (the default).
        Trading => "Tradedays",
        /// Every calendar day.
        All => "Alldays",
    }
}

string_enum! {
    /// `date_sequence` filling of non-trading days (`Fill`).
    SequenceFill {
        /// Carry the previous value (the default).
        Previous => "Previous",
        /// Leave blank.
        Blank => "Blank",
    }
}

string_enum! {
    /// Intraday bar length in minutes (`Interval` of `high_frequency`).
    Minutes {
        /// 1 minute (the default).
        One => "1",
        /// 3 minutes.
        Three => "3",
        /// 5 minutes.
        Five => "5",
        /// 10 minutes.
        Ten => "10",
        /// 15 minutes.
        Fifteen => "15",
        /// 30 minutes.
        Thirty => "30",
        /// 60 minutes.
        Sixty => "60",
    }
}

impl Minutes {
    /// The length in minutes.
    pub fn count(self) -> u32 {
        match self {
            Minutes::One => 1,
            Minutes::Three => 3,
            Minutes::Five => 5,
            Minutes::Ten => 10,
            Minutes::Fifteen => 15,
            Minutes::Thirty => 30,
            Minutes::Sixty => 60,
        }
    }
}

string_enum! {
    /// Time stamps of `high_frequency` (`Timeformat`).
    TimeFormat {
        /// Beijing time (the default).
        Beijing => "BeiJingTime",
        /// The market's local time.
        Local => "LocalTime",
    }
}

/// `Fill` of `cmd_history_quotation` and `high_frequency`: a named rule or a custom number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fill {
    /// `Previous`: carry the previous value.
    Previous,
    /// `Blank`: leave blank.
    Blank,
    /// `Omit` (history only): the server's default value.
    Omit,
    /// `Original` (high frequency only, its default): no processing.
    Original,
    /// A custom value.
    Value(Decimal),
}

impl Fill {
    /// The value on the wire.
    pub fn wire(self) -> String {
        match self {
            Fill::Previous => "Previous".into(),
            Fill::Blank => "Blank".into(),
            Fill::Omit => "Omit".into(),
            Fill::Original => "Original".into(),
            Fill::Value(d) => d.to_string(),
        }
    }
}

/// The technical indicators of `high_frequency` that need a `calculate` entry, with the
/// parameter pattern of each (the manual's table, in its order).
pub const TECH_INDICATORS: &[(&str, &str)] = &[
    ("BBI", "{n1},{n2},{n3},{n4}"),
    ("DDI", "{n1},{n2},{smoothing},{n3},{DDI|ADDI|AD}"),
    ("DMA", "{short},{long},{n},{DDD|AMA}"),
    ("MA", "{n}"),
    ("EXPMA", "{n}"),
    ("MACD", "{short},{long},{n},{DIFF|DEA|MACD}"),
    ("MTM", "{gap},{n},{MTM|MTMMA}"),
    ("PRICEOSC", "{short},{long}"),
    ("TRIX", "{n1},{n2},{TRIX|TRMA}"),
    ("BIAS", "{n}"),
    ("CCI", "{n}"),
    ("DBCD", "{n1},{n2},{n3},{DBCD|MM}"),
    ("DPO", "{n1},{n2},{DPO|MADPO}"),
    ("KDJ", "{n},{n1},{n2},{K|D|J}"),
    ("LWR", "{n},{n1},{n2},{LWR1|LWR2}"),
    ("ROC", "{gap},{n},{ROC|ROCMA}"),
    ("RSI", "{n}"),
    ("SI", ""),
    ("SRDM", "{n},{SRDM|ASRDM}"),
    ("VROC", "{n}"),
    ("VRSI", "{n}"),
    ("WR", "{n}"),
    ("ARBR", "{n},{AR|BR}"),
    ("CR", "{n}"),
    ("PSY", "{n1},{n2},{PSY|MAPSY}"),
    ("VR", "{n}"),
    ("WAD", "{n},{WAD|MAWAD}"),
    ("MFI", "{n}"),
    ("OBV", "{OBV|OBV_XZ}"),
    ("PVT", ""),
    ("WVAD", "{n1},{n2},{WVAD|MAWVAD}"),
    ("BBIBOLL", "{n},{width},{BBIBOLL|UPR|DWN}"),
    ("BOLL", "{n},{width},{MID|UPPER|LOWER}"),
    ("CDP", "{CDP|AH|AL|NH|NL}"),
    ("ENV", "{n},{UPPER|LOWER}"),
    ("MIKE", "{n},{WR|MR|SR|WS|MS|SS}"),
    ("LB", "{n}"),
    ("VMA", "{n}"),
    ("VMACD", "{short},{long},{n},{DIFF|DEA|MACD}"),
    ("VOSC", "{short},{long}"),
    ("TAPI", "{n},{TAPI|MATAPI}"),
    ("VSTD", "{n}"),
    ("ADTM", "{n},{n1},{ADTM|MAADTM}"),
    ("MI", "{n},{A|MI}"),
    ("MICD", "{n},{n1},{n2},{DIF|MICD}"),
    ("RC", "{n}"),
    ("RCCD", "{n},{n1},{n2},{DIF|RCCD}"),
    ("SRMI", "{n}"),
    ("DPTB", "{n},{000001|000010|399001|000300}"),
    ("JDQS", "{n},{000001|000010|399001|000300}"),
    ("JDRS", "{n},{000001|000010|399001|000300}"),
    ("ZDZB", "{n},{n1},{n2},{B|D}"),
    ("ATR", "{n},{TR|ATR}"),
    ("MASS", "{n1},{n2}"),
    ("STD", "{n}"),
    ("VHF", "{n}"),
    ("CVLT", "{n}"),
];

/// True when `name` is one of [`TECH_INDICATORS`].
pub fn is_tech_indicator(name: &str) -> bool {
    TECH_INDICATORS.iter().any(|(n, _)| *n == name)
}

/// `calculate` of `high_frequency`: each technical indicator with its parameters, written as
/// the manual's pattern ([`TECH_INDICATORS`]) with values, comma-separated.
///
/// ```
/// use conn_ths::Calculate;
/// let c = Calculate::new().set("MACD", "12,26,9,MACD").unwrap().set("SI", "").unwrap();
/// assert_eq!(
///     serde_json::to_string(&c).unwrap(),
///     r#"{"MACD":"12,26,9,MACD","SI":""}"#
/// );
/// // The parameter count follows the manual's pattern.
/// assert!(Calculate::new().set("MACD", "12,26").is_err());
/// assert!(Calculate::new().set("open", "5").is_err());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct Calculate(BTreeMap<String, String>);

impl Calculate {
    /// No technical indicators.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the parameters of a technical indicator of [`TECH_INDICATORS`]; the number of
    /// comma-separated parameters must match the manual's pattern (none for `SI` and `PVT`).
    pub fn set(mut self, indicator: &str, params: impl Into<String>) -> Result<Self> {
        let field = format!("functionpara.calculate.{indicator}");
        let Some((_, pattern)) = TECH_INDICATORS.iter().find(|(n, _)| *n == indicator) else {
            return Err(Error::validation(
                field,
                "not a technical indicator of the manual (BBI, MACD, KDJ, ...)",
            ));
        };
        let params = params.into();
        let want = pattern_arity(pattern);
        let got = pattern_arity(&params);
        if want != got {
            return Err(Error::validation(
                field,
                format!("takes {want} parameters ({pattern:?}), got {got} in {params:?}"),
            ));
        }
        if params.split(',').any(|p| p.trim() != p) {
            return Err(Error::validation(field, "parameters without spaces"));
        }
        self.0.insert(indicator.to_owned(), params);
        Ok(self)
    }

    /// The indicators set.
    pub fn indicators(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    /// True when none is set.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn contains(&self, indicator: &str) -> bool {
        self.0.contains_key(indicator)
    }
}

/// How many comma-separated parameters a string has (an empty string has none).
pub fn pattern_arity(s: &str) -> usize {
    if s.is_empty() {
        0
    } else {
        s.split(',').count()
    }
}
