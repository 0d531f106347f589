//! The Redis journal: two "hosts" (separate handles and connections) racing one key make one
//! create; a holder whose hold was taken over cannot write; conflicts send nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use conn_core::journal::{
    request_digest, run_once, Begin, Entry, Journal, OperationKey, Reconciled, State,
};
use conn_redis::server::{for_tests, LocalRedis, Persistence};
use conn_redis::{Redis, RedisConfig, RedisJournal};

fn host(server: &LocalRedis) -> Arc<dyn Journal> {
    let mut cfg = RedisConfig::new(server.url()).unwrap();
    cfg.response_timeout = Duration::from_millis(500);
    cfg.connect_timeout = Duration::from_millis(300);
    Arc::new(RedisJournal::new(Redis::new(cfg).unwrap()).with_hold_wait(Duration::from_secs(20)))
}

fn entry(k: &str, body: serde_json::Value) -> Entry {
    Entry::new(
        OperationKey::new(k).unwrap(),
        "demo",
        "create",
        "acct",
        request_digest(&body),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hosts_racing_one_key_create_once() {
    let Some(server) = for_tests(Persistence::None) else {
        return;
    };
    let hosts = [host(&server), host(&server)];
    let sends = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for i in 0..16 {
        let j = hosts[i % 2].clone();
        let sends = sends.clone();
        tasks.push(tokio::spawn(async move {
            run_once(
                &j,
                entry("race/1", serde_json::json!({"x": 1})),
                |_| async { Ok(Reconciled::NotDone) },
                |_| async move {
                    sends.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    Ok("item-1".to_owned())
                },
            )
            .await
            .unwrap()
            .id
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), "item-1");
    }
    assert_eq!(sends.load(Ordering::SeqCst), 1);
    let all = hosts[1].list().await.unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].done_id(), Some("item-1"));

    let err = run_once(
        &hosts[0],
        entry("race/1", serde_json::json!({"x": 2})),
        |_| async { unreachable!() },
        |_| async { unreachable!("a conflict sends nothing") },
    )
    .await
    .unwrap_err();
    assert!(err.is_journal_conflict(), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_holder_whose_hold_was_taken_over_cannot_write() {
    let Some(server) = for_tests(Persistence::None) else {
        return;
    };
    let (a, b) = (host(&server), host(&server));
    let Begin::Fresh(claim) = a
        .begin(entry("fence/1", serde_json::json!({})))
        .await
        .unwrap()
    else {
        panic!("fresh")
    };
    // The hold expires under a stalled holder (deleted here, as an expiry would).
    let client = redis::Client::open(server.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let n: i64 = redis::cmd("DEL")
        .arg("connectors:journal-hold:fence/1")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(n, 1, "the hold key is where the docs say");
    // Another host takes over and reconciles.
    let Begin::InFlight(_, claim_b) = b
        .begin(entry("fence/1", serde_json::json!({})))
        .await
        .unwrap()
    else {
        panic!("in flight")
    };
    let err = a
        .finish(claim, State::Done { id: "stale".into() })
        .await
        .unwrap_err();
    assert!(err.to_string().contains("write refused"), "{err}");
    b.finish(claim_b, State::Done { id: "found".into() })
        .await
        .unwrap();
    let e = a
        .get(&OperationKey::new("fence/1").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(e.done_id(), Some("found"));
}
