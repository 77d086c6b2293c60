//! The protocol's data, built and read without threads or I/O: request params from what a
//! program gives (`params`), thread, account and model params and results (`threads`), JSON
//! documents read by JSON Pointer (`pointer`, `document`), typed reads of items, usage,
//! failures and requests (`kinds`, `items`), input and option builders (`builders`). Nothing
//! in this folder knows of connections or turns.

pub mod builders;
pub mod document;
pub mod items;
pub mod kinds;
pub mod params;
pub mod pointer;
pub mod server_requests;
pub mod threads;
