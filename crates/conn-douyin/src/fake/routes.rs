//! The fake's wiremock responders: route a request to the state, wrap the result in the
//! platform's envelope, apply injected faults. The state lock is held only inside `respond`
//! (never across an await).

use std::collections::{BTreeMap, HashMap};

use serde_json::{Map, Value};
use wiremock::{Request, Respond, ResponseTemplate};

use super::front::{MULTIPART_HEADER, ORIGINAL_LENGTH_HEADER};
use conn_core::fake::Fault;

use super::model::{Op, PartSummary, RecordedBody, RecordedRequest};
use super::state::{Fail, State, API_PARAM_ERROR, OAUTH_PARAM_ERROR};

pub(crate) type Shared = conn_core::fake::Shared<State>;

fn query_map(req: &Request) -> HashMap<String, String> {
    req.url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn header<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.headers.get(name).and_then(|v| v.to_str().ok())
}

fn multipart_parts(req: &Request) -> Vec<PartSummary> {
    header(req, MULTIPART_HEADER)
        .and_then(|h| serde_json::from_str(h).ok())
        .unwrap_or_default()
}

fn content_type(req: &Request) -> String {
    header(req, "content-type")
        .unwrap_or_default()
        .to_ascii_lowercase()
}

/// What the fake records of a request.
pub(crate) fn recorded(req: &Request, op: Op) -> RecordedRequest {
    let ct = content_type(req);
    let mut headers = BTreeMap::new();
    for (name, value) in &req.headers {
        let n = name.as_str();
        if n == "host" || n.starts_with("x-fake-") {
            continue;
        }
        let mut v = String::from_utf8_lossy(value.as_bytes()).into_owned();
        if n == "content-type" && v.to_ascii_lowercase().starts_with("multipart/") {
            if let Some(i) = v.to_ascii_lowercase().find("boundary=") {
                v.replace_range(i + "boundary=".len().., "[boundary]");
            }
        }
        headers.insert(n.to_owned(), v);
    }
    if let Some(len) = header(req, ORIGINAL_LENGTH_HEADER) {
        headers.insert("content-length".to_owned(), len.to_owned());
    }
    let body = if ct.starts_with("multipart/") {
        RecordedBody::Multipart(multipart_parts(req))
    } else if req.body.is_empty() {
        RecordedBody::Empty
    } else if ct.starts_with("application/json") {
        match serde_json::from_slice(&req.body) {
            Ok(v) => RecordedBody::Json(v),
            Err(_) => RecordedBody::Bytes(req.body.len() as u64),
        }
    } else if ct.starts_with("application/x-www-form-urlencoded") {
        RecordedBody::Form(
            url::form_urlencoded::parse(&req.body)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    } else {
        RecordedBody::Bytes(req.body.len() as u64)
    };
    RecordedRequest {
        op,
        method: req.method.to_string(),
        path: req.url.path().to_owned(),
        query: req
            .url
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect(),
        headers,
        body,
    }
}

fn with_code(st: &State, mut data: Map<String, Value>) -> Map<String, Value> {
    data.insert("error_code".into(), st.num(0));
    data.insert("description".into(), Value::from(""));
    data
}

fn oauth_ok(st: &State, data: Map<String, Value>) -> ResponseTemplate {
    let mut body = Map::new();
    body.insert("data".into(), Value::Object(with_code(st, data)));
    body.insert("message".into(), Value::from("success"));
    success_body(st, ResponseTemplate::new(200), Value::Object(body))
}

/// A success body, cut halfway when the request carries a [`Fault::Cut`] fault.
fn success_body(st: &State, t: ResponseTemplate, body: Value) -> ResponseTemplate {
    if !st.cut_body {
        return t.set_body_json(body);
    }
    let bytes = body.to_string().into_bytes();
    t.set_body_raw(bytes[..bytes.len() / 2].to_vec(), "application/json")
}

fn oauth_err(st: &mut State, (code, desc): Fail) -> ResponseTemplate {
    let log_id = st.log_id();
    let mut data = Map::new();
    data.insert("error_code".into(), st.num(code));
    data.insert("description".into(), Value::from(desc));
    data.insert("log_id".into(), Value::from(log_id));
    let mut body = Map::new();
    body.insert("data".into(), Value::Object(data));
    body.insert("message".into(), Value::from("error"));
    ResponseTemplate::new(200).set_body_json(Value::Object(body))
}

fn extra(st: &mut State, code: i64, desc: &str) -> Value {
    let log_id = st.log_id();
    let now_ms = st.clock.unix_seconds().saturating_mul(1000);
    let mut m = Map::new();
    m.insert("error_code".into(), st.num(code));
    m.insert("description".into(), Value::from(desc));
    m.insert("sub_error_code".into(), st.num(0));
    m.insert("sub_description".into(), Value::from(""));
    m.insert("logid".into(), Value::from(log_id));
    m.insert("now".into(), st.num(now_ms));
    Value::Object(m)
}

fn api_ok(st: &mut State, data: Map<String, Value>) -> ResponseTemplate {
    let data = with_code(st, data);
    let extra = extra(st, 0, "");
    let log_id = extra.get("logid").cloned().unwrap_or_default();
    let mut body = Map::new();
    body.insert("data".into(), Value::Object(data));
    body.insert("extra".into(), extra);
    let t =
        ResponseTemplate::new(200).insert_header("x-tt-logid", log_id.as_str().unwrap_or_default());
    success_body(st, t, Value::Object(body))
}

fn api_err(st: &mut State, (code, desc): Fail) -> ResponseTemplate {
    let mut data = Map::new();
    data.insert("error_code".into(), st.num(code));
    data.insert("description".into(), Value::from(desc.clone()));
    let extra = extra(st, code, &desc);
    let mut body = Map::new();
    body.insert("data".into(), Value::Object(data));
    body.insert("extra".into(), extra);
    ResponseTemplate::new(200).set_body_json(Value::Object(body))
}

fn reply(st: &mut State, op: Op, r: Result<Map<String, Value>, Fail>) -> ResponseTemplate {
    match (r, op.is_oauth()) {
        (Ok(d), true) => oauth_ok(st, d),
        (Ok(d), false) => api_ok(st, d),
        (Err(f), true) => oauth_err(st, f),
        (Err(f), false) => api_err(st, f),
    }
}

fn fault_response(st: &mut State, op: Op, fault: Fault) -> ResponseTemplate {
    let f: Fail = match fault {
        Fault::Busy => (2100004, "system busy, try again later".into()),
        Fault::TokenExpired if op.is_oauth() => (10008, "access_token expired".into()),
        Fault::TokenExpired => (2190008, "access_token expired".into()),
        Fault::RateLimited => (28003018, "too frequent, slow down".into()),
        Fault::Code(c, d) if d.is_empty() => (c, "injected error".into()),
        Fault::Code(c, d) => (c, d),
        Fault::Status(status) => {
            return ResponseTemplate::new(status).set_body_string("fake: upstream failure");
        }
        // Handled by the drop mock / by delaying or cutting a normal answer; a fault added to
        // the kit later is answered as a server failure until this fake learns it.
        _ => {
            return ResponseTemplate::new(500).set_body_string("fake: fault misrouted");
        }
    };
    if op.is_oauth() {
        oauth_err(st, f)
    } else {
        api_err(st, f)
    }
}

fn form(req: &Request) -> Result<HashMap<String, String>, Fail> {
    if !content_type(req).starts_with("application/x-www-form-urlencoded") {
        return Err((
            OAUTH_PARAM_ERROR,
            "expected an application/x-www-form-urlencoded body".into(),
        ));
    }
    Ok(url::form_urlencoded::parse(&req.body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect())
}

fn json_body(req: &Request, code: i64) -> Result<Value, Fail> {
    if !content_type(req).starts_with("application/json") {
        return Err((code, "expected an application/json body".into()));
    }
    serde_json::from_slice(&req.body).map_err(|e| (code, format!("invalid JSON: {e}")))
}

fn multipart(req: &Request) -> Result<Vec<PartSummary>, Fail> {
    if !content_type(req).starts_with("multipart/form-data") {
        return Err((
            API_PARAM_ERROR,
            "expected a multipart/form-data body".into(),
        ));
    }
    Ok(multipart_parts(req))
}

fn route(st: &mut State, op: Op, req: &Request) -> ResponseTemplate {
    let q = query_map(req);
    let r = match op {
        Op::Authorize => {
            return match st.authorize(&q) {
                Ok(location) => {
                    ResponseTemplate::new(302).insert_header("location", location.as_str())
                }
                Err(why) => ResponseTemplate::new(400)
                    .set_body_string(format!("fake authorization page: {why}")),
            };
        }
        Op::AccessToken => form(req).and_then(|f| st.access_token(&f)),
        Op::RefreshToken => form(req).and_then(|f| st.refresh_token(&f)),
        Op::RenewRefreshToken => form(req).and_then(|f| st.renew_refresh_token(&f)),
        Op::ClientToken => json_body(req, OAUTH_PARAM_ERROR).and_then(|b| st.client_token(&b)),
        Op::Unknown => {
            // Douyin's gateway answers an unknown path with a bare 404 that still carries its
            // `x-tt-logid` header, the id its support asks for.
            return ResponseTemplate::new(404)
                .insert_header("x-tt-logid", st.log_id().as_str())
                .set_body_string(format!(
                    "fake douyin: no such endpoint {} {}",
                    req.method,
                    req.url.path()
                ));
        }
        _ => {
            let open_id = match st.authenticate(
                op,
                header(req, "access-token"),
                q.get("open_id").map(String::as_str),
            ) {
                Ok(o) => o,
                Err(f) => return api_err(st, f),
            };
            match op {
                Op::UploadVideo => multipart(req).and_then(|p| st.upload_video(&open_id, &p)),
                Op::InitVideoPartUpload => Ok(st.init_part_upload(&open_id)),
                Op::UploadVideoPart => multipart(req).and_then(|p| {
                    st.upload_part(
                        &open_id,
                        q.get("upload_id").map(String::as_str),
                        q.get("part_number").map(String::as_str),
                        &p,
                    )
                }),
                Op::CompleteVideoPartUpload => {
                    st.complete_part_upload(&open_id, q.get("upload_id").map(String::as_str))
                }
                Op::CreateVideo => {
                    json_body(req, API_PARAM_ERROR).and_then(|b| st.create_video(&open_id, &b))
                }
                Op::UploadImage => multipart(req).and_then(|p| st.upload_image(&open_id, &p)),
                Op::CreateImageText => {
                    json_body(req, API_PARAM_ERROR).and_then(|b| st.create_image_text(&open_id, &b))
                }
                Op::VideoList => st.video_list(
                    &open_id,
                    q.get("cursor").map(String::as_str),
                    q.get("count").map(String::as_str),
                ),
                Op::VideoData => {
                    json_body(req, API_PARAM_ERROR).and_then(|b| st.video_data_of(&open_id, &b))
                }
                _ => Err((API_PARAM_ERROR, "unreachable route".into())),
            }
        }
    };
    reply(st, op, r)
}

/// The main responder.
pub(crate) struct FakeResponder(pub(crate) Shared);

impl Respond for FakeResponder {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let op = Op::of(req.method.as_str(), req.url.path());
        let mut st = self.0.lock();
        st.count(op);
        st.record(recorded(req, op));
        let (delay, fault) = match st.take_fault(op) {
            Some(Fault::Delay(d)) => (Some(d), None),
            Some(Fault::Cut) => {
                st.cut_body = true;
                (None, None)
            }
            other => (None, other),
        };
        let template = match fault {
            Some(f) => fault_response(&mut st, op, f),
            None => route(&mut st, op, req),
        };
        st.cut_body = false;
        drop(st);
        match delay {
            Some(d) => template.set_delay(d),
            None => template,
        }
    }
}

/// Takes a pending [`Fault::Drop`] for the request's operation (counting and recording the
/// request, as the main responder would); the fake's drop mock closes the connection then.
pub(crate) fn take_drop(state: &Shared, req: &Request) -> bool {
    let op = Op::of(req.method.as_str(), req.url.path());
    let mut st = state.lock();
    if !st.next_fault_is_drop(op) {
        return false;
    }
    st.take_fault(op);
    st.count(op);
    st.record(recorded(req, op));
    true
}
