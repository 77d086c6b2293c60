//! Where an event's memory is freed.
//!
//! An event is allocated on a reader thread and usually freed on a consumer's. glibc frees a
//! block into the arena it came from, under that arena's lock, and the reader takes the same
//! lock for its next event: in a flood the two threads took turns sleeping on that lock (a
//! quarter of the CPU went to futex calls in `perf` of one event loop over 10,000 turns). So a
//! consumer hands small blocks back through a lock-free bounded channel instead, and the reader
//! frees them every 1,024 lines and at the end of each read batch, in its own arena, where
//! nobody contends. The blocks are freed for real (memory checkers see every free), only later
//! and elsewhere.
//!
//! Bounded: when the channel is full, or for a large block, the consumer frees it itself. A
//! block handed back while every reader is blocked is freed by the process timer shortly after.

use crossbeam_channel::{Receiver, Sender, TrySendError};
use once_cell::sync::Lazy;
use std::alloc::Layout;
use std::cell::Cell;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Blocks waiting to be freed, at most: 4 MiB of events at the very most, about 1 MiB of
/// typical ones (a delta is a few hundred bytes).
const CAPACITY: usize = 4096;
/// Larger blocks are freed where they are dropped: they are rare, and would hold memory.
const MAX_BLOCK: usize = 1024;
/// How long a handed-back block may wait when no reader comes by.
const BACKSTOP: Duration = Duration::from_millis(20);

struct Block {
    ptr: NonNull<u8>,
    layout: Layout,
}

// A block is owned by whoever holds it: the channel, then the thread that frees it.
unsafe impl Send for Block {}

impl Block {
    fn free(self) {
        unsafe { std::alloc::dealloc(self.ptr.as_ptr(), self.layout) }
    }
}

/// Blocks handed back, waiting for a reader.
struct Returned {
    sender: Sender<Block>,
    receiver: Receiver<Block>,
    /// The timer has a `free_all` of this due.
    backstop_armed: AtomicBool,
}

impl Returned {
    fn new(capacity: usize) -> Returned {
        let (sender, receiver) = crossbeam_channel::bounded(capacity);
        Returned { sender, receiver, backstop_armed: AtomicBool::new(false) }
    }

    /// Queues a block; hands it back when the channel is full.
    fn hand_back(&self, block: Block) -> Result<(), Block> {
        self.sender.try_send(block).map_err(|e| match e {
            TrySendError::Full(block) | TrySendError::Disconnected(block) => block,
        })
    }

    fn free_all(&self) {
        for block in self.receiver.try_iter().take(self.receiver.capacity().unwrap_or(0)) {
            block.free();
        }
    }

    /// True for the caller who must arm the timer's backstop.
    fn claim_backstop(&self) -> bool {
        !self.backstop_armed.load(Ordering::Relaxed)
            && !self.backstop_armed.swap(true, Ordering::AcqRel)
    }
}

static RETURNED: Lazy<Returned> = Lazy::new(|| Returned::new(CAPACITY));

thread_local! {
    /// This thread is a reader: it allocates events, so it frees its own at once.
    static READER: Cell<bool> = const { Cell::new(false) };
}

/// Marks the calling thread as a reader (see `free_returned`).
pub(crate) fn register_reader() {
    READER.with(|r| r.set(true));
}

/// Frees an event's block: at once on a reader thread, else handed back (see above).
///
/// # Safety
/// `ptr` was allocated with `layout` by the global allocator and is not used again.
pub(super) unsafe fn release(ptr: NonNull<u8>, layout: Layout) {
    let block = Block { ptr, layout };
    if layout.size() > MAX_BLOCK || READER.with(Cell::get) {
        return block.free();
    }
    match RETURNED.hand_back(block) {
        Ok(()) if RETURNED.claim_backstop() => {
            crate::core::timer::after(BACKSTOP, || {
                RETURNED.backstop_armed.store(false, Ordering::Release);
                RETURNED.free_all();
            });
        }
        Ok(()) => {}
        Err(block) => block.free(),
    }
}

/// Frees the blocks consumers handed back; readers call it as they route (see above).
pub(crate) fn free_returned() {
    if !RETURNED.receiver.is_empty() {
        RETURNED.free_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(size: usize) -> Block {
        let layout = Layout::from_size_align(size, 8).unwrap();
        Block { ptr: NonNull::new(unsafe { std::alloc::alloc(layout) }).unwrap(), layout }
    }

    #[test]
    fn a_full_channel_hands_the_block_back_to_be_freed_at_once() {
        let returned = Returned::new(2);
        assert!(returned.hand_back(block(64)).is_ok());
        assert!(returned.hand_back(block(64)).is_ok());
        let refused = returned.hand_back(block(64)).expect_err("the channel is full");
        refused.free();
        returned.free_all();
        assert!(returned.receiver.is_empty());
        assert!(returned.hand_back(block(64)).is_ok(), "room again once freed");
        returned.free_all();
    }

    #[test]
    fn one_caller_arms_the_backstop() {
        let returned = Returned::new(1);
        assert!(returned.claim_backstop());
        assert!(!returned.claim_backstop());
        returned.backstop_armed.store(false, Ordering::Release);
        assert!(returned.claim_backstop());
    }
}
