//! Plain data that several layers share and that belongs to none of them: how a project reaches its tenant.
//! No I/O, no HTTP; the clients may import it, and it imports no client.

pub mod connection;

pub use connection::{Cloud, ConnectionSettings};
