// Loads the @bento/native addon for this platform, napi-rs style: the binary built next to this
// file (`bento-native.<platform>.node`, from `napi build --platform`) first, then the prebuilt
// package `@bento/native-<platform>`. When neither loads, the Error lists every attempt and why it
// failed; `probe()` shows that message as the reason it used the TypeScript fallback.
'use strict'

const { readFileSync } = require('node:fs')
const { join } = require('node:path')

/** True on musl libc (Alpine), whose binaries differ from glibc ones. */
function isMusl() {
  // ldd is a shell script that names its libc: one small read, no subprocess.
  try {
    return readFileSync('/usr/bin/ldd', 'utf8').includes('musl')
  } catch {}
  // No ldd (distroless images): ask the runtime, whose report names the glibc it runs on.
  try {
    const { report } = process
    if (typeof report?.getReport !== 'function') return false
    // Listing network interfaces can take seconds (reverse DNS) and is not needed here.
    report.excludeNetwork = true
    return !report.getReport().header?.glibcVersionRuntime
  } catch {
    return false
  }
}

/** The napi-rs platform name (`linux-x64-gnu`, `darwin-arm64`, ...) of this process. */
function platformName() {
  const { platform, arch } = process
  if (platform === 'linux') {
    const abi = isMusl() ? 'musl' : 'gnu'
    return `linux-${arch}-${arch === 'arm' ? `${abi}eabihf` : abi}`
  }
  if (platform === 'win32') return `win32-${arch}-msvc`
  return `${platform}-${arch}`
}

/** Why `require(request)` failed, in one line a user can act on. */
function describe(error, request, missing) {
  if (error?.code === 'MODULE_NOT_FOUND' && String(error.message).includes(`'${request}'`)) {
    return missing
  }
  const message = String(error?.message ?? error).split('\n')[0]
  // Deno loads addons only with FFI permission (`NotCapable: Requires ffi access to ...`).
  const denied = /ffi access|NotCapable|PermissionDenied/i.test(`${error?.name} ${message}`)
  if (denied && !message.includes('--allow-ffi')) {
    return `${message} (run Deno with --allow-ffi, or --allow-all)`
  }
  return message
}

/** The runtime, for the error message: Deno and Bun also present themselves as Node. */
function runtime() {
  if (globalThis.Deno?.version) return `Deno ${globalThis.Deno.version.deno}`
  if (process.versions.bun) return `Bun ${process.versions.bun}`
  return `Node.js ${process.version}`
}

function load() {
  const platform = platformName()
  const local = join(__dirname, `bento-native.${platform}.node`)
  const candidates = [
    [local, 'not found'],
    [`@bento/native-${platform}`, 'not installed (optional dependencies skipped?)'],
  ]
  const failures = []
  for (const [request, missing] of candidates) {
    try {
      return require(request)
    } catch (error) {
      failures.push(`  - ${request}: ${describe(error, request, missing)}`)
    }
  }
  throw new Error(
    `Cannot load the @bento/native addon for ${platform} on ${runtime()}:\n${failures.join('\n')}`
  )
}

const binding = load()

// Assigned one by one so that Node's ESM loader can see the named exports of this CommonJS file.
module.exports.probe = binding.probe
module.exports.version = binding.version
