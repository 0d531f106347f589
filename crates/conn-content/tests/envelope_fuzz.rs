//! Seeded fuzzing of the content envelope decoder of every built-in profile (and the custom
//! one): 10,000 mutated answers each (the count is asserted), from a fixed seed so a failure
//! replays exactly. No panic, and what comes back is bounded by the input.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use conn_content::{Builtin, Profile};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const CASES: usize = 10_000;

const SEEDS: [&str; 6] = [
    r#"{"error_code":0,"success":true,"data":{"note_id":"n1"}}"#,
    r#"{"error_code":1001,"success":false,"error_msg":"token expired"}"#,
    r#"{"data":{"error_code":10008,"description":"access_token expired"},"extra":{"logid":"x"}}"#,
    r#"{"error":{"code":100,"message":"bad token"}}"#,
    r#"{"code":0,"data":{"id":"c-1"}}"#,
    r#"{"id":123,"title":"t"}"#,
];

const TOKENS: [&str; 12] = [
    "{",
    "}",
    "[",
    "]",
    ",",
    "\"",
    "null",
    "false",
    "1e999",
    "\"success\":false",
    "\"error_code\"",
    "[[[[[[[[",
];

fn mutate(rng: &mut StdRng, seed: &str) -> Vec<u8> {
    let mut b = seed.as_bytes().to_vec();
    for _ in 0..rng.gen_range(1..6) {
        match rng.gen_range(0..4) {
            0 if !b.is_empty() => {
                let i = rng.gen_range(0..b.len());
                b[i] = rng.gen();
            }
            1 if !b.is_empty() => {
                let cut = rng.gen_range(0..b.len());
                b.truncate(cut);
            }
            2 => {
                let i = rng.gen_range(0..=b.len());
                b.splice(i..i, TOKENS[rng.gen_range(0..TOKENS.len())].bytes());
            }
            _ => {
                let d = rng.gen_range(0..150);
                b = format!("{}{}{}", "[".repeat(d), seed, "]".repeat(d)).into_bytes();
            }
        }
        b.truncate(4096);
    }
    b
}

#[test]
fn envelopes_never_panic_and_stay_bounded() {
    let mut rng = StdRng::seed_from_u64(0xc0_47e4);
    let mut profiles: Vec<Profile> = Builtin::ALL.iter().map(|b| b.profile()).collect();
    profiles.push(Profile::custom("blog"));
    let mut ran = 0;
    for p in &profiles {
        for i in 0..CASES {
            let body = mutate(&mut rng, SEEDS[i % SEEDS.len()]);
            if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&body) {
                if let Some(found) = p.envelope.error_in(http::StatusCode::OK, Some(&v)) {
                    let (code, msg) = (found.code, found.message.unwrap_or_default());
                    assert!(
                        code.len() + msg.len() <= body.len() + 16,
                        "{}: {code} {msg}",
                        p.name
                    );
                }
            }
            ran += 1;
        }
    }
    assert_eq!(ran, CASES * profiles.len(), "10,000 cases per profile");
}
