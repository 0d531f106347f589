//! Credential store benchmark: `cargo bench -p conn-creds --bench store`.
//!
//! | row | what | target |
//! |---|---|---|
//! | open 1,000 records | `CredentialStore::open` on a store of 1,000 credentials: read, authenticate the header, decrypt every record | ≤ 20 ms |
//! | get (cached) | `get_stored` / `get` (environment first: a `MapEnv`, then the process environment) of one record with the default reload check (every 100 ms) | ≤ 1 µs |
//! | get (stat each read) | the same with `ReloadCheck::EveryRead` | reported |
//! | set (fsync) | one `set` into the 1,000-record store: lock, re-check, encrypt, write, fsync, rename, fsync dir | reported |
//! | naive: HKDF per record | decrypt 1,000 records each under a key derived with HKDF-SHA256 from the master key and the record name | comparison |
//! | naive: PBKDF2 per record | the same with PBKDF2-HMAC-SHA256, 1,000 iterations per record | comparison |
//!
//! The naive rows model the design this store avoids: a key derivation per record (as a
//! per-secret password-based scheme would do). Both use ring, like the store.
//! Everything runs in a temporary directory and finishes in well under a minute.

use std::error::Error;
use std::hint::black_box;
use std::num::NonZeroU32;
use std::time::{Duration, Instant};

use conn_core::env::{Env, MapEnv};
use conn_creds::{CredentialStore, EncryptionKey, ReloadCheck, StoreConfig};
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
use ring::rand::{SecureRandom, SystemRandom};
use ring::{hkdf, pbkdf2};

const RECORDS: usize = 1_000;

type BenchResult<T> = Result<T, Box<dyn Error>>;

fn main() -> BenchResult<()> {
    let t = tempfile::tempdir()?;
    let dir = t.path().join(".credentials");
    let key = EncryptionKey::generate()?;
    let env = Env::from_source(MapEnv::new());
    let config = || {
        StoreConfig::new(&dir)
            .with_env(env.clone())
            .with_key(key.clone())
    };

    // A 1,000-record store, written once (one record per set would be 1,000 fsyncs).
    let store = CredentialStore::open(config())?;
    fill(&store)?;

    let mut rows: Vec<(String, String, String)> = Vec::new();

    // Open + decrypt.
    let opens = time_n(30, || {
        CredentialStore::open(config()).map(|s| drop(black_box(s)))
    })?;
    let open_median = median(&opens);
    rows.push((
        format!("open + decrypt {RECORDS} records"),
        fmt_stats(&opens),
        verdict(open_median, Duration::from_millis(20)),
    ));

    // Cached get.
    let cached = CredentialStore::open(config())?;
    let per_get = per_op(2_000_000, || {
        cached
            .get_stored("p3", "name_500")
            .map(|v| drop(black_box(v)))
    })?;
    rows.push((
        "get_stored, cached (reload check every 100 ms)".into(),
        fmt_ns(per_get),
        verdict(per_get, Duration::from_micros(1)),
    ));
    let per_get_env = per_op(2_000_000, || {
        cached.get("p3", "name_500").map(|v| drop(black_box(v)))
    })?;
    rows.push((
        "get, cached, env checked first (MapEnv)".into(),
        fmt_ns(per_get_env),
        verdict(per_get_env, Duration::from_micros(1)),
    ));
    let process_env = CredentialStore::open(config().with_env(Env::process()))?;
    let per_get_process = per_op(1_000_000, || {
        process_env
            .get("p3", "name_500")
            .map(|v| drop(black_box(v)))
    })?;
    rows.push((
        "get, cached, process environment checked first".into(),
        fmt_ns(per_get_process),
        verdict(per_get_process, Duration::from_micros(1)),
    ));
    let every = CredentialStore::open(config().with_reload_check(ReloadCheck::EveryRead))?;
    let per_get_stat = per_op(300_000, || {
        every
            .get_stored("p3", "name_500")
            .map(|v| drop(black_box(v)))
    })?;
    rows.push((
        "get_stored, stat on every read".into(),
        fmt_ns(per_get_stat),
        "reported".into(),
    ));

    // Set with fsync.
    let mut i = 0u32;
    let sets = time_n(40, || {
        i += 1;
        store.set("p0", "name_0", format!("value-{i}"))
    })?;
    rows.push((
        format!("set with fsync ({RECORDS}-record store)"),
        fmt_stats(&sets),
        "reported".into(),
    ));

    // Naive baselines.
    let naive = NaiveStore::build()?;
    let hkdf_runs = time_n(10, || naive.decrypt_all_hkdf())?;
    rows.push((
        format!("naive: HKDF-SHA256 key per record, {RECORDS} records"),
        fmt_stats(&hkdf_runs),
        format!(
            "{:.1}x the store's open",
            ratio(median(&hkdf_runs), open_median)
        ),
    ));
    let pbkdf2_runs = time_n(2, || naive.decrypt_all_pbkdf2())?;
    rows.push((
        format!(
            "naive: PBKDF2-HMAC-SHA256 ({PBKDF2_ITERATIONS} it.) per record, {RECORDS} records"
        ),
        fmt_stats(&pbkdf2_runs),
        format!(
            "{:.0}x the store's open",
            ratio(median(&pbkdf2_runs), open_median)
        ),
    ));

    let size = std::fs::metadata(dir.join(conn_creds::store::STORE_FILE))?.len();
    println!("conn-creds store benchmark ({RECORDS} records, store file {size} bytes)\n");
    let w0 = rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
    let w1 = rows.iter().map(|r| r.1.len()).max().unwrap_or(0);
    println!("| {:w0$} | {:w1$} | target / note", "operation", "time");
    println!("|{}|{}|---", "-".repeat(w0 + 2), "-".repeat(w1 + 2));
    for (a, b, c) in &rows {
        println!("| {a:w0$} | {b:w1$} | {c}");
    }
    Ok(())
}

/// 1,000 credentials over 10 platforms, 40-byte values, in one atomic write.
fn fill(store: &CredentialStore) -> BenchResult<()> {
    let names: Vec<(String, String, String)> = (0..RECORDS)
        .map(|n| {
            (
                format!("p{}", n % 10),
                format!("name_{n}"),
                format!("secret-value-{n:0>27}"),
            )
        })
        .collect();
    store.set_many(
        names
            .iter()
            .map(|(p, n, v)| (p.as_str(), n.as_str(), v.as_str())),
    )?;
    Ok(())
}

fn time_n<T, E: Into<Box<dyn Error>>>(
    n: usize,
    mut f: impl FnMut() -> Result<T, E>,
) -> BenchResult<Vec<Duration>> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let start = Instant::now();
        black_box(f().map_err(Into::into)?);
        out.push(start.elapsed());
    }
    Ok(out)
}

fn per_op<E: Into<Box<dyn Error>>>(
    n: u32,
    mut f: impl FnMut() -> Result<(), E>,
) -> BenchResult<Duration> {
    for _ in 0..1_000 {
        f().map_err(Into::into)?;
    }
    let start = Instant::now();
    for _ in 0..n {
        f().map_err(Into::into)?;
    }
    Ok(start.elapsed() / n)
}

fn median(v: &[Duration]) -> Duration {
    let mut s = v.to_vec();
    s.sort();
    s.get(s.len() / 2).copied().unwrap_or_default()
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64().max(1e-12)
}

fn fmt_stats(v: &[Duration]) -> String {
    let mut s = v.to_vec();
    s.sort();
    let (min, max) = (
        s.first().copied().unwrap_or_default(),
        s.last().copied().unwrap_or_default(),
    );
    format!(
        "median {:.3} ms (min {:.3}, max {:.3}, n={})",
        ms(median(v)),
        ms(min),
        ms(max),
        v.len()
    )
}

fn fmt_ns(d: Duration) -> String {
    format!("{:.0} ns/op", d.as_secs_f64() * 1e9)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn verdict(got: Duration, target: Duration) -> String {
    let ok = if got <= target { "met" } else { "MISSED" };
    format!("target ≤ {target:?}: {ok}")
}

const PBKDF2_ITERATIONS: u32 = 1_000;

/// Records sealed under a per-record key, to time the "derive a key per record" design.
struct NaiveStore {
    master: [u8; 32],
    records: Vec<NaiveRecord>,
}

/// (name, nonce, HKDF-keyed ciphertext, PBKDF2-keyed ciphertext).
type NaiveRecord = (String, [u8; 12], Vec<u8>, Vec<u8>);

struct Len32;
impl hkdf::KeyType for Len32 {
    fn len(&self) -> usize {
        32
    }
}

impl NaiveStore {
    fn build() -> BenchResult<Self> {
        let rng = SystemRandom::new();
        let mut master = [0u8; 32];
        rng.fill(&mut master).map_err(|_| "rng")?;
        let mut records = Vec::with_capacity(RECORDS);
        for n in 0..RECORDS {
            let name = format!("p{}/name_{n}", n % 10);
            let mut nonce = [0u8; 12];
            rng.fill(&mut nonce).map_err(|_| "rng")?;
            let plain = format!("secret-value-{n:0>27}").into_bytes();
            let mut hkdf_ct = plain.clone();
            Self::seal(&Self::hkdf_key(&master, &name)?, &nonce, &mut hkdf_ct)?;
            // PBKDF2 sealing is slow; only the first 50 are real, the timing loop decrypts each
            // record with its own derivation regardless (a failed tag costs the same).
            let mut pb_ct = plain;
            if n < 50 {
                Self::seal(&Self::pbkdf2_key(&master, &name), &nonce, &mut pb_ct)?;
            } else {
                pb_ct.extend_from_slice(&[0u8; 16]);
            }
            records.push((name, nonce, hkdf_ct, pb_ct));
        }
        Ok(Self { master, records })
    }

    fn hkdf_key(master: &[u8; 32], name: &str) -> BenchResult<[u8; 32]> {
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, b"naive").extract(master);
        let info = [name.as_bytes()];
        let mut out = [0u8; 32];
        prk.expand(&info, Len32)
            .and_then(|okm| okm.fill(&mut out))
            .map_err(|_| "hkdf")?;
        Ok(out)
    }

    fn pbkdf2_key(master: &[u8; 32], name: &str) -> [u8; 32] {
        let mut out = [0u8; 32];
        let iterations = NonZeroU32::new(PBKDF2_ITERATIONS).unwrap_or(NonZeroU32::MIN);
        pbkdf2::derive(
            pbkdf2::PBKDF2_HMAC_SHA256,
            iterations,
            name.as_bytes(),
            master,
            &mut out,
        );
        out
    }

    fn seal(key: &[u8; 32], nonce: &[u8; 12], buf: &mut Vec<u8>) -> BenchResult<()> {
        let k = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key).map_err(|_| "key")?);
        k.seal_in_place_append_tag(Nonce::assume_unique_for_key(*nonce), Aad::empty(), buf)
            .map_err(|_| "seal")?;
        Ok(())
    }

    fn open(key: &[u8; 32], nonce: &[u8; 12], ct: &[u8]) -> BenchResult<bool> {
        let k = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key).map_err(|_| "key")?);
        let mut buf = ct.to_vec();
        Ok(
            k.open_in_place(Nonce::assume_unique_for_key(*nonce), Aad::empty(), &mut buf)
                .is_ok(),
        )
    }

    fn decrypt_all_hkdf(&self) -> BenchResult<usize> {
        let mut ok = 0;
        for (name, nonce, ct, _) in &self.records {
            if Self::open(&Self::hkdf_key(&self.master, name)?, nonce, ct)? {
                ok += 1;
            }
        }
        if ok != RECORDS {
            return Err(format!("naive HKDF store decrypted {ok} of {RECORDS}").into());
        }
        Ok(ok)
    }

    fn decrypt_all_pbkdf2(&self) -> BenchResult<usize> {
        let mut ok = 0;
        for (name, nonce, _, ct) in &self.records {
            if Self::open(&Self::pbkdf2_key(&self.master, name), nonce, ct)? {
                ok += 1;
            }
        }
        if ok != 50 {
            return Err(format!("naive PBKDF2 store decrypted {ok} of 50 real records").into());
        }
        Ok(ok)
    }
}
