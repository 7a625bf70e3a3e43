import { api, service } from 'bento'

// As BentoML's `resources={"gpu": 2}, workers=2`: worker 1 gets the first GPU and worker 2 the
// second. Unlike BentoML, bento pins each worker's CUDA_VISIBLE_DEVICES to its own GPU (by UUID),
// so inside every worker the model simply uses `cuda:0`.
export default service({
  name: 'gpu-per-worker',
  workers: 2,
  resources: { gpu: 2 },
  onStartup(worker) {
    console.log(`worker ${worker.workerIndex} owns ${worker.gpus.join(', ') || 'no GPU'}`)
    return { device: 'cuda:0' }
  },
  apis: {
    whoami: api({
      method: 'GET',
      description: "This worker's index and the GPU it was given.",
      handler: (_input, ctx) => ({
        workerIndex: ctx.workerIndex,
        gpus: ctx.gpus,
        cudaVisibleDevices: process.env.CUDA_VISIBLE_DEVICES ?? null,
        cudaDeviceOrder: process.env.CUDA_DEVICE_ORDER ?? null,
        device: (ctx.state as { device: string }).device,
      }),
    }),
  },
})
