//! Single-process behaviour of the store: round trip, modes, tampering, keys, environment
//! overlay, validation, damaged and read-only stores, tokens.
#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use conn_core::credentials::{CredentialOrigin, CredentialSource};
use conn_core::env::{Env, MapEnv};
use conn_core::secret::{AccessToken, RefreshToken};
use conn_core::token::{TokenKey, TokenSet, TokenStore};
use conn_creds::format::HEADER_LEN;
use conn_creds::store::{KEY_FILE, KEY_NEXT_FILE, STORE_FILE};
use conn_creds::{
    CredentialStore, CredsError, EncryptionKey, KeyOrigin, RecordRef, ReloadCheck, StoreConfig,
};

fn no_env() -> Env {
    Env::from_source(MapEnv::new())
}

fn config(dir: &Path) -> StoreConfig {
    StoreConfig::new(dir)
        .with_env(no_env())
        .with_reload_check(ReloadCheck::EveryRead)
}

fn open(dir: &Path) -> CredentialStore {
    CredentialStore::open(config(dir)).unwrap()
}

fn mode(p: &Path) -> u32 {
    fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

fn value(store: &CredentialStore, p: &str, n: &str) -> Option<String> {
    store
        .get(p, n)
        .unwrap()
        .map(|c| c.value.expose_secret().to_owned())
}

#[test]
fn round_trip_across_handles_and_reopen() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join(".credentials");
    let a = open(&dir);
    a.set("douyin", "app_id", "aw-123").unwrap();
    a.set("douyin", "app_secret", "s3cret").unwrap();
    a.set("ths", "refresh_token", "rt-1").unwrap();
    a.set("douyin", "app_secret", "s3cret-2").unwrap();

    // Another handle (as another process would) reads the same values.
    let b = open(&dir);
    assert_eq!(
        value(&b, "douyin", "app_secret").as_deref(),
        Some("s3cret-2")
    );
    assert_eq!(
        b.get("douyin", "app_id").unwrap().unwrap().origin,
        CredentialOrigin::Store
    );
    assert_eq!(b.list("douyin").unwrap(), vec!["app_id", "app_secret"]);
    assert_eq!(b.list("erp").unwrap(), Vec::<String>::new());
    assert_eq!(b.list_platforms().unwrap(), vec!["douyin", "ths"]);
    let all = b.get_all("douyin").unwrap();
    assert_eq!(
        all.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
        vec!["app_id", "app_secret"]
    );

    // A write through one handle is seen by the other before its next read.
    b.set("erp", "api_key", "k-9").unwrap();
    assert_eq!(value(&a, "erp", "api_key").as_deref(), Some("k-9"));
    assert!(a.delete("douyin", "app_id").unwrap());
    assert!(!a.delete("douyin", "app_id").unwrap());
    assert_eq!(value(&b, "douyin", "app_id"), None);
    assert_eq!(
        b.get_stored("douyin", "app_secret")
            .unwrap()
            .unwrap()
            .expose_secret(),
        "s3cret-2"
    );

    // Nothing is in plaintext on disk.
    let bytes = fs::read(dir.join(STORE_FILE)).unwrap();
    for secret in ["s3cret-2", "k-9", "rt-1"] {
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "{secret} in plaintext"
        );
    }
    assert_eq!(&bytes[..8], b"CONNCRED");
}

#[test]
fn interval_reload_check_serves_the_cache_then_notices() {
    let t = tempfile::tempdir().unwrap();
    let a = CredentialStore::open(
        config(t.path()).with_reload_check(ReloadCheck::Interval(Duration::from_millis(50))),
    )
    .unwrap();
    let b = open(t.path());
    a.set("douyin", "app_id", "one").unwrap();
    assert_eq!(value(&a, "douyin", "app_id").as_deref(), Some("one"));
    b.set("douyin", "app_id", "two").unwrap();
    std::thread::sleep(Duration::from_millis(120));
    assert_eq!(value(&a, "douyin", "app_id").as_deref(), Some("two"));
}

#[test]
fn directory_is_0700_and_files_0600() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("nested/missing/.credentials");
    let s = open(&dir);
    s.set("douyin", "app_id", "x").unwrap();
    s.lock_token(&TokenKey::new("douyin", "acct")).unwrap();
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&dir.join("locks")), 0o700);
    let mut files = 0;
    for e in fs::read_dir(&dir)
        .unwrap()
        .chain(fs::read_dir(dir.join("locks")).unwrap())
    {
        let p = e.unwrap().path();
        if p.is_file() {
            assert_eq!(mode(&p), 0o600, "{}", p.display());
            files += 1;
        }
    }
    // store.v1, key, lock, and one refresh lock.
    assert_eq!(files, 4);
    assert!(matches!(s.key_origin(), KeyOrigin::File(_)));
}

#[test]
fn the_key_file_is_reused_and_must_stay_private() {
    let t = tempfile::tempdir().unwrap();
    open(t.path()).set("douyin", "app_id", "x").unwrap();
    let key1 = fs::read_to_string(t.path().join(KEY_FILE)).unwrap();
    assert_eq!(
        value(&open(t.path()), "douyin", "app_id").as_deref(),
        Some("x")
    );
    assert_eq!(fs::read_to_string(t.path().join(KEY_FILE)).unwrap(), key1);
    EncryptionKey::from_base64(&key1).unwrap();

    fs::set_permissions(t.path().join(KEY_FILE), fs::Permissions::from_mode(0o644)).unwrap();
    let e = CredentialStore::open(config(t.path())).unwrap_err();
    assert!(
        matches!(e, CredsError::InsecurePermissions { mode: 0o644, .. }),
        "{e}"
    );
    assert!(e.to_string().contains("chmod 600"), "{e}");

    // Deleting the key does not lead to a fresh key silently orphaning the store.
    fs::remove_file(t.path().join(KEY_FILE)).unwrap();
    let e = CredentialStore::open(config(t.path())).unwrap_err();
    assert!(matches!(e, CredsError::KeyMissing { .. }), "{e}");
    assert!(
        e.to_string().contains("API_CREDENTIAL_ENCRYPTION_KEY"),
        "{e}"
    );
}

/// Byte range of the `n`th record (0-based) in a store file.
fn record_ranges(bytes: &[u8]) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut pos = HEADER_LEN;
    while pos < bytes.len() {
        let start = pos;
        let plen = bytes[pos + 1] as usize;
        pos += 2 + plen;
        let nlen = u16::from_le_bytes([bytes[pos], bytes[pos + 1]]) as usize;
        pos += 2 + nlen + 12;
        let clen = u32::from_le_bytes(bytes[pos..pos + 4].try_into().unwrap()) as usize;
        pos += 4 + clen;
        out.push(start..pos);
    }
    out
}

#[test]
fn one_flipped_byte_is_an_integrity_error_naming_file_and_record() {
    let t = tempfile::tempdir().unwrap();
    let s = open(t.path());
    s.set("douyin", "app_id", "aw-123").unwrap();
    s.set("douyin", "app_secret", "s3cret").unwrap();
    let path = t.path().join(STORE_FILE);
    let good = fs::read(&path).unwrap();
    let second = record_ranges(&good)[1].clone();

    let mut bad = good.clone();
    bad[second.end - 3] ^= 0x40; // inside the ciphertext/tag of douyin/app_secret
    fs::write(&path, &bad).unwrap();
    let e = CredentialStore::open(config(t.path())).unwrap_err();
    match &e {
        CredsError::Integrity { file, record, .. } => {
            assert_eq!(file, &path);
            assert_eq!(
                record,
                &RecordRef::Credential {
                    platform: "douyin".into(),
                    name: "app_secret".into()
                }
            );
        }
        other => panic!("{other:?}"),
    }
    let text = e.to_string();
    assert!(
        text.contains("douyin/app_secret") && text.contains(STORE_FILE),
        "{text}"
    );

    // The open handle refuses reads and writes, and leaves the damaged file as it is.
    let err = s.get("douyin", "app_id").unwrap_err();
    assert!(err.is_integrity(), "{err}");
    let err = s.set("douyin", "app_id", "overwrite?").unwrap_err();
    assert!(err.is_integrity(), "{err}");
    assert_eq!(fs::read(&path).unwrap(), bad, "damaged store was rewritten");
    let core: conn_core::Error = err.into();
    assert!(matches!(core, conn_core::Error::Store(_)));

    // Once fixed (restored), the same handle works again.
    fs::write(&path, &good).unwrap();
    assert_eq!(value(&s, "douyin", "app_id").as_deref(), Some("aw-123"));
    s.set("douyin", "app_id", "aw-456").unwrap();

    // A flip in the header is damage too, not a wrong key.
    let mut bad = fs::read(&path).unwrap();
    bad[20] ^= 1; // generation
    fs::write(&path, &bad).unwrap();
    let e = CredentialStore::open(config(t.path())).unwrap_err();
    assert!(
        matches!(
            e,
            CredsError::Integrity {
                record: RecordRef::Header,
                ..
            }
        ),
        "{e}"
    );
    bad[20] ^= 1;
    bad[30] ^= 1; // key id
    fs::write(&path, &bad).unwrap();
    let e = CredentialStore::open(config(t.path())).unwrap_err();
    assert!(
        matches!(
            e,
            CredsError::Integrity {
                record: RecordRef::Header,
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn swapped_records_fail() {
    let t = tempfile::tempdir().unwrap();
    let s = open(t.path());
    s.set("douyin", "app_id", "aw-123").unwrap();
    s.set("douyin", "app_secret", "s3cret").unwrap();
    let path = t.path().join(STORE_FILE);
    let good = fs::read(&path).unwrap();
    let r = record_ranges(&good);

    // Swap the sealed payloads (nonce + ciphertext) of the two records, keeping the names:
    // each record now carries the other's value, which its associated data rejects.
    let payload = |range: &std::ops::Range<usize>| {
        let plen = good[range.start + 1] as usize;
        let name_at = range.start + 2 + plen;
        let nlen = u16::from_le_bytes([good[name_at], good[name_at + 1]]) as usize;
        name_at + 2 + nlen..range.end
    };
    let (p0, p1) = (payload(&r[0]), payload(&r[1]));
    let mut swapped = good[..p0.start].to_vec();
    swapped.extend_from_slice(&good[p1.clone()]);
    swapped.extend_from_slice(&good[p0.end..p1.start]);
    swapped.extend_from_slice(&good[p0.clone()]);
    fs::write(&path, &swapped).unwrap();
    let e = CredentialStore::open(config(t.path())).unwrap_err();
    assert!(
        matches!(&e, CredsError::Integrity { record: RecordRef::Credential { name, .. }, .. } if name == "app_id"),
        "{e}"
    );

    // Swapping whole records (names included) changes the order the header authenticates.
    let mut reordered = good[..HEADER_LEN].to_vec();
    reordered.extend_from_slice(&good[r[1].clone()]);
    reordered.extend_from_slice(&good[r[0].clone()]);
    fs::write(&path, &reordered).unwrap();
    let e = CredentialStore::open(config(t.path())).unwrap_err();
    assert!(
        matches!(
            e,
            CredsError::Integrity {
                record: RecordRef::Header,
                ..
            }
        ),
        "{e}"
    );

    // Dropping a record is caught by the header as well.
    let mut dropped = good[..HEADER_LEN].to_vec();
    dropped.extend_from_slice(&good[r[1].clone()]);
    fs::write(&path, &dropped).unwrap();
    let e = CredentialStore::open(config(t.path())).unwrap_err();
    assert!(
        matches!(
            e,
            CredsError::Integrity {
                record: RecordRef::Header,
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn wrong_key_is_typed_and_never_yields_plaintext() {
    let t = tempfile::tempdir().unwrap();
    let k1 = EncryptionKey::generate().unwrap();
    let s = CredentialStore::open(config(t.path()).with_key(k1.clone())).unwrap();
    s.set("douyin", "app_secret", "s3cret").unwrap();
    let k2 = EncryptionKey::generate().unwrap();
    let e = CredentialStore::open(config(t.path()).with_key(k2.clone())).unwrap_err();
    assert!(e.is_wrong_key(), "{e:?}");
    assert!(e.to_string().contains("wrong encryption key"), "{e}");

    // Through the environment variable, the message names it.
    let env = Env::from_source(
        MapEnv::new().set("API_CREDENTIAL_ENCRYPTION_KEY", k2.to_base64().as_str()),
    );
    let e = CredentialStore::open(StoreConfig::new(t.path()).with_env(env)).unwrap_err();
    assert!(
        e.to_string().contains("API_CREDENTIAL_ENCRYPTION_KEY"),
        "{e}"
    );
    let env = Env::from_source(
        MapEnv::new().set("API_CREDENTIAL_ENCRYPTION_KEY", k1.to_base64().as_str()),
    );
    let s = CredentialStore::open(StoreConfig::new(t.path()).with_env(env)).unwrap();
    assert_eq!(s.key_origin(), KeyOrigin::Environment);
    assert_eq!(value(&s, "douyin", "app_secret").as_deref(), Some("s3cret"));
}

#[test]
fn malformed_key_variable_is_a_config_error_naming_it() {
    let t = tempfile::tempdir().unwrap();
    for bad in ["c2hvcnQ=", "!!!not base64!!!", &"A".repeat(60)] {
        let env = Env::from_source(MapEnv::new().set("API_CREDENTIAL_ENCRYPTION_KEY", bad));
        let e = CredentialStore::open(StoreConfig::new(t.path()).with_env(env)).unwrap_err();
        assert!(matches!(e, CredsError::KeyFormat { .. }), "{e:?}");
        let core: conn_core::Error = e.into();
        let text = core.to_string();
        assert!(matches!(core, conn_core::Error::Config(_)));
        assert!(text.contains("in API_CREDENTIAL_ENCRYPTION_KEY"), "{text}");
        assert!(
            text.contains("32 random bytes") && text.contains("openssl rand -base64 32"),
            "{text}"
        );
        assert!(!text.contains(bad), "the bad value is echoed: {text}");
    }
}

#[test]
fn key_rotation_reencrypts_everything_and_refuses_the_old_key() {
    let t = tempfile::tempdir().unwrap();
    let k1 = EncryptionKey::generate().unwrap();
    let s = CredentialStore::open(config(t.path()).with_key(k1.clone())).unwrap();
    s.set("douyin", "app_secret", "s3cret").unwrap();
    s.set("ths", "app_key", "tk").unwrap();
    let acct = TokenKey::new("douyin", "_000open");
    s.save_token(&acct, &TokenSet::new(AccessToken::new("act.1")))
        .unwrap();
    let before = fs::read(t.path().join(STORE_FILE)).unwrap();

    let k2 = EncryptionKey::generate().unwrap();
    s.rotate_key(&k2).unwrap();
    let after = fs::read(t.path().join(STORE_FILE)).unwrap();
    assert_eq!(before.len(), after.len());
    // Every record was resealed (no ciphertext survives).
    for (a, b) in record_ranges(&before)
        .iter()
        .zip(record_ranges(&after).iter())
    {
        assert_ne!(before[a.clone()], after[b.clone()]);
    }
    assert_eq!(value(&s, "douyin", "app_secret").as_deref(), Some("s3cret"));

    let e = CredentialStore::open(config(t.path()).with_key(k1)).unwrap_err();
    assert!(e.is_wrong_key(), "{e:?}");
    let s2 = CredentialStore::open(config(t.path()).with_key(k2)).unwrap();
    assert_eq!(value(&s2, "ths", "app_key").as_deref(), Some("tk"));
    assert_eq!(
        s2.load_token(&acct)
            .unwrap()
            .unwrap()
            .access_token
            .expose_secret(),
        "act.1"
    );
}

#[test]
fn rotation_with_the_key_file_updates_it_and_other_handles_follow() {
    let t = tempfile::tempdir().unwrap();
    let a = open(t.path());
    let b = open(t.path());
    a.set("douyin", "app_secret", "s3cret").unwrap();
    let old =
        EncryptionKey::from_base64(&fs::read_to_string(t.path().join(KEY_FILE)).unwrap()).unwrap();
    let new = EncryptionKey::generate().unwrap();
    a.rotate_key(&new).unwrap();
    let on_disk =
        EncryptionKey::from_base64(&fs::read_to_string(t.path().join(KEY_FILE)).unwrap()).unwrap();
    assert_eq!(on_disk, new);
    assert!(!t.path().join(KEY_NEXT_FILE).exists());
    assert_eq!(mode(&t.path().join(KEY_FILE)), 0o600);
    // The other handle re-reads the key file when the store changed key under it.
    assert_eq!(value(&b, "douyin", "app_secret").as_deref(), Some("s3cret"));
    b.set("douyin", "app_id", "x").unwrap();
    assert!(CredentialStore::open(config(t.path()).with_key(old))
        .unwrap_err()
        .is_wrong_key());
}

#[test]
fn an_interrupted_rotation_is_completed_on_open() {
    let t = tempfile::tempdir().unwrap();
    open(t.path())
        .set("douyin", "app_secret", "s3cret")
        .unwrap();
    // State after a crash between "store rewritten" and "key.next renamed over key": the store
    // is under the new key, `key` still holds the old one, `key.next` the new one.
    let new = EncryptionKey::generate().unwrap();
    let old = fs::read_to_string(t.path().join(KEY_FILE)).unwrap();
    let explicit =
        CredentialStore::open(config(t.path()).with_key(EncryptionKey::from_base64(&old).unwrap()))
            .unwrap();
    explicit.rotate_key(&new).unwrap(); // explicit key: rewrites the store only
    let mut next_text = new.to_base64().to_string();
    next_text.push('\n');
    let next = t.path().join(KEY_NEXT_FILE);
    fs::write(&next, next_text).unwrap();
    fs::set_permissions(&next, fs::Permissions::from_mode(0o600)).unwrap();

    let s = open(t.path());
    assert_eq!(value(&s, "douyin", "app_secret").as_deref(), Some("s3cret"));
    assert!(!next.exists());
    let key = fs::read_to_string(t.path().join(KEY_FILE)).unwrap();
    assert_eq!(EncryptionKey::from_base64(&key).unwrap(), new);

    // A crash before the store was rewritten: `key.next` is stale and removed.
    fs::write(
        &next,
        EncryptionKey::generate().unwrap().to_base64().as_str(),
    )
    .unwrap();
    fs::set_permissions(&next, fs::Permissions::from_mode(0o600)).unwrap();
    let s = open(t.path());
    assert_eq!(value(&s, "douyin", "app_secret").as_deref(), Some("s3cret"));
    assert!(!next.exists());
}

#[test]
fn environment_overlay_reports_origin() {
    let t = tempfile::tempdir().unwrap();
    let env = Env::from_source(
        MapEnv::new()
            .set("DOUYIN_APP_SECRET", "from-env")
            .set("THS_REFRESH_TOKEN", "rt-env"),
    );
    let s = CredentialStore::open(config(t.path()).with_env(env)).unwrap();
    s.set("douyin", "app_secret", "stored").unwrap();
    s.set("douyin", "app_id", "stored-id").unwrap();

    let c = s.get("douyin", "app_secret").unwrap().unwrap();
    assert_eq!(c.value.expose_secret(), "from-env");
    assert_eq!(
        c.origin,
        CredentialOrigin::Environment("DOUYIN_APP_SECRET".into())
    );
    assert_eq!(
        s.get_stored("douyin", "app_secret")
            .unwrap()
            .unwrap()
            .expose_secret(),
        "stored"
    );
    let c = s.get("ths", "refresh_token").unwrap().unwrap();
    assert_eq!(
        c.origin,
        CredentialOrigin::Environment("THS_REFRESH_TOKEN".into())
    );
    assert!(s.get("ths", "app_key").unwrap().is_none());

    // Through conn-core's trait and helpers.
    let src: Arc<dyn CredentialSource> = Arc::new(s.clone());
    let c = src.get("douyin", "app_id").unwrap().unwrap();
    assert_eq!(c.origin, CredentialOrigin::Store);
    let e = conn_core::credentials::require(src.as_ref(), "douyin", "access_token").unwrap_err();
    assert!(e.to_string().contains("DOUYIN_ACCESS_TOKEN"), "{e}");
    let e = src.get("Douyin", "app_id").unwrap_err();
    assert!(matches!(e, conn_core::Error::Validation(_)), "{e}");

    let all = s.get_all("douyin").unwrap();
    let origins: Vec<_> = all
        .iter()
        .map(|(n, c)| (n.as_str(), c.origin.clone()))
        .collect();
    assert_eq!(
        origins,
        vec![
            ("app_id", CredentialOrigin::Store),
            (
                "app_secret",
                CredentialOrigin::Environment("DOUYIN_APP_SECRET".into())
            ),
        ]
    );
}

#[test]
fn validate_reports_missing_and_origins() {
    let t = tempfile::tempdir().unwrap();
    let env = Env::from_source(MapEnv::new().set("DOUYIN_CLIENT_SECRET", "env-secret"));
    let s = CredentialStore::open(config(t.path()).with_env(env)).unwrap();
    s.set("douyin", "client_key", "ck").unwrap();
    let r = s
        .validate(
            "douyin",
            &[
                "client_key",
                "client_secret",
                "access_token",
                "refresh_token",
            ],
        )
        .unwrap();
    assert!(!r.is_complete());
    assert_eq!(r.from_store(), vec!["client_key"]);
    assert_eq!(r.from_environment(), vec!["client_secret"]);
    assert_eq!(r.missing(), vec!["access_token", "refresh_token"]);
    assert_eq!(r.entries()[2].env_var, "DOUYIN_ACCESS_TOKEN");
    let shown = r.to_string();
    assert_eq!(
        shown,
        "douyin:\n  client_key: store\n  client_secret: environment (DOUYIN_CLIENT_SECRET)\n  access_token: MISSING (set DOUYIN_ACCESS_TOKEN)\n  refresh_token: MISSING (set DOUYIN_REFRESH_TOKEN)\n"
    );
    assert!(!shown.contains("env-secret") && !shown.contains("ck\n"));
    let e = r.into_result().unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains("in DOUYIN_ACCESS_TOKEN") && text.contains("refresh_token"),
        "{text}"
    );

    let ok = s
        .validate("douyin", &["client_key", "client_secret"])
        .unwrap();
    assert!(ok.is_complete());
    assert!(ok.into_result().is_ok());
    assert!(matches!(
        s.validate("douyin", &["client-key"]),
        Err(CredsError::InvalidName { field: "name", .. })
    ));
}

#[test]
fn bad_names_and_sizes_are_validation_errors() {
    let t = tempfile::tempdir().unwrap();
    let s = open(t.path());
    let e = s.set("Douyin", "app_id", "x").unwrap_err();
    assert!(
        matches!(
            e,
            CredsError::InvalidName {
                field: "platform",
                ..
            }
        ),
        "{e}"
    );
    let e = s.set("douyin", "app id", "x").unwrap_err();
    assert!(
        matches!(e, CredsError::InvalidName { field: "name", .. }),
        "{e}"
    );
    let e = s.set("douyin", "app_id", "x".repeat(70_000)).unwrap_err();
    assert!(
        matches!(e, CredsError::TooLarge { field: "value", .. }),
        "{e}"
    );
    let core: conn_core::Error = e.into();
    assert!(matches!(core, conn_core::Error::Validation(_)));
    let e = s
        .save_token(
            &TokenKey::new("douyin", ""),
            &TokenSet::new(AccessToken::new("a")),
        )
        .unwrap_err();
    assert!(
        matches!(
            e,
            CredsError::InvalidName {
                field: "account",
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn debug_and_list_show_names_only() {
    let t = tempfile::tempdir().unwrap();
    let s = open(t.path());
    s.set("douyin", "app_secret", "TOP-SECRET-VALUE").unwrap();
    s.save_token(
        &TokenKey::new("douyin", "_000acct"),
        &TokenSet::new(AccessToken::new("act.TOP-SECRET-TOKEN")),
    )
    .unwrap();
    for shown in [
        format!("{s:?}"),
        format!("{s:#?}"),
        format!(
            "{:?}",
            config(t.path()).with_key(EncryptionKey::generate().unwrap())
        ),
        format!("{:?}", s.list("douyin").unwrap()),
        format!("{:?}", s.get("douyin", "app_secret").unwrap()),
        format!("{:?}", s.validate("douyin", &["app_secret"]).unwrap()),
        format!(
            "{:?}",
            s.lock_token(&TokenKey::new("douyin", "_000acct")).unwrap()
        ),
    ] {
        assert!(!shown.contains("TOP-SECRET"), "{shown}");
    }
    let d = format!("{s:?}");
    assert!(
        d.contains("douyin/app_secret") && d.contains("douyin/_000acct"),
        "{d}"
    );
}

#[test]
fn tokens_round_trip_per_account() {
    let t = tempfile::tempdir().unwrap();
    let s = open(t.path());
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let a = TokenKey::new("douyin", "_000AAA+/=");
    let b = TokenKey::new("douyin", "_000BBB");
    let mut set_a = TokenSet::new(AccessToken::new("act.a"))
        .with_refresh_token(Some(RefreshToken::new("rft.a")))
        .with_expires_in(now, Duration::from_secs(1_296_000))
        .with_refresh_expires_in(now, Duration::from_secs(2_592_000))
        .with_scopes(vec!["video.create".into(), "user_info".into()])
        .with_account("_000AAA+/=");
    set_a.extra.insert("renewals".into(), "2".into());
    s.save_token(&a, &set_a).unwrap();
    s.save_token(&b, &TokenSet::new(AccessToken::new("act.b")))
        .unwrap();
    // A credential with the same (platform, name) slot does not collide with a token.
    s.set("douyin", "access_token", "cred").unwrap();

    let other = open(t.path());
    assert_eq!(other.load_token(&a).unwrap().unwrap(), set_a);
    assert_eq!(
        other
            .load_token(&b)
            .unwrap()
            .unwrap()
            .access_token
            .expose_secret(),
        "act.b"
    );
    assert_eq!(other.token_keys().unwrap(), vec![a.clone(), b.clone()]);
    assert!(other
        .load_token(&TokenKey::new("ths", "default"))
        .unwrap()
        .is_none());
    assert!(other.delete_token(&a).unwrap());
    assert!(s.load_token(&a).unwrap().is_none());
    assert_eq!(value(&s, "douyin", "access_token").as_deref(), Some("cred"));
}

#[tokio::test]
async fn token_store_trait_and_token_manager() {
    use conn_core::token::{TokenManager, TokenRefresher};
    #[derive(Debug)]
    struct Counting(std::sync::atomic::AtomicUsize);
    #[async_trait::async_trait]
    impl TokenRefresher for Counting {
        async fn refresh(&self, current: Option<&TokenSet>) -> conn_core::Result<TokenSet> {
            let n = self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
            assert!(current.is_none_or(|c| c.refresh_token.is_some()));
            Ok(TokenSet::new(AccessToken::new(format!("act.{n}")))
                .with_refresh_token(Some(RefreshToken::new(format!("rft.{n}"))))
                .with_expires_in(SystemTime::now(), Duration::from_secs(3600)))
        }
    }
    let t = tempfile::tempdir().unwrap();
    let store = Arc::new(open(t.path()));
    let key = TokenKey::new("douyin", "_000x");
    let m = TokenManager::new(key.clone(), Arc::new(Counting(0.into())), store.clone());
    let tokens = futures_join(&m).await;
    assert!(tokens.iter().all(|t| t == "act.1"), "{tokens:?}");
    // Persisted through the store, readable by another handle.
    let other = open(t.path());
    assert_eq!(
        TokenStore::load(&other, &key)
            .await
            .unwrap()
            .unwrap()
            .access_token
            .expose_secret(),
        "act.1"
    );
    m.clear().await.unwrap();
    assert!(other.load_token(&key).unwrap().is_none());
    assert!(TokenStore::lock(store.as_ref(), &key)
        .await
        .unwrap()
        .is_some());
}

async fn futures_join(m: &conn_core::token::TokenManager) -> Vec<String> {
    let mut handles = Vec::new();
    for _ in 0..8 {
        let m = m.clone();
        handles.push(tokio::spawn(async move {
            m.token().await.unwrap().expose_secret().to_owned()
        }));
    }
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

/// A directory this process cannot write. As root, mode bits do not stop writes, so fall back to
/// a read-only kernel file system directory.
fn unwritable_dir(t: &Path) -> Option<PathBuf> {
    let ro = t.join("ro");
    fs::create_dir(&ro).unwrap();
    fs::set_permissions(&ro, fs::Permissions::from_mode(0o500)).unwrap();
    if fs::write(ro.join("probe"), b"x").is_err() {
        return Some(ro);
    }
    let sys = PathBuf::from("/sys/fs");
    (sys.is_dir() && fs::write(sys.join("conn-creds-probe"), b"x").is_err()).then_some(sys)
}

#[test]
fn read_only_directory_is_a_clear_error() {
    let t = tempfile::tempdir().unwrap();
    let Some(ro) = unwritable_dir(t.path()) else {
        panic!("no unwritable directory available to test with");
    };
    // Opening needs to create the key file.
    let e = CredentialStore::open(config(&ro)).unwrap_err();
    assert!(matches!(e, CredsError::NotWritable { .. }), "{e:?}");
    assert!(e.to_string().contains("not writable"), "{e}");
    // A missing directory below it cannot be created either.
    let e = CredentialStore::open(config(&ro.join("sub"))).unwrap_err();
    assert!(matches!(e, CredsError::NotWritable { .. }), "{e:?}");
    // With a key supplied, reads work and writes fail clearly.
    let s =
        CredentialStore::open(config(&ro).with_key(EncryptionKey::generate().unwrap())).unwrap();
    assert_eq!(s.list_platforms().unwrap(), Vec::<String>::new());
    let e = s.set("douyin", "app_id", "x").unwrap_err();
    assert!(matches!(e, CredsError::NotWritable { .. }), "{e:?}");
    let _ = fs::set_permissions(t.path().join("ro"), fs::Permissions::from_mode(0o700));
}

#[test]
fn a_store_path_that_is_a_file_or_garbage_is_refused() {
    let t = tempfile::tempdir().unwrap();
    let file = t.path().join("file");
    fs::write(&file, b"x").unwrap();
    let e = CredentialStore::open(config(&file)).unwrap_err();
    assert!(matches!(e, CredsError::NotADirectory { .. }), "{e}");

    let dir = t.path().join("d");
    open(&dir).set("douyin", "app_id", "x").unwrap();
    fs::write(dir.join(STORE_FILE), b"{\"not\": \"a store\"}").unwrap();
    let e = CredentialStore::open(config(&dir)).unwrap_err();
    assert!(matches!(e, CredsError::UnsupportedFormat { .. }), "{e}");
    let mut future = fs::read(dir.join(STORE_FILE)).unwrap();
    future.clear();
    future.extend_from_slice(b"CONNCRED\x02\x00\x01\x00");
    future.resize(80, 0);
    fs::write(dir.join(STORE_FILE), &future).unwrap();
    let e = CredentialStore::open(config(&dir)).unwrap_err();
    assert!(e.to_string().contains("format version 2"), "{e}");
}

#[test]
fn store_from_env_uses_the_directory_variable() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("from-env");
    let env = Env::from_source(MapEnv::new().set("API_CREDENTIALS_DIR", dir.to_str().unwrap()));
    let s = CredentialStore::open(StoreConfig::from_env_with(&env)).unwrap();
    assert_eq!(s.dir(), dir);
    s.set("douyin", "app_id", "x").unwrap();
    assert!(dir.join(STORE_FILE).exists());
    let names: Vec<_> = conn_creds::ENV_VARS.iter().map(|v| v.name).collect();
    assert_eq!(
        names,
        vec![
            "API_CREDENTIAL_ENCRYPTION_KEY",
            "API_CREDENTIALS_DIR",
            "API_JOURNAL_DIR"
        ]
    );
    assert!(conn_creds::ENV_VARS[0].secret);
}

#[test]
fn set_many_is_one_all_or_nothing_write() {
    let t = tempfile::tempdir().unwrap();
    let s = open(t.path());
    let n = s
        .set_many([
            ("douyin", "app_id", "a"),
            ("douyin", "app_secret", "b"),
            ("ths", "app_key", "c"),
        ])
        .unwrap();
    assert_eq!(n, 3);
    assert_eq!(
        value(&open(t.path()), "ths", "app_key").as_deref(),
        Some("c")
    );
    // One bad name rejects the whole batch before anything is written.
    let e = s
        .set_many([("douyin", "app_id", "changed"), ("douyin", "Bad", "x")])
        .unwrap_err();
    assert!(
        matches!(e, CredsError::InvalidName { field: "name", .. }),
        "{e}"
    );
    assert_eq!(value(&s, "douyin", "app_id").as_deref(), Some("a"));
}

#[test]
fn threads_and_handles_in_one_process_lose_nothing() {
    let t = tempfile::tempdir().unwrap();
    let handles = [open(t.path()), open(t.path())];
    std::thread::scope(|scope| {
        for th in 0..6 {
            let s = handles[th % 2].clone();
            scope.spawn(move || {
                for j in 0..8 {
                    s.set("conc", &format!("t{th}_{j}"), format!("{th}-{j}"))
                        .unwrap();
                }
            });
        }
    });
    let s = open(t.path());
    assert_eq!(s.list("conc").unwrap().len(), 48);
    assert_eq!(handles[0].list("conc").unwrap().len(), 48);
}

#[test]
fn a_whole_flow_logs_no_secret() {
    let (cap, _guard) = conn_core::testing::LogCapture::start();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let t = tempfile::tempdir().unwrap();
    let key = EncryptionKey::generate().unwrap();
    let key_text = key.to_base64().to_string();
    let env = Env::from_source(
        MapEnv::new()
            .set("API_CREDENTIAL_ENCRYPTION_KEY", key_text.as_str())
            .set("ERP_API_KEY", "env-secret-value"),
    );
    let s = CredentialStore::open(StoreConfig::new(t.path()).with_env(env)).unwrap();
    s.set("douyin", "app_secret", "stored-secret-value")
        .unwrap();
    s.get("erp", "api_key").unwrap();
    s.validate("douyin", &["app_secret", "app_id"]).unwrap();
    let acct = TokenKey::new("douyin", "_000acct");
    rt.block_on(async {
        let ts = TokenSet::new(AccessToken::new("act.secret-token"))
            .with_refresh_token(Some(RefreshToken::new("rft.secret-token")));
        TokenStore::save(&s, &acct, &ts).await.unwrap();
        TokenStore::load(&s, &acct).await.unwrap();
        let _lock = TokenStore::lock(&s, &acct).await.unwrap();
    });
    let new_key = EncryptionKey::generate().unwrap();
    s.rotate_key(&new_key).unwrap();
    let text = cap.contents();
    assert!(
        text.contains("credential stored") && text.contains("key rotated"),
        "{text}"
    );
    cap.assert_no_secrets(&[
        "stored-secret-value",
        "env-secret-value",
        "act.secret-token",
        "rft.secret-token",
        &key_text,
        &new_key.to_base64(),
    ]);
}
