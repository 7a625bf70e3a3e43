// The model's work in both pipelines: about 2 ms of CPU, the same answer for the same text.
export const MODEL_MS = 2

export function score(text: string): { score: number; worker: number } {
  const until = performance.now() + MODEL_MS
  let h = 0
  while (performance.now() < until)
    for (let i = 0; i < text.length; i++) h = (h * 31 + text.charCodeAt(i)) | 0
  return {
    score: (h >>> 0) / 2 ** 32,
    worker: Number(process.env.BENTO_WORKER_INDEX ?? process.env.MODEL_INDEX ?? 0),
  }
}
