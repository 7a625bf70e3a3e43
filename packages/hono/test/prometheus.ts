// A strict reader of the Prometheus text format (0.0.4), for checking what /metrics serves: every
// sample belongs to a family announced by HELP and TYPE lines, labels and values are well formed,
// and histograms have cumulative buckets ending in `le="+Inf"` equal to their `_count`.
import assert from 'node:assert/strict'

/** One sample: metric name, labels, value. */
export interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

/** A parsed exposition: families by name (with type and help) and every sample in order. */
export interface Exposition {
  families: Map<string, { type: string; help: string }>
  samples: Sample[]
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*'
const SAMPLE = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)$`)
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)/y
const SUFFIXES: Record<string, string[]> = {
  counter: [''],
  gauge: [''],
  untyped: [''],
  histogram: ['_bucket', '_sum', '_count'],
  summary: ['', '_sum', '_count'],
}

/**
 * Parses and checks a Prometheus text exposition; throws an assertion error naming the first
 * problem.
 * @example
 * const { samples } = parsePrometheus(await (await app.request('/metrics')).text())
 */
export function parsePrometheus(text: string): Exposition {
  assert.ok(text.endsWith('\n'), 'the exposition ends with a newline')
  const families = new Map<string, { type: string; help: string }>()
  const helps = new Map<string, string>()
  const samples: Sample[] = []
  for (const [index, line] of text.slice(0, -1).split('\n').entries()) {
    const where = `line ${index + 1}: ${line}`
    if (line.startsWith('# HELP ')) {
      const [, name, help] = line.match(new RegExp(`^# HELP (${NAME}) (.*)$`)) ?? []
      assert.ok(name && help, `malformed HELP, ${where}`)
      assert.ok(!helps.has(name), `a second HELP for ${name}`)
      helps.set(name, help)
      continue
    }
    if (line.startsWith('# TYPE ')) {
      const [, name, type] = line.match(new RegExp(`^# TYPE (${NAME}) (\\w+)$`)) ?? []
      assert.ok(name && type && type in SUFFIXES, `malformed TYPE, ${where}`)
      assert.ok(!families.has(name), `a second TYPE for ${name}`)
      assert.ok(
        !samples.some((s) => familyOf(s.name, families) === name),
        `TYPE after samples of ${name}`
      )
      families.set(name, { type, help: helps.get(name) ?? '' })
      continue
    }
    assert.ok(!line.startsWith('#') && line !== '', `unexpected line, ${where}`)
    const [, name, labelText, valueText] = line.match(SAMPLE) ?? []
    assert.ok(name && valueText, `malformed sample, ${where}`)
    const family = familyOf(name, families)
    assert.ok(family, `a sample of no announced family, ${where}`)
    assert.ok(helps.has(family), `family ${family} has no HELP`)
    const value =
      valueText === '+Inf' ? Infinity : valueText === '-Inf' ? -Infinity : Number(valueText)
    assert.ok(valueText === 'NaN' || !Number.isNaN(value), `bad value, ${where}`)
    samples.push({ name, labels: parseLabels(labelText ?? '', where), value })
  }
  checkHistograms(families, samples)
  return { families, samples }
}

function familyOf(name: string, families: Map<string, { type: string }>): string | undefined {
  for (const [family, { type }] of families) {
    if (SUFFIXES[type]!.some((suffix) => name === family + suffix)) return family
  }
  return undefined
}

function parseLabels(text: string, where: string): Record<string, string> {
  const labels: Record<string, string> = {}
  LABEL.lastIndex = 0
  while (LABEL.lastIndex < text.length) {
    const match = LABEL.exec(text)
    assert.ok(match, `malformed labels, ${where}`)
    assert.ok(!(match[1]! in labels), `repeated label ${match[1]}, ${where}`)
    labels[match[1]!] = match[2]!.replace(/\\(.)/g, (_, ch: string) => (ch === 'n' ? '\n' : ch))
  }
  return labels
}

function checkHistograms(families: Map<string, { type: string }>, samples: Sample[]): void {
  for (const [family, { type }] of families) {
    if (type !== 'histogram') continue
    const series = new Map<
      string,
      { buckets: Array<[number, number]>; sum?: number; count?: number }
    >()
    const own = samples.filter((s) => SUFFIXES.histogram!.some((x) => s.name === family + x))
    for (const sample of own) {
      const { le, ...rest } = sample.labels
      const key = JSON.stringify(rest)
      const entry = series.get(key) ?? { buckets: [] }
      series.set(key, entry)
      if (sample.name === `${family}_bucket`) {
        assert.ok(le !== undefined, `${family}_bucket without le`)
        entry.buckets.push([le === '+Inf' ? Infinity : Number(le), sample.value])
      } else if (sample.name === `${family}_sum`) entry.sum = sample.value
      else entry.count = sample.value
    }
    for (const [key, { buckets, sum, count }] of series) {
      assert.ok(sum !== undefined && count !== undefined, `${family}${key} lacks _sum or _count`)
      assert.ok(buckets.length > 0, `${family}${key} has no buckets`)
      for (let i = 1; i < buckets.length; i++) {
        assert.ok(buckets[i]![0] > buckets[i - 1]![0], `${family}${key}: le out of order`)
        assert.ok(buckets[i]![1] >= buckets[i - 1]![1], `${family}${key}: buckets not cumulative`)
      }
      const last = buckets[buckets.length - 1]!
      assert.equal(last[0], Infinity, `${family}${key}: the last bucket is not +Inf`)
      assert.equal(last[1], count, `${family}${key}: +Inf bucket != _count`)
    }
  }
}

/**
 * The value of the one sample named `name` whose labels include `labels`.
 * @example
 * sampleValue(exposition, 'bento_requests_total', { api: 'greet', status: '200' }) // 3
 */
export function sampleValue(
  exposition: Exposition,
  name: string,
  labels: Record<string, string>
): number | undefined {
  const found = exposition.samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)
  )
  assert.ok(found.length <= 1, `${found.length} samples of ${name} match ${JSON.stringify(labels)}`)
  return found[0]?.value
}
