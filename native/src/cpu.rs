//! CPU counts: host, affinity, the cgroup quota and cpuset, and the effective minimum.

use crate::cgroup::{Controller, Hierarchy};
use crate::fsread::{joined, Reader};
use crate::sys;

pub struct Cpu {
    pub host: u32,
    pub affinity: u32,
    pub quota: Option<f64>,
    pub quota_source: Option<String>,
    pub cpuset: Option<u32>,
    pub cpuset_source: Option<String>,
    pub effective: f64,
}

pub fn probe(reader: &mut Reader, hierarchy: &Hierarchy) -> Cpu {
    let host = host(reader);
    let affinity = affinity(reader).unwrap_or(host);
    let (quota, quota_source) = quota(reader, hierarchy).unzip();
    let (cpuset, cpuset_source) = cpuset(reader, hierarchy).unzip();
    let effective = [
        quota,
        cpuset.map(f64::from),
        Some(affinity.into()),
        Some(host.into()),
    ]
    .into_iter()
    .flatten()
    .fold(f64::INFINITY, f64::min);
    Cpu {
        host,
        affinity,
        quota,
        quota_source,
        cpuset,
        cpuset_source,
        effective,
    }
}

fn host(reader: &mut Reader) -> u32 {
    reader
        .read("/sys/devices/system/cpu", "online")
        .and_then(|text| parse_cpu_list(&text))
        .filter(|&n| n > 0)
        .or_else(|| sys::sysconf_positive(sys::SC_NPROCESSORS_ONLN).map(|n| n as u32))
        .unwrap_or(1)
}

/// The syscall is the truth for this process; a fixture root can only offer its status file.
fn affinity(reader: &mut Reader) -> Option<u32> {
    if reader.is_real_root() {
        return sys::affinity_count();
    }
    let status = reader.read("/proc/self", "status")?;
    let list = status
        .lines()
        .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))?;
    parse_cpu_list(list).filter(|&n| n > 0)
}

/// The tightest quota in cores over the cpu controller's walk, with its file.
fn quota(reader: &mut Reader, hierarchy: &Hierarchy) -> Option<(f64, String)> {
    let cgroup = hierarchy.get(Controller::Cpu)?;
    cgroup.tightest(|level| match cgroup.version {
        2 => {
            let text = reader.read(level, "cpu.max")?;
            Some((parse_cpu_max(&text)??, "cpu.max"))
        }
        _ => {
            let quota: i64 = reader
                .read(level, "cpu.cfs_quota_us")?
                .trim()
                .parse()
                .ok()?;
            // -1 means no limit; anything else not positive is not a usable quota either.
            if quota <= 0 {
                return None;
            }
            let period: u64 = reader
                .read(level, "cpu.cfs_period_us")?
                .trim()
                .parse()
                .ok()?;
            (period > 0).then(|| (quota as f64 / period as f64, "cpu.cfs_quota_us"))
        }
    })
}

/// The leaf's effective cpuset: its count and file, `None` when unknown or empty.
fn cpuset(reader: &mut Reader, hierarchy: &Hierarchy) -> Option<(u32, String)> {
    let cgroup = hierarchy.get(Controller::Cpuset)?;
    let files: &[&str] = match cgroup.version {
        2 => &["cpuset.cpus.effective"],
        _ => &["cpuset.effective_cpus", "cpuset.cpus"],
    };
    // The first file that can be read decides, even when it lists no CPU.
    let (count, file) = files.iter().find_map(|&file| {
        let count = parse_cpu_list(&reader.read(&cgroup.dir, file)?)?;
        Some((count, file))
    })?;
    (count > 0).then(|| (count, joined(&cgroup.dir, file)))
}

/// Counts the CPUs in a kernel CPU list such as `0-3,8,10-11` (7). Empty is 0; `None` when
/// malformed.
pub fn parse_cpu_list(text: &str) -> Option<u32> {
    let text = text.trim();
    if text.is_empty() {
        return Some(0);
    }
    text.split(',').try_fold(0u32, |count, part| {
        let n = match part.split_once('-') {
            Some((first, last)) => {
                let (first, last): (u32, u32) = (first.parse().ok()?, last.parse().ok()?);
                last.checked_sub(first)? + 1
            }
            None => part.parse::<u32>().map(|_| 1).ok()?,
        };
        count.checked_add(n)
    })
}

/// Parses v2 `cpu.max`: `Some(None)` for `max PERIOD`, `Some(Some(cores))` for `QUOTA PERIOD`.
pub fn parse_cpu_max(text: &str) -> Option<Option<f64>> {
    let (quota, period) = text.trim().split_once(' ')?;
    let period: u64 = period.trim().parse().ok().filter(|&p| p > 0)?;
    if quota == "max" {
        return Some(None);
    }
    let quota: u64 = quota.parse().ok().filter(|&q| q > 0)?;
    Some(Some(quota as f64 / period as f64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testdir::TestDir;

    #[test]
    fn counts_cpu_lists() {
        assert_eq!(parse_cpu_list("0-3,8,10-11\n"), Some(7));
        assert_eq!(parse_cpu_list("0"), Some(1));
        assert_eq!(parse_cpu_list("0-1"), Some(2));
        assert_eq!(parse_cpu_list("\n"), Some(0));
        assert_eq!(parse_cpu_list("3-1"), None);
        assert_eq!(parse_cpu_list("0-3,x"), None);
        assert_eq!(parse_cpu_list("0,,1"), None);
    }

    #[test]
    fn parses_cpu_max() {
        assert_eq!(parse_cpu_max("max 100000\n"), Some(None));
        assert_eq!(parse_cpu_max("150000 100000\n"), Some(Some(1.5)));
        assert_eq!(parse_cpu_max("50000 100000"), Some(Some(0.5)));
        assert_eq!(parse_cpu_max("150000 0"), None);
        assert_eq!(parse_cpu_max("max"), None);
        assert_eq!(parse_cpu_max("abc 100000"), None);
    }

    fn probe_tree(dir: &TestDir) -> Cpu {
        let (mut reader, hierarchy) = dir.resolved();
        probe(&mut reader, &hierarchy)
    }

    #[test]
    fn v2_takes_the_tightest_quota_over_the_walk_and_the_leaf_cpuset() {
        let dir = TestDir::new();
        dir.write("/sys/devices/system/cpu/online", "0-7\n");
        dir.write(
            "/proc/self/status",
            "Name:\tnode\nCpus_allowed_list:\t0-5\n",
        );
        dir.write("/proc/self/cgroup", "0::/a/b\n");
        dir.write(
            "/proc/self/mountinfo",
            "25 20 0:22 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n",
        );
        dir.write("/sys/fs/cgroup/a/b/cpu.max", "max 100000\n");
        dir.write("/sys/fs/cgroup/a/cpu.max", "250000 100000\n");
        dir.write("/sys/fs/cgroup/cpu.max", "300000 100000\n");
        dir.write("/sys/fs/cgroup/a/b/cpuset.cpus.effective", "0-3\n");
        dir.write("/sys/fs/cgroup/a/cpuset.cpus.effective", "0\n");
        let cpu = probe_tree(&dir);
        assert_eq!((cpu.host, cpu.affinity), (8, 6));
        assert_eq!(cpu.quota, Some(2.5));
        assert_eq!(
            cpu.quota_source.as_deref(),
            Some("/sys/fs/cgroup/a/cpu.max")
        );
        assert_eq!(cpu.cpuset, Some(4));
        assert_eq!(
            cpu.cpuset_source.as_deref(),
            Some("/sys/fs/cgroup/a/b/cpuset.cpus.effective")
        );
        assert_eq!(cpu.effective, 2.5);
    }

    #[test]
    fn a_tie_reports_the_level_nearest_the_leaf() {
        let dir = TestDir::new();
        dir.write("/proc/self/cgroup", "0::/a\n");
        dir.write(
            "/proc/self/mountinfo",
            "25 20 0:22 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n",
        );
        dir.write("/sys/fs/cgroup/a/cpu.max", "100000 100000\n");
        dir.write("/sys/fs/cgroup/cpu.max", "50000 50000\n");
        assert_eq!(
            probe_tree(&dir).quota_source.as_deref(),
            Some("/sys/fs/cgroup/a/cpu.max")
        );
    }

    #[test]
    fn v1_divides_quota_by_the_period_of_the_same_level() {
        let dir = TestDir::new();
        dir.write("/sys/devices/system/cpu/online", "0-3\n");
        dir.write("/proc/self/cgroup", "3:cpuset:/\n2:cpu,cpuacct:/k/pod\n");
        dir.write(
            "/proc/self/mountinfo",
            "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n\
             34 31 0:31 / /sys/fs/cgroup/cpuset rw - cgroup cgroup rw,cpuset\n",
        );
        let cpu = "/sys/fs/cgroup/cpu,cpuacct";
        dir.write(&format!("{cpu}/k/pod/cpu.cfs_quota_us"), "-1\n");
        dir.write(&format!("{cpu}/k/pod/cpu.cfs_period_us"), "100000\n");
        dir.write(&format!("{cpu}/k/cpu.cfs_quota_us"), "150000\n");
        dir.write(&format!("{cpu}/k/cpu.cfs_period_us"), "50000\n");
        // A quota without a period at its level is unusable, however small.
        dir.write(&format!("{cpu}/cpu.cfs_quota_us"), "1000\n");
        dir.write("/sys/fs/cgroup/cpuset/cpuset.cpus", "0-1\n");
        let probed = probe_tree(&dir);
        assert_eq!(probed.quota, Some(3.0));
        assert_eq!(
            probed.quota_source.as_deref(),
            Some("/sys/fs/cgroup/cpu,cpuacct/k/cpu.cfs_quota_us")
        );
        assert_eq!(probed.cpuset, Some(2));
        assert_eq!(
            probed.cpuset_source.as_deref(),
            Some("/sys/fs/cgroup/cpuset/cpuset.cpus")
        );
        assert_eq!(
            (probed.host, probed.affinity, probed.effective),
            (4, 4, 2.0)
        );
    }

    #[test]
    fn an_empty_cpuset_is_unknown() {
        let dir = TestDir::new();
        dir.write("/proc/self/cgroup", "1:cpuset:/\n");
        dir.write(
            "/proc/self/mountinfo",
            "34 31 0:31 / /sys/fs/cgroup/cpuset rw - cgroup cgroup rw,cpuset\n",
        );
        dir.write("/sys/fs/cgroup/cpuset/cpuset.effective_cpus", "\n");
        dir.write("/sys/fs/cgroup/cpuset/cpuset.cpus", "0-1\n");
        let cpu = probe_tree(&dir);
        assert_eq!((cpu.cpuset, cpu.cpuset_source), (None, None));
    }
}
