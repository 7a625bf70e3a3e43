// The onnx-classifier example with batching off: the same model, state and handler, called with
// one input per request. `pnpm bench` serves both to compare throughput at the same p99 bound.
import { api, service } from 'bento'
import classifier from '../examples/onnx-classifier/service.ts'

const batched = classifier.definition.apis.classify!
const run = batched.handler as (inputs: unknown[], ctx: unknown) => Promise<unknown[]>

export default service({
  ...classifier.definition,
  name: 'onnx-classifier-unbatched',
  apis: {
    classify: api({
      input: batched.input,
      output: batched.output,
      handler: async (input: unknown, ctx) => (await run([input], ctx))[0],
    }),
  },
})
