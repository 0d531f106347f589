//! The fixed answers the bench server sends, built deterministically so every run (and both
//! stacks) reads the same bytes. Shapes follow the platforms' documented envelopes; sizes are
//! what the issue asks for (Douyin 10 items ≈ 8 KB, iFinD history ≥ 1 MB).

use std::fmt::Write as _;

/// `open_id` every Douyin case acts for.
pub const OPEN_ID: &str = "_000QadFMhmU1jNCI3JdPnyVDL6XavC70dFy";
/// The Douyin user access token the bench installs (in memory; never a real token).
pub const DOUYIN_TOKEN: &str = "act.bench0123456789abcdef0123456789abcdefBENCH";
/// The iFinD refresh token (fixed; the bench server accepts any).
pub const THS_REFRESH_TOKEN: &str = "rt-bench-0123456789abcdef";
/// The iFinD access token the bench server hands out.
pub const THS_ACCESS_TOKEN: &str = "at-bench-0123456789abcdef0123456789";
/// The ERP API key.
pub const ERP_API_KEY: &str = "erp-bench-key-0123456789";
/// The Toutiao bearer token.
pub const TOUTIAO_TOKEN: &str = "act.toutiao-bench-0123456789";
/// Items per Douyin answer.
pub const DOUYIN_ITEMS: usize = 10;
/// Orders per ERP page (the connector's default page size).
pub const ERP_ORDERS: usize = 100;
/// iFinD history: codes × rows.
pub const THS_CODES: usize = 5;
/// Rows per code.
pub const THS_ROWS: usize = 3_700;

/// The item ids `video_data` asks for.
pub fn douyin_item_ids() -> Vec<String> {
    (0..DOUYIN_ITEMS)
        .map(|i| format!("@9VwL2uKJ+abc{i:02}XzQ3BxNWRmYmE4NDRlZjkzNWRhM2I5YWJjMDM2ZGU="))
        .collect()
}

fn douyin_items() -> String {
    let mut s = String::new();
    for (i, id) in douyin_item_ids().iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        let n = i as i64 + 1;
        // Counters arrive as numbers here (the common case); the lenient decoders also take
        // strings, which the fast path hands to them.
        let _ = write!(
            s,
            r#"{{"item_id":"{id}","video_id":"v0{n}00fg0000cl5rq2jc77u1qb8vbabg","title":"第{n}条：城市夜跑记录 #跑步 #城市夜景 #运动打卡 @跑团小助手 配速5分30","cover":"https://p3-sign.douyinpic.com/tos-cn-p-0015/o8AgEfAEIQDBAaBn{n}ZCEgnBfDAhKeIAeB9cNAI~tplv-dy-360p.jpeg?x-expires=1701302400&x-signature=Qk2Jv1xYcRj7%2FmHe8pL0aX3tNw4%3D&from=3213915784&s=PackSourceEnum_AWEME_DETAIL&se=false&sc=cover","create_time":{ct},"is_top":{top},"is_reviewed":true,"video_status":1,"share_url":"https://www.iesdouyin.com/share/video/73012345678901{n:05}/?region=CN&mid=7301234567890123456&u_code=0&with_sec_did=1&titleType=title&ts=1700000000&from_ssr=1","media_type":4,"statistics":{{"comment_count":{c},"digg_count":{d},"download_count":{dl},"forward_count":{f},"play_count":{p},"share_count":{sh}}}}}"#,
            ct = 1_700_000_000 - n * 86_400,
            top = i == 0,
            c = 37 * n,
            d = 1_203 * n,
            dl = 3 * n,
            f = 11 * n,
            p = 48_211 * n,
            sh = 19 * n,
        );
    }
    s
}

const DOUYIN_EXTRA: &str = r#""extra":{"error_code":0,"description":"","sub_error_code":0,"sub_description":"","logid":"2023111412345601020304050607080910","now":1700000000}"#;

/// `video_data`'s answer: 10 items.
pub fn douyin_video_data() -> String {
    format!(
        r#"{{"data":{{"error_code":0,"description":"","list":[{}]}},{DOUYIN_EXTRA}}}"#,
        douyin_items()
    )
}

/// One `video_list` page of 10 items.
pub fn douyin_video_list() -> String {
    format!(
        r#"{{"data":{{"error_code":0,"description":"","cursor":1699136000000,"has_more":true,"list":[{}]}},{DOUYIN_EXTRA}}}"#,
        douyin_items()
    )
}

/// `get_access_token`'s answer.
pub fn ths_token() -> String {
    format!(
        r#"{{"errorcode":0,"errmsg":"Success!","data":{{"access_token":"{THS_ACCESS_TOKEN}","expired_time":"2099-12-31 23:59:59"}}}}"#
    )
}

/// The iFinD history codes.
pub fn ths_codes() -> Vec<String> {
    [
        "300033.SZ",
        "600519.SH",
        "000001.SZ",
        "601318.SH",
        "000858.SZ",
    ]
    .iter()
    .take(THS_CODES)
    .map(|s| (*s).to_owned())
    .collect()
}

/// The iFinD history indicators.
pub const THS_INDICATORS: &str = "open,high,low,close,volume,amount";

/// `cmd_history_quotation`'s answer: 5 codes × 3,700 daily rows × 6 indicators (≈ 1.06 MB).
pub fn ths_history() -> String {
    let mut s = String::from(r#"{"errorcode":0,"errmsg":"Success!","tables":["#);
    for (c, code) in ths_codes().iter().enumerate() {
        if c > 0 {
            s.push(',');
        }
        let _ = write!(s, r#"{{"thscode":"{code}","time":["#);
        let start = chrono::NaiveDate::from_ymd_opt(2013, 1, 4).unwrap_or_default();
        for r in 0..THS_ROWS {
            if r > 0 {
                s.push(',');
            }
            let d = start + chrono::Duration::days(r as i64);
            let _ = write!(s, r#""{}""#, d.format("%Y-%m-%d"));
        }
        s.push_str(r#"],"table":{"#);
        for (k, name) in THS_INDICATORS.split(',').enumerate() {
            if k > 0 {
                s.push(',');
            }
            let _ = write!(s, r#""{name}":["#);
            for r in 0..THS_ROWS {
                if r > 0 {
                    s.push(',');
                }
                let base = 10.0 + (c * 7) as f64 + (r % 97) as f64 * 0.13;
                match name {
                    "volume" => {
                        let _ = write!(s, "{}", 1_000_000 + (r * 7_919 + c * 104_729) % 9_000_000);
                    }
                    "amount" => {
                        let _ = write!(s, "{:.2}", base * 1.0e6 + r as f64);
                    }
                    _ => {
                        let _ = write!(s, "{:.2}", base + k as f64 * 0.05);
                    }
                }
            }
            s.push(']');
        }
        s.push_str("}}");
    }
    let _ = write!(
        s,
        r#"],"datatype":[{{"itemid":"open","type":"double"}}],"inputParams":{{}},"perf":12,"dataVol":{}}}"#,
        THS_CODES * THS_ROWS * 6
    );
    s
}

/// One ERP orders page: 100 orders with two lines each, `{"data":[…],"total_count":N}`.
pub fn erp_orders() -> String {
    let mut s = String::from(r#"{"code":0,"message":"ok","data":["#);
    for i in 0..ERP_ORDERS {
        if i > 0 {
            s.push(',');
        }
        let _ = write!(
            s,
            r#"{{"id":"SO-2026-{i:06}","status":"paid","customer":"上海某某贸易有限公司-{i}","currency":"CNY","total_amount":"{a}.50","created_at":"2026-11-{d:02}T08:{m:02}:00+08:00","items":[{{"sku":"SKU-{i}-A","name":"保温杯 500ml","quantity":2,"unit_price":"{u}.00"}},{{"sku":"SKU-{i}-B","name":"替换杯盖","quantity":1,"unit_price":"19.50"}}]}}"#,
            a = 100 + i * 3,
            d = 1 + i % 28,
            m = i % 60,
            u = 40 + i,
        );
    }
    let _ = write!(s, r#"],"total_count":{}}}"#, ERP_ORDERS * 37);
    s
}

/// The content id `stats` asks for.
pub const CONTENT_ID: &str = "7301234567890123456";

/// Toutiao's `article/stats` answer.
pub fn toutiao_stats() -> String {
    format!(
        r#"{{"data":{{"error_code":0,"description":"","item_id":"{CONTENT_ID}","read_count":182734,"digg_count":2211,"comment_count":318,"share_count":97,"favorite_count":405}},"extra":{{"logid":"20231114123456010203","now":1700000000}}}}"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_json_of_the_sizes_asked() {
        for (name, body, min, max) in [
            ("video_data", douyin_video_data(), 7_000, 10_000),
            ("video_list", douyin_video_list(), 7_000, 10_000),
            ("ths_history", ths_history(), 1_000_000, 2_000_000),
            ("erp_orders", erp_orders(), 20_000, 200_000),
            ("toutiao_stats", toutiao_stats(), 100, 1_000),
            ("ths_token", ths_token(), 50, 500),
        ] {
            let v: serde_json::Value =
                serde_json::from_str(&body).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(v.is_object(), "{name}");
            assert!(
                (min..max).contains(&body.len()),
                "{name}: {} bytes",
                body.len()
            );
        }
    }
}
