//! The fake's public vocabulary: operations, faults, recorded requests, uploads and items.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::videos::Statistics;

/// The platform operations the fake serves.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    /// `GET /platform/oauth/connect/` (the authorization page).
    Authorize,
    /// `POST /oauth/access_token/`.
    AccessToken,
    /// `POST /oauth/refresh_token/`.
    RefreshToken,
    /// `POST /oauth/renew_refresh_token/`.
    RenewRefreshToken,
    /// `POST /oauth/client_token/`.
    ClientToken,
    /// `POST …/upload_video/`.
    UploadVideo,
    /// `POST …/init_video_part_upload/`.
    InitVideoPartUpload,
    /// `POST …/upload_video_part/`.
    UploadVideoPart,
    /// `POST …/complete_video_part_upload/`.
    CompleteVideoPartUpload,
    /// `POST …/create_video/`.
    CreateVideo,
    /// `POST …/upload_image/`.
    UploadImage,
    /// `POST …/create_image_text/`.
    CreateImageText,
    /// `GET …/video_list/`.
    VideoList,
    /// `POST …/video_data/`.
    VideoData,
    /// Any other request.
    Unknown,
}

impl Op {
    /// The operation of a method and path.
    pub fn of(method: &str, path: &str) -> Op {
        let p = path.trim_end_matches('/');
        let post = method.eq_ignore_ascii_case("POST");
        let get = method.eq_ignore_ascii_case("GET");
        match p {
            "/platform/oauth/connect" if get => Op::Authorize,
            "/oauth/access_token" if post => Op::AccessToken,
            "/oauth/refresh_token" if post => Op::RefreshToken,
            "/oauth/renew_refresh_token" if post => Op::RenewRefreshToken,
            "/oauth/client_token" if post => Op::ClientToken,
            "/api/douyin/v1/video/upload_video" if post => Op::UploadVideo,
            "/api/douyin/v1/video/init_video_part_upload" if post => Op::InitVideoPartUpload,
            "/api/douyin/v1/video/upload_video_part" if post => Op::UploadVideoPart,
            "/api/douyin/v1/video/complete_video_part_upload" if post => {
                Op::CompleteVideoPartUpload
            }
            "/api/douyin/v1/video/create_video" if post => Op::CreateVideo,
            "/api/douyin/v1/video/upload_image" if post => Op::UploadImage,
            "/api/douyin/v1/video/create_image_text" if post => Op::CreateImageText,
            "/api/douyin/v1/video/video_list" if get => Op::VideoList,
            "/api/douyin/v1/video/video_data" if post => Op::VideoData,
            _ => Op::Unknown,
        }
    }

    /// True for the token endpoints (their envelope has no `extra`).
    pub fn is_oauth(self) -> bool {
        matches!(
            self,
            Op::Authorize
                | Op::AccessToken
                | Op::RefreshToken
                | Op::RenewRefreshToken
                | Op::ClientToken
        )
    }
}

/// How `/oauth/refresh_token/` treats the refresh token (⚠ the sources disagree).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RefreshRotation {
    /// The same refresh token is returned (default).
    #[default]
    Same,
    /// No refresh token in the response.
    Omit,
    /// A new refresh token replaces the old one, which dies (expiry unchanged).
    New,
}

/// Summary of one multipart field (the fake never keeps uploaded bytes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct PartSummary {
    /// Field name.
    pub name: String,
    /// File name.
    pub file_name: Option<String>,
    /// Content type.
    pub content_type: Option<String>,
    /// Size in bytes.
    pub size: u64,
}

/// A recorded request body.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordedBody {
    /// No body.
    Empty,
    /// JSON.
    Json(Value),
    /// A form, in order.
    Form(Vec<(String, String)>),
    /// Multipart fields, sizes only.
    Multipart(Vec<PartSummary>),
    /// Anything else: its size.
    Bytes(u64),
}

/// One request as the fake saw it: enough to pin the wire format in a snapshot.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordedRequest {
    /// The operation.
    pub op: Op,
    /// Method.
    pub method: String,
    /// Path.
    pub path: String,
    /// Query pairs, in order.
    pub query: Vec<(String, String)>,
    /// Headers (without `host`; a multipart boundary is replaced by `[boundary]`).
    pub headers: BTreeMap<String, String>,
    /// Body.
    pub body: RecordedBody,
}

const REDACTED: &str = "[redacted]";

impl RecordedRequest {
    /// A copy with every secret replaced by `[redacted]`, by conn-core's one rule
    /// ([`is_secret_field`](conn_core::redact::is_secret_field): the `access-token` header,
    /// `client_secret`, an authorization `code`, `refresh_token`, `access_token`, …) in headers,
    /// forms and JSON. `client_key`, the app's public id, is shown.
    pub fn redacted(&self) -> Self {
        let secret =
            |k: &str, v: &str| k != "client_key" && conn_core::redact::is_secret_field(k, v);
        let mut r = self.clone();
        for (k, v) in r.headers.iter_mut() {
            if secret(k, v) {
                *v = REDACTED.to_owned();
            }
        }
        match &mut r.body {
            RecordedBody::Form(pairs) => {
                for (k, v) in pairs.iter_mut() {
                    if secret(k, v) {
                        *v = REDACTED.to_owned();
                    }
                }
            }
            RecordedBody::Json(Value::Object(m)) => {
                for (k, v) in m.iter_mut() {
                    let text = v
                        .as_str()
                        .map(str::to_owned)
                        .unwrap_or_else(|| v.to_string());
                    if secret(k, &text) {
                        *v = Value::from(REDACTED);
                    }
                }
            }
            _ => {}
        }
        r
    }
}

/// One chunked upload as the fake saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkedUpload {
    /// The upload id.
    pub upload_id: String,
    /// The account.
    pub open_id: String,
    /// `(part_number, size)` in arrival order.
    pub parts: Vec<(u32, u64)>,
    /// The video id, once completed.
    pub video_id: Option<String>,
}

/// One published item as the fake keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeItem {
    /// Item id.
    pub item_id: String,
    /// Account.
    pub open_id: String,
    /// The post's `text`.
    pub text: String,
    /// 4 video, 2 image post.
    pub media_type: i64,
    /// `private_status` as sent.
    pub private_status: i64,
    /// Creation time, Unix seconds.
    pub create_time: i64,
    /// The video used.
    pub video_id: Option<String>,
    /// The images used.
    pub image_ids: Vec<String>,
    /// Counters.
    pub statistics: Statistics,
}

/// The client's operation name of a fake operation (for the scope table).
pub(crate) fn op_name(op: Op) -> &'static str {
    match op {
        Op::Authorize => "authorize",
        Op::AccessToken => "access_token",
        Op::RefreshToken => "refresh_token",
        Op::RenewRefreshToken => "renew_refresh_token",
        Op::ClientToken => "client_token",
        Op::UploadVideo => "upload_video",
        Op::InitVideoPartUpload => "init_video_part_upload",
        Op::UploadVideoPart => "upload_video_part",
        Op::CompleteVideoPartUpload => "complete_video_part_upload",
        Op::CreateVideo => "create_video",
        Op::UploadImage => "upload_image",
        Op::CreateImageText => "create_image_text",
        Op::VideoList => "video_list",
        Op::VideoData => "video_data",
        Op::Unknown => "unknown",
    }
}

/// A fault queued for an operation covers requests of that operation only.
impl conn_core::fake::FaultTarget for Op {}
