// What a browser app bundles when it calls a bento service: the typed client alone.
import { client } from '@bento/core/client'

export const api = client('https://api.example.com', { timeout: 5_000 })
