//! Property tests of every iFinD decoder on hostile input: the envelope reader, the token
//! decoder and the `tables` decoder never panic, and what they build is bounded by the input
//! (no cell without at least one byte behind it).
//!
//! Seeded and deterministic: each property runs exactly `CASES` (10,000) cases from a fixed
//! ChaCha seed, half arbitrary bytes, half mutations of real answer shapes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, UNIX_EPOCH};

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

const CASES: u32 = 10_000;
const SEED: [u8; 32] = *b"conn-ths decoders, seeded 2026!!";

fn runner() -> TestRunner {
    let config = Config {
        cases: CASES,
        failure_persistence: None,
        ..Config::default()
    };
    TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &SEED))
}

/// Real answer shapes (trimmed), mutated by the strategy below.
const SEEDS: &[&str] = &[
    r#"{"errorcode":0,"errmsg":"Success!","tables":[{"thscode":"300033.SZ","time":["2024-01-02","2024-01-03"],"table":{"open":[12.5,"--"],"close":["12.80",null]}}],"datatype":[],"inputParams":{},"perf":12,"dataVol":4}"#,
    r#"{"errorcode":-1302,"errmsg":"Access_Token is expired or illegal"}"#,
    r#"{"errorcode":0,"tables":{"time":["2024-01-02"]}}"#,
    r#"{"errorcode":0,"tables":[{"id":"M001620326","time":"2024-01-02","table":{"value":1.5}}]}"#,
    r#"{"errorcode":0,"errmsg":"Success!","data":{"access_token":"canary","expired_time":"2024-01-09 10:00:00"}}"#,
    r#"{"errorcode":0,"data":{"access_token":"canary","expired_time":1e25}}"#,
];

/// A real shape with bytes replaced, inserted or cut.
fn mutated() -> impl Strategy<Value = Vec<u8>> {
    (
        0..SEEDS.len(),
        proptest::collection::vec((any::<u16>(), any::<u8>(), 0u8..3), 0..8),
        proptest::option::of(any::<u16>()),
    )
        .prop_map(|(i, edits, cut)| {
            let mut b = SEEDS[i].as_bytes().to_vec();
            for (pos, byte, op) in edits {
                let p = usize::from(pos) % (b.len() + 1);
                match op {
                    0 if p < b.len() => b[p] = byte,
                    1 => b.insert(p, byte),
                    _ if p < b.len() => {
                        b.remove(p);
                    }
                    _ => {}
                }
            }
            if let Some(c) = cut {
                let c = usize::from(c) % (b.len() + 1);
                b.truncate(c);
            }
            b
        })
}

fn bodies() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![proptest::collection::vec(any::<u8>(), 0..512), mutated()]
}

#[test]
fn envelope_reader_never_panics() {
    let ran = std::cell::Cell::new(0u32);
    runner()
        .run(&bodies(), |b| {
            ran.set(ran.get() + 1);
            let fast = conn_ths::envelope::read_envelope(&b);
            let full = conn_ths::envelope::read_envelope_full(&b);
            // The fast path and the full parse agree on the code whenever both read one.
            if let (Some((a, _)), Some((c, _))) = (&fast, &full) {
                prop_assert_eq!(a, c);
            }
            Ok(())
        })
        .unwrap();
    assert_eq!(ran.get(), CASES, "cases run");
}

#[test]
fn token_decoder_never_panics_and_never_quotes_the_body() {
    let ran = std::cell::Cell::new(0u32);
    runner()
        .run(&bodies(), |b| {
            ran.set(ran.get() + 1);
            let now = UNIX_EPOCH + Duration::from_secs(1_704_067_200);
            match conn_ths::auth::parse_token_response(
                "get_access_token",
                &b,
                now,
                Duration::from_secs(7 * 86_400),
            ) {
                Ok(ts) => {
                    let exp = ts.expires_at.unwrap();
                    prop_assert!(exp > now);
                    prop_assert!(exp <= now + conn_ths::auth::MAX_TOKEN_LIFETIME);
                }
                Err(e) => {
                    let text = format!("{e} {e:?}");
                    prop_assert!(!text.contains("canary"), "{}", text);
                }
            }
            Ok(())
        })
        .unwrap();
    assert_eq!(ran.get(), CASES, "cases run");
}

#[test]
fn tables_decoder_never_panics_and_is_bounded_by_its_input() {
    let ran = std::cell::Cell::new(0u32);
    runner()
        .run(&bodies(), |b| {
            ran.set(ran.get() + 1);
            if let Ok(t) = conn_ths::Tables::decode("cmd_history_quotation", &b) {
                let cells: usize = t
                    .iter()
                    .map(|s| {
                        s.columns().len() * s.len().max(1) + s.times().map_or(0, <[String]>::len)
                    })
                    .sum();
                prop_assert!(cells <= b.len(), "{} cells from {} bytes", cells, b.len());
            }
            Ok(())
        })
        .unwrap();
    assert_eq!(ran.get(), CASES, "cases run");
}
