//! The example end to end, in one test binary (one link of the app with
//! every driver instead of four): its pages over HTTP (`pages`), its
//! binary's commands (`cli`), the password reset by email
//! (`password_reset`) and the permission pages and commands
//! (`permissions`). The browser suite is `tests/browser.rs`.

mod cli;
mod mfa;
mod pages;
mod password_reset;
mod permissions;
mod security;
mod shutdown;
