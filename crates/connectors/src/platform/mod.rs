//! One descriptor per platform: its name, the variables it reads (with defaults and docs), what
//! to say when it is not configured, and how to build it from an [`Env`]. The builder, the
//! registry and `env.example` loop over [`descriptors`]; adding a platform is adding a module
//! here and a line to the table (plus, for a typed accessor on `Connectors`, one method over
//! `Connectors::require`), with no per-platform code in the builder or `env.example`.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use conn_core::connector::Connector;
use conn_core::env::{Env, EnvVarDoc};
use conn_core::token::TokenStore;
use conn_core::Error;

use crate::registry::Connectors;
use crate::report::Skipped;

#[cfg(feature = "content")]
mod content;
#[cfg(feature = "douyin")]
mod douyin;
#[cfg(feature = "erp")]
mod erp;
#[cfg(feature = "ths")]
mod ths;

/// A platform the umbrella can build: what it is called, what it reads, and how it is built.
///
/// ```
/// let names: Vec<&str> = connectors::descriptors().iter().map(|d| d.name).collect();
/// # #[cfg(feature = "full")]
/// assert_eq!(names, ["douyin", "ths", "erp", "content"]);
/// ```
pub struct Descriptor {
    /// The platform name (`douyin`, `ths`, `erp`, `content`), as [`ConnectorsBuilder::only`]
    /// takes it.
    ///
    /// [`ConnectorsBuilder::only`]: crate::ConnectorsBuilder::only
    pub name: &'static str,
    /// The crate that implements it (`conn-douyin`, …), the heading of its `env.example`
    /// section.
    pub crate_name: &'static str,
    /// What its variables configure (the rest of that heading).
    pub title: &'static str,
    /// Every variable the crate reads, with its default and description.
    pub env_vars: &'static [EnvVarDoc],
    /// The variables to set to enable it, as [`Skipped::variables`] lists them.
    pub enable_vars: &'static [&'static str],
    /// What else would do, as [`Skipped::hint`] says it.
    pub skip_hint: &'static str,
    /// The instances to build when there may be several (one per content profile); `None`:
    /// the platform itself.
    instances: Option<InstancesFn>,
    /// The "not configured" rule when it is not [`Descriptor::unconfigured`]'s (a content
    /// profile also counts a base URL from a profile file); it may fail on a bad profile.
    skip: Option<SkipFn>,
    /// Builds one configured instance.
    build: BuildFn,
}

/// Lists a platform's instances (the content profiles) from the environment.
type InstancesFn = fn(&Env) -> Result<Vec<String>, Error>;

/// A platform's own "not configured" rule for one instance.
type SkipFn = fn(&Env, &str) -> Result<Option<Skipped>, Error>;

/// An adjustment of a `Config` seen as `dyn Any`.
type ApplyFn = dyn FnMut(&mut dyn Any) + Send;

/// What building one instance gives: the connector for the registry and the typed client for
/// its accessor.
pub(crate) type Built = (Box<dyn Connector>, Box<dyn Any + Send + Sync>);

/// Builds the instance `name` from `env`, persisting tokens in `tokens`; `so_far` is the
/// registry being built (its shared state), and `tune` applies the builder's adjustments to
/// the platform's `Config` (passed as `&mut dyn Any`) before the client is made.
type BuildFn = fn(
    env: &Env,
    name: &str,
    tokens: &Arc<dyn TokenStore>,
    so_far: &Connectors,
    tune: &mut dyn FnMut(&mut dyn Any),
) -> Result<Built, Vec<Error>>;

impl fmt::Debug for Descriptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Descriptor")
            .field("name", &self.name)
            .field("crate_name", &self.crate_name)
            .field("enable_vars", &self.enable_vars)
            .finish_non_exhaustive()
    }
}

impl Descriptor {
    /// The names to build: `[name]`, or each content profile's name.
    pub(crate) fn instances(&self, env: &Env) -> Result<Vec<String>, Error> {
        match self.instances {
            Some(f) => f(env),
            None => Ok(vec![self.name.to_owned()]),
        }
    }

    /// `Some(skipped)` when `env` leaves the instance `name` unconfigured.
    pub(crate) fn skipped(&self, env: &Env, name: &str) -> Result<Option<Skipped>, Error> {
        match self.skip {
            Some(f) => f(env, name),
            None => Ok(self.unconfigured(env)),
        }
    }

    /// Builds the configured instance `name`.
    pub(crate) fn build(
        &self,
        env: &Env,
        name: &str,
        tokens: &Arc<dyn TokenStore>,
        so_far: &Connectors,
        tune: &mut dyn FnMut(&mut dyn Any),
    ) -> Result<Built, Vec<Error>> {
        (self.build)(env, name, tokens, so_far, tune)
    }

    /// `Some(skipped)` when none of the platform's variables is set in `env`: the rule of every
    /// platform with a single instance.
    ///
    /// ```
    /// use connectors::core::env::{Env, MapEnv};
    /// # #[cfg(feature = "erp")] {
    /// let erp = connectors::descriptors().iter().find(|d| d.name == "erp").unwrap();
    /// let skipped = erp.unconfigured(&Env::from_source(MapEnv::new())).unwrap();
    /// assert_eq!(skipped.variables, ["ERP_API_URL"]);
    /// let set = Env::from_source(MapEnv::new().set("ERP_API_URL", "http://127.0.0.1:9"));
    /// assert!(erp.unconfigured(&set).is_none());
    /// # }
    /// ```
    pub fn unconfigured(&self, env: &Env) -> Option<Skipped> {
        if self.env_vars.iter().any(|d| env.is_set(d.name)) {
            return None;
        }
        Some(Skipped {
            platform: self.name.to_owned(),
            variables: self.enable_vars.iter().map(|v| (*v).to_owned()).collect(),
            hint: self.skip_hint.to_owned(),
        })
    }
}

/// Every compiled-in platform, in build order (which is also `env.example`'s order).
pub fn descriptors() -> &'static [&'static Descriptor] {
    DESCRIPTORS
}

const DESCRIPTORS: &[&Descriptor] = &[
    #[cfg(feature = "douyin")]
    &douyin::DESCRIPTOR,
    #[cfg(feature = "ths")]
    &ths::DESCRIPTOR,
    #[cfg(feature = "erp")]
    &erp::DESCRIPTOR,
    #[cfg(feature = "content")]
    &content::DESCRIPTOR,
];

/// A configuration adjustment queued by the builder for one platform's `Config`, applied
/// after the environment is read and before the client is built (to every instance of a
/// platform that has several).
pub(crate) struct Tune {
    pub(crate) platform: &'static str,
    apply: Box<ApplyFn>,
}

impl Tune {
    /// `f` adjusts the `C` of `platform`.
    pub(crate) fn new<C: Any>(
        platform: &'static str,
        mut f: impl FnMut(&mut C) + Send + 'static,
    ) -> Self {
        Self {
            platform,
            apply: Box::new(move |config: &mut dyn Any| {
                // A `Config` of another type is not this adjustment's: leave it.
                if let Some(c) = config.downcast_mut::<C>() {
                    f(c);
                }
            }),
        }
    }

    /// Applies the adjustment to `config` (a no-op when it is not the expected type).
    pub(crate) fn apply(&mut self, config: &mut dyn Any) {
        (self.apply)(config);
    }
}

/// A client as both a registry connector and a typed client.
#[cfg(any(
    feature = "douyin",
    feature = "ths",
    feature = "erp",
    feature = "content"
))]
fn built<C: Connector + Clone + Send + Sync + 'static>(client: C) -> Built {
    (Box::new(client.clone()), Box::new(client))
}
