// `npm start` until the CLI lands: prints what the probe sees on this machine.
import { formatProbe, probe } from '../native/dist/index.js'

console.log(formatProbe(probe()))
