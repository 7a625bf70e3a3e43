import { toHono } from 'bento'
import { Hono } from 'hono'
import sentiment from './sentiment.ts'
import summarize from './summarize.ts'

// An app that existed before bento: its own middleware and routes stay as they are.
const app = new Hono()

app.use('*', async (c, next) => {
  await next()
  c.header('x-shop', 'bento-example')
})

app.get('/', (c) => c.json({ shop: 'open', services: ['/ml/sentiment', '/ml/summarize'] }))
app.get('/products', (c) => c.json([{ id: 1, name: 'lunch box' }]))

// Each service is a Hono app with its own routes, health checks, metrics and docs.
app.route('/ml/sentiment', toHono(sentiment))
app.route('/ml/summarize', toHono(summarize))

export default app
