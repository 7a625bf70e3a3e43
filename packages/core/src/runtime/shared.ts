// What more than one runtime adapter does the same way, written once.
import process from 'node:process'
import { claimPort } from './port.ts'
import type { SharedPort, Signal, SpawnOptions } from './types.ts'

/**
 * `process.on(signal)` with its remover (Node and Bun; Deno has its own signal listeners).
 */
export function processSignal(signal: Signal, handler: () => void): () => void {
  process.on(signal, handler)
  return () => process.off(signal, handler)
}

/**
 * The port for workers that each bind it with SO_REUSEPORT (Bun, Deno): claimed once, without
 * SO_REUSEPORT, so that a port another process holds fails before any worker starts; nothing
 * for the supervisor to hold or hand out afterwards.
 * @example
 * const shared = await reusePortShare('0.0.0.0', 3000)
 */
export async function reusePortShare(host: string, port: number): Promise<SharedPort> {
  return { port: await claimPort(host, port), fd: undefined, admit() {}, withdraw() {}, close() {} }
}

/** Bun's and Deno's workers bind the port themselves: a listening socket handed over is refused. */
export function refuseListenFd(runtime: 'Bun' | 'Deno', options: SpawnOptions): void {
  if (options.listenFd !== undefined) {
    throw new Error(
      `${runtime} workers bind the port themselves (SO_REUSEPORT); listenFd is not supported`
    )
  }
}
