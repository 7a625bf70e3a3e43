//! The handful of libc functions the probe needs, declared by hand because this crate takes no
//! dependencies (no `libc` crate). Signatures follow glibc and musl on Linux.

use std::ffi::{c_char, c_int, c_long, c_short, c_ulong, c_void};
use std::os::fd::RawFd;

pub const RTLD_NOW: c_int = 2;
pub const SC_PAGESIZE: c_int = 30;
pub const SC_NPROCESSORS_ONLN: c_int = 84;
pub const SC_PHYS_PAGES: c_int = 85;

const POLLPRI: c_short = 0x002;
const POLLERR: c_short = 0x008;

#[repr(C)]
struct PollFd {
    fd: c_int,
    events: c_short,
    revents: c_short,
}

extern "C" {
    fn poll(fds: *mut PollFd, nfds: c_ulong, timeout: c_int) -> c_int;
    pub fn dlopen(filename: *const c_char, flags: c_int) -> *mut c_void;
    pub fn dlsym(handle: *mut c_void, symbol: *const c_char) -> *mut c_void;
    pub fn dlerror() -> *mut c_char;
    pub fn dlclose(handle: *mut c_void) -> c_int;
    pub fn sched_getaffinity(pid: c_int, cpusetsize: usize, mask: *mut c_ulong) -> c_int;
    pub fn sysconf(name: c_int) -> c_long;
}

/// Whether `fd` has a priority event pending, without waiting; `None` if poll fails. For an open
/// `/proc/self/mountinfo` this means "the mount table changed since the last poll" (proc(5)).
pub fn priority_event(fd: RawFd) -> Option<bool> {
    let mut entry = PollFd {
        fd,
        events: POLLPRI,
        revents: 0,
    };
    // SAFETY: one valid pollfd, no waiting.
    let rc = unsafe { poll(&mut entry, 1, 0) };
    (rc >= 0).then_some(entry.revents & (POLLPRI | POLLERR) != 0)
}

/// `sysconf(name)` as a positive number, `None` when the system does not know.
pub fn sysconf_positive(name: c_int) -> Option<u64> {
    // SAFETY: sysconf only reads its integer argument.
    let value = unsafe { sysconf(name) };
    (value > 0).then_some(value as u64)
}

/// CPUs in this thread's affinity mask, `None` if the kernel refuses every mask size we offer.
pub fn affinity_count() -> Option<u32> {
    // 1024 CPUs (glibc's cpu_set_t) on the stack covers nearly every machine without allocating.
    let mut mask = [0 as c_ulong; 1024 / c_ulong::BITS as usize];
    if let Some(count) = affinity_into(&mut mask) {
        return Some(count);
    }
    // The kernel answers EINVAL when the mask is smaller than its own CPU count: grow until it fits.
    let mut words = mask.len() * 2;
    while words <= 1 << 16 {
        if let Some(count) = affinity_into(&mut vec![0; words]) {
            return Some(count);
        }
        words *= 2;
    }
    None
}

fn affinity_into(mask: &mut [c_ulong]) -> Option<u32> {
    let bytes = std::mem::size_of_val(mask);
    // SAFETY: the kernel writes at most `bytes` bytes into `mask`.
    let rc = unsafe { sched_getaffinity(0, bytes, mask.as_mut_ptr()) };
    (rc == 0).then(|| mask.iter().map(|w| w.count_ones()).sum())
}
