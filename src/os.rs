//! What Chirpy asks of the operating system that std cannot: how the server shares the
//! machine's memory, CPU and file descriptors.

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

/// Makes the calling thread yield its core to any other work: SCHED_IDLE, so a request
/// that wakes up preempts it at once (with `nice` alone it waited out a scheduler slice,
/// tripling reads' p99 during a login storm). It still runs whenever a core is free, and
/// gets a sliver of CPU even on a saturated machine. Failing that, the lowest nice value.
#[allow(unsafe_code)]
pub fn lower_this_threads_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: on Linux, pid 0 means the calling thread; the arguments are plain values and a
    // valid, initialised sched_param.
    unsafe {
        let param = libc::sched_param { sched_priority: 0 };
        if libc::sched_setscheduler(0, libc::SCHED_IDLE, &param) != 0 {
            libc::setpriority(libc::PRIO_PROCESS, 0, 19);
        }
    }
}

/// Raises this process's soft limit on open files to its hard limit, as Go servers do: the
/// soft default (often 1,024) is far below what a server with many clients needs, and
/// raising it is always allowed. Returns the limit now in force.
#[allow(unsafe_code)]
pub fn raise_file_limit() -> u64 {
    // SAFETY: getrlimit/setrlimit read and write a plain struct this function owns.
    unsafe {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return 1024;
        }
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: limit.rlim_max,
                ..limit
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                limit = raised;
            }
        }
        limit.rlim_cur
    }
}

/// Hands memory the allocator holds but no longer uses back to the operating system. A
/// flood of connections leaves many small freed buffers behind that glibc would otherwise
/// keep (the attack review saw 650 MiB stay after 20,000 connections had gone).
#[allow(unsafe_code)]
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim takes a plain integer and is thread-safe.
    unsafe {
        libc::malloc_trim(0);
    }
}
