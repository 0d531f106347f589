//! The order stream over every pagination style: each order exactly once, bounded walks.

#![cfg(feature = "fake")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;

use conn_erp::fake::{FakeErp, FakeOp};
use conn_erp::{AuthMode, Client, Config, OrderQuery, PaginationStyle};
use futures::TryStreamExt;
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const N: usize = 1000;

fn expected_ids() -> Vec<String> {
    (1..=N).map(|i| format!("SO-{i:06}")).collect()
}

async fn walk(style: PaginationStyle, page_size: u32, mode: AuthMode) -> (Vec<String>, usize) {
    let fake = FakeErp::builder(mode)
        .pagination(style)
        .page_size(page_size)
        .orders(N)
        .start()
        .await;
    let erp = Client::new(fake.config().unwrap()).unwrap();
    let orders: Vec<_> = erp
        .list_orders(OrderQuery::new())
        .try_collect()
        .await
        .unwrap();
    let ids: Vec<String> = orders.into_iter().map(|o| o.id).collect();
    (ids, fake.requests(FakeOp::ListOrders))
}

#[tokio::test]
async fn every_style_yields_each_of_1000_orders_once() {
    for style in PaginationStyle::ALL {
        // 1000 = 27 × 37 + 1: the last page is short, every style stops on it.
        let (ids, requests) = walk(style, 37, AuthMode::ApiKey).await;
        assert_eq!(ids, expected_ids(), "{style}");
        let unique: HashSet<&String> = ids.iter().collect();
        assert_eq!(unique.len(), N, "{style}");
        assert_eq!(requests, 28, "{style}");

        // 1000 = 10 × 100: without a total the walk needs one empty page to know it is done;
        // page_no stops on total_count.
        let (ids, requests) = walk(style, 100, AuthMode::ApiKey).await;
        assert_eq!(ids, expected_ids(), "{style}");
        let want = if style == PaginationStyle::PageNo {
            10
        } else {
            11
        };
        assert_eq!(requests, want, "{style}");
    }
}

#[tokio::test]
async fn signed_modes_page_through_biz_and_canonical_query() {
    for (mode, style) in [
        (AuthMode::JstMd5, PaginationStyle::PageIndex),
        (AuthMode::WdtMd5, PaginationStyle::PageNo),
        (AuthMode::KingdeeHmac, PaginationStyle::OffsetLimit),
        (AuthMode::Token, PaginationStyle::LimitStart),
    ] {
        let (ids, _) = walk(style, 250, mode).await;
        assert_eq!(ids, expected_ids(), "{mode} {style}");
    }
}

#[tokio::test]
async fn list_and_total_pointers_are_configurable() {
    let fake = FakeErp::builder(AuthMode::None)
        .pagination(PaginationStyle::PageNo)
        .page_size(10)
        .orders(30)
        .items_pointer("/data/orders")
        .total_pointer("/data/data_count")
        .start()
        .await;
    let erp = Client::new(fake.config().unwrap()).unwrap();
    let page = erp.orders_page(&OrderQuery::new(), 0).await.unwrap();
    assert_eq!(page.total, Some(30));
    let all: Vec<_> = erp
        .list_orders(OrderQuery::new())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all.len(), 30);
    assert_eq!(
        fake.requests(FakeOp::ListOrders),
        4,
        "one probe page + 3 pages"
    );

    // A bare array answer, ERPNext style offsets.
    let fake = FakeErp::builder(AuthMode::Token)
        .pagination(PaginationStyle::LimitStart)
        .page_size(7)
        .orders(20)
        .items_pointer("")
        .start()
        .await;
    let erp = Client::new(fake.config().unwrap()).unwrap();
    let all: Vec<_> = erp
        .list_orders(OrderQuery::new())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all.len(), 20);
}

#[tokio::test]
async fn a_limit_stops_fetching_early_and_filters_are_sent() {
    let fake = FakeErp::builder(AuthMode::ApiKey)
        .page_size(10)
        .orders(100)
        .start()
        .await;
    let erp = Client::new(fake.config().unwrap()).unwrap();
    let some: Vec<_> = erp
        .list_orders(OrderQuery::new().filter("status", "paid").limit(15))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(some.len(), 15);
    assert_eq!(fake.requests(FakeOp::ListOrders), 2);
    let first = &fake.received_requests().await[0];
    assert!(first.url.query().unwrap().contains("status=paid"));
}

#[tokio::test]
async fn a_filter_named_like_a_paging_parameter_is_refused() {
    let fake = FakeErp::builder(AuthMode::ApiKey)
        .pagination(PaginationStyle::OffsetLimit)
        .start()
        .await;
    let erp = Client::new(fake.config().unwrap()).unwrap();
    let err = erp
        .list_orders(OrderQuery::new().filter("offset", "5"))
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("filters.offset"), "{err}");
    assert_eq!(fake.requests(FakeOp::ListOrders), 0);
}

#[tokio::test]
async fn a_server_ignoring_paging_ends_the_stream_without_duplicates() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/orders"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"code": 0, "data": [{"id": 1}, {"id": "2"}]})),
        )
        .expect(2)
        .mount(&server)
        .await;
    let erp = Client::new(
        Config::builder()
            .base_url(server.uri())
            .page_size(2)
            .build()
            .unwrap(),
    )
    .unwrap();
    let ids: Vec<String> = erp
        .list_orders(OrderQuery::new())
        .map_ok(|o| o.id)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(ids, vec!["1".to_owned(), "2".to_owned()]);
}

#[tokio::test]
async fn a_bad_page_fails_the_stream_with_the_path() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"data": [{"id": "A", "total_amount": "12..3"}]})),
        )
        .mount(&server)
        .await;
    let erp = Client::new(Config::builder().base_url(server.uri()).build().unwrap()).unwrap();
    let err = erp
        .list_orders(OrderQuery::new())
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    let conn_core::Error::Decode(d) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(d.path, "data[0].total_amount");

    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"rows": []})))
        .mount(&server)
        .await;
    let erp = Client::new(Config::builder().base_url(server.uri()).build().unwrap()).unwrap();
    let err = erp.orders_page(&OrderQuery::new(), 0).await.unwrap_err();
    assert!(err.to_string().contains("ERP_ORDERS_LIST_POINTER"), "{err}");
}
