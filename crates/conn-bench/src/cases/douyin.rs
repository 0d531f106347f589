//! Douyin `video_data` (POST, 10 item ids) and `video_list_page` (GET, 10 items).

use std::time::{Duration, SystemTime};

use conn_core::secret::{AccessToken, RefreshToken};
use conn_core::token::TokenSet;
use conn_core::transport::TransportConfig;
use serde::Deserialize;

use super::{
    bad_code, raw_body, raw_decode, raw_http, stack_err, CallFuture, Case, Stack, TIMEOUT,
};
use crate::bodies::{douyin_item_ids, DOUYIN_ITEMS, DOUYIN_TOKEN, OPEN_ID};
use crate::BenchError;

/// Which read.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Op {
    VideoData,
    VideoListPage,
}

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::VideoData => "douyin.video_data",
            Op::VideoListPage => "douyin.video_list_page",
        }
    }
}

pub(crate) async fn build(op: Op, stack: Stack, base: &str) -> Result<Box<dyn Case>, BenchError> {
    let ids = douyin_item_ids();
    match stack {
        Stack::Stack => {
            let err = stack_err(op.name());
            let cfg = conn_douyin::Config::builder()
                .client_key("awbench0123456789")
                .client_secret("bench-client-secret")
                .base_url(base)
                .transport(
                    TransportConfig::new(base)
                        .map_err(&err)?
                        .with_attempt_timeout(TIMEOUT),
                )
                .build()
                .map_err(&err)?;
            let client = conn_douyin::Client::new(cfg).map_err(&err)?;
            // A user token valid for 15 days, as the code exchange leaves it, in the default
            // in-memory store.
            let mut ts = TokenSet::new(AccessToken::new(DOUYIN_TOKEN));
            ts.refresh_token = Some(RefreshToken::new("rft.bench0123456789abcdef"));
            ts.expires_at = SystemTime::now().checked_add(Duration::from_secs(15 * 86_400));
            ts.account = Some(OPEN_ID.to_owned());
            client.set_tokens(OPEN_ID, ts).await.map_err(&err)?;
            Ok(Box::new(StackCase { op, client, ids }))
        }
        Stack::Raw => Ok(Box::new(RawCase {
            op,
            http: raw_http()?,
            base: base.trim_end_matches('/').to_owned(),
            ids,
        })),
    }
}

struct StackCase {
    op: Op,
    client: conn_douyin::Client,
    ids: Vec<String>,
}

impl Case for StackCase {
    fn call(&self) -> CallFuture<'_> {
        Box::pin(async move {
            let err = stack_err(self.op.name());
            Ok(match self.op {
                Op::VideoData => self
                    .client
                    .video_data(OPEN_ID, &self.ids)
                    .await
                    .map_err(err)?
                    .len(),
                Op::VideoListPage => self
                    .client
                    .video_list_page(OPEN_ID, 0, 10)
                    .await
                    .map_err(err)?
                    .list
                    .len(),
            })
        })
    }
    fn expected(&self) -> usize {
        DOUYIN_ITEMS
    }
}

struct RawCase {
    op: Op,
    http: reqwest::Client,
    base: String,
    ids: Vec<String>,
}

// The by-hand types: plain serde, no lenient fields.
#[derive(Deserialize)]
#[allow(dead_code)]
struct RawStats {
    comment_count: i64,
    digg_count: i64,
    download_count: i64,
    forward_count: i64,
    play_count: i64,
    share_count: i64,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct RawItem {
    item_id: String,
    title: String,
    cover: String,
    create_time: i64,
    is_top: bool,
    is_reviewed: bool,
    video_status: i64,
    share_url: String,
    media_type: i64,
    statistics: RawStats,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct RawData {
    error_code: i64,
    description: String,
    #[serde(default)]
    cursor: i64,
    #[serde(default)]
    has_more: bool,
    list: Vec<RawItem>,
}

#[derive(Deserialize)]
struct RawExtra {
    error_code: i64,
    sub_error_code: i64,
}

#[derive(Deserialize)]
struct RawEnvelope {
    data: RawData,
    extra: RawExtra,
}

#[derive(serde::Serialize)]
struct DataBody<'a> {
    item_ids: &'a [String],
}

impl Case for RawCase {
    fn call(&self) -> CallFuture<'_> {
        Box::pin(async move {
            let case = self.op.name();
            let req = match self.op {
                Op::VideoData => self
                    .http
                    .post(format!(
                        "{}{}",
                        self.base,
                        conn_douyin::endpoint::VIDEO_DATA_PATH
                    ))
                    .query(&[("open_id", OPEN_ID)])
                    .json(&DataBody {
                        item_ids: &self.ids,
                    }),
                Op::VideoListPage => self
                    .http
                    .get(format!(
                        "{}{}",
                        self.base,
                        conn_douyin::endpoint::VIDEO_LIST_PATH
                    ))
                    .query(&[("open_id", OPEN_ID), ("cursor", "0"), ("count", "10")]),
            };
            let resp = req
                .header("access-token", DOUYIN_TOKEN)
                .timeout(TIMEOUT)
                .send()
                .await;
            let body = raw_body(case, resp).await?;
            let env: RawEnvelope = raw_decode(case, &body)?;
            if env.data.error_code != 0
                || env.extra.error_code != 0
                || env.extra.sub_error_code != 0
            {
                return Err(bad_code(case, "non-zero error code"));
            }
            Ok(env.data.list.len())
        })
    }
    fn expected(&self) -> usize {
        DOUYIN_ITEMS
    }
}
