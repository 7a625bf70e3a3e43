// The docs page in a real browser: Debian's Chromium (`apt-get install -y chromium`), driven by
// playwright-core, loads Swagger UI from a service mounted under /ml in an app served on
// 127.0.0.1, finds every API, and runs one through "Try it out". Every request the page makes must
// stay on that server: the assets come from the package, not a CDN.
import { once } from 'node:events'
import { existsSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { api, service } from '@bento/core'
import { type ServerType, serve } from '@hono/node-server'
import { Hono } from 'hono'
import { type Browser, chromium } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { toHono } from '../src/index.ts'
import { unique } from './harness.ts'

const CHROMIUM = process.env.BENTO_CHROMIUM ?? '/usr/bin/chromium'
const available = existsSync(CHROMIUM)
if (!available) {
  console.warn(
    `browser tests skipped: no Chromium at ${CHROMIUM} (install it: apt-get install -y chromium)`
  )
}

describe.skipIf(!available)('the docs page in Chromium', () => {
  let server: ServerType
  let browser: Browser
  let origin: string

  beforeAll(async () => {
    const s = service({
      name: unique('browser'),
      apis: {
        greet: api({
          input: z.object({ name: z.string() }),
          output: z.object({ message: z.string() }),
          description: 'Greets someone.',
          handler: ({ name }: { name: string }) => ({ message: `Hello, ${name}!` }),
        }),
        classify: api({
          input: z.object({ text: z.string() }),
          handler: ({ text }: { text: string }) => ({ label: text.length > 3 ? 'long' : 'short' }),
        }),
      },
    })
    const app = new Hono()
    app.get('/', (c) => c.text('the app’s own home'))
    app.route('/ml', toHono(s))
    server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 })
    if (!server.listening) await once(server, 'listening')
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    })
  }, 60_000)

  afterAll(async () => {
    await browser?.close()
    if (server) {
      ;(server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.()
      await new Promise((resolve) => server.close(resolve))
    }
  })

  it('lists the APIs and runs one with "Try it out"', async () => {
    const page = await browser.newPage()
    const requested: string[] = []
    page.on('request', (request) => requested.push(request.url()))
    try {
      await page.goto(`${origin}/ml`)
      await page.locator('.opblock').first().waitFor({ timeout: 20_000 })
      const operations = await page.locator('.opblock-summary-path').allTextContents()
      expect(operations.map((text) => text.replace(/\u200b/g, ''))).toEqual(['/greet', '/classify'])

      const greet = page.locator('.opblock').filter({ hasText: '/greet' })
      await greet.locator('.opblock-summary').click()
      await greet.getByRole('button', { name: 'Try it out' }).click()
      await greet.locator('textarea.body-param__text').fill(JSON.stringify({ name: 'Chromium' }))
      await greet.getByRole('button', { name: 'Execute' }).click()

      const response = greet.locator('.live-responses-table .response').first()
      await response.waitFor({ timeout: 20_000 })
      await expect
        .poll(() => response.locator('.response-col_status').textContent())
        .toContain('200')
      expect(await response.locator('.response-col_description').textContent()).toContain(
        'Hello, Chromium!'
      )
      // The request went to the mounted service, through the page's own origin.
      expect(await greet.locator('.request-url').textContent()).toContain(`${origin}/ml/greet`)
    } finally {
      await page.close()
    }
    expect(requested.length).toBeGreaterThan(3)
    for (const url of requested) expect(url.startsWith(`${origin}/`), url).toBe(true)
  }, 60_000)
})
