//! cutover: a terminal wizard that runs a cutover migration of an on-premises Exchange Server to Exchange
//! Online, from the kickoff meeting to the closeout report.
//!
//! Data flows one way: a key becomes a [`tui::Action`], the pure [`tui::App::update`] turns it into
//! [`protocol::Command`]s, the runner carries them out and answers with [`protocol::Event`]s, which go through
//! `update` again; drawing only reads the [`tui::App`].

pub mod cli;
pub mod crash;
pub mod dns;
#[cfg(test)]
pub(crate) mod fuzz_support;
pub mod input_file;
pub mod inventory;
pub mod logging;
pub mod m365;
pub mod model;
pub mod plan;
pub mod project;
pub mod protocol;
pub mod report;
pub mod runner;
pub mod safe_text;
pub mod secrets;
pub mod signals;
pub mod sim;
pub mod source;
pub mod text;
pub mod tui;
pub mod wizard;
