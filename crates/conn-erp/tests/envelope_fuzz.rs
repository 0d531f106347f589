//! Seeded fuzzing of every answer decoder of this crate: the error envelope of each profile
//! and each profile's page reader. 10,000 mutated answers per decoder (the count is asserted),
//! from a fixed seed, so a failure replays exactly. No panic, and what comes back stays bounded
//! by the input (no amplification).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use conn_core::transport::{EnvelopeDecoder, ResponseParts};
use conn_erp::Profile;
use http::{HeaderMap, StatusCode};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const CASES: usize = 10_000;
const MAX_LEN: usize = 4096;

/// Valid answers of each ERP, the seeds the mutations start from.
fn seeds() -> Vec<&'static str> {
    vec![
        r#"{"code":0,"msg":"ok","data":{"data_count":2,"orders":[{"so_id":"S1","pay_amount":"9.90","items":[{"sku_id":"A","qty":1,"price":"9.90"}]}]}}"#,
        r#"{"code":100,"msg":"签名错误"}"#,
        r#"{"status":0,"data":{"total_count":1,"order":[{"src_tid":"T1","receivable":1.5,"detail_list":[{"spec_no":"A","num":"2","order_price":"0.75"}]}]}}"#,
        r#"{"status":100,"message":"超过每分钟最大调用频率限制"}"#,
        r#"[[100001,"XSDD0001","2024-01-01T00:00:00","C1",19.8,"A"]]"#,
        r#"[[{"Result":{"ResponseStatus":{"IsSuccess":false,"ErrorCode":500,"Errors":[{"FieldName":"FCustId","Message":"客户不存在","DIndex":0}],"MsgCode":11}}}]]"#,
        r#"{"Result":{"ResponseStatus":{"IsSuccess":true,"Errors":[],"MsgCode":0},"Id":1,"Number":"XSDD0001"}}"#,
        r#"{"data":[{"name":"SAL-ORD-1","customer":"C","grand_total":10.0,"transaction_date":"2024-01-01"}]}"#,
        r#"{"exc_type":"ValidationError","exception":"frappe.exceptions.ValidationError","_server_messages":"[\"{\\\"message\\\":\\\"x\\\"}\"]"}"#,
    ]
}

const TOKENS: [&str; 16] = [
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "\"",
    "null",
    "true",
    "false",
    "-1e400",
    "18446744073709551616",
    "\"\\u0000\"",
    "\"IsSuccess\"",
    "\"status\"",
    "[[[[[[[[[[",
];

fn mutate(rng: &mut StdRng, seed: &str) -> Vec<u8> {
    let mut b = seed.as_bytes().to_vec();
    for _ in 0..rng.gen_range(1..6) {
        match rng.gen_range(0..5) {
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
                let t = TOKENS[rng.gen_range(0..TOKENS.len())];
                b.splice(i..i, t.bytes());
            }
            3 if !b.is_empty() => {
                let i = rng.gen_range(0..b.len());
                let j = rng.gen_range(i..b.len());
                let chunk = b[i..j].to_vec();
                b.splice(j..j, chunk);
            }
            _ => {
                let depth = rng.gen_range(0..200);
                b = format!("{}{}{}", "[".repeat(depth), seed, "]".repeat(depth)).into_bytes();
            }
        }
        b.truncate(MAX_LEN);
    }
    b
}

#[test]
fn envelope_decoders_never_panic_and_stay_bounded() {
    let headers = HeaderMap::new();
    let mut rng = StdRng::seed_from_u64(0x5eed_e4b0);
    let seeds = seeds();
    let mut ran = 0usize;
    for profile in Profile::ALL {
        let env = profile.envelope().decoder();
        for i in 0..CASES {
            let body = mutate(&mut rng, seeds[i % seeds.len()]);
            let status = [200u16, 200, 401, 429, 500, 503][i % 6];
            let parts = ResponseParts {
                platform: "erp",
                operation: "fuzz",
                status: StatusCode::from_u16(status).unwrap(),
                headers: &headers,
                body: &body,
            };
            if let Some(e) = env.decode_error(&parts) {
                // The message is a field of the input, never more than the input.
                assert!(e.to_string().len() <= body.len() + 256, "{profile}: {e}");
            }
            if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&body) {
                if profile != Profile::Own {
                    if let Ok(page) = profile.parse_page(0, &v) {
                        assert!(page.orders.len() <= body.len(), "{profile}");
                    }
                }
            }
            ran += 1;
        }
    }
    assert_eq!(
        ran,
        CASES * Profile::ALL.len(),
        "10,000 cases per profile decoder"
    );
}

#[test]
fn every_profile_reads_its_failure_shape_as_an_error() {
    // Each ERP's documented failure answer (HTTP 200 where the ERP uses it) is a typed error.
    let headers = HeaderMap::new();
    let cases: [(Profile, u16, &str, &str); 6] = [
        (
            Profile::Jushuitan,
            200,
            r#"{"code":100,"msg":"签名错误","data":null}"#,
            "100",
        ),
        (
            Profile::Wangdiantong,
            200,
            r#"{"status":100,"message":"卖家账号错误"}"#,
            "100",
        ),
        (
            Profile::Wangdiantong,
            200,
            r#"{"status":2,"message":"参数错误","data":{"order":[]}}"#,
            "2",
        ),
        (
            Profile::Kingdee,
            200,
            r#"{"Result":{"ResponseStatus":{"IsSuccess":false,"ErrorCode":500,"Errors":[{"FieldName":"FCustId","Message":"客户不存在","DIndex":0}],"MsgCode":11}}}"#,
            "11",
        ),
        (
            Profile::Kingdee,
            200,
            r#"[[{"Result":{"ResponseStatus":{"IsSuccess":false,"Errors":[{"Message":"字段不存在"}]}}}]]"#,
            "success_false",
        ),
        (
            Profile::Erpnext,
            417,
            r#"{"exc_type":"MandatoryError","exception":"frappe.exceptions.MandatoryError: customer"}"#,
            "MandatoryError",
        ),
    ];
    for (p, status, body, code) in cases {
        let e = p
            .envelope()
            .decoder()
            .decode_error(&ResponseParts {
                platform: "erp",
                operation: "t",
                status: StatusCode::from_u16(status).unwrap(),
                headers: &headers,
                body: body.as_bytes(),
            })
            .unwrap_or_else(|| panic!("{p}: {body} passed as a success"));
        assert_eq!(e.platform_code(), Some(code), "{p}: {e}");
    }
    // And their success shapes pass.
    for (p, body) in [
        (
            Profile::Wangdiantong,
            r#"{"status":0,"data":{"total_count":0,"order":[]}}"#,
        ),
        (Profile::Kingdee, r#"[[1,"X","2024-01-01",null,1.0,"A"]]"#),
        (
            Profile::Kingdee,
            r#"{"Result":{"ResponseStatus":{"IsSuccess":true,"MsgCode":0},"Number":"X"}}"#,
        ),
        (
            Profile::Jushuitan,
            r#"{"code":0,"msg":"执行成功","data":{}}"#,
        ),
        (Profile::Erpnext, r#"{"data":{"name":"SAL-ORD-1"}}"#),
    ] {
        let none = p.envelope().decoder().decode_error(&ResponseParts {
            platform: "erp",
            operation: "t",
            status: StatusCode::OK,
            headers: &headers,
            body: body.as_bytes(),
        });
        assert!(none.is_none(), "{p}: {body}: {none:?}");
    }
}
