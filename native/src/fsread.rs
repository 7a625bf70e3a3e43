//! Reads the small `/proc`, `/sys` and cgroup files the probe needs into one reused buffer.
//!
//! Under the real root, files stay open between probes: a `pread` at offset 0 makes the kernel
//! generate a file's contents afresh, and costs a fraction of `open` + `close` (under
//! virtualisation an open can cost more than everything else in a probe). Files a probe did not
//! read are closed when it finishes, so only one probe's working set (about a dozen descriptors,
//! all close-on-exec) stays open. `/proc/self/mountinfo` is re-read only when `poll` says the mount
//! table changed, which is what the kernel offers that file's readers.
//!
//! Fixture roots are read with plain open/read/close: they change between calls.

use std::borrow::Cow;
use std::fs::File;
use std::io::{self, ErrorKind};
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileExt;

use crate::sys;

/// Big enough for `/proc/self/mountinfo` on most hosts; grows when a file is larger.
const INITIAL_CAPACITY: usize = 64 * 1024;

pub struct Reader {
    /// Every path is read under this prefix (the `root` option without its trailing `/`).
    root: String,
    path: String,
    buf: Vec<u8>,
    kept: Vec<Kept>,
    mounts: Mounts,
    /// Counts probes, to tell which kept files the current one used.
    probe: u64,
}

struct Kept {
    path: String,
    file: File,
    probe: u64,
}

/// The last mount table read, and under the real root the descriptor to poll for changes.
#[derive(Default)]
struct Mounts {
    file: Option<File>,
    text: String,
    version: u64,
}

impl Default for Reader {
    fn default() -> Self {
        Reader {
            root: String::new(),
            path: String::new(),
            buf: vec![0; INITIAL_CAPACITY],
            kept: Vec::new(),
            mounts: Mounts::default(),
            probe: 0,
        }
    }
}

impl Reader {
    /// Starts a probe that reads every path under `root` (`/` or `""` is the real root).
    pub fn begin(&mut self, root: &str) {
        self.root.clear();
        self.root.push_str(root.trim_end_matches('/'));
        self.probe += 1;
    }

    /// Ends a probe: closes the kept files it did not read.
    pub fn finish(&mut self) {
        let probe = self.probe;
        self.kept.retain(|kept| kept.probe == probe);
    }

    /// True when reading the real file system, so syscalls may stand in for files.
    pub fn is_real_root(&self) -> bool {
        self.root.is_empty()
    }

    /// The contents of `dir/name` under the root, or `None` when it is missing or unreadable.
    /// Invalid UTF-8 is replaced rather than rejected so that one odd byte cannot hide a file.
    ///
    /// Kernel files read here hold a single record (one value, or one `show` like
    /// `memory.stat`), which the kernel hands out whole: a read that leaves room in the buffer
    /// has reached the end, so no second read is needed to see 0 (the same holds for the
    /// regular files of a fixture).
    pub fn read(&mut self, dir: &str, name: &str) -> Option<Cow<'_, str>> {
        self.path.clear();
        self.path.push_str(&self.root);
        push_joined(&mut self.path, dir, name);
        let len = if self.is_real_root() {
            self.read_kept()?
        } else {
            // std builds short C paths on the stack, so opening allocates nothing.
            read_from_start(&File::open(&self.path).ok()?, &mut self.buf, false).ok()?
        };
        Some(text(&self.buf[..len]))
    }

    /// Reads `self.path` through a kept descriptor, opening (and keeping) it if needed.
    fn read_kept(&mut self) -> Option<usize> {
        if let Some(i) = self.kept.iter().position(|k| k.path == self.path) {
            self.kept[i].probe = self.probe;
            match read_from_start(&self.kept[i].file, &mut self.buf, false) {
                Ok(len) => return Some(len),
                // The file went away under the descriptor (a removed cgroup gives ENODEV):
                // forget it and look the path up again.
                Err(_) => drop(self.kept.swap_remove(i)),
            }
        }
        let file = File::open(&self.path).ok()?;
        let len = read_from_start(&file, &mut self.buf, false).ok()?;
        self.kept.push(Kept {
            path: self.path.clone(),
            file,
            probe: self.probe,
        });
        Some(len)
    }

    /// Brings the copy of `/proc/self/mountinfo` up to date and returns its version, which
    /// changes whenever the text may have (on every call for a fixture root).
    pub fn refresh_mounts(&mut self) -> u64 {
        let kept = self.is_real_root() && self.mounts.file.is_some();
        let unchanged = kept
            && self
                .mounts
                .file
                .as_ref()
                .map(|f| sys::priority_event(f.as_raw_fd()))
                == Some(Some(false));
        if !unchanged {
            self.read_mounts();
            self.mounts.version += 1;
        }
        self.mounts.version
    }

    /// The mount table as of the last `refresh_mounts`, empty when it could not be read.
    pub fn mounts(&self) -> &str {
        &self.mounts.text
    }

    fn read_mounts(&mut self) {
        self.mounts.text.clear();
        let file = if self.is_real_root() {
            // Opening before reading means any change after this read raises the next poll's
            // event.
            match self.mounts.file.take() {
                Some(file) => Some(file),
                None => File::open("/proc/self/mountinfo").ok(),
            }
        } else {
            self.mounts.file = None;
            self.path.clear();
            self.path.push_str(&self.root);
            self.path.push_str("/proc/self/mountinfo");
            File::open(&self.path).ok()
        };
        let Some(file) = file else { return };
        // mountinfo has one record per mount and the kernel hands out about a page per read, so
        // this one is read until it reports the end.
        if let Ok(len) = read_from_start(&file, &mut self.buf, true) {
            self.mounts.text.push_str(&text(&self.buf[..len]));
            if self.is_real_root() {
                self.mounts.file = Some(file);
            }
        }
    }
}

/// Valid UTF-8 borrowed as is (the common case, and faster to check than a lossy conversion),
/// anything else with replacement characters.
fn text(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

/// Reads `file` from offset 0 into `buf` (growing it when full), stopping at a short read
/// unless `until_end`. Returns the length read.
fn read_from_start(file: &File, buf: &mut Vec<u8>, until_end: bool) -> io::Result<usize> {
    let mut len = 0;
    loop {
        if len == buf.len() {
            buf.resize(buf.len() * 2, 0);
        }
        match file.read_at(&mut buf[len..], len as u64) {
            Ok(0) => return Ok(len),
            Ok(n) => {
                len += n;
                if !until_end && len < buf.len() {
                    return Ok(len);
                }
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Appends `dir/name` to `out` without doubling the separator when `dir` is `/`.
pub fn push_joined(out: &mut String, dir: &str, name: &str) {
    out.push_str(dir.trim_end_matches('/'));
    out.push('/');
    out.push_str(name);
}

/// `dir/name` as a new string, for the paths a result reports.
pub fn joined(dir: &str, name: &str) -> String {
    let mut out = String::with_capacity(dir.len() + name.len() + 1);
    push_joined(&mut out, dir, name);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testdir::TestDir;

    #[test]
    fn reads_under_the_root_and_grows_for_large_files() {
        let dir = TestDir::new();
        let big = "x".repeat(INITIAL_CAPACITY * 3 + 7);
        dir.write("proc/self/big", &big);
        dir.write("proc/self/small", "12\n");
        dir.write("proc/self/mountinfo", &big);
        let mut reader = Reader::default();
        reader.begin(&format!("{}/", dir.path()));
        assert!(!reader.is_real_root());
        assert_eq!(reader.read("/proc/self", "big").unwrap(), big);
        assert_eq!(reader.read("/proc/self", "small").unwrap(), "12\n");
        assert!(reader.read("/proc/self", "missing").is_none());
        let version = reader.refresh_mounts();
        assert_eq!(reader.mounts(), big);
        assert_ne!(
            reader.refresh_mounts(),
            version,
            "a fixture is read afresh every time"
        );
    }

    #[test]
    fn the_real_root_keeps_only_the_files_the_last_probe_read() {
        let mut reader = Reader::default();
        reader.begin("/");
        assert!(reader.is_real_root());
        assert!(reader
            .read("/proc/self", "status")
            .unwrap()
            .contains("Pid:"));
        assert!(reader.read("/proc/self", "stat").is_some());
        let version = reader.refresh_mounts();
        assert!(reader.mounts().contains(" - "));
        reader.finish();
        assert_eq!(reader.kept.len(), 2);
        reader.begin("/");
        let status = reader.read("/proc/self", "status").unwrap();
        assert!(status.contains("Pid:"), "a kept file reads from the start");
        assert_eq!(
            reader.refresh_mounts(),
            version,
            "an unchanged mount table is kept"
        );
        assert!(reader.mounts().contains(" - "));
        reader.finish();
        assert_eq!(reader.kept.len(), 1);
    }

    #[test]
    fn a_kept_file_reads_fresh_contents() {
        let dir = TestDir::new();
        dir.write("value", "1\n");
        let mut reader = Reader::default();
        // A fixture file read as if under the real root, to see a kept descriptor re-read.
        reader.begin("/");
        assert_eq!(reader.read(dir.path(), "value").unwrap(), "1\n");
        std::fs::write(format!("{}/value", dir.path()), "22\n").unwrap();
        assert_eq!(reader.read(dir.path(), "value").unwrap(), "22\n");
        assert_eq!(reader.kept.len(), 1);
    }

    #[test]
    fn joins_without_doubling_slashes() {
        assert_eq!(joined("/", "cpu.max"), "/cpu.max");
        assert_eq!(
            joined("/sys/fs/cgroup", "cpu.max"),
            "/sys/fs/cgroup/cpu.max"
        );
        assert_eq!(
            joined("/sys/fs/cgroup/", "cpu.max"),
            "/sys/fs/cgroup/cpu.max"
        );
    }
}
