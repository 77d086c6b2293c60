//! `codex_thread_list`: a listing of threads (`thread/list`), a page at a time.

use super::client::codex_client;
use super::error::codex_error;
use super::{
    codex_result, free_handle, guard, guard_value, handle, into_handle, opt_c_str, out_ptr, CText,
    Handle, Outcome, CODEX_STREAM_END,
};
use crate::core::protocol::threads::Paging;
use crate::core::{Client, Error, ErrorKind};
use std::ffi::c_char;
use std::sync::{Mutex, Weak};

/// A listing of the server's threads (`thread/list`), read a page at a time with
/// `codex_thread_list_next_page`. The current page's ids, next cursor and JSON are borrowed
/// from the list until the next page or `codex_thread_list_free`.
///
/// Threads: one consumer at a time: do not read a page's strings while another thread turns
/// the page. Several lists of one client may be read on several threads at once.
#[cfg_attr(all(), repr(C))] // the tag first (see `handle_type!`); opaque to cbindgen
pub struct codex_thread_list {
    magic: u64,
    /// Weak: a list does not keep its client (and its app-server) alive past
    /// `codex_client_free`.
    client: Weak<Client>,
    state: Mutex<Listing>,
}

struct Listing {
    paging: Paging,
    page: Option<Page>,
}

/// The current page, as C reads it.
struct Page {
    ids: Vec<CText>,
    next_cursor: Option<CText>,
    json: CText,
}

handle_type!(codex_thread_list, 0x636f_6465_7874_6c73);

/// Reads the current page; `None` for an invalid list or before the first page.
unsafe fn current_page<T>(
    list: *const codex_thread_list,
    read: impl FnOnce(&Page) -> T,
) -> Option<T> {
    let list = handle(list, "list").ok()?;
    let state = list.state.lock().unwrap_or_else(|p| p.into_inner());
    state.page.as_ref().map(read)
}

/// Starts a listing of the server's threads; no request is sent until the first
/// `codex_thread_list_next_page`.
///
/// `params_json` is NULL (every non-archived thread, newest first, the server's page size) or
/// a JSON object of `thread/list` filters: `"limit"` (page size), `"archived": true` (only
/// archived threads), `"cwd"` (a path, or an array of them), `"searchTerm"` (a substring of
/// the title or name), `"sortKey"` (`"created_at"`, `"updated_at"`), `"sortDirection"`
/// (`"asc"`, `"desc"`), `"cursor"` (start at a cursor a page gave before). Writes the new list
/// to `*list_out`.
///
/// On the server: each page reads the thread index (the state database and history files);
/// a listed thread is not loaded.
///
/// - **Threads:** any thread. The list does not keep its client alive: after
///   `codex_client_close` or `codex_client_free` its pages fail with `CODEX_ERR_CLOSED`; free
///   the list whenever you like.
/// - **Ownership:** the list written to `*list_out` is the caller's: free it with
///   `codex_thread_list_free`.
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` (NULL `client` or `list_out`, `params_json` not a
///   JSON object, a `cursor` that is not a string).
///
/// # Safety
/// `client` a live client; `params_json` NULL or a string; `list_out` writable; `err_out` NULL
/// or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_client_thread_list(
    client: *const codex_client,
    params_json: *const c_char,
    list_out: *mut *mut codex_thread_list,
    err_out: *mut *mut codex_error,
) -> codex_result {
    guard(err_out, || {
        let made = (|| {
            let client = std::sync::Arc::downgrade(&handle(client, "client")?.client);
            let paging = Paging::new(opt_c_str(params_json, "params_json")?)?;
            out_ptr(list_out, "list_out")?;
            *list_out = into_handle(codex_thread_list {
                magic: codex_thread_list::MAGIC,
                client,
                state: Mutex::new(Listing { paging, page: None }),
            });
            Ok::<(), Error>(())
        })();
        Outcome::from(made)
    })
}

/// Fetches the next page (the first on the first call): `CODEX_OK` with a page to read
/// (`codex_thread_list_count`, `codex_thread_list_thread_id`, ...; it may hold no thread),
/// `CODEX_STREAM_END` (no error object) once the page before was the last. The previous page's
/// strings are freed. On an error the current page stays and the call may be retried.
///
/// On the server: one `thread/list` request (see `codex_client_thread_list`).
///
/// - **Threads:** one consumer at a time per list (see `codex_thread_list`).
/// - **Ownership:** nothing to free; strings of the page before are freed.
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` (NULL or freed `list`), `CODEX_ERR_RPC` (the
///   server's error, e.g. "invalid cursor"), `CODEX_ERR_PROTOCOL` (a page without `data`),
///   `CODEX_ERR_TIMEOUT`, `CODEX_ERR_OVERLOADED`, `CODEX_ERR_TRANSPORT`, `CODEX_ERR_CLOSED`.
///
/// # Safety
/// `list` a live list; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_thread_list_next_page(
    list: *mut codex_thread_list,
    err_out: *mut *mut codex_error,
) -> codex_result {
    guard(err_out, || {
        let list = match handle(list, "list") {
            Ok(list) => list,
            Err(err) => return Outcome::Err(err),
        };
        let Some(client) = list.client.upgrade() else {
            return Outcome::Err(Error::new(ErrorKind::Closed, "list: its client was freed"));
        };
        let mut state = list.state.lock().unwrap_or_else(|p| p.into_inner());
        match client.thread_list_page(&mut state.paging) {
            Ok(Some(page)) => {
                state.page = Some(Page {
                    ids: page.ids.iter().map(|id| CText::new(id)).collect(),
                    next_cursor: page.next_cursor.as_deref().map(CText::new),
                    json: CText::new(&page.json),
                });
                Outcome::Ok
            }
            Ok(None) => Outcome::Code(CODEX_STREAM_END),
            Err(err) => Outcome::Err(err),
        }
    })
}

/// How many threads the current page holds; 0 before the first page and for an invalid list.
///
/// - **Threads:** see `codex_thread_list`.
/// - **Ownership:** nothing to free.
/// - **Errors:** none: 0 when `list` is NULL, not a live handle or has no page yet.
///
/// # Safety
/// `list` must be NULL or a live list.
#[no_mangle]
pub unsafe extern "C" fn codex_thread_list_count(list: *const codex_thread_list) -> usize {
    guard_value(0, || current_page(list, |p| p.ids.len()).unwrap_or(0))
}

/// The id of the current page's thread at `index` (0 to count - 1), in the server's order;
/// NULL for an index out of range.
///
/// - **Threads:** see `codex_thread_list`.
/// - **Ownership:** borrowed: valid until the next page or `codex_thread_list_free`.
/// - **Errors:** none: NULL when `list` is NULL, not a live handle, has no page, or `index` is
///   out of range.
///
/// # Safety
/// `list` must be NULL or a live list.
#[no_mangle]
pub unsafe extern "C" fn codex_thread_list_thread_id(
    list: *const codex_thread_list,
    index: usize,
) -> *const c_char {
    guard_value(std::ptr::null(), || {
        current_page(list, |p| p.ids.get(index).map_or(std::ptr::null(), CText::ptr))
            .unwrap_or(std::ptr::null())
    })
}

/// The server's cursor after the current page (pass it as `"cursor"` to a new listing to go on
/// from here later); NULL on the last page.
///
/// - **Threads:** see `codex_thread_list`.
/// - **Ownership:** borrowed: valid until the next page or `codex_thread_list_free`.
/// - **Errors:** none: NULL on the last page, before the first, or for an invalid list.
///
/// # Safety
/// `list` must be NULL or a live list.
#[no_mangle]
pub unsafe extern "C" fn codex_thread_list_next_cursor(
    list: *const codex_thread_list,
) -> *const c_char {
    guard_value(std::ptr::null(), || {
        current_page(list, |p| p.next_cursor.as_ref().map_or(std::ptr::null(), CText::ptr))
            .unwrap_or(std::ptr::null())
    })
}

/// The current page's result JSON as the server sent it (`data`: the threads with `name`,
/// `preview`, `status`, `createdAt`, `cwd`, ...; `nextCursor`). Writes its length to `*len_out`
/// when not NULL.
///
/// - **Threads:** see `codex_thread_list`.
/// - **Ownership:** borrowed: valid until the next page or `codex_thread_list_free`.
/// - **Errors:** none: NULL before the first page or for an invalid list.
///
/// # Safety
/// `list` must be NULL or a live list; `len_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_thread_list_page_json(
    list: *const codex_thread_list,
    len_out: *mut usize,
) -> *const c_char {
    guard_value(std::ptr::null(), || {
        current_page(list, |p| {
            if !len_out.is_null() {
                *len_out = p.json.len();
            }
            p.json.ptr()
        })
        .unwrap_or(std::ptr::null())
    })
}

/// Frees a list and its current page. NULL and freed lists are ignored.
///
/// - **Threads:** exclusive: no other call on the list may be running or follow.
/// - **Ownership:** releases the list and the strings of its page.
/// - **Errors:** none; NULL is ignored.
///
/// # Safety
/// `list` must be NULL or a list from `codex_client_thread_list`; no other call on it may be
/// running or follow.
#[no_mangle]
pub unsafe extern "C" fn codex_thread_list_free(list: *mut codex_thread_list) {
    guard_value((), || free_handle(list))
}
