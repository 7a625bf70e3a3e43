//! Finds the directory that holds each controller's files for this process, following
//! docs/architecture.md ("Finding the process's cgroup, per controller").

use crate::fsread::joined;
use crate::mountinfo::{self, Mount};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Controller {
    Cpu,
    Cpuset,
    Memory,
}

impl Controller {
    const ALL: [Controller; 3] = [Controller::Cpu, Controller::Cpuset, Controller::Memory];

    fn name(self) -> &'static str {
        match self {
            Controller::Cpu => "cpu",
            Controller::Cpuset => "cpuset",
            Controller::Memory => "memory",
        }
    }
}

/// The kernel's v1 controllers: a `cgroup` mount naming one of these is a controller hierarchy,
/// unlike `name=systemd` mounts whose options are only flags (`xattr`, `name=...`).
const V1_CONTROLLERS: [&str; 14] = [
    "cpu",
    "cpuacct",
    "cpuset",
    "memory",
    "devices",
    "freezer",
    "net_cls",
    "blkio",
    "perf_event",
    "net_prio",
    "hugetlb",
    "pids",
    "rdma",
    "misc",
];

/// The process's entries in `/proc/self/cgroup` that matter here.
#[derive(Debug, Default, PartialEq)]
pub struct Membership {
    /// Path of the v1 entry that lists each controller, by `Controller::ALL` order.
    v1: [Option<String>; 3],
    /// Path of the `0::` entry.
    v2: Option<String>,
}

/// Parses `/proc/self/cgroup`: `id:controllers:path` per line.
pub fn parse_membership(text: &str) -> Membership {
    let mut membership = Membership::default();
    for line in text.lines() {
        let mut parts = line.splitn(3, ':');
        let (Some(id), Some(controllers), Some(path)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        if id == "0" && controllers.is_empty() {
            membership.v2.get_or_insert_with(|| path.to_owned());
            continue;
        }
        for (slot, controller) in membership.v1.iter_mut().zip(Controller::ALL) {
            if slot.is_none() && controllers.split(',').any(|c| c == controller.name()) {
                *slot = Some(path.to_owned());
            }
        }
    }
    membership
}

/// Where one controller lives for this process.
#[derive(Debug, PartialEq)]
pub struct Cgroup {
    pub version: u8,
    /// As `/proc/self/cgroup` lists it.
    pub path: String,
    /// The directory holding the controller's files for this process (without the probe root).
    pub dir: String,
    /// Where the walk towards the root stops.
    pub mount_point: String,
}

impl Cgroup {
    /// The directories from `dir` up to `mount_point`, both included, leaf first.
    pub fn levels(&self) -> impl Iterator<Item = &str> {
        let stop = self.mount_point.trim_end_matches('/').len();
        let mut next = Some(self.dir.trim_end_matches('/'));
        std::iter::from_fn(move || {
            let current = next?;
            next = (current.len() > stop)
                .then(|| current.rfind('/').map(|i| &current[..i]))
                .flatten();
            Some(if current.is_empty() { "/" } else { current })
        })
    }

    /// The smallest value `read` finds over the walk, with the path of the file it came from.
    /// `read` answers `None` for a level without a usable value; a tie keeps the level nearest
    /// the leaf.
    pub fn tightest<T: PartialOrd>(
        &self,
        mut read: impl FnMut(&str) -> Option<(T, &'static str)>,
    ) -> Option<(T, String)> {
        let mut best: Option<(T, &str, &str)> = None;
        for level in self.levels() {
            if let Some((value, file)) = read(level) {
                if best.as_ref().is_none_or(|(b, _, _)| value < *b) {
                    best = Some((value, level, file));
                }
            }
        }
        best.map(|(value, level, file)| (value, joined(level, file)))
    }
}

/// Each controller's cgroup (`None` when it has none) and whether v1 and v2 are mixed.
#[derive(Debug, PartialEq)]
pub struct Hierarchy {
    cgroups: [Option<Cgroup>; 3],
    pub hybrid: bool,
}

impl Hierarchy {
    pub fn get(&self, controller: Controller) -> Option<&Cgroup> {
        self.cgroups[controller as usize].as_ref()
    }
}

/// A mount that could hold a controller: the one whose root is the longest prefix of the cgroup
/// path wins, and when no root is a prefix (a cgroup namespace) the first such mount does.
struct Candidate {
    root: String,
    mount_point: String,
    /// Length of the root when it is a prefix of the cgroup path.
    matched: Option<usize>,
}

fn consider(best: &mut Option<Candidate>, mount: &Mount, path: &str) {
    let matched = prefix_len(&mount.root, path);
    let better = match best {
        None => true,
        Some(b) => matched.is_some_and(|len| b.matched.is_none_or(|best_len| len > best_len)),
    };
    if better {
        *best = Some(Candidate {
            root: mount.root.clone().into_owned(),
            mount_point: mount.mount_point.clone().into_owned(),
            matched,
        });
    }
}

/// The length of `root` when `path` is `root` or lies under it (`/` is a prefix of everything).
fn prefix_len(root: &str, path: &str) -> Option<usize> {
    let root = root.trim_end_matches('/');
    let under =
        path == root || (path.starts_with(root) && path.as_bytes().get(root.len()) == Some(&b'/'));
    under.then_some(root.len())
}

/// The directory `path` resolves to on a mount of `root` at `mount_point`: the mount point plus
/// the part of the path under the root, or the mount point itself when the path is elsewhere.
pub fn translate(path: &str, root: &str, mount_point: &str) -> String {
    let base = mount_point.trim_end_matches('/');
    let rest = match prefix_len(root, path) {
        Some(len) => path[len..].trim_end_matches('/'),
        None => "",
    };
    let dir = format!("{base}{rest}");
    if dir.is_empty() {
        "/".to_owned()
    } else {
        dir
    }
}

/// Resolves every controller from the texts of `/proc/self/cgroup` and `/proc/self/mountinfo`.
pub fn resolve(membership: &Membership, mountinfo: &str) -> Hierarchy {
    let mut v1: [Option<Candidate>; 3] = Default::default();
    let mut v2: Option<Candidate> = None;
    let (mut v1_controller_mounts, mut cgroup2_mounts) = (false, false);
    for mount in mountinfo.lines().filter_map(mountinfo::parse_line) {
        match mount.fstype {
            "cgroup" => {
                v1_controller_mounts |= V1_CONTROLLERS.iter().any(|c| mount.has_super_option(c));
                for (i, controller) in Controller::ALL.into_iter().enumerate() {
                    if let Some(path) = &membership.v1[i] {
                        if mount.has_super_option(controller.name()) {
                            consider(&mut v1[i], &mount, path);
                        }
                    }
                }
            }
            "cgroup2" => {
                cgroup2_mounts = true;
                if let Some(path) = &membership.v2 {
                    consider(&mut v2, &mount, path);
                }
            }
            _ => {}
        }
    }
    let pick = |i: usize| {
        let (version, path, mount) = match (&membership.v1[i], &v1[i]) {
            (Some(path), Some(mount)) => (1, path, mount),
            _ => match (&membership.v2, &v2) {
                (Some(path), Some(mount)) => (2, path, mount),
                _ => return None,
            },
        };
        Some(Cgroup {
            version,
            path: path.clone(),
            dir: translate(path, &mount.root, &mount.mount_point),
            mount_point: mount.mount_point.clone(),
        })
    };
    Hierarchy {
        cgroups: [pick(0), pick(1), pick(2)],
        hybrid: v1_controller_mounts && cgroup2_mounts,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HYBRID_CGROUP: &str = "12:cpuset:/\n\
        11:memory:/process_api/abc\n\
        4:cpu,cpuacct:/kubepods/pod1\n\
        1:name=systemd:/init.scope\n\
        0::/init.scope\n";

    const HYBRID_MOUNTINFO: &str = "31 23 0:28 / /sys/fs/cgroup ro - tmpfs tmpfs ro,mode=755\n\
        32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw shared:5 - cgroup cgroup rw,cpu,cpuacct\n\
        34 31 0:31 / /sys/fs/cgroup/cpuset rw - cgroup cgroup rw,cpuset\n\
        35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n\
        40 31 0:37 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd\n\
        41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n";

    fn cgroup(version: u8, path: &str, dir: &str, mount_point: &str) -> Option<Cgroup> {
        Some(Cgroup {
            version,
            path: path.into(),
            dir: dir.into(),
            mount_point: mount_point.into(),
        })
    }

    #[test]
    fn parses_proc_self_cgroup() {
        let m = parse_membership(HYBRID_CGROUP);
        assert_eq!(
            m.v1[Controller::Cpu as usize].as_deref(),
            Some("/kubepods/pod1")
        );
        assert_eq!(m.v1[Controller::Cpuset as usize].as_deref(), Some("/"));
        assert_eq!(
            m.v1[Controller::Memory as usize].as_deref(),
            Some("/process_api/abc")
        );
        assert_eq!(m.v2.as_deref(), Some("/init.scope"));
    }

    #[test]
    fn cpuacct_and_name_entries_are_not_the_cpu_controller() {
        let m = parse_membership("3:cpuacct:/a\n2:name=cpu:/b\n1:cpuset:/c:d\n0::/\n");
        assert_eq!(m.v1[Controller::Cpu as usize], None);
        assert_eq!(m.v1[Controller::Cpuset as usize].as_deref(), Some("/c:d"));
        assert_eq!(m.v2.as_deref(), Some("/"));
    }

    #[test]
    fn v1_controllers_win_over_the_v2_entry() {
        let h = resolve(&parse_membership(HYBRID_CGROUP), HYBRID_MOUNTINFO);
        assert!(h.hybrid);
        assert_eq!(
            h.get(Controller::Cpu),
            cgroup(
                1,
                "/kubepods/pod1",
                "/sys/fs/cgroup/cpu,cpuacct/kubepods/pod1",
                "/sys/fs/cgroup/cpu,cpuacct"
            )
            .as_ref()
        );
        assert_eq!(
            h.get(Controller::Cpuset),
            cgroup(1, "/", "/sys/fs/cgroup/cpuset", "/sys/fs/cgroup/cpuset").as_ref()
        );
        assert_eq!(
            h.get(Controller::Memory),
            cgroup(
                1,
                "/process_api/abc",
                "/sys/fs/cgroup/memory/process_api/abc",
                "/sys/fs/cgroup/memory"
            )
            .as_ref()
        );
    }

    #[test]
    fn a_controller_without_a_v1_mount_falls_back_to_v2() {
        let mountinfo = "41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n\
            40 31 0:37 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd\n";
        let h = resolve(&parse_membership(HYBRID_CGROUP), mountinfo);
        assert!(!h.hybrid, "a name=systemd mount is no controller hierarchy");
        assert_eq!(
            h.get(Controller::Memory),
            cgroup(
                2,
                "/init.scope",
                "/sys/fs/cgroup/unified/init.scope",
                "/sys/fs/cgroup/unified"
            )
            .as_ref()
        );
    }

    #[test]
    fn pure_v2() {
        let h = resolve(
            &parse_membership("0::/user.slice/app.service\n"),
            "25 20 0:22 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n",
        );
        assert!(!h.hybrid);
        let dir = "/sys/fs/cgroup/user.slice/app.service";
        for c in Controller::ALL {
            assert_eq!(
                h.get(c),
                cgroup(2, "/user.slice/app.service", dir, "/sys/fs/cgroup").as_ref()
            );
        }
    }

    #[test]
    fn no_cgroup_without_a_matching_mount() {
        let h = resolve(
            &parse_membership(HYBRID_CGROUP),
            "1 0 8:1 / / rw - ext4 /dev/sda1 rw\n",
        );
        assert_eq!(h.get(Controller::Cpu), None);
        assert!(!h.hybrid);
        let h = resolve(
            &parse_membership(""),
            "25 20 0:22 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n",
        );
        assert_eq!(h.get(Controller::Memory), None);
    }

    #[test]
    fn picks_the_mount_whose_root_is_the_longest_prefix() {
        let mountinfo = "1 0 0:1 / /a rw - cgroup2 cgroup2 rw\n\
            2 0 0:1 /kube /b rw - cgroup2 cgroup2 rw\n\
            3 0 0:1 /kubepods/pod1 /c rw - cgroup2 cgroup2 rw\n\
            4 0 0:1 /kubepods /d rw - cgroup2 cgroup2 rw\n";
        let h = resolve(&parse_membership("0::/kubepods/pod1/ctr\n"), mountinfo);
        assert_eq!(h.get(Controller::Cpu).unwrap().dir, "/c/ctr");
        assert_eq!(h.get(Controller::Cpu).unwrap().mount_point, "/c");
    }

    #[test]
    fn a_namespaced_path_outside_every_root_uses_the_first_mount() {
        let mountinfo = "1 0 0:1 /docker/abc /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n\
            2 0 0:1 /docker/def /mnt rw - cgroup2 cgroup2 rw\n";
        let h = resolve(&parse_membership("0::/\n"), mountinfo);
        assert_eq!(
            h.get(Controller::Cpu),
            cgroup(2, "/", "/sys/fs/cgroup", "/sys/fs/cgroup").as_ref()
        );
    }

    #[test]
    fn translates_paths() {
        assert_eq!(translate("/", "/", "/sys/fs/cgroup"), "/sys/fs/cgroup");
        assert_eq!(
            translate("/a/b", "/", "/sys/fs/cgroup"),
            "/sys/fs/cgroup/a/b"
        );
        assert_eq!(
            translate("/docker/abc", "/docker/abc", "/sys/fs/cgroup/cpu"),
            "/sys/fs/cgroup/cpu"
        );
        assert_eq!(translate("/docker/abc/sub", "/docker/abc", "/m"), "/m/sub");
        assert_eq!(
            translate("/docker/abcd", "/docker/abc", "/m"),
            "/m",
            "a prefix must end at a /"
        );
        assert_eq!(translate("/other", "/docker/abc", "/m"), "/m");
        assert_eq!(translate("/a", "/", "/"), "/a");
        assert_eq!(translate("/", "/", "/"), "/");
    }

    #[test]
    fn walks_from_the_leaf_up_to_the_mount_point() {
        let c = cgroup(2, "/a/b", "/sys/fs/cgroup/a/b", "/sys/fs/cgroup").unwrap();
        assert_eq!(
            c.levels().collect::<Vec<_>>(),
            ["/sys/fs/cgroup/a/b", "/sys/fs/cgroup/a", "/sys/fs/cgroup"]
        );
        let c = cgroup(2, "/", "/sys/fs/cgroup", "/sys/fs/cgroup").unwrap();
        assert_eq!(c.levels().collect::<Vec<_>>(), ["/sys/fs/cgroup"]);
        let c = cgroup(2, "/a", "/a", "/").unwrap();
        assert_eq!(c.levels().collect::<Vec<_>>(), ["/a", "/"]);
    }
}
