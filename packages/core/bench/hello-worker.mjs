// A bento worker serving bench/hello.mjs.
import { runWorker } from '../dist/worker.js'
import { fetch } from './hello.mjs'

await runWorker({ fetch })
