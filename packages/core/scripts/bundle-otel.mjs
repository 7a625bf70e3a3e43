#!/usr/bin/env node
// Bundles src/telemetry/otel-sdk.ts (the parts of OpenTelemetry a worker uses) into
// dist/telemetry/otel-sdk.js, over what tsc wrote there: @bento/core then ships about 1 MB of
// OpenTelemetry and installs none of its packages, so an image built with `bento build` holds only
// this file. Run by `build` after tsc.
import { builtinModules } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const builtins = new Set(builtinModules)

await build({
  entryPoints: [join(root, 'src/telemetry/otel-sdk.ts')],
  outfile: join(root, 'dist/telemetry/otel-sdk.js'),
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  legalComments: 'eof',
  logLevel: 'warning',
  // Some of OpenTelemetry is CommonJS and calls require() for Node's modules: an ES module has no
  // require of its own, so the bundle makes one.
  banner: {
    js: "import { createRequire as __bentoRequire } from 'node:module'\nconst require = __bentoRequire(import.meta.url)",
  },
  plugins: [
    {
      // Deno resolves Node's modules only by their node: names outside node_modules.
      name: 'node-prefix',
      setup(b) {
        b.onResolve({ filter: /^[a-z_/]+$/ }, ({ path }) =>
          builtins.has(path) ? { path: `node:${path}`, external: true } : undefined
        )
      },
    },
  ],
})
