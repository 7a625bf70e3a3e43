// The one-way layering of docs/architecture.md, checked by `npm run lint` (dependency-cruiser):
// no import cycle anywhere, no package importing one above it, and inside @bento/core no folder
// importing a folder of a later layer. Type-only imports count: a cycle of types is still a cycle
// a reader has to hold in their head.

// @bento/core's folders, from the bottom: each may import its own layer and those below.
const CORE_LAYERS = [
  ['errors', 'units', 'vars', 'env', 'clock', 'histogram', 'media'], // leaves: no bento imports but these
  ['service', 'runtime', 'batch'], // the service model; runtime adapters; the batcher
  ['plan', 'telemetry'], // the worker-count strategy and GPUs; spans, metrics, logs
  ['client'], // calls to other services
  ['frames'], // the framed transport between workers
  ['supervisor'], // processes: start, restart, drain, replace
  ['serving'], // what runs here: describe, lay out, plan, supervise a graph
  ['worker'], // the worker process: its entry, lifecycle, server
]
const core = (names) => `^packages/core/src/(${names.join('|')})(\\.ts$|/)`
// The entry points of @bento/core's subpaths: only users and other packages import them.
const CORE_ENTRIES =
  '^packages/core/src/(index|adapter|client|internal|serve|supervisor|worker)\\.ts$'

const layerRules = CORE_LAYERS.slice(0, -1).map((layer, i) => ({
  name: `core-layer-${layer[0]}`,
  comment: `${layer.join(', ')} may not import a later layer of @bento/core (${CORE_LAYERS.slice(
    i + 1
  )
    .flat()
    .join(', ')})`,
  severity: 'error',
  from: { path: core(layer) },
  to: { path: core(CORE_LAYERS.slice(i + 1).flat()) },
}))

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'an import cycle: move what both sides need into a module they both import',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'native-imports-no-package',
      comment: '@bento/native is the bottom: it imports none of the packages',
      severity: 'error',
      from: { path: '^native/' },
      to: { path: '^packages/|^@bento/|^bento($|/)' },
    },
    {
      name: 'core-imports-no-adapter-or-cli',
      comment: '@bento/core knows nothing of @bento/hono or the CLI',
      severity: 'error',
      from: { path: '^packages/core/' },
      to: { path: '^packages/(hono|cli)/|^@bento/hono($|/)|^bento($|/)' },
    },
    {
      name: 'hono-imports-no-cli',
      comment: '@bento/hono knows nothing of the CLI',
      severity: 'error',
      from: { path: '^packages/hono/' },
      to: { path: '^packages/cli/|^bento($|/)' },
    },
    {
      name: 'packages-by-name',
      comment:
        'another package is imported by its name (its published entry), not by a path into it',
      severity: 'error',
      from: { path: '^packages/([^/]+)/src/' },
      to: { path: '^packages/([^/]+)/src/', pathNot: '^packages/$1/src/' },
    },
    {
      name: 'core-entries-from-outside',
      comment: "the subpath entries are for users and other packages, not core's own modules",
      severity: 'error',
      from: { path: '^packages/core/src/[^/]+/' },
      to: { path: CORE_ENTRIES },
    },
    ...layerRules,
  ],
  options: {
    tsPreCompilationDeps: true,
    exclude: { path: '\\.test\\.ts$|/test/|/bench/|/generated/' },
    doNotFollow: { path: 'node_modules|/dist/' },
    enhancedResolveOptions: { conditionNames: ['import', 'types', 'default'] },
  },
}
