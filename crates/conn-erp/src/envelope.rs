//! The envelope of the ERP connector's own profile: what a typical JSON ERP answers.
//!
//! The rules that turn an answer into an error are conn-core's ([`conn_core::envelope`]); this
//! module only says where a typical ERP puts its fields and which codes mean what. Each
//! built-in [`Profile`](crate::Profile) starts from it and changes what its ERP does
//! differently.

use conn_core::envelope::{Code, Envelope};
use conn_core::pointer::Pointer;

fn pointers(names: &[&str]) -> Vec<Pointer> {
    names.iter().map(|n| Pointer::new(n)).collect()
}

fn codes(list: &[&str]) -> Vec<Code> {
    list.iter().map(|c| Code::from(*c)).collect()
}

/// The envelope of a typical JSON ERP:
/// - the code in `code`, `error_code`, `errcode` or `errorCode` (`ERP_ERROR_CODE_FIELDS`; ⚠ an
///   ERP that answers a bare object whose `code` is a document number needs this changed);
/// - the message in `message`, `msg`, `errmsg`, `error_description`, `description`, `error`
///   or `exception`;
/// - success codes `0`, `200`, `ok`, `success`, and a `success` flag;
/// - auth codes `401`, `40001` (the fake's signature error), `invalid_signature`,
///   `unauthorized` (`ERP_AUTH_ERROR_CODES`; `100` is not in the list: 旺店通 uses it for any
///   business error, and 聚水潭's profile adds it);
/// - permission `403`, `40003`; not found `404`, `40004`; rate limited `429`, `42900`; busy
///   `busy`, `50300`; invalid `400`, `422`, `40000`, `42200`;
/// - the log id in `request_id`, `requestId`, `trace_id`, `traceId`, else the `x-request-id`
///   header.
pub(crate) fn generic() -> Envelope {
    Envelope {
        code: pointers(&["code", "error_code", "errcode", "errorCode"]),
        message: pointers(&[
            "message",
            "msg",
            "errmsg",
            "error_description",
            "description",
            "error",
            "exception",
        ]),
        success: codes(&["0", "200", "ok", "success"]),
        success_flag: pointers(&["success"]),
        log_id: pointers(&["request_id", "requestId", "trace_id", "traceId"]),
        log_id_header: Some("x-request-id".to_owned()),
        auth_codes: codes(&["401", "40001", "invalid_signature", "unauthorized"]),
        permission_codes: codes(&["403", "40003"]),
        not_found_codes: codes(&["404", "40004"]),
        rate_limit_codes: codes(&["429", "42900"]),
        busy_codes: codes(&["busy", "50300"]),
        invalid_codes: codes(&["400", "422", "40000", "42200"]),
        ..Envelope::default()
    }
}

/// `e` with no code mapped to a kind: for an ERP whose codes are not documented well enough
/// to say which means what (the status still does, through conn-core's table).
pub(crate) fn without_code_kinds(mut e: Envelope) -> Envelope {
    for list in [
        &mut e.auth_codes,
        &mut e.permission_codes,
        &mut e.not_found_codes,
        &mut e.rate_limit_codes,
        &mut e.busy_codes,
        &mut e.invalid_codes,
    ] {
        list.clear();
    }
    e
}

/// `list` as pointers (a profile's code and message fields).
pub(crate) fn at(list: &[&str]) -> Vec<Pointer> {
    pointers(list)
}

/// `list` as codes.
pub(crate) fn code_list(list: &[&str]) -> Vec<Code> {
    codes(list)
}

#[cfg(test)]
mod tests {
    use super::*;
    use conn_core::error::ApiErrorKind;
    use conn_core::transport::{EnvelopeDecoder, ResponseParts};
    use conn_core::Error;
    use http::{HeaderMap, StatusCode};

    fn decode(status: u16, body: &str) -> Option<Error> {
        let headers = HeaderMap::new();
        generic().decoder().decode_error(&ResponseParts {
            platform: "erp",
            operation: "t",
            status: StatusCode::from_u16(status).unwrap(),
            headers: &headers,
            body: body.as_bytes(),
        })
    }

    #[test]
    fn success_shapes_pass() {
        assert!(decode(200, r#"{"code":0,"data":[]}"#).is_none());
        assert!(decode(200, r#"{"code":"200","msg":"ok"}"#).is_none());
        assert!(decode(200, r#"{"data":[]}"#).is_none());
        assert!(decode(200, "not json").is_none());
        assert!(decode(503, "").is_none(), "left to HttpError");
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
        let e = decode(403, r#"{"exc_type":"PermissionError","exception":"no"}"#).unwrap();
        assert_eq!(e.api_kind(), Some(ApiErrorKind::PermissionDenied));
        let e = decode(500, r#"{"code":500,"message":"boom"}"#).unwrap();
        assert_eq!(e.api_kind(), Some(ApiErrorKind::ServerError));
        assert!(e.is_retryable_for(true) && !e.is_retryable_for(false));
        let e = decode(200, r#"{"success":false,"message":"nope"}"#).unwrap();
        assert_eq!(e.api_kind(), Some(ApiErrorKind::Other));
        let e = decode(404, r#"{"code":404,"message":"order not found"}"#).unwrap();
        assert_eq!(e.api_kind(), Some(ApiErrorKind::NotFound));
        let e = decode(200, r#"{"code":"busy","msg":"try later"}"#).unwrap();
        assert!(e.is_retryable_for(false));
    }

    #[test]
    fn code_fields_are_configurable() {
        let headers = HeaderMap::new();
        let parts = ResponseParts {
            platform: "erp",
            operation: "t",
            status: StatusCode::OK,
            headers: &headers,
            body: br#"{"id":7,"code":"SO-7"}"#,
        };
        assert!(generic().decoder().decode_error(&parts).is_some());
        let only_errcode = Envelope {
            code: at(&["errcode"]),
            ..generic()
        };
        assert!(only_errcode.decoder().decode_error(&parts).is_none());
    }
}
