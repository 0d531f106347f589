//! `connectors creds set|get|list|delete|validate|rotate-key`: the encrypted store.

use connectors::core::credentials::{env_var_name, CredentialOrigin};
use connectors::core::token::TokenKey;
use connectors::core::Error;
use connectors::creds::{CredentialStore, EncryptionKey, KeyOrigin};
use serde_json::json;

use super::read_secret;
use crate::cli::CredsCmd;
use crate::ctx::Ctx;
use crate::exit::{CliError, CliResult};
use crate::output::{pairs, table};

/// The variable `rotate-key` reads the new key from, before stdin.
pub const NEW_KEY_VAR: &str = "CONNECTORS_NEW_ENCRYPTION_KEY";

/// Runs a `creds` subcommand.
pub async fn run(ctx: &Ctx, cmd: CredsCmd) -> CliResult {
    match cmd {
        CredsCmd::Set {
            platform,
            name,
            force,
        } => set(ctx, &platform, &name, force),
        CredsCmd::Get {
            platform,
            name,
            reveal,
        } => get(ctx, &platform, &name, reveal),
        CredsCmd::List { platform } => list(ctx, platform.as_deref()),
        CredsCmd::Delete {
            platform,
            name,
            token,
        } => delete(ctx, &platform, &name, token),
        CredsCmd::Validate {
            platform,
            names,
            online,
        } => validate(ctx, &platform, &names, online).await,
        CredsCmd::RotateKey { generate } => rotate_key(ctx, generate),
    }
}

fn open(ctx: &Ctx, create: bool) -> CliResult<CredentialStore> {
    match ctx.store(create)? {
        Some(s) => {
            warn_key_beside_store(ctx, &s);
            Ok(s)
        }
        None => Err(Error::config_var(
            "API_CREDENTIALS_DIR",
            format!(
                "no credential store at {} (store a credential with `connectors creds set` first, or point --store-dir / API_CREDENTIALS_DIR at it)",
                ctx.store_dir.display()
            ),
        )
        .into()),
    }
}

/// A key file inside the store's directory protects nothing from whoever copies the
/// directory (a backup, a `git add .`): say so, and how to keep the key elsewhere.
fn warn_key_beside_store(ctx: &Ctx, store: &CredentialStore) {
    if let KeyOrigin::File(key) = store.key_origin() {
        if key.parent() == Some(store.dir()) {
            ctx.out.note(&format!(
                "warning: the key that decrypts this store is {}, in the same directory as the ciphertext: \
                 anyone who copies the directory can read every secret. Keep the key elsewhere: move the file \
                 out (a password manager, another disk) and set API_CREDENTIAL_ENCRYPTION_KEY to its content, \
                 e.g. `export API_CREDENTIAL_ENCRYPTION_KEY=$(cat ~/secure/connectors.key)`",
                key.display()
            ));
        }
    }
}

fn origin_text(o: &CredentialOrigin) -> String {
    match o {
        CredentialOrigin::Environment(v) => format!("environment ({v})"),
        CredentialOrigin::Store => "store".to_owned(),
        CredentialOrigin::Other(s) => s.clone(),
    }
}

fn set(ctx: &Ctx, platform: &str, name: &str, force: bool) -> CliResult {
    // Check the names before asking for the secret: the store's syntax rule first, then
    // whether any variable stands for them (a typo would be stored where nothing reads it).
    connectors::creds::names::check_platform(platform)?;
    connectors::creds::names::check_name(name)?;
    crate::known::check(platform, name, force)?;
    let var = env_var_name(platform, name);
    let secret = read_secret(&format!("{platform}/{name} (input hidden): "), "value")?;
    let store = open(ctx, true)?;
    store.set(platform, name, secret)?;
    let overridden = ctx.env.is_set(&var);
    ctx.out.emit(
        &json!({"stored": {"platform": platform, "name": name, "variable": var,
                "dir": store.dir().display().to_string(), "overridden_by_environment": overridden}}),
        || {
            let mut s = format!(
                "✔ stored {platform}/{name} encrypted in {} (stands for {var})",
                store.dir().display()
            );
            if overridden {
                s.push_str(&format!(
                    "\n  note: {var} is set in the environment and takes priority over the stored value"
                ));
            }
            s
        },
    );
    Ok(())
}

fn get(ctx: &Ctx, platform: &str, name: &str, reveal: bool) -> CliResult {
    connectors::creds::names::check_platform(platform)?;
    connectors::creds::names::check_name(name)?;
    let var = env_var_name(platform, name);
    let found = match ctx.store(false)? {
        Some(store) => store.get(platform, name)?,
        None => ctx
            .env
            .secret(&var)
            .map(|value| connectors::core::credentials::Credential {
                value,
                origin: CredentialOrigin::Environment(var.clone()),
            }),
    };
    let Some(c) = found else {
        return Err(Error::config_var(
            var.clone(),
            format!(
                "{platform}/{name} is neither set in the environment nor stored; set {var} or run `connectors creds set {platform} {name}`"
            ),
        )
        .into());
    };
    let shown = if reveal {
        c.value.expose_secret().to_owned()
    } else {
        c.value.masked()
    };
    let origin = origin_text(&c.origin);
    ctx.out.emit(
        &json!({"platform": platform, "name": name, "variable": var, "origin": origin,
                "value": shown, "revealed": reveal}),
        || {
            pairs(&[
                ("credential", format!("{platform}/{name}")),
                ("value", shown.clone()),
                ("from", origin.clone()),
                ("variable", var.clone()),
            ])
        },
    );
    Ok(())
}

fn list(ctx: &Ctx, only: Option<&str>) -> CliResult {
    let store = open(ctx, false)?;
    let platforms = match only {
        Some(p) => {
            connectors::creds::names::check_platform(p)?;
            vec![p.to_owned()]
        }
        None => store.list_platforms()?,
    };
    let tokens = store.token_keys()?;
    let mut rows = Vec::new();
    let mut items = Vec::new();
    for p in &platforms {
        for name in store.list(p)? {
            let var = env_var_name(p, &name);
            let source = if ctx.env.is_set(&var) {
                "environment wins"
            } else {
                "store"
            };
            rows.push(vec![
                p.clone(),
                name.clone(),
                "credential".into(),
                var.clone(),
                source.into(),
            ]);
            items.push(json!({"platform": p, "name": name, "kind": "credential", "variable": var, "source": source}));
        }
        for k in tokens.iter().filter(|k| &k.platform == p) {
            rows.push(vec![
                p.clone(),
                k.account.clone(),
                "token".into(),
                "-".into(),
                "store".into(),
            ]);
            items.push(json!({"platform": p, "name": k.account, "kind": "token"}));
        }
    }
    ctx.out.emit(
        &json!({"dir": store.dir().display().to_string(), "entries": items}),
        || {
            format!(
                "{}\n({} in {})",
                table(&["PLATFORM", "NAME", "KIND", "VARIABLE", "SOURCE"], &rows),
                rows.len(),
                store.dir().display()
            )
        },
    );
    Ok(())
}

fn delete(ctx: &Ctx, platform: &str, name: &str, token: bool) -> CliResult {
    let store = open(ctx, false)?;
    let removed = if token {
        store.delete_token(&TokenKey::new(platform, name))?
    } else {
        store.delete(platform, name)?
    };
    let what = if token { "token set" } else { "credential" };
    ctx.out.emit(
        &json!({"deleted": removed, "platform": platform, "name": name, "kind": what}),
        || {
            if removed {
                format!("✔ deleted {what} {platform}/{name}")
            } else {
                format!("nothing stored as {what} {platform}/{name}")
            }
        },
    );
    Ok(())
}

/// What a platform needs, by default.
fn required(platform: &str) -> Option<&'static [&'static str]> {
    Some(match platform {
        "douyin" => &["client_key", "client_secret"],
        "ths" => &["refresh_token"],
        "erp" => &["api_url", "api_key"],
        "xiaohongshu" => &["base_url", "app_id", "app_secret", "access_token"],
        "zhihu" | "toutiao" => &["base_url", "access_token"],
        _ => return None,
    })
}

async fn validate(ctx: &Ctx, platform: &str, names: &[String], online: bool) -> CliResult {
    connectors::creds::names::check_platform(platform)?;
    let names: Vec<&str> = if names.is_empty() {
        required(platform).map(<[&str]>::to_vec).ok_or_else(|| {
            CliError::from(Error::validation(
                "names",
                format!(
                    "give the credential names to require for `{platform}` (no default for it)"
                ),
            ))
        })?
    } else {
        names.iter().map(String::as_str).collect()
    };
    let rows_and_report = match ctx.store(false)? {
        Some(store) => {
            let report = store.validate(platform, &names)?;
            let rows: Vec<Vec<String>> = report
                .entries()
                .iter()
                .map(|e| {
                    vec![
                        e.name.clone(),
                        e.env_var.clone(),
                        e.origin.as_ref().map_or("MISSING".to_owned(), origin_text),
                    ]
                })
                .collect();
            (rows, Some(report))
        }
        None => {
            let rows = names
                .iter()
                .map(|n| {
                    let var = env_var_name(platform, n);
                    let found = if ctx.env.is_set(&var) {
                        format!("environment ({var})")
                    } else {
                        "MISSING".to_owned()
                    };
                    vec![(*n).to_owned(), var, found]
                })
                .collect();
            (rows, None)
        }
    };
    let (rows, report) = rows_and_report;
    let missing: Vec<String> = rows
        .iter()
        .filter(|r| r[2] == "MISSING")
        .map(|r| r[1].clone())
        .collect();
    let mut online_result = None;
    if online && missing.is_empty() {
        let built = ctx.build(&[platform], false, None)?;
        let c = built.reg.connector_for(platform)?;
        online_result = Some(c.check_credentials().await);
    }
    ctx.out.emit(
        &json!({"platform": platform, "complete": missing.is_empty(),
                "entries": rows.iter().map(|r| json!({"name": r[0], "variable": r[1], "found": r[2]})).collect::<Vec<_>>(),
                "online": online_result.as_ref().map(Result::is_ok)}),
        || {
            let mut s = table(&["NAME", "VARIABLE", "FOUND IN"], &rows);
            if let Some(Ok(())) = &online_result {
                s.push_str(&format!("\n✔ {platform} accepted the credentials"));
            }
            s
        },
    );
    if let Some(r) = report {
        r.into_result()?;
    } else if !missing.is_empty() {
        return Err(Error::config_var(
            missing[0].clone(),
            format!("missing for {platform}: {}", missing.join(", ")),
        )
        .into());
    }
    if let Some(Err(e)) = online_result {
        return Err(e.into());
    }
    Ok(())
}

fn rotate_key(ctx: &Ctx, generate: bool) -> CliResult {
    let store = open(ctx, false)?;
    let key = if generate {
        EncryptionKey::generate()?
    } else {
        let text = match ctx.env.secret(NEW_KEY_VAR) {
            Some(s) => s,
            None => read_secret("new key, 32 bytes in base64 (input hidden): ", "new key")?,
        };
        EncryptionKey::from_base64(text.expose_secret()).map_err(|e| {
            CliError::from(Error::validation(
                "new key",
                match e {
                    connectors::creds::CredsError::KeyFormat { problem, .. } => {
                        format!("{problem}; expected 32 random bytes in base64 (`openssl rand -base64 32`)")
                    }
                    other => other.to_string(),
                },
            ))
        })?
    };
    let from_env = matches!(store.key_origin(), KeyOrigin::Environment);
    store.rotate_key(&key)?;
    // A generated key replacing one from the environment exists nowhere else: show it once.
    let shown = (from_env && generate).then(|| key.to_base64());
    let dir = store.dir().display().to_string();
    ctx.out.emit(
        &json!({"rotated": true, "dir": dir, "key_from_environment": from_env,
                "new_key": shown.as_ref().map(|k| k.as_str())}),
        || {
            if from_env {
                let mut s = "✔ store re-encrypted under the new key
  the old key came from \
                             API_CREDENTIAL_ENCRYPTION_KEY: set it to the new key before the next run"
                    .to_owned();
                if let Some(k) = &shown {
                    s.push_str("\n  new key (its only copy, keep it safe):\n");
                    s.push_str(k);
                }
                s
            } else {
                format!("✔ store re-encrypted under the new key (the key file in {dir} was replaced)")
            }
        },
    );
    Ok(())
}
