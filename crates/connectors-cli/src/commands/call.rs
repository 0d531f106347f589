//! `connectors call PLATFORM METHOD PATH [--data JSON]`: the original `call_api`.

use connectors::core::connector::RawRequest;
use connectors::core::Error;
use connectors::IntoMethod;
use serde_json::json;

use super::parse_json;
use crate::cli::CallArgs;
use crate::ctx::Ctx;
use crate::exit::CliResult;

/// Runs `call`.
pub async fn run(ctx: &Ctx, a: CallArgs) -> CliResult {
    // Input first: a bad method or bad JSON is reported before any configuration is read.
    let method = a.method.as_str().into_method()?;
    let data = a
        .data
        .as_deref()
        .map(|d| parse_json("--data", d))
        .transpose()?;
    let known = known_platforms(ctx);
    if !known.iter().any(|p| p == &a.platform) {
        return Err(Error::validation(
            "platform",
            format!(
                "unknown platform `{}`; known: {}",
                a.platform,
                known.join(", ")
            ),
        )
        .into());
    }
    let built = ctx.build(&[a.platform.as_str()], false, None)?;
    let mut req = RawRequest::new(method, a.path);
    if let Some(d) = data {
        req = req.with_data(d);
    }
    if let Some(acc) = a.account {
        req = req.with_account(acc);
    }
    let resp = built.reg.call(&a.platform, req).await?;
    ctx.out.emit(
        &json!({"status": resp.status.as_u16(), "body": resp.body}),
        || {
            format!(
                "HTTP {}\n{}",
                resp.status,
                serde_json::to_string_pretty(&resp.body).unwrap_or_default()
            )
        },
    );
    Ok(())
}

/// douyin, ths, erp and every content profile (built-in, from the profile file or
/// CONTENT_PROFILES).
fn known_platforms(ctx: &Ctx) -> Vec<String> {
    let mut v: Vec<String> = ["douyin", "ths", "erp"]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    match connectors::content::profile_names(&ctx.env) {
        Ok(names) => v.extend(names),
        Err(_) => v.extend(
            ["xiaohongshu", "zhihu", "toutiao"]
                .iter()
                .map(|s| (*s).to_owned()),
        ),
    }
    v
}
