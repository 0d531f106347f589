//! [`FinancialData`] for a period.

use conn_core::Result;
use serde::{Serialize, Serializer};
use serde_json::Value;

use super::money::Money;
use super::order::{decode_error, first, money_at, text};
use super::period::Period;

/// Financial figures for a period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FinancialData {
    /// The period asked for.
    #[serde(serialize_with = "ser_period")]
    pub period: Period,
    /// Revenue (`revenue`, `income`, `total_revenue`).
    pub revenue: Option<Money>,
    /// Expenses (`expenses`, `cost`, `total_cost`).
    pub expenses: Option<Money>,
    /// Profit (`profit`, `net_profit`).
    pub profit: Option<Money>,
    /// Currency.
    pub currency: Option<String>,
    /// The whole answer.
    pub raw: Value,
}

fn ser_period<S: Serializer>(p: &Period, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.collect_str(p)
}

impl FinancialData {
    /// Reads the figures from the ERP's data object.
    pub fn from_json(period: Period, value: &Value) -> Result<Self> {
        const OP: &str = "financial_data";
        let obj = value
            .as_object()
            .ok_or_else(|| decode_error(OP, "data", value, "expected an object"))?;
        Ok(Self {
            period,
            revenue: money_at(OP, &"data", obj, &["revenue", "income", "total_revenue"])?,
            expenses: money_at(OP, &"data", obj, &["expenses", "cost", "total_cost"])?,
            profit: money_at(OP, &"data", obj, &["profit", "net_profit"])?,
            currency: first(obj, &["currency"]).and_then(|(_, v)| text(v)),
            raw: value.clone(),
        })
    }
}
