// Prints `probe(options)` of the built package as JSON, options from argv[2]. The runtime and
// cgroup tests run it under node, bun and deno, and in cgroups the test process is not in.
import { probe } from '../dist/index.js'

process.stdout.write(JSON.stringify(probe(JSON.parse(process.argv[2] ?? '{}'))))
