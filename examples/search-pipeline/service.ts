// The pipeline on CPUs: `bento serve` starts the classifier's workers (ceil(1 CPU) x 2) on private
// sockets, then `search` on every CPU on the public port.
import { classifier } from './model.ts'
import { searchService } from './search.ts'

export const model = classifier({ cpu: 1 }, 2)
export default searchService(model)
