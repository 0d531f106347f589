//! `connectors journal list|show|reconcile`, and the journal the `--key` flags record in.

use std::sync::Arc;

use connectors::core::journal::{settle, Completed, Entry, Journal, OperationKey, State};
use connectors::creds::journal::JOURNAL_DIR_VAR;
use connectors::creds::FileJournal;
use serde_json::{json, Value};

use crate::cli::JournalCmd;
use crate::ctx::Ctx;
use crate::exit::CliResult;
use crate::output::{pairs, table};

/// The journal: `API_JOURNAL_DIR`, else `journal/` in the credential store's directory.
pub fn open(ctx: &Ctx) -> CliResult<Arc<dyn Journal>> {
    let dir = match ctx.env.get(JOURNAL_DIR_VAR) {
        Some(d) if !d.trim().is_empty() => d.into(),
        _ => ctx.store_dir.join("journal"),
    };
    let j = FileJournal::open(dir).map_err(connectors::core::Error::from)?;
    Ok(Arc::new(j))
}

/// Parses a `--key` / `KEY` argument.
pub fn key(k: &str) -> CliResult<OperationKey> {
    Ok(OperationKey::new(k).map_err(connectors::core::Error::from)?)
}

fn entry_json(e: &Entry) -> Value {
    serde_json::to_value(e).unwrap_or(Value::Null)
}

fn state_text(s: &State) -> String {
    match s {
        State::Sending => "sending".into(),
        State::Done { id } => format!("done {id}"),
        State::Failed { code: Some(c), .. } => format!("failed ({c})"),
        State::Failed { code: None, .. } => "failed".into(),
    }
}

/// Prints a keyed create's result.
pub fn emit_completed(ctx: &Ctx, done: &Completed) {
    let how = format!("{:?}", done.how).to_lowercase();
    ctx.out.emit(
        &json!({"id": done.id, "how": how, "entry": entry_json(&done.entry)}),
        || {
            format!(
                "✔ done ({how})\n{}",
                pairs(&[
                    ("id", done.id.clone()),
                    ("key", done.entry.key.to_string()),
                    ("account", done.entry.account.clone()),
                ])
            )
        },
    );
}

/// Runs `journal …`.
pub async fn run(ctx: &Ctx, cmd: JournalCmd) -> CliResult {
    let journal = open(ctx)?;
    match cmd {
        JournalCmd::List => {
            let all = journal
                .list()
                .await
                .map_err(connectors::core::Error::from)?;
            let rows: Vec<Vec<String>> = all
                .iter()
                .map(|e| {
                    vec![
                        e.key.to_string(),
                        format!("{}.{}", e.platform, e.operation),
                        e.account.clone(),
                        state_text(&e.state),
                        e.attempts.to_string(),
                    ]
                })
                .collect();
            ctx.out
                .emit(&Value::Array(all.iter().map(entry_json).collect()), || {
                    table(&["KEY", "OPERATION", "ACCOUNT", "STATE", "ATTEMPTS"], &rows)
                });
            Ok(())
        }
        JournalCmd::Show { key: k } => {
            let k = key(&k)?;
            let e = journal
                .get(&k)
                .await
                .map_err(connectors::core::Error::from)?;
            let Some(e) = e else {
                return Err(connectors::core::Error::validation(
                    "key",
                    format!("no journal entry for `{k}`"),
                )
                .into());
            };
            ctx.out.emit(&entry_json(&e), || {
                serde_json::to_string_pretty(&e).unwrap_or_default()
            });
            Ok(())
        }
        JournalCmd::Reconcile { key: only } => {
            let keys: Vec<OperationKey> = match only {
                Some(k) => vec![key(&k)?],
                None => journal
                    .list()
                    .await
                    .map_err(connectors::core::Error::from)?
                    .into_iter()
                    .filter(|e| e.state == State::Sending)
                    .map(|e| e.key)
                    .collect(),
            };
            let mut out = Vec::new();
            let mut rows = Vec::new();
            let mut douyin = None;
            for k in keys {
                let platform = journal
                    .get(&k)
                    .await
                    .map_err(connectors::core::Error::from)?
                    .map(|e| e.platform);
                let result = match platform.as_deref() {
                    Some(connectors::douyin::PLATFORM) => {
                        if douyin.is_none() {
                            let built = ctx.build(&["douyin"], false, None)?;
                            douyin = Some(built.reg.require_douyin()?.journaled(journal.clone()));
                        }
                        let Some(d) = douyin.as_ref() else { continue };
                        settle(&journal, &k, |e| async move { d.reconcile(&e).await }).await
                    }
                    Some(other) => Err(connectors::core::Error::validation(
                        "key",
                        format!("`{k}` is a {other} create; this command reconciles Douyin creates, the next keyed call reconciles the others"),
                    )),
                    None => Ok(None),
                };
                let (state, detail) = match result {
                    Ok(Some(e)) => (state_text(&e.state), String::new()),
                    Ok(None) => ("no entry".into(), String::new()),
                    Err(e) => ("sending".into(), e.to_string()),
                };
                out.push(json!({"key": k.as_str(), "state": state, "detail": detail}));
                rows.push(vec![k.to_string(), state, detail]);
            }
            ctx.out.emit(&Value::Array(out), || {
                table(&["KEY", "STATE", "DETAIL"], &rows)
            });
            Ok(())
        }
    }
}
