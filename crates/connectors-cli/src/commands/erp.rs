//! `connectors erp orders|create-order|finance`.

use connectors::core::Error;
use connectors::erp::{FinancialData, Money, NewOrder, Order, OrderQuery, Period};
use futures::TryStreamExt;
use rust_decimal::Decimal;
use serde_json::json;

use crate::cli::ErpCmd;
use crate::ctx::Ctx;
use crate::exit::CliResult;
use crate::output::{pairs, table};

/// Runs an `erp` subcommand.
pub async fn run(ctx: &Ctx, cmd: ErpCmd) -> CliResult {
    let built = ctx.build(&["erp"], false, None)?;
    let client = built.reg.require_erp()?;
    match cmd {
        ErpCmd::Orders {
            status,
            filters,
            limit,
        } => {
            let mut q = OrderQuery::new();
            if let Some(s) = status {
                q = q.filter("status", s);
            }
            for f in filters {
                let (k, v) = f.split_once('=').ok_or_else(|| {
                    Error::validation("--filter", format!("NAME=VALUE (got {f:?})"))
                })?;
                q = q.filter(k.trim(), v.trim());
            }
            if let Some(n) = limit {
                q = q.limit(n);
            }
            let orders: Vec<Order> = client.list_orders(q).try_collect().await?;
            let rows: Vec<Vec<String>> = orders.iter().map(order_row).collect();
            ctx.out.emit(&json!({"orders": orders}), || {
                format!(
                    "{}\n({} orders)",
                    table(
                        &["ID", "STATUS", "CUSTOMER", "TOTAL", "CURRENCY", "CREATED"],
                        &rows
                    ),
                    rows.len()
                )
            });
        }
        ErpCmd::CreateOrder {
            customer,
            items,
            currency,
            external_id,
            key,
        } => {
            let mut order = NewOrder::new(customer);
            for (i, it) in items.iter().enumerate() {
                let (sku, qty, price) = parse_item(i, it)?;
                order = order.item(sku, qty, price);
            }
            if let Some(c) = currency {
                order = order.currency(c);
            }
            if let Some(x) = external_id {
                order = order.external_id(x);
            }
            if let Some(key) = key {
                let key = super::journal::key(&key)?;
                let journal = super::journal::open(ctx)?;
                let done = client.create_order_once(&journal, &key, &order).await?;
                super::journal::emit_completed(ctx, &done);
                return Ok(());
            }
            let created = client.create_order(&order).await?;
            ctx.out.emit(&json!({"created": created}), || {
                format!(
                    "✔ order created\n{}",
                    pairs(&[
                        ("id", created.id.clone()),
                        (
                            "status",
                            created.status.clone().unwrap_or_else(|| "-".into())
                        ),
                        (
                            "total",
                            created
                                .total_amount
                                .map_or_else(|| order.total().to_string(), |m| m.to_string())
                        ),
                        (
                            "idempotency key",
                            created
                                .idempotency_key
                                .clone()
                                .unwrap_or_else(|| "-".into())
                        ),
                    ])
                )
            });
        }
        ErpCmd::Finance { period } => {
            let p: Period = period.parse()?;
            let f = client.financial_data(&p).await?;
            ctx.out.emit(&json!({"financial": f}), || finance_text(&f));
        }
    }
    Ok(())
}

/// `SKU:QTY:PRICE`, or a validation error naming `--item` (and which one).
pub fn parse_item(i: usize, s: &str) -> CliResult<(String, Decimal, Money)> {
    let field = format!("--item[{i}]");
    let parts: Vec<&str> = s.split(':').collect();
    let [sku, qty, price] = parts.as_slice() else {
        return Err(Error::validation(
            field,
            format!("SKU:QUANTITY:UNIT_PRICE, e.g. SKU-1:2:9.90 (got {s:?})"),
        )
        .into());
    };
    let qty: Decimal = qty.trim().parse().map_err(|_| {
        Error::validation(
            field.clone(),
            format!("quantity must be a number (got {qty:?})"),
        )
    })?;
    let price = Money::parse(&field, price.trim())?;
    Ok((sku.trim().to_owned(), qty, price))
}

fn money(m: Option<Money>) -> String {
    m.map_or_else(|| "-".to_owned(), |m| m.to_string())
}

fn order_row(o: &Order) -> Vec<String> {
    vec![
        o.id.clone(),
        o.status.clone().unwrap_or_else(|| "-".into()),
        o.customer.clone().unwrap_or_else(|| "-".into()),
        money(o.total_amount),
        o.currency.clone().unwrap_or_else(|| "-".into()),
        o.created_at.clone().unwrap_or_else(|| "-".into()),
    ]
}

fn finance_text(f: &FinancialData) -> String {
    pairs(&[
        ("period", f.period.to_string()),
        ("revenue", money(f.revenue)),
        ("expenses", money(f.expenses)),
        ("profit", money(f.profit)),
        ("currency", f.currency.clone().unwrap_or_else(|| "-".into())),
    ])
}
