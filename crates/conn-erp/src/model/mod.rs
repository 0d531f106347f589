//! Typed models: [`Money`], [`Period`], [`Order`], [`NewOrder`], [`CreatedOrder`],
//! [`FinancialData`].
//!
//! Amounts are [`rust_decimal::Decimal`], never floats. On input an amount may be a JSON string
//! (`"12.30"`) or a JSON number (`12.3`); a number is read through its shortest decimal text, so
//! `0.1` is exactly one tenth. On output amounts are written as strings, so no digit is lost to
//! a float on either side.
//!
//! ERPs name their fields differently (ERPNext `name`/`grand_total`, 聚水潭 `o_id`/`pay_amount`),
//! so orders are read through [`OrderFields`]: for each typed field, the candidate keys in order,
//! the first present wins. The whole object stays available as `raw`.

mod financial;
mod money;
mod new_order;
mod order;
mod period;

pub use financial::FinancialData;
pub use money::Money;
pub use new_order::{CreatedOrder, NewOrder, NewOrderItem, MAX_ORDER_ITEMS};
pub(crate) use order::decode_error;
pub use order::{Order, OrderFields, OrderItem};
pub use period::{months_of, Period};

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use conn_core::Error;
    use rust_decimal::Decimal;
    use serde_json::json;

    #[test]
    fn money_accepts_strings_and_numbers_exactly() {
        let v: Vec<Money> = serde_json::from_value(json!(["0.1", 0.2, 3, "-1.50", "1e2"])).unwrap();
        let total: Money = v.iter().sum();
        assert_eq!(total.to_string(), "101.80");
        assert!(serde_json::from_value::<Money>(json!("abc")).is_err());
        assert!(serde_json::from_value::<Money>(json!(null)).is_err());
        assert!(Money::parse("items[0].unit_price", "x")
            .unwrap_err()
            .to_string()
            .contains("items[0].unit_price"));
    }

    #[test]
    fn periods_validate_and_parse() {
        let p = Period::month(2023, 12).unwrap();
        assert_eq!(
            (p.start().to_string(), p.end().to_string()),
            ("2023-12-01".into(), "2023-12-31".into())
        );
        assert!(Period::month(2023, 13)
            .unwrap_err()
            .to_string()
            .contains("period.month"));
        let r: Period = "2024-01-05/2024-03-02".parse().unwrap();
        assert_eq!(months_of(&r), vec![(2024, 1), (2024, 2), (2024, 3)]);
        assert!("x..2024-01-05"
            .parse::<Period>()
            .unwrap_err()
            .to_string()
            .contains("period.start"));
        assert!("soon"
            .parse::<Period>()
            .unwrap_err()
            .to_string()
            .contains("`period`"));
        let one: Period = NaiveDate::from_ymd_opt(2024, 5, 6).unwrap().into();
        assert!(one.contains(NaiveDate::from_ymd_opt(2024, 5, 6).unwrap()));
    }

    #[test]
    fn order_reads_erpnext_and_generic_shapes() {
        let f = OrderFields::default();
        let o = Order::from_json(
            "t",
            "data[0]",
            &json!({"name": "SAL-ORD-0001", "grand_total": 12.3, "customer": "C",
                    "items": [{"item_code": "I", "qty": 2, "rate": "6.15"}]}),
            &f,
        )
        .unwrap();
        assert_eq!(o.id, "SAL-ORD-0001");
        assert_eq!(o.total_amount.unwrap().to_string(), "12.3");
        assert_eq!(o.items[0].unit_price.unwrap().to_string(), "6.15");
        let e = Order::from_json("t", "data[3]", &json!({"id": 1, "total_amount": "x"}), &f)
            .unwrap_err();
        let Error::Decode(d) = &e else { panic!("{e}") };
        assert_eq!(d.path, "data[3].total_amount");
        assert!(Order::from_json("t", "data[0]", &json!({"x": 1}), &f).is_err());
    }

    #[test]
    fn new_order_validation_names_fields() {
        let ok = NewOrder::new("C").item("S", Decimal::ONE, Money::ZERO);
        ok.validate().unwrap();
        let cases = [
            (NewOrder::new("C"), "items"),
            (
                ok.clone().item("", Decimal::ONE, Money::ZERO),
                "items[1].sku",
            ),
            (
                ok.clone().item("S", Decimal::ZERO, Money::ZERO),
                "items[1].quantity",
            ),
            (
                ok.clone().item("S", Decimal::ONE, "-1".parse().unwrap()),
                "items[1].unit_price",
            ),
            (ok.clone().currency("rmb"), "currency"),
        ];
        for (o, field) in cases {
            let e = o.validate().unwrap_err();
            let Error::Validation(v) = &e else {
                panic!("{e}")
            };
            assert_eq!(v.field, field);
        }
        let mut x = ok.clone();
        x.extra.insert("items".into(), json!([]));
        assert!(x
            .validate()
            .unwrap_err()
            .to_string()
            .contains("extra.items"));
    }
}
