//! `deal`: a trade recorded in a portfolio, with every key the manual requires.

use conn_core::{Error, Result};
use rust_decimal::Decimal;
use serde_json::{json, Map, Value};

use crate::ops::MarketCode;
use crate::options::string_enum;

use super::PortfolioId;

string_enum! {
    /// Trade direction (`direct`).
    Side {
        /// `buy`.
        Buy => "buy",
        /// `sell`.
        Sell => "sell",
    }
}

string_enum! {
    /// Settlement or base currency of a portfolio (`currency`).
    PortfolioCurrency {
        /// `CNY`.
        Cny => "CNY",
        /// `HKD`.
        Hkd => "HKD",
        /// `USD`.
        Usd => "USD",
    }
}

string_enum! {
    /// Fund dividend handling (`bonus`, funds only).
    Bonus {
        /// `1`: cash dividends.
        Cash => "1",
        /// `2`: dividends reinvested.
        Reinvest => "2",
    }
}

/// The fields of a [`Deal`], every one the manual marks "cannot be omitted". A struct with
/// public fields, so that none can be forgotten.
#[derive(Debug, Clone, PartialEq)]
pub struct DealInput {
    /// `portfid`.
    pub portfolio: PortfolioId,
    /// `thscode`: the bare exchange symbol (`300033`), as in the manual's example.
    pub symbol: String,
    /// `direct`.
    pub side: Side,
    /// `codeName`: the security's short name (`同花顺`).
    pub code_name: String,
    /// `marketCode`: the exchange (`212100` Shenzhen).
    pub market: MarketCode,
    /// `securityType`: iFinD's security type code (`001001` A shares).
    pub security_type: String,
    /// `price`: above 0.
    pub price: Decimal,
    /// `volume`: above 0.
    pub volume: Decimal,
    /// `currency`.
    pub currency: PortfolioCurrency,
    /// `fee`: the amount, not negative.
    pub fee: Decimal,
    /// `feep`: the fee rate, not negative.
    pub fee_rate: Decimal,
    /// `rate`: the exchange rate to the portfolio currency, above 0 (`1.00`).
    pub fx_rate: Decimal,
}

/// A trade to record in a portfolio (`func: "deal"`). Sent once, never replayed (see
/// [`crate::portfolio`]).
///
/// ```
/// use conn_ths::{Deal, DealInput, MarketCode, PortfolioCurrency, PortfolioId, Side};
/// use rust_decimal::Decimal;
/// // The manual's example.
/// let d = Deal::new(DealInput {
///     portfolio: PortfolioId::new(161390),
///     symbol: "300033".into(),
///     side: Side::Buy,
///     code_name: "同花顺".into(),
///     market: MarketCode::szse(),
///     security_type: "001001".into(),
///     price: Decimal::new(787, 1),
///     volume: Decimal::from(100),
///     currency: PortfolioCurrency::Cny,
///     fee: Decimal::ZERO,
///     fee_rate: Decimal::ZERO,
///     fx_rate: Decimal::new(100, 2),
/// }).unwrap()
/// .with_name("股债策略组合").unwrap();
/// assert_eq!(d.body(), serde_json::json!({
///     "func": "deal",
///     "name": "股债策略组合",
///     "portfid": 161390,
///     "functionpara": {
///         "thscode": "300033", "direct": "buy", "codeName": "同花顺", "marketCode": "212100",
///         "securityType": "001001", "price": 78.7, "volume": 100, "currency": "CNY",
///         "fee": "0", "feep": 0, "rate": "1.00", "bonus": ""
///     }
/// }));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Deal {
    input: DealInput,
    name: Option<String>,
    bonus: Option<Bonus>,
}

/// A decimal as a JSON number. serde_json holds numbers as f64 here, which prints the shortest
/// text that reads back the same, so any decimal of up to 15 significant digits goes on the
/// wire exactly as written; longer ones are refused.
pub(crate) fn json_number(field: &str, d: Decimal) -> Result<Value> {
    let d = d.normalize();
    if d.fract().is_zero() {
        if let Ok(i) = i64::try_from(d) {
            return Ok(Value::from(i));
        }
    }
    let text = d.to_string();
    let digits = text.bytes().filter(u8::is_ascii_digit).count();
    let n = text
        .parse::<f64>()
        .ok()
        .filter(|_| digits <= 15)
        .and_then(serde_json::Number::from_f64)
        .ok_or_else(|| {
            Error::validation(field, format!("at most 15 significant digits, got {d}"))
        })?;
    Ok(Value::Number(n))
}

impl Deal {
    /// Validates the input: a bare symbol of ASCII letters or digits, a name, a numeric
    /// security type, price, volume and exchange rate above 0, fee and fee rate not negative.
    pub fn new(input: DealInput) -> Result<Self> {
        let sym = input.symbol.trim();
        if sym.is_empty() || sym.len() > 20 || !sym.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(Error::validation(
                "functionpara.thscode",
                format!(
                    "the bare symbol (300033, not 300033.SZ), got {:?}",
                    input.symbol
                ),
            ));
        }
        if input.code_name.trim().is_empty() {
            return Err(Error::validation(
                "functionpara.codeName",
                "must not be empty",
            ));
        }
        let st = input.security_type.trim();
        if st.is_empty() || !st.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::validation(
                "functionpara.securityType",
                format!("digits such as 001001, got {:?}", input.security_type),
            ));
        }
        for (field, v) in [
            ("functionpara.price", input.price),
            ("functionpara.volume", input.volume),
            ("functionpara.rate", input.fx_rate),
        ] {
            if v <= Decimal::ZERO {
                return Err(Error::validation(
                    field,
                    format!("must be above 0, got {v}"),
                ));
            }
        }
        for (field, v) in [
            ("functionpara.fee", input.fee),
            ("functionpara.feep", input.fee_rate),
        ] {
            if v < Decimal::ZERO {
                return Err(Error::validation(
                    field,
                    format!("must not be negative, got {v}"),
                ));
            }
        }
        json_number("functionpara.price", input.price)?;
        json_number("functionpara.volume", input.volume)?;
        json_number("functionpara.feep", input.fee_rate)?;
        let input = DealInput {
            symbol: sym.to_ascii_uppercase(),
            security_type: st.to_owned(),
            ..input
        };
        Ok(Self {
            input,
            name: None,
            bonus: None,
        })
    }

    /// `name`: the portfolio's name (optional).
    pub fn with_name(mut self, name: impl Into<String>) -> Result<Self> {
        let n = name.into();
        if n.trim().is_empty() {
            return Err(Error::validation("name", "must not be empty when given"));
        }
        self.name = Some(n);
        Ok(self)
    }

    /// `bonus`: dividend handling, for funds.
    pub fn with_bonus(mut self, b: Bonus) -> Self {
        self.bonus = Some(b);
        self
    }

    /// The fields.
    pub fn input(&self) -> &DealInput {
        &self.input
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        let i = &self.input;
        // Validated in `new`: these conversions cannot fail here.
        let num = |d: Decimal| json_number("", d).unwrap_or(Value::Null);
        let p = json!({
            "thscode": i.symbol,
            "direct": i.side.as_str(),
            "codeName": i.code_name,
            "marketCode": i.market.as_str(),
            "securityType": i.security_type,
            "price": num(i.price),
            "volume": num(i.volume),
            "currency": i.currency.as_str(),
            "fee": i.fee.to_string(),
            "feep": num(i.fee_rate),
            "rate": i.fx_rate.to_string(),
            "bonus": self.bonus.map_or("", Bonus::as_str),
        });
        let mut m = Map::new();
        m.insert("func".into(), json!("deal"));
        if let Some(n) = &self.name {
            m.insert("name".into(), json!(n));
        }
        m.insert("portfid".into(), json!(i.portfolio.get()));
        m.insert("functionpara".into(), p);
        Value::Object(m)
    }

    /// What identifies this deal, for [`Error::OutcomeUnknown`] context and reconciliation.
    pub fn identity(&self) -> Vec<(String, String)> {
        let i = &self.input;
        vec![
            ("portfid".into(), i.portfolio.to_string()),
            ("thscode".into(), i.symbol.clone()),
            ("direct".into(), i.side.as_str().into()),
            ("volume".into(), i.volume.to_string()),
            ("price".into(), i.price.to_string()),
        ]
    }
}
