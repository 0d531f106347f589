use super::*;
use http::HeaderMap;
use serde_json::json;

fn ptrs(names: &[&str]) -> Vec<Pointer> {
    names.iter().map(|n| Pointer::new(n)).collect()
}

fn codes<C: Into<Code> + Copy>(list: &[C]) -> Vec<Code> {
    list.iter().map(|c| (*c).into()).collect()
}

/// A typical JSON API's envelope (the shape the ERP connector's own profile uses).
fn generic() -> Envelope {
    Envelope {
        code: ptrs(&["code", "error_code", "errcode", "errorCode"]),
        message: ptrs(&["message", "msg", "errmsg", "error_description", "exception"]),
        success: vec!["0".into(), "200".into(), "ok".into(), "success".into()],
        success_flag: ptrs(&["success"]),
        log_id: ptrs(&["request_id", "trace_id"]),
        log_id_header: Some("x-request-id".into()),
        auth_codes: codes(&["401", "40001", "invalid_signature"]),
        permission_codes: codes(&["403"]),
        not_found_codes: codes(&["404"]),
        rate_limit_codes: codes(&["429"]),
        busy_codes: codes(&["busy"]),
        invalid_codes: codes(&["400"]),
        ..Envelope::default()
    }
}

fn decode_with(e: &Envelope, status: u16, headers: &HeaderMap, body: &[u8]) -> Option<Error> {
    e.decode(&ResponseParts {
        platform: "p",
        operation: "t",
        status: StatusCode::from_u16(status).unwrap(),
        headers,
        body,
    })
}

fn decode(status: u16, body: &str) -> Option<Error> {
    decode_with(&generic(), status, &HeaderMap::new(), body.as_bytes())
}

#[test]
fn success_shapes_pass() {
    assert!(decode(200, r#"{"code":0,"data":[]}"#).is_none());
    assert!(decode(200, r#"{"code":"200","msg":"ok"}"#).is_none());
    assert!(
        decode(200, r#"{"code":"OK"}"#).is_none(),
        "text codes ignore case"
    );
    assert!(decode(200, r#"{"data":[]}"#).is_none());
    assert!(decode(200, "not json").is_none());
    assert!(decode(503, "").is_none(), "left to HttpError");
    assert!(
        decode(500, r#"{"data":1}"#).is_none(),
        "no code, no message"
    );
}

#[test]
fn error_shapes_map_to_kinds() {
    let e = decode(200, r#"{"code":40001,"msg":"invalid sign"}"#).unwrap();
    assert_eq!(e.api_kind(), Some(ApiErrorKind::InvalidCredentials));
    assert_eq!(e.platform_code(), Some("40001"));
    assert!(e.to_string().contains("invalid sign"));
    let e = decode(401, "").unwrap();
    assert_eq!(e.api_kind(), Some(ApiErrorKind::InvalidCredentials));
    assert_eq!(e.platform_code(), Some("http_401"));
    assert!(e.to_string().contains("HTTP 401"), "{e}");
    let e = decode(403, r#"{"exception":"no"}"#).unwrap();
    assert_eq!(e.api_kind(), Some(ApiErrorKind::PermissionDenied));
    let e = decode(500, r#"{"code":500,"message":"boom"}"#).unwrap();
    assert_eq!(e.api_kind(), Some(ApiErrorKind::ServerError));
    assert!(e.is_retryable_for(true) && !e.is_retryable_for(false));
    let e = decode(200, r#"{"success":false,"message":"nope"}"#).unwrap();
    assert_eq!(e.api_kind(), Some(ApiErrorKind::Other));
    assert_eq!(e.platform_code(), Some("success_false"));
    let e = decode(404, r#"{"code":404,"message":"order not found"}"#).unwrap();
    assert_eq!(e.api_kind(), Some(ApiErrorKind::NotFound));
    let e = decode(200, r#"{"code":"busy","msg":"try later"}"#).unwrap();
    assert!(e.is_retryable_for(false));
    // A success code on a failed status reports the status.
    let e = decode(502, r#"{"code":0,"msg":"upstream"}"#).unwrap();
    assert_eq!(e.platform_code(), Some("http_502"));
    assert_eq!(e.api_kind(), Some(ApiErrorKind::ServerError));
    // An unlisted code on a 2xx is `Other`; on a failed status the status decides.
    let e = decode(200, r#"{"code":77}"#).unwrap();
    assert_eq!(e.api_kind(), Some(ApiErrorKind::Other));
    let e = decode(429, r#"{"code":77}"#).unwrap();
    assert_eq!(e.api_kind(), Some(ApiErrorKind::RateLimited));
    let e = decode(501, r#"{"code":77}"#).unwrap();
    assert_eq!(
        e.api_kind(),
        Some(ApiErrorKind::Other),
        "501 is not retried"
    );
    assert!(!e.is_retryable());
}

#[test]
fn a_failed_flag_wins_over_a_success_code_and_keeps_it() {
    // 小红书 ark, as PLATFORMS.md describes it: HTTP 200, {error_code, success, data, error_msg}.
    let ark = Envelope {
        code: ptrs(&["/error_code"]),
        success: codes(&[0]),
        message: ptrs(&["/error_msg"]),
        success_flag: ptrs(&["/success"]),
        auth_codes: codes(&[401, 403]),
        ..Envelope::default()
    };
    let ok = StatusCode::OK;
    let found = |v: Value| ark.error_in(ok, Some(&v)).map(|f| (f.code, f.message));
    assert_eq!(
        found(json!({"error_code": 0, "success": true, "data": {}})),
        None
    );
    assert_eq!(
        found(json!({"error_code": 0, "success": false, "error_msg": "签名错误"})),
        Some(("0".into(), Some("签名错误".into())))
    );
    assert_eq!(
        found(json!({"error_code": 1001, "success": false, "error_msg": "token expired"})),
        Some(("1001".into(), Some("token expired".into())))
    );
    assert_eq!(
        found(json!({"success": false})),
        Some(("success_false".into(), None))
    );
    assert_eq!(found(ark.body_with(&Code::from(0), "ok")), None);
    assert!(found(ark.body_with(&Code::from(7), "bad")).is_some());
}

#[test]
fn kingdee_rows_unwrap_to_a_bounded_depth() {
    let kingdee = Envelope {
        code: ptrs(&[
            "/Result/ResponseStatus/MsgCode",
            "/Result/ResponseStatus/ErrorCode",
        ]),
        message: ptrs(&["/Result/ResponseStatus/Errors/0/Message"]),
        success_flag: ptrs(&["/Result/ResponseStatus/IsSuccess"]),
        success: codes(&[0]),
        unwrap_rows: true,
        ..Envelope::default()
    };
    let body = r#"[[{"Result":{"ResponseStatus":{"IsSuccess":false,"Errors":[{"Message":"字段不存在"}]}}}]]"#.as_bytes();
    let e = decode_with(&kingdee, 200, &HeaderMap::new(), body).unwrap();
    assert_eq!(e.platform_code(), Some("success_false"));
    assert!(e.to_string().contains("字段不存在"), "{e}");
    // Data rows pass; an error nested deeper than the bound is not looked for.
    assert!(decode_with(&kingdee, 200, &HeaderMap::new(), br#"[[1,"X"]]"#).is_none());
    let deep = format!(
        "{}{{\"Result\":{{\"ResponseStatus\":{{\"IsSuccess\":false}}}}}}{}",
        "[".repeat(ROW_DEPTH),
        "]".repeat(ROW_DEPTH)
    );
    assert!(decode_with(&kingdee, 200, &HeaderMap::new(), deep.as_bytes()).is_none());
    let mut flat = kingdee.clone();
    flat.unwrap_rows = false;
    assert!(decode_with(&flat, 200, &HeaderMap::new(), body).is_none());
}

#[test]
fn log_ids_come_from_the_body_then_the_header() {
    let mut headers = HeaderMap::new();
    headers.insert("x-request-id", "hdr-1".parse().unwrap());
    let e = decode_with(
        &generic(),
        200,
        &headers,
        br#"{"code":1,"trace_id":"body-1"}"#,
    )
    .unwrap();
    assert_eq!(e.log_id(), Some("body-1"));
    let e = decode_with(&generic(), 200, &headers, br#"{"code":1}"#).unwrap();
    assert_eq!(e.log_id(), Some("hdr-1"));
}

#[test]
fn messages_are_cut_and_redacted() {
    // Source: the redaction rules of `crate::redact` (a platform echoing the request's token).
    let body = json!({"code": 1, "msg": "bad access_token=act.SECRET123 given"}).to_string();
    let e = decode(200, &body).unwrap();
    let text = format!("{e} {e:?}");
    assert!(!text.contains("SECRET123"), "{text}");
    let huge = json!({"code": 1, "msg": "长".repeat(100_000)}).to_string();
    let e = decode(200, &huge).unwrap();
    assert!(
        e.to_string().len() < crate::error::EXCERPT_LIMIT + 256,
        "cut"
    );
}

#[test]
fn hostile_values_are_no_code() {
    // Objects, arrays, null and empty strings where a code belongs are not codes.
    for v in [json!(null), json!(""), json!({"a": 1}), json!([1])] {
        let body = json!({ "code": v }).to_string();
        assert!(decode(200, &body).is_none(), "{body}");
    }
    // A huge number is a code as written, not a panic.
    let e = decode(200, r#"{"code":18446744073709551616}"#).unwrap();
    assert_eq!(e.platform_code(), Some("1.8446744073709552e+19"));
}

#[test]
fn a_status_only_envelope_does_not_read_the_body() {
    let none = Envelope::default();
    assert!(!none.reads_body());
    assert!(decode_with(&none, 200, &HeaderMap::new(), br#"{"code":1}"#).is_none());
    let e = decode_with(&none, 403, &HeaderMap::new(), br#"{"code":1}"#).unwrap();
    assert_eq!(e.platform_code(), Some("http_403"));
    assert!(decode_with(&none, 500, &HeaderMap::new(), br#"{"code":1}"#).is_none());
}

#[test]
fn serde_takes_one_or_many_and_round_trips() {
    let e: Envelope = serde_json::from_value(json!({
        "code": "/data/error_code",
        "success": 0,
        "message": ["msg", "/data/description"],
        "success_flag": null,
        "auth_codes": [10008, "invalid_sign"],
    }))
    .unwrap();
    assert_eq!(e.code, ptrs(&["/data/error_code"]));
    assert_eq!(e.message, ptrs(&["/msg", "/data/description"]));
    assert!(e.success_flag.is_empty());
    assert!(e.is_success("0"));
    assert_eq!(
        e.kind_of_code("INVALID_SIGN"),
        Some(ApiErrorKind::InvalidCredentials)
    );
    let back: Envelope = serde_json::from_value(serde_json::to_value(&e).unwrap()).unwrap();
    assert_eq!(back, e);
    let v = serde_json::to_value(&e).unwrap();
    assert_eq!(v["code"], json!("/data/error_code"));
    assert_eq!(v["success"], json!(0));
    let bad = serde_json::from_value::<Envelope>(json!({"auth_codes": [{"x": 1}]}));
    assert!(bad.unwrap_err().to_string().contains("number or a string"));
}

#[test]
fn bodies_nest_where_the_envelope_reads() {
    let bytedance: Envelope = serde_json::from_value(json!({
        "code": "/data/error_code", "success": 0, "message": "/data/description"
    }))
    .unwrap();
    assert_eq!(
        bytedance.success_body(),
        json!({"data": {"error_code": 0, "description": "success"}})
    );
    assert_eq!(Envelope::default().success_body(), json!({}));
}

#[test]
fn the_status_table() {
    let kind = |s: u16| ApiErrorKind::of_status(StatusCode::from_u16(s).unwrap());
    assert_eq!(kind(401), ApiErrorKind::InvalidCredentials);
    assert_eq!(kind(403), ApiErrorKind::PermissionDenied);
    assert_eq!(kind(404), ApiErrorKind::NotFound);
    assert_eq!(kind(429), ApiErrorKind::RateLimited);
    for s in [408, 500, 502, 503, 504] {
        assert_eq!(kind(s), ApiErrorKind::ServerError, "{s}");
    }
    for s in [400, 409, 422] {
        assert_eq!(kind(s), ApiErrorKind::InvalidRequest, "{s}");
    }
    for s in [200, 302, 405, 418, 501, 505, 599] {
        assert_eq!(kind(s), ApiErrorKind::Other, "{s}");
    }
}

mod projection {
    use super::*;
    use proptest::prelude::*;

    /// The whole-parse reading, the reference the projection must agree with.
    fn reference(e: &Envelope, status: StatusCode, body: &[u8]) -> Option<Found> {
        let v: Option<Value> = serde_json::from_slice(body).ok();
        e.error_in(status, v.as_ref())
    }

    fn projected(e: &Envelope, status: StatusCode, body: &[u8]) -> Option<Found> {
        let needs = super::super::project::Needs::of(
            e.code
                .iter()
                .chain(&e.message)
                .chain(&e.success_flag)
                .chain(&e.log_id),
        );
        let rows = if e.unwrap_rows { ROW_DEPTH } else { 0 };
        let v = super::super::project::project(body, &needs, rows);
        e.error_in(status, v.as_ref())
    }

    fn kingdee() -> Envelope {
        Envelope {
            code: ptrs(&[
                "/Result/ResponseStatus/MsgCode",
                "/Result/ResponseStatus/ErrorCode",
            ]),
            message: ptrs(&[
                "/Result/ResponseStatus/Errors/0/Message",
                "/Result/ResponseStatus/Errors/0/FieldName",
                "message",
            ]),
            success_flag: ptrs(&["/Result/ResponseStatus/IsSuccess"]),
            success: codes(&[0]),
            unwrap_rows: true,
            ..generic()
        }
    }

    /// Answers of the shapes the envelopes read (ERP, Kingdee rows, ByteDance `data`), the
    /// seeds the generated bodies are built from.
    const SEEDS: [&str; 6] = [
        r#"{"code":0,"msg":"ok","data":{"orders":[{"id":1,"code":"SO-1"}]},"request_id":"r"}"#,
        r#"{"code":40001,"msg":"invalid sign","success":false}"#,
        r#"[[{"Result":{"ResponseStatus":{"IsSuccess":false,"ErrorCode":500,"Errors":[{"FieldName":"F","Message":"m"}],"MsgCode":11}}}]]"#,
        r#"[[1,"X","2024-01-01",null,1.0,"A"]]"#,
        r#"{"data":{"error_code":10008,"description":"expired"},"extra":{"logid":"L"}}"#,
        r#"{"Result":{"ResponseStatus":{"IsSuccess":true,"MsgCode":0},"Id":1}}"#,
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2_000))]

        /// Any body, valid or not: the projection reads exactly what the whole parse reads.
        #[test]
        fn the_projection_reads_what_the_whole_body_says(
            seed in 0usize..SEEDS.len(),
            cut in 0usize..200,
            splice in proptest::collection::vec(any::<u8>(), 0..8),
            at in 0usize..200,
            status in prop::sample::select(vec![200u16, 401, 404, 500]),
        ) {
            let mut body = SEEDS[seed].as_bytes().to_vec();
            let at = at.min(body.len());
            body.splice(at..at, splice);
            if cut < body.len() && cut % 3 == 0 {
                body.truncate(cut);
            }
            let status = StatusCode::from_u16(status).unwrap();
            for e in [generic(), kingdee(), Envelope::default()] {
                prop_assert_eq!(reference(&e, status, &body), projected(&e, status, &body));
            }
        }
    }

    #[test]
    fn the_seeds_themselves_agree() {
        for body in SEEDS {
            for e in [generic(), kingdee()] {
                assert_eq!(
                    reference(&e, StatusCode::OK, body.as_bytes()),
                    projected(&e, StatusCode::OK, body.as_bytes()),
                    "{body}"
                );
            }
        }
    }
}
