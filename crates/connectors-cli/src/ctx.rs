//! What every command needs: the output mode, the environment, the store, the registry.

use std::path::PathBuf;

use connectors::core::env::Env;
use connectors::creds::{CredentialStore, StoreConfig};
use connectors::Connectors;

use crate::exit::CliResult;
use crate::output::Output;

/// A Douyin configuration adjustment (part size from the command line…).
pub type DouyinTune = Box<dyn FnOnce(&mut connectors::douyin::Config) + Send>;

/// The context of one run.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// Output mode.
    pub out: Output,
    /// Directory of the encrypted store.
    pub store_dir: PathBuf,
    /// Where variables come from (the process environment).
    pub env: Env,
}

/// A registry and the store it was built over.
#[derive(Debug)]
pub struct Built {
    /// The platforms.
    pub reg: Connectors,
    /// The store, when its directory exists (or was created).
    pub store: Option<CredentialStore>,
}

impl Ctx {
    /// The store's configuration: the directory chosen on the command line (or
    /// `API_CREDENTIALS_DIR`), the key from `API_CREDENTIAL_ENCRYPTION_KEY` or its key file.
    pub fn store_config(&self) -> StoreConfig {
        StoreConfig::from_env_with(&self.env).with_dir(&self.store_dir)
    }

    /// Opens the store: always when `create`, else only when its directory exists (so a run
    /// that needs no store leaves no `.credentials/` behind).
    pub fn store(&self, create: bool) -> CliResult<Option<CredentialStore>> {
        if !create && !self.store_dir.exists() {
            return Ok(None);
        }
        Ok(Some(CredentialStore::open(self.store_config())?))
    }

    /// Builds the platforms in `only` from the environment over the store; tokens persist in
    /// the store when there is one.
    pub fn build(
        &self,
        only: &[&str],
        create_store: bool,
        tune: Option<DouyinTune>,
    ) -> CliResult<Built> {
        let store = self.store(create_store)?;
        let mut b = Connectors::builder()
            .env(self.env.clone())
            .only(only.iter().copied());
        if let Some(s) = &store {
            b = b.credential_store(s.clone());
        }
        if let Some(t) = tune {
            b = b.tune_douyin(t);
        }
        let reg = b.build()?;
        Ok(Built { reg, store })
    }
}
