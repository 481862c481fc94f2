//! The Microsoft 365 clients: where each cloud lives ([`endpoints`]), sign-in ([`auth`]), the one HTTP layer
//! ([`http`]: retries, paging, errors), Microsoft Graph v1.0 ([`graph`]) and the Exchange Online admin API
//! ([`exo`]). They speak Microsoft's documented wire formats and know nothing of the simulator.

pub mod auth;
pub mod endpoints;
pub mod error;
pub mod exo;
pub mod graph;
pub mod http;

pub use auth::{Authenticator, DeviceCodePrompt, Poll, SignInConfig, SignInKind, SignedIn};
pub use endpoints::{Cloud, ConnectionSettings, Resource};
pub use error::{ApiError, AuthError, M365Error, Service};
pub use http::{HttpClient, RetryNotice, RetryPolicy, Session};
