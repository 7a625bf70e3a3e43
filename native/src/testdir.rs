//! Throwaway directory trees for tests that read files.

use std::path::PathBuf;

use crate::cgroup::{parse_membership, resolve, Hierarchy};
use crate::fsread::Reader;
use std::sync::atomic::{AtomicU32, Ordering};

pub struct TestDir(PathBuf);

impl TestDir {
    pub fn new() -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("bento-native-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        TestDir(path)
    }

    pub fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }

    /// Writes `contents` to `relative`, creating its parent directories.
    pub fn write(&self, relative: &str, contents: &str) {
        let file = self.0.join(relative.trim_start_matches('/'));
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, contents).unwrap();
    }

    /// A reader over this tree and the cgroup hierarchy its /proc and /sys files describe, as the
    /// probe resolves it before reading any controller.
    pub fn resolved(&self) -> (Reader, Hierarchy) {
        let mut reader = Reader::default();
        reader.begin(self.path());
        let membership = parse_membership(&reader.read("/proc/self", "cgroup").unwrap());
        reader.refresh_mounts();
        let hierarchy = resolve(&membership, reader.mounts());
        (reader, hierarchy)
    }
}

impl Drop for TestDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
