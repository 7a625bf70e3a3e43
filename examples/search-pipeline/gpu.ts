// The same pipeline with the model on GPUs: one classifier worker per GPU, each pinned to its own
// device (its CUDA_VISIBLE_DEVICES); the API tier stays on the CPUs. `bento serve gpu.ts`.
import { classifier } from './model.ts'
import { searchService } from './search.ts'

export const model = classifier({ gpu: 2 })
export default searchService(model)
