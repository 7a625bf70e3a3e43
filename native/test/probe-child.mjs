// Runs a list of steps against the addon in a fresh process and prints what happened as JSON, so
// each test in addon.test.ts gets its own process, environment and NVML state.
// Usage: <runtime> probe-child.mjs '<steps as JSON>' where a step is one of
//   { probe: [...args] }          call probe(...args) and record its result or error and duration
//   { env: { NAME: value|null } } set (or with null, delete) environment variables
//   { write: [file, text] }       write a file
//   { sleep: ms }                 wait
import { writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const addon = require('../index.cjs')
const outcomes = []
for (const step of JSON.parse(process.argv[2] ?? '[]')) {
  if (step.env) {
    for (const [name, value] of Object.entries(step.env)) {
      if (value === null) delete process.env[name]
      else process.env[name] = value
    }
  } else if (step.write) {
    writeFileSync(step.write[0], step.write[1])
  } else if (step.sleep) {
    await new Promise((resolve) => setTimeout(resolve, step.sleep))
  } else if (step.probe) {
    const started = performance.now()
    try {
      const result = addon.probe(...step.probe)
      outcomes.push({ result, ms: performance.now() - started })
    } catch (error) {
      outcomes.push({ error: { name: error.name, message: error.message } })
    }
  }
}
console.log(JSON.stringify({ version: addon.version, outcomes }))
