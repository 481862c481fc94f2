//! Widgets shared by every screen: the one table used for every list, and the one-line text input.

pub mod input;
pub mod table;
