//! Unit tests of the store's private helpers.

use std::time::Duration;

use conn_core::token::TokenKey;

use super::cache::refresh_lock_name;
use super::ReloadCheck;

#[test]
fn lock_names_are_file_safe_and_distinct() {
    let a = refresh_lock_name(&TokenKey::new("douyin", "_000a/b+c="));
    let b = refresh_lock_name(&TokenKey::new("douyin", "_000a/b+c"));
    assert!(a.starts_with("douyin-") && a.ends_with(".lock"), "{a}");
    assert!(!a.contains('/'));
    assert_ne!(a, b);
}

#[test]
fn reload_check_default_is_an_interval() {
    assert_eq!(
        ReloadCheck::default(),
        ReloadCheck::Interval(Duration::from_millis(100))
    );
}
