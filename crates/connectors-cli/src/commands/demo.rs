//! `connectors demo`: a guided tour against an in-process sandbox. Everything a user would do
//! with real accounts, with the fakes standing in for the platforms: no credentials, no network.
//!
//! The tour goes through the same public API as any program: secrets go into an encrypted
//! store in a temporary directory, the registry is built from plain variables over that store,
//! and the OAuth login runs the `douyin login` code with a simulated user following the
//! authorization URL.

use std::time::{Duration, Instant};

use chrono::NaiveDate;
use connectors::content::fake::FakeStats;
use connectors::content::Content;
use connectors::core::credentials::credential_for_var as store_key_for_var;
use connectors::core::env::{Env, MapEnv};
use connectors::creds::{CredentialStore, StoreConfig};
use connectors::douyin::fake::fast_retry;
use connectors::douyin::{
    ImagePost, ImageSource, Statistics, UploadProgress, VideoPost, VideoSource,
};
use connectors::erp::{NewOrder, OrderQuery, Period};
use connectors::layer::KNOWN_PLATFORMS;
use connectors::ths::{HistoryQuotation, RealTimeQuotation};
use connectors::Connectors;
use futures::TryStreamExt;
use rand::Rng;
use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

use super::douyin::{bind_login, login_with};
use super::webhook::{self, Delivery};
use crate::cli::DemoArgs;
use crate::ctx::Ctx;
use crate::exit::{self, CliError, CliResult};
use crate::output::{bytes, print_stdout, system_time, Output};
use crate::sandbox::{Sandbox, Seed};

const MIB: u64 = 1024 * 1024;

/// The report: `✔` lines as the tour goes (or one JSON document at the end).
struct Report {
    out: Output,
    section: String,
    steps: Vec<Value>,
}

impl Report {
    fn section(&mut self, name: &str) {
        self.section = name.to_owned();
        if !self.out.json {
            print_stdout(&format!("\n{name}"));
        }
    }

    fn ok(&mut self, text: impl Into<String>, data: Value) {
        let text = text.into();
        if !self.out.json {
            print_stdout(&format!("  ✔ {text}"));
        }
        self.steps
            .push(json!({"section": self.section, "step": text, "data": data}));
    }
}

fn failed(what: &str, detail: impl std::fmt::Display) -> CliError {
    CliError::new(exit::OTHER, format!("demo: {what}: {detail}"))
}

/// Runs `demo`.
pub async fn run(ctx: &Ctx, a: DemoArgs) -> CliResult {
    let started = Instant::now();
    let mut r = Report {
        out: ctx.out,
        section: String::new(),
        steps: Vec::new(),
    };
    if !ctx.out.json {
        print_stdout("connectors demo: every platform against an in-process sandbox (no credentials, no network)");
    }

    // ---- sandbox ---------------------------------------------------------------------------
    r.section("Sandbox");
    let seed = Seed::from_env().or_random();
    let sb = Sandbox::start(&seed).await?;
    r.ok(
        "started fakes of Douyin, iFinD, an ERP, Xiaohongshu, Zhihu and Toutiao on 127.0.0.1",
        json!({"douyin": sb.douyin.uri(), "ths": sb.ths.uri(), "erp": sb.erp.uri()}),
    );

    // ---- credentials -------------------------------------------------------------------------
    r.section("Credentials");
    let tmp = tempfile::tempdir().map_err(|e| failed("temporary directory", e))?;
    let (plain, secrets) = split_secrets(sb.env_vars());
    let env = Env::from_source(plain.iter().cloned().collect::<MapEnv>());
    let store = CredentialStore::open(
        StoreConfig::new(tmp.path().join(".credentials")).with_env(env.clone()),
    )?;
    let mut stored = Vec::new();
    for (var, value) in &secrets {
        let Some((platform, name)) = store_key_for_var(var, KNOWN_PLATFORMS) else {
            return Err(failed("no store name for", var));
        };
        store.set(&platform, &name, value.as_str())?;
        stored.push(format!("{platform}/{name}"));
    }
    r.ok(
        format!(
            "stored {} secrets encrypted (AES-256-GCM) in {}",
            stored.len(),
            store.dir().display()
        ),
        json!({"stored": stored}),
    );
    let back = store
        .get("douyin", "client_secret")?
        .ok_or_else(|| failed("read back", "douyin/client_secret is missing"))?;
    r.ok(
        format!(
            "read back douyin/client_secret from the {}: {} (a DOUYIN_CLIENT_SECRET variable would win)",
            back.origin,
            back.value.masked()
        ),
        json!({"masked": back.value.masked()}),
    );
    let reg = Connectors::builder()
        .env(env)
        .credential_store(store.clone())
        .tune_douyin(|c| {
            c.upload.part_size = 5 * MIB;
            c.upload.single_upload_max = MIB;
            c.transport.retry = fast_retry();
        })
        .build()?;
    r.ok(
        format!(
            "registry built from plain variables over the store: {}",
            reg.platforms().join(", ")
        ),
        json!({"platforms": reg.platforms()}),
    );

    douyin(&mut r, &sb, &reg, &store, tmp.path(), a.video_mib).await?;
    ths(&mut r, &reg).await?;
    erp(&mut r, &reg).await?;
    content(&mut r, &sb, &reg).await?;

    // ---- summary -----------------------------------------------------------------------------
    r.section("Summary");
    let snapshot = connectors::core::stats::snapshot();
    let mut calls = Vec::new();
    for (platform, s) in snapshot.iter().filter(|(_, s)| s.calls > 0) {
        calls.push(format!("{platform} {}", s.calls));
    }
    // The steps before this summary line, which is not one of them.
    let n = r.steps.len();
    r.ok(
        format!(
            "{n} steps passed in {:.1} s; operations per platform: {}",
            started.elapsed().as_secs_f64(),
            calls.join(", ")
        ),
        json!({"stats": snapshot}),
    );
    if ctx.out.json {
        print_stdout(
            &serde_json::to_string_pretty(&json!({"demo": "passed", "steps": r.steps}))
                .unwrap_or_default(),
        );
    }
    drop(sb);
    Ok(())
}

/// `(NAME, value)` pairs.
type Vars = Vec<(String, String)>;

/// The sandbox's variables split into plain ones (kept as variables) and secrets (moved
/// into the store), by each variable's documentation.
fn split_secrets(vars: Vars) -> (Vars, Vars) {
    let secret_names: Vec<&str> = connectors::env_vars()
        .into_iter()
        .flat_map(|g| g.vars)
        .filter(|v| v.secret)
        .map(|v| v.name)
        .collect();
    let (secrets, mut plain): (Vec<_>, Vec<_>) = vars
        .into_iter()
        .partition(|(k, _)| secret_names.contains(&k.as_str()));
    // Any free port for the OAuth redirect, and quick retries should a fake be slow.
    plain.retain(|(k, _)| k != "DOUYIN_REDIRECT_URI");
    plain.push((
        "DOUYIN_REDIRECT_URI".into(),
        "http://127.0.0.1:0/callback".into(),
    ));
    plain.push(("API_RETRY_DELAY".into(), "0.05".into()));
    (plain, secrets)
}

async fn douyin(
    r: &mut Report,
    sb: &Sandbox,
    reg: &Connectors,
    store: &CredentialStore,
    tmp: &std::path::Path,
    video_mib: u64,
) -> CliResult {
    r.section("Douyin");
    let client = reg.require_douyin()?.clone();
    let scopes: Vec<String> = [
        "user_info",
        "video.create.bind",
        "video.list.bind",
        "video.data.bind",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();

    // OAuth: the user is simulated by an HTTP client that opens the authorization URL; the fake
    // approves at once and redirects to the login listener.
    let listener = bind_login(&client, 0).await?;
    let redirect = listener.redirect_uri().to_owned();
    let (url_tx, url_rx) = tokio::sync::oneshot::channel::<String>();
    let user = tokio::spawn(async move {
        let url = url_rx.await.map_err(|e| e.to_string())?;
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| e.to_string())?;
        let resp = http.get(url).send().await.map_err(|e| e.to_string())?;
        Ok::<u16, String>(resp.status().as_u16())
    });
    let info = login_with(
        &client,
        listener,
        &scopes,
        Duration::from_secs(30),
        |url, _| {
            let _ = url_tx.send(url.to_owned());
        },
    )
    .await?;
    let page = user
        .await
        .map_err(|e| failed("simulated user", e))?
        .map_err(|e| failed("simulated user", e))?;
    r.ok(
        format!(
            "OAuth: a simulated user approved; the redirect reached {redirect} (HTTP {page}), state checked, code exchanged"
        ),
        json!({"redirect_uri": redirect}),
    );
    let open_id = info.open_id.clone();
    let persisted = store
        .token_keys()?
        .iter()
        .any(|k| k.platform == "douyin" && k.account == open_id);
    if !persisted {
        return Err(failed("login", "the tokens were not stored"));
    }
    r.ok(
        format!(
            "tokens of {open_id} stored encrypted; access token expires {}",
            info.expires_at.map_or("?".into(), system_time)
        ),
        json!({"open_id": open_id, "scopes": info.scopes}),
    );
    let refreshed = client.refresh(&open_id).await?;
    r.ok(
        format!(
            "access token refreshed; expires {}",
            refreshed.expires_at.map_or("?".into(), system_time)
        ),
        json!({}),
    );

    // A generated video, large enough for several 5 MiB parts, streamed from disk.
    let path = tmp.join("demo.mp4");
    write_video(&path, video_mib * MIB).await?;
    let parts = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
    let progress = {
        let parts = parts.clone();
        move |p: UploadProgress| {
            if let Some(n) = p.parts {
                parts.store(n, std::sync::atomic::Ordering::Relaxed);
            }
        }
    };
    let post = VideoPost::new("connectors 演示视频").description("#connectors 分片上传演示");
    let video = client
        .publish_video_with_progress(&open_id, VideoSource::path(&path), &post, &progress)
        .await?;
    let parts = parts.load(std::sync::atomic::Ordering::Relaxed);
    let received = sb.douyin.chunked_uploads().last().map(|u| u.parts.len());
    r.ok(
        format!(
            "video of {} uploaded in {parts} parts of at most 5 MiB (the fake received {}) and published: item {}",
            bytes(video_mib * MIB),
            received.unwrap_or(0),
            video.item_id
        ),
        json!({"item_id": video.item_id, "parts": parts}),
    );
    let images = vec![
        ImageSource::bytes(png(1), "cover.png"),
        ImageSource::bytes(png(2), "detail.png"),
    ];
    let pics = client
        .publish_images(&open_id, images, &ImagePost::new("图文演示"))
        .await?;
    r.ok(
        format!(
            "image post with {} images published: item {}",
            pics.image_ids.len(),
            pics.item_id
        ),
        json!({"item_id": pics.item_id}),
    );
    let counters = Statistics {
        play_count: 1288,
        digg_count: 96,
        comment_count: 12,
        share_count: 7,
        ..Statistics::default()
    };
    sb.douyin.set_statistics(&video.item_id, counters);
    let items: Vec<_> = client.video_list(open_id.clone(), 10).try_collect().await?;
    r.ok(
        format!("listed {} items of the account, newest first", items.len()),
        json!({"items": items.iter().map(|i| &i.item_id).collect::<Vec<_>>()}),
    );
    let data = client
        .video_data(&open_id, std::slice::from_ref(&video.item_id))
        .await?;
    let s = data
        .first()
        .map(|i| i.statistics.clone())
        .unwrap_or_default();
    r.ok(
        format!(
            "statistics of {}: {} plays, {} likes, {} comments, {} shares",
            video.item_id, s.play_count, s.digg_count, s.comment_count, s.share_count
        ),
        json!({"statistics": s}),
    );

    // Webhooks: the platform signs an event with the client secret; the receiver verifies it.
    let listener = TcpListener::bind(("127.0.0.1", 0))
        .await
        .map_err(|e| failed("webhook listener", e))?;
    let mut rx = webhook::start(listener, "/webhook", client.webhook_handler()?)?;
    let body = sb.douyin.webhook_body(
        "create_video",
        json!({"item_id": video.item_id, "share_id": "demo-share"}),
    );
    let msg_id = sb.douyin.next_msg_id();
    let first = sb
        .douyin
        .deliver_signed(&rx.url, body.clone(), &msg_id)
        .await?;
    let got = rx.deliveries.recv().await;
    match &got {
        Some(Delivery::Event { name, .. }) if name == "create_video" && first.status == 200 => {}
        other => {
            return Err(failed(
                "webhook",
                format!("expected a verified event, got {other:?}"),
            ))
        }
    }
    r.ok(
        format!(
            "signed webhook create_video delivered to {} and verified (Msg-Id {msg_id})",
            rx.url
        ),
        json!({"msg_id": msg_id}),
    );
    let again = sb.douyin.deliver_signed(&rx.url, body, &msg_id).await?;
    let replay = rx.deliveries.recv().await;
    let forged = reqwest::Client::builder()
        .no_proxy()
        .build()
        .map_err(|e| failed("http client", e))?
        .post(&rx.url)
        .header("x-douyin-signature", "0".repeat(40))
        .header("msg-id", "forged-1")
        .body(r#"{"event":"create_video","content":{}}"#)
        .send()
        .await
        .map_err(|e| failed("forged webhook", e))?
        .status()
        .as_u16();
    let forged_seen = rx.deliveries.recv().await;
    rx.stop().await;
    match (&replay, &forged_seen) {
        (Some(Delivery::Rejected { error, .. }), Some(Delivery::Rejected { status: 401, .. }))
            if error.contains("already received") => {}
        other => return Err(failed("webhook checks", format!("{other:?}"))),
    }
    r.ok(
        format!(
            "the platform's retry of the same Msg-Id was recognised as a replay (HTTP {}); a forged signature got HTTP {forged}",
            again.status
        ),
        json!({}),
    );
    Ok(())
}

/// A file that looks like an MP4 (an `ftyp` box) followed by filler.
async fn write_video(path: &std::path::Path, size: u64) -> CliResult {
    let mut f = tokio::fs::File::create(path)
        .await
        .map_err(|e| failed("video file", e))?;
    let mut chunk = vec![0u8; MIB as usize];
    let header = b"\0\0\0\x18ftypmp42\0\0\0\0mp42isom";
    chunk[..header.len()].copy_from_slice(header);
    let mut rng = rand::thread_rng();
    let mut left = size;
    let mut first = true;
    while left > 0 {
        let n = left.min(MIB) as usize;
        if !first {
            rng.fill(&mut chunk[..n]);
        }
        first = false;
        f.write_all(&chunk[..n])
            .await
            .map_err(|e| failed("video file", e))?;
        left -= n as u64;
    }
    f.flush().await.map_err(|e| failed("video file", e))?;
    Ok(())
}

/// A few bytes that start like a PNG.
fn png(n: u8) -> Vec<u8> {
    let mut v = b"\x89PNG\r\n\x1a\n".to_vec();
    v.extend(std::iter::repeat_n(n, 2048));
    v
}

async fn ths(r: &mut Report, reg: &Connectors) -> CliResult {
    r.section("同花顺 iFinD");
    let ths = reg.require_ths()?;
    let q = RealTimeQuotation::new(["600519.SH", "000001.SZ"], ["latest", "open"])?;
    let t = ths.real_time_quotation(&q).await?;
    let mut quotes = Vec::new();
    let mut time = String::new();
    for table in &t {
        if let Some(row) = table.rows().next() {
            time = row.time().unwrap_or_default().to_owned();
            quotes.push(format!(
                "{} {}",
                row.code().unwrap_or("?"),
                row.number("latest").map_or("-".into(), |v| v.to_string())
            ));
        }
    }
    r.ok(
        format!("real-time quotes at {time}: {}", quotes.join(", ")),
        serde_json::to_value(&t).unwrap_or_default(),
    );
    let (from, to) = (
        NaiveDate::from_ymd_opt(2024, 6, 3),
        NaiveDate::from_ymd_opt(2024, 6, 28),
    );
    let (Some(from), Some(to)) = (from, to) else {
        return Err(failed("dates", "invalid"));
    };
    let h = HistoryQuotation::new("600519.SH", "open,close", from, to)?;
    let t = ths.cmd_history_quotation(&h).await?;
    let table = t
        .get("600519.SH")
        .ok_or_else(|| failed("history", "600519.SH missing"))?;
    let closes = table.numbers("close").unwrap_or_default();
    let first = closes.first().copied().flatten();
    let last = closes.last().copied().flatten();
    r.ok(
        format!(
            "daily history of 600519.SH {from}..{to}: {} trading days, close {} → {}",
            table.len(),
            first.map_or("-".into(), |v| v.to_string()),
            last.map_or("-".into(), |v| v.to_string())
        ),
        json!({"days": table.len()}),
    );
    Ok(())
}

async fn erp(r: &mut Report, reg: &Connectors) -> CliResult {
    r.section("ERP");
    let erp = reg.require_erp()?;
    let order = NewOrder::new("演示客户")
        .item("SKU-RED-01", 2.into(), "9.90".parse()?)
        .item("SKU-BLUE-02", 1.into(), "25.00".parse()?)
        .external_id("demo-0001");
    let created = erp.create_order(&order).await?;
    r.ok(
        format!(
            "order {} created: total {} (idempotency key {}, sent on every attempt)",
            created.id,
            created.total_amount.unwrap_or_else(|| order.total()),
            created.idempotency_key.as_deref().unwrap_or("-")
        ),
        json!({"id": created.id}),
    );
    let orders: Vec<_> = erp.list_orders(OrderQuery::new()).try_collect().await?;
    if !orders.iter().any(|o| o.id == created.id) {
        return Err(failed("orders", "the new order is not listed"));
    }
    r.ok(
        format!("listed {} orders; the new one is among them", orders.len()),
        json!({"count": orders.len()}),
    );
    let period = Period::month(2024, 1)?;
    let f = erp.financial_data(&period).await?;
    let m = |v: Option<connectors::erp::Money>| v.map_or("-".into(), |m| m.to_string());
    r.ok(
        format!(
            "financial data {period}: revenue {}, expenses {}, profit {} {}",
            m(f.revenue),
            m(f.expenses),
            m(f.profit),
            f.currency.as_deref().unwrap_or("")
        ),
        json!({"revenue": f.revenue}),
    );
    let raw = reg
        .call_api(
            "erp",
            "/api/orders",
            "GET",
            Some(json!({"status": "paid", "page_index": 1, "page_size": 5})),
        )
        .await?;
    let listed = raw.body["data"].as_array().map_or(0, Vec::len);
    r.ok(
        format!(
            "the original call_api(\"erp\", \"/api/orders\", \"GET\", {{status: paid, page 1}}): HTTP {}, {listed} orders on the page",
            raw.status.as_u16()
        ),
        json!({}),
    );
    Ok(())
}

async fn content(r: &mut Report, sb: &Sandbox, reg: &Connectors) -> CliResult {
    r.section("Content platforms");
    let zhihu = reg.require_content("zhihu")?;
    let post = Content::new("用 Rust 写平台连接器", "重试、令牌刷新与签名校验……")
        .with_tags(["Rust", "API"]);
    let p = zhihu.publish(&post).await?;
    sb.zhihu.set_stats(
        &p.id,
        FakeStats {
            views: 5210,
            likes: 321,
            comments: 18,
            shares: 9,
            favorites: 77,
        },
    );
    let s = zhihu.stats(&p.id).await?;
    r.ok(
        format!("published to zhihu: id {}; stats {}", p.id, counters(&s)),
        json!({"id": p.id}),
    );
    let xhs = reg.require_content("xiaohongshu")?;
    let p = xhs
        .publish(
            &Content::new("周末咖啡地图", "三家新店……")
                .with_images(["https://img.example.com/1.jpg"]),
        )
        .await?;
    let s = xhs.stats(&p.id).await?;
    r.ok(
        format!(
            "published to xiaohongshu with xhs_sign request signing: id {}; stats {}",
            p.id,
            counters(&s)
        ),
        json!({"id": p.id}),
    );
    let toutiao = reg.require_content("toutiao")?;
    let article = Content::new("平台连接器的重试策略", "什么时候重试，什么时候绝不重试……")
        .with_images(["https://img.example.com/cover.jpg"])
        .with_tags(["技术"]);
    let p = toutiao.publish(&article).await?;
    sb.toutiao.set_stats(
        &p.id,
        FakeStats {
            views: 880,
            likes: 42,
            comments: 5,
            shares: 3,
            favorites: 11,
        },
    );
    let s = toutiao.stats(&p.id).await?;
    r.ok(
        format!(
            "published an article to toutiao: id {}; stats {}",
            p.id,
            counters(&s)
        ),
        json!({"id": p.id}),
    );
    Ok(())
}

/// The counters a profile maps, as `321 likes, 18 comments`.
fn counters(s: &connectors::content::ContentStats) -> String {
    let all = [
        (s.views, "views"),
        (s.likes, "likes"),
        (s.comments, "comments"),
        (s.shares, "shares"),
        (s.favorites, "favorites"),
    ];
    let shown: Vec<String> = all
        .iter()
        .filter_map(|(v, name)| v.map(|v| format!("{v} {name}")))
        .collect();
    if shown.is_empty() {
        "(no counters mapped)".to_owned()
    } else {
        shown.join(", ")
    }
}
