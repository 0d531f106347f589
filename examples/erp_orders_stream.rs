//! Every order of an ERP as one `futures` stream: the client fetches page after page while
//! the loop consumes them, so memory holds one page at a time. Against the sandbox's ERP fake
//! (10 seeded orders, API-key auth):
//!
//! ```sh
//! cargo run -p connectors-examples --example erp_orders_stream
//! ```
//!
//! `try_next`, `try_collect` and friends come from `futures::TryStreamExt` (the `futures`
//! crate: `futures = "0.3"` in your Cargo.toml).

use std::process::ExitCode;

use connectors::erp::{NewOrder, OrderQuery};
use connectors::sandbox::{Sandbox, Seed};
use futures::TryStreamExt;

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            connectors_examples::report(&e);
            ExitCode::FAILURE
        }
    }
}

async fn run() -> connectors::core::Result<()> {
    let sandbox = Sandbox::start(&Seed::default()).await?;
    let registry = connectors_examples::registry(&sandbox)?;
    let erp = registry.require_erp()?;

    // A create carries an idempotency key, so a retry after a timeout cannot order twice.
    let order = NewOrder::new("示例客户")
        .item("SKU-RED-01", 2.into(), "9.90".parse()?)
        .external_id("example-0001");
    let created = erp.create_order(&order).await?;
    println!("created order {}", created.id);

    let mut orders = erp.list_orders(OrderQuery::new());
    let mut n = 0;
    while let Some(o) = orders.try_next().await? {
        n += 1;
        println!(
            "{:>3}. {:<12} {:<10} {}",
            n,
            o.id,
            o.status.as_deref().unwrap_or("-"),
            o.total_amount
                .map_or_else(|| "-".to_owned(), |m| m.to_string())
        );
    }
    println!("{n} orders");
    Ok(())
}
