// Bun serving the app module's default export. Bun's own `export default` serving binds every
// interface, so the test hands the same export to Bun.serve on 127.0.0.1 instead.
import app from './app.ts'

declare const Bun: {
  serve(options: { fetch: typeof app.fetch; hostname: string; port: number }): { url: URL }
}

const server = Bun.serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 })
console.log(`Listening on ${server.url}`)
