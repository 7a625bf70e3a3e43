// Text to model input: lower-case words hashed (FNV-1a) into a bag of FEATURES counts, scaled to
// unit length. Shared by the service and by scripts/make-model.ts, which puts the lexicon's
// weights at the same indexes.

/** Width of the feature vector. */
export const FEATURES = 4096
/** Hidden units of the model. */
export const HIDDEN = 2048
/** The classes, in the model's output order. */
export const LABELS = ['positive', 'negative'] as const

export const POSITIVE_WORDS = [
  'good',
  'great',
  'love',
  'loved',
  'excellent',
  'wonderful',
  'happy',
  'fast',
  'best',
  'amazing',
  'nice',
  'perfect',
  'fantastic',
  'pleasant',
  'recommend',
  'delightful',
  'superb',
  'enjoyed',
] as const
export const NEGATIVE_WORDS = [
  'bad',
  'terrible',
  'hate',
  'hated',
  'awful',
  'slow',
  'worst',
  'broken',
  'poor',
  'sad',
  'angry',
  'horrible',
  'disappointing',
  'boring',
  'useless',
  'refund',
  'crashed',
  'rude',
] as const

/**
 * The feature index of one word.
 * @example
 * featureIndex('great') // a number below FEATURES
 */
export function featureIndex(word: string): number {
  let hash = 0x811c9dc5
  for (let i = 0; i < word.length; i++) {
    hash ^= word.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193)
  }
  return (hash >>> 0) % FEATURES
}

/**
 * Writes the features of `text` into `out` (length FEATURES, zeroed by the caller).
 * @example
 * const x = new Float32Array(FEATURES); featurize('I love it', x)
 */
export function featurize(text: string, out: Float32Array): void {
  const words = text.toLowerCase().match(/[a-z']+/g) ?? []
  for (const word of words) out[featureIndex(word)] = (out[featureIndex(word)] ?? 0) + 1
  let norm = 0
  for (const value of out) norm += value * value
  if (norm > 0) {
    const scale = 1 / Math.sqrt(norm)
    for (let i = 0; i < out.length; i++) out[i] = out[i]! * scale
  }
}
