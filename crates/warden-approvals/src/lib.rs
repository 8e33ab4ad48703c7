#![forbid(unsafe_code)]
//! placeholder doc
pub mod cli;
pub mod diff;
mod display;
mod error;
mod hash;
mod ids;
mod model;
pub mod notify;
mod sqlite;
mod store;
mod wait;

pub use display::summarize;
pub use error::ApprovalError;
pub use hash::{action_hash, canonical_json};
pub use model::*;
pub use sqlite::{SqliteApprovals, DEFAULT_BUSY_TIMEOUT};
pub use store::ApprovalStore;
pub use wait::{request_and_wait, WaitOptions};
