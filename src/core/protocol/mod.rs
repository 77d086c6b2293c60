//! The protocol's data, built and read without threads or I/O: request params from what a
//! program gives (`params`); thread, account and model params and results (`threads`). Typed items, usage, errors and builders for inputs and options
//! will live here too; nothing in this folder knows of connections or turns.

pub mod params;
pub mod threads;
