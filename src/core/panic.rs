//! The message of a caught panic: every layer that catches one (I/O threads, callback
//! workers, the C boundary) reports it the same way.

/// The text a panic was raised with, or "unknown panic" for a payload that is not a string.
pub fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned())
}
