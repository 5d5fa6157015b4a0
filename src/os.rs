//! The two things Chirpy asks of the operating system that std cannot: both tune how the
//! server shares the machine, neither is needed for correctness.

/// Keeps the server's memory from ratcheting up after logins.
///
/// glibc's malloc raises its mmap threshold each time a large mapped block is freed; after
/// that, 19 MiB Argon2 blocks come from the heap and, once freed, stay resident. The soak
/// test saw RSS climb to 0.5–0.8 GiB after a few dozen sign-ups and never come down. A fixed
/// threshold keeps every such block its own mapping, unmapped on free. Call once, first
/// thing in `main`.
#[allow(unsafe_code)]
pub fn return_large_blocks_to_the_os() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only adjusts allocator tuning, takes two integers and is thread-safe.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
    }
}

/// Lowers the calling thread's CPU priority (nice 10), so that when it competes for a core
/// with request handling, requests win. Failure only means equal priority.
#[allow(unsafe_code)]
pub fn lower_this_threads_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: on Linux, PRIO_PROCESS with id 0 renices only the calling thread; plain integers.
    unsafe {
        libc::setpriority(libc::PRIO_PROCESS, 0, 10);
    }
}
