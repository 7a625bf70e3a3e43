/** One line of `/proc/self/mountinfo`, with the fields the probe uses. */
export interface Mount {
  /** The directory of the mounted filesystem that appears at `mountPoint`, e.g. `/docker/abc`. */
  root: string
  mountPoint: string
  fsType: string
  superOptions: string[]
}

/**
 * Parses `/proc/self/mountinfo`.
 *
 * Optional fields (`shared:5 master:1`) vary in number, so the filesystem fields are found after
 * the `-` separator rather than by position. Malformed lines are skipped: the file is the kernel's,
 * and one odd line should not hide the cgroup mounts.
 * @example
 * parseMountinfo('41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n')
 * // [{ root: '/', mountPoint: '/sys/fs/cgroup/unified', fsType: 'cgroup2', superOptions: ['rw'] }]
 */
export function parseMountinfo(text: string): Mount[] {
  const mounts: Mount[] = []
  for (const line of text.split('\n')) {
    const fields = line.split(' ')
    const separator = fields.indexOf('-', 6)
    const [root, mountPoint] = [fields[3], fields[4]]
    const [fsType, source] = [fields[separator + 1], fields[separator + 2]]
    if (separator < 0 || !root || !mountPoint || fsType === undefined || source === undefined) {
      continue
    }
    mounts.push({
      root: unescapeOctal(root),
      mountPoint: unescapeOctal(mountPoint),
      fsType,
      superOptions: (fields[separator + 3] ?? '').split(','),
    })
  }
  return mounts
}

/**
 * Undoes the kernel's escaping in mountinfo paths: `\` and three octal digits is that byte.
 *
 * The kernel escapes space, tab, newline and backslash this way (`\040`, `\011`, `\012`, `\134`).
 * The digits stand for bytes, not characters, so the result is decoded as UTF-8 again, bad bytes
 * becoming U+FFFD, as the addon does.
 * @example
 * unescapeOctal('/mnt/my\\040disk') // '/mnt/my disk'
 */
export function unescapeOctal(text: string): string {
  if (!text.includes('\\')) return text
  const bytes = new TextEncoder().encode(text)
  const out: number[] = []
  for (let i = 0; i < bytes.length; i++) {
    const escaped = bytes[i] === BACKSLASH ? octalByte(bytes.subarray(i + 1, i + 4)) : null
    if (escaped === null) {
      out.push(bytes[i]!)
    } else {
      out.push(escaped)
      i += 3
    }
  }
  return new TextDecoder().decode(new Uint8Array(out))
}

const BACKSLASH = 0x5c

// The byte that three octal digits (`\000` to `\377`) stand for, else null.
function octalByte(digits: Uint8Array): number | null {
  if (digits.length < 3 || !digits.every((d) => d >= 0x30 && d <= 0x37)) return null
  const value = (digits[0]! - 0x30) * 64 + (digits[1]! - 0x30) * 8 + (digits[2]! - 0x30)
  return value <= 0xff ? value : null
}
