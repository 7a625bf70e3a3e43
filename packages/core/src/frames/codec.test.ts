import { Buffer } from 'node:buffer'
import { describe, expect, it } from 'vitest'
import { encodeFrame, FRAME, type Frame, frameReader, MAX_HELLO, splitPayload } from './codec.ts'

describe('frames', () => {
  it('reads frames back whatever pieces the bytes arrive in', () => {
    const big = 'x'.repeat(200_000)
    const bytes = Buffer.concat([
      encodeFrame(FRAME.hello, 0, 'token'),
      encodeFrame(FRAME.call, 7, '{"api":"embed"}', '{"text":"é"}', true),
      encodeFrame(FRAME.chunk, 7, big),
      encodeFrame(FRAME.end, 7),
    ])
    for (const size of [1, 3, 4, 9, 1000, 65_536, bytes.byteLength]) {
      const frames: Frame[] = []
      const read = frameReader((frame) =>
        frames.push({ ...frame, payload: Buffer.from(frame.payload) })
      )
      for (let at = 0; at < bytes.byteLength; at += size) read(bytes.subarray(at, at + size))
      expect(frames.map((f) => [f.kind, f.id])).toEqual([
        [FRAME.hello, 0],
        [FRAME.call, 7],
        [FRAME.chunk, 7],
        [FRAME.end, 7],
      ])
      expect(frames[0]!.payload.toString()).toBe('token')
      const { head, rest } = splitPayload(frames[1]!.payload)
      expect(JSON.parse(head)).toEqual({ api: 'embed' })
      expect(JSON.parse(rest.toString())).toEqual({ text: 'é' })
      expect(frames[2]!.payload.byteLength).toBe(big.length)
      expect(frames[3]!.payload.byteLength).toBe(0)
    }
  })

  it('refuses a frame longer than the reader takes now, before it arrives', () => {
    const read = frameReader(
      () => {},
      () => MAX_HELLO
    )
    // An HTTP request where a HELLO belongs: "POST" read as a length.
    expect(() => read(Buffer.from('POST /embed HTTP/1.1\r\n'))).toThrow(
      /a frame of 1347375956 bytes/
    )
    expect(() => frameReader(() => {})(Buffer.from([0, 0, 0, 1, 0]))).toThrow(/a frame of 1 bytes/)
  })

  it('refuses a head longer than its frame', () => {
    const frame = encodeFrame(FRAME.answer, 1, '{}', '', true)
    frame.writeUInt32BE(99, 9)
    const frames: Frame[] = []
    frameReader((f) => frames.push(f))(frame)
    expect(() => splitPayload(frames[0]!.payload)).toThrow(/head is longer/)
  })
})
