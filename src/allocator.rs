//! Keeps the server's memory from ratcheting up after logins.
//!
//! glibc's malloc raises its mmap threshold each time a large mapped block is freed; after
//! that, Argon2's 19 MiB working memory comes from the heap, and once freed stays resident.
//! The soak test saw RSS climb to 0.5–0.8 GiB after a few dozen sign-ups and never come
//! down. A fixed threshold keeps every such block its own mapping, unmapped on free.

/// Blocks from this size up are mapped on their own (glibc's initial default).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MMAP_THRESHOLD: libc::c_int = 128 * 1024;

/// Call once, first thing in `main`.
#[allow(unsafe_code)]
pub fn return_large_blocks_to_the_os() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only adjusts allocator tuning, takes two integers and is thread-safe.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
    }
}
