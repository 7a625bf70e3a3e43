//! Parses `/proc/self/mountinfo` lines (see proc(5)):
//! `id parent maj:min root mountpoint opts [optional...] - fstype source superopts`.

use std::borrow::Cow;

pub struct Mount<'a> {
    /// The directory of the mounted file system that appears at `mount_point`.
    pub root: Cow<'a, str>,
    pub mount_point: Cow<'a, str>,
    pub fstype: &'a str,
    pub super_options: &'a str,
}

impl Mount<'_> {
    /// True when the super options name `option` exactly (`cpu` is not `cpuacct`).
    pub fn has_super_option(&self, option: &str) -> bool {
        self.super_options.split(',').any(|o| o == option)
    }
}

/// One line, or `None` when it does not have the fields every mountinfo line has.
pub fn parse_line(line: &str) -> Option<Mount<'_>> {
    let mut fields = line.split(' ');
    let root = fields.nth(3)?;
    let mount_point = fields.next()?;
    // Skip the mount options and any optional fields (`shared:1`, `master:2`, ...) up to `-`.
    fields.next()?;
    fields.find(|f| *f == "-")?;
    let fstype = fields.next()?;
    fields.next()?;
    let super_options = fields.next().unwrap_or("");
    Some(Mount {
        root: unescape(root),
        mount_point: unescape(mount_point),
        fstype,
        super_options,
    })
}

/// Undoes the kernel's octal escapes (`\040` space, `\011` tab, `\012` newline, `\134` backslash):
/// any `\` followed by three octal digits that make a byte. Borrows when there is nothing to undo.
pub fn unescape(field: &str) -> Cow<'_, str> {
    if !field.contains('\\') {
        return Cow::Borrowed(field);
    }
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if let Some(byte) = octal_escape(&bytes[i..]) {
            out.push(byte);
            i += 4;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Cow::Owned(String::from_utf8_lossy(&out).into_owned())
}

/// The byte `\ooo` at the start of `bytes` stands for, if it is one.
fn octal_escape(bytes: &[u8]) -> Option<u8> {
    let [b'\\', a, b, c, ..] = *bytes else {
        return None;
    };
    let digit = |d: u8| (b'0'..=b'7').contains(&d).then(|| u32::from(d - b'0'));
    let value = digit(a)? * 64 + digit(b)? * 8 + digit(c)?;
    u8::try_from(value).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_cgroup2_line() {
        let m = parse_line(
            "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate",
        )
        .unwrap();
        assert_eq!(m.root, "/");
        assert_eq!(m.mount_point, "/sys/fs/cgroup/unified");
        assert_eq!(m.fstype, "cgroup2");
        assert_eq!(m.super_options, "rw,nsdelegate");
    }

    #[test]
    fn skips_optional_fields() {
        let line = "32 31 0:29 /docker/abc /sys/fs/cgroup/cpu,cpuacct ro,nosuid shared:9 master:3 - cgroup cgroup rw,cpu,cpuacct";
        let m = parse_line(line).unwrap();
        assert_eq!(m.root, "/docker/abc");
        assert_eq!(m.mount_point, "/sys/fs/cgroup/cpu,cpuacct");
        assert_eq!(m.fstype, "cgroup");
        assert!(m.has_super_option("cpu"));
        assert!(m.has_super_option("cpuacct"));
        assert!(!m.has_super_option("cpuset"));
    }

    #[test]
    fn a_controller_name_must_match_a_whole_option() {
        let m = parse_line("33 31 0:30 / /sys/fs/cgroup/cpuacct rw - cgroup cgroup rw,cpuacct")
            .unwrap();
        assert!(!m.has_super_option("cpu"));
    }

    #[test]
    fn unescapes_root_and_mount_point() {
        let line = r"50 31 0:40 /a\040b\011c /mnt/x\012y\134z rw - cgroup2 cgroup2 rw";
        let m = parse_line(line).unwrap();
        assert_eq!(m.root, "/a b\tc");
        assert_eq!(m.mount_point, "/mnt/x\ny\\z");
    }

    #[test]
    fn leaves_incomplete_or_out_of_range_escapes_alone() {
        assert_eq!(unescape(r"a\04"), r"a\04");
        assert_eq!(unescape(r"a\08x"), r"a\08x");
        assert_eq!(unescape(r"\777"), r"\777");
        assert_eq!(unescape(r"\\040"), "\\ ");
        assert!(matches!(unescape("/plain"), Cow::Borrowed("/plain")));
    }

    #[test]
    fn rejects_truncated_lines() {
        assert!(parse_line("").is_none());
        assert!(parse_line("31 23 0:28 / /sys/fs/cgroup rw,relatime").is_none());
        assert!(parse_line("31 23 0:28 / /sys/fs/cgroup rw - tmpfs").is_none());
    }
}
