//! Memory limit and usage of the process's memory cgroup, and the host's memory.

use crate::cgroup::{Controller, Hierarchy};
use crate::fsread::{joined, Reader};
use crate::sys;

/// v1 reports "no limit" as a huge page-aligned number (`9223372036854771712` on 4 KiB pages);
/// anything from 2^62 up is that sentinel, whatever the page size.
const V1_UNLIMITED: u64 = 1 << 62;

pub struct Memory {
    pub limit: Option<u64>,
    pub limit_source: Option<String>,
    pub usage: Option<u64>,
    pub host: Option<u64>,
}

pub fn probe(reader: &mut Reader, hierarchy: &Hierarchy) -> Memory {
    let (limit, usage) = match hierarchy.get(Controller::Memory) {
        Some(cgroup) if cgroup.version == 2 => {
            let limit = cgroup.tightest(|level| {
                let limit = parse_v2_max(&reader.read(level, "memory.max")?)??;
                Some((limit, "memory.max"))
            });
            (limit, read_u64(reader, &cgroup.dir, "memory.current"))
        }
        Some(cgroup) => {
            let walked = cgroup.tightest(|level| {
                let limit = parse_v1_limit(&reader.read(level, "memory.limit_in_bytes")?)?;
                Some((limit, "memory.limit_in_bytes"))
            });
            // The leaf's hierarchical limit also covers ancestors above the mount that a
            // container cannot see; it only replaces a strictly larger limit from the walk.
            let hierarchical = reader
                .read(&cgroup.dir, "memory.stat")
                .and_then(|stat| hierarchical_memory_limit(&stat))
                .filter(|&h| walked.as_ref().is_none_or(|(w, _)| h < *w))
                .map(|h| (h, joined(&cgroup.dir, "memory.stat")));
            let usage = read_u64(reader, &cgroup.dir, "memory.usage_in_bytes");
            (hierarchical.or(walked), usage)
        }
        None => (None, None),
    };
    let (limit, limit_source) = limit.unzip();
    Memory {
        limit,
        limit_source,
        usage,
        host: host(reader),
    }
}

fn read_u64(reader: &mut Reader, dir: &str, file: &str) -> Option<u64> {
    reader.read(dir, file)?.trim().parse().ok()
}

/// `MemTotal` from `/proc/meminfo`, else what the C library knows of physical memory.
fn host(reader: &mut Reader) -> Option<u64> {
    let from_file = reader.read("/proc", "meminfo").and_then(|text| {
        let kb = text.lines().find_map(|l| l.strip_prefix("MemTotal:"))?;
        let kb: u64 = kb.trim().strip_suffix("kB")?.trim().parse().ok()?;
        kb.checked_mul(1024)
    });
    from_file.or_else(|| {
        sys::sysconf_positive(sys::SC_PHYS_PAGES)?
            .checked_mul(sys::sysconf_positive(sys::SC_PAGESIZE)?)
    })
}

/// v2 `memory.max`: `Some(None)` for `max`.
fn parse_v2_max(text: &str) -> Option<Option<u64>> {
    match text.trim() {
        "max" => Some(None),
        n => n.parse().ok().map(Some),
    }
}

/// A v1 limit in bytes, `None` for the unlimited sentinel or a malformed file.
pub fn parse_v1_limit(text: &str) -> Option<u64> {
    text.trim().parse().ok().filter(|&n| n < V1_UNLIMITED)
}

fn hierarchical_memory_limit(stat: &str) -> Option<u64> {
    let value = stat
        .lines()
        .find_map(|l| l.strip_prefix("hierarchical_memory_limit "))?;
    parse_v1_limit(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testdir::TestDir;

    #[test]
    fn the_v1_sentinel_is_no_limit() {
        assert_eq!(parse_v1_limit("9223372036854771712\n"), None);
        assert_eq!(parse_v1_limit("4611686018427387904"), None);
        assert_eq!(parse_v1_limit("4611686018427387903"), Some((1 << 62) - 1));
        assert_eq!(parse_v1_limit("536870912\n"), Some(536870912));
        assert_eq!(parse_v1_limit("-1"), None);
    }

    #[test]
    fn reads_v2_max() {
        assert_eq!(parse_v2_max("max\n"), Some(None));
        assert_eq!(parse_v2_max("1073741824\n"), Some(Some(1 << 30)));
        assert_eq!(parse_v2_max("lots"), None);
    }

    fn probe_tree(dir: &TestDir) -> Memory {
        let (mut reader, hierarchy) = dir.resolved();
        probe(&mut reader, &hierarchy)
    }

    #[test]
    fn v2_walks_memory_max_and_reads_the_leaf_usage() {
        let dir = TestDir::new();
        dir.write("/proc/meminfo", "MemTotal:       16384 kB\nMemFree: 1 kB\n");
        dir.write("/proc/self/cgroup", "0::/a/b\n");
        dir.write(
            "/proc/self/mountinfo",
            "25 20 0:22 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n",
        );
        dir.write("/sys/fs/cgroup/a/b/memory.max", "max\n");
        dir.write("/sys/fs/cgroup/a/b/memory.current", "4096\n");
        dir.write("/sys/fs/cgroup/a/memory.max", "2147483648\n");
        dir.write("/sys/fs/cgroup/memory.max", "4294967296\n");
        let memory = probe_tree(&dir);
        assert_eq!(memory.limit, Some(2147483648));
        assert_eq!(
            memory.limit_source.as_deref(),
            Some("/sys/fs/cgroup/a/memory.max")
        );
        assert_eq!(memory.usage, Some(4096));
        assert_eq!(memory.host, Some(16384 * 1024));
    }

    #[test]
    fn v1_prefers_a_tighter_hierarchical_limit_from_the_leaf_stat() {
        let dir = TestDir::new();
        dir.write("/proc/self/cgroup", "4:memory:/docker/abc\n");
        dir.write(
            "/proc/self/mountinfo",
            "35 31 0:32 /docker/abc /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n",
        );
        let leaf = "/sys/fs/cgroup/memory";
        dir.write(
            &format!("{leaf}/memory.limit_in_bytes"),
            "9223372036854771712\n",
        );
        dir.write(
            &format!("{leaf}/memory.stat"),
            "cache 0\nhierarchical_memory_limit 1073741824\n",
        );
        dir.write(&format!("{leaf}/memory.usage_in_bytes"), "524288\n");
        let memory = probe_tree(&dir);
        assert_eq!(memory.limit, Some(1073741824));
        assert_eq!(
            memory.limit_source.as_deref(),
            Some("/sys/fs/cgroup/memory/memory.stat")
        );
        assert_eq!(memory.usage, Some(524288));
    }

    #[test]
    fn v1_keeps_the_walked_limit_when_the_stat_only_ties_it() {
        let dir = TestDir::new();
        dir.write("/proc/self/cgroup", "4:memory:/a\n");
        dir.write(
            "/proc/self/mountinfo",
            "35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n",
        );
        dir.write(
            "/sys/fs/cgroup/memory/a/memory.limit_in_bytes",
            "1073741824\n",
        );
        dir.write(
            "/sys/fs/cgroup/memory/memory.limit_in_bytes",
            "9223372036854771712\n",
        );
        dir.write(
            "/sys/fs/cgroup/memory/a/memory.stat",
            "hierarchical_memory_limit 1073741824\n",
        );
        let memory = probe_tree(&dir);
        assert_eq!(memory.limit, Some(1073741824));
        assert_eq!(
            memory.limit_source.as_deref(),
            Some("/sys/fs/cgroup/memory/a/memory.limit_in_bytes")
        );
        assert_eq!(memory.usage, None);
    }

    #[test]
    fn no_cgroup_means_no_limit_or_usage() {
        let dir = TestDir::new();
        dir.write("/proc/self/cgroup", "0::/\n");
        dir.write(
            "/proc/self/mountinfo",
            "1 0 8:1 / / rw - ext4 /dev/sda1 rw\n",
        );
        let memory = probe_tree(&dir);
        assert_eq!((memory.limit, memory.usage), (None, None));
        // Without /proc/meminfo under the root, the host figure comes from the C library.
        assert!(memory.host.unwrap() > 0);
    }
}
