//! The credentials `connectors creds` knows: every `(platform, name)` that stands for a
//! documented variable, so that `creds set douyn client_secert` is caught with a suggestion
//! instead of silently storing `DOUYN_CLIENT_SECERT`, which nothing reads.
//!
//! The list is not kept by hand: it is every variable of [`connectors::env_vars`] (the
//! registry `env.example` is generated from) that belongs to one of the store's platforms,
//! split the way the store reads it back ([`connectors::core::credentials::credential_for_var`]).

use connectors::core::credentials::credential_for_var as store_key_for_var;
use connectors::core::Error;
use connectors::layer::KNOWN_PLATFORMS;

use crate::exit::CliResult;

/// The documented credential names of `platform`, sorted (empty for an unknown platform).
pub fn names_of(platform: &str) -> Vec<String> {
    let mut names: Vec<String> = connectors::env_vars()
        .into_iter()
        .flat_map(|g| g.vars)
        .filter_map(|v| store_key_for_var(v.name, KNOWN_PLATFORMS))
        .filter(|(p, _)| p == platform)
        .map(|(_, n)| n)
        .collect();
    names.sort();
    names.dedup();
    names
}

/// Refuses a platform or credential name that no variable documents, naming the closest
/// known one; `force` accepts it (a custom content profile, a name of your own).
pub fn check(platform: &str, name: &str, force: bool) -> CliResult {
    if force {
        return Ok(());
    }
    if !KNOWN_PLATFORMS.contains(&platform) {
        return Err(Error::validation(
            "platform",
            format!(
                "`{platform}` is not a known platform{}; known: {} (pass --force to store it anyway, e.g. for a custom content profile)",
                did_you_mean(platform, KNOWN_PLATFORMS.iter().copied()),
                KNOWN_PLATFORMS.join(", ")
            ),
        )
        .into());
    }
    let names = names_of(platform);
    if names.iter().any(|n| n == name) {
        return Ok(());
    }
    Err(Error::validation(
        "name",
        format!(
            "no variable {} is documented for {platform}{}; known names: {} (pass --force to store it anyway)",
            connectors::core::credentials::env_var_name(platform, name),
            did_you_mean(name, names.iter().map(String::as_str)),
            names.join(", ")
        ),
    )
    .into())
}

/// `; did you mean `x`?` for the closest candidate within a few edits, else nothing.
fn did_you_mean<'a>(given: &str, candidates: impl Iterator<Item = &'a str>) -> String {
    // A third of the length, at least 2: `douyn` → `douyin`, `client_secert` →
    // `client_secret`, but `foo` suggests nothing.
    let limit = (given.chars().count() / 3).max(2);
    candidates
        .map(|c| (strsim::damerau_levenshtein(given, c), c))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, c)| format!("; did you mean `{c}`?"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_names_come_from_the_variable_registry() {
        let douyin = names_of("douyin");
        for n in ["client_key", "client_secret", "redirect_uri"] {
            assert!(douyin.iter().any(|d| d == n), "{n} missing from {douyin:?}");
        }
        assert!(names_of("ths").iter().any(|n| n == "refresh_token"));
        assert!(names_of("nope").is_empty());
    }

    #[test]
    fn typos_are_refused_with_the_closest_name() {
        assert!(check("douyin", "client_secret", false).is_ok());
        let e = check("douyn", "client_secret", false).unwrap_err();
        let text = e.to_string();
        assert!(text.contains("did you mean `douyin`?"), "{text}");
        assert_eq!(e.exit_code(), crate::exit::INVALID_INPUT);
        let text = check("douyin", "client_secert", false)
            .unwrap_err()
            .to_string();
        assert!(text.contains("DOUYIN_CLIENT_SECERT"), "{text}");
        assert!(text.contains("did you mean `client_secret`?"), "{text}");
        assert!(text.contains("--force"), "{text}");
        // Nothing close: no suggestion, but the list.
        let text = check("douyin", "zzzzzzzz", false).unwrap_err().to_string();
        assert!(!text.contains("did you mean"), "{text}");
        assert!(text.contains("client_key"), "{text}");
    }

    #[test]
    fn force_accepts_custom_names() {
        assert!(check("myblog", "access_token", true).is_ok());
        assert!(check("douyin", "my_own", true).is_ok());
    }
}
