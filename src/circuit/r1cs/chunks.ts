/**
 * Fixed-size byte chunks for the binary writers: they fill one buffer at a time and hand it
 * over when full, so a file of hundreds of megabytes is never one intermediate array (the
 * caller streams the chunks to disk, or joins them with `concatChunks` when small).
 */

/** Default chunk size: big enough that per-chunk overhead vanishes, small next to any file. */
export const CHUNK_BYTES = 1 << 20

export class ChunkWriter {
  private buf: Uint8Array
  private view: DataView
  private pos = 0
  private ready: Uint8Array[] = []

  constructor(private readonly chunkBytes: number = CHUNK_BYTES) {
    this.buf = new Uint8Array(chunkBytes)
    this.view = new DataView(this.buf.buffer)
  }

  /** Makes room for `n` contiguous bytes (n ≤ the chunk size); returns where they go. */
  reserve(n: number): { buf: Uint8Array; view: DataView; at: number } {
    if (this.pos + n > this.buf.length) this.flush()
    const at = this.pos
    this.pos += n
    return { buf: this.buf, view: this.view, at }
  }

  u32(v: number): void {
    const { view, at } = this.reserve(4)
    view.setUint32(at, v, true)
  }

  u64(v: number | bigint): void {
    const { view, at } = this.reserve(8)
    view.setBigUint64(at, BigInt(v), true)
  }

  ascii(s: string): void {
    const { buf, at } = this.reserve(s.length)
    for (let i = 0; i < s.length; i++) buf[at + i] = s.charCodeAt(i)
  }

  /** The full chunks so far (and, with `final`, the partial last one); the writer keeps none of them. */
  take(final = false): Uint8Array[] {
    if (final && this.pos > 0) this.flush()
    const out = this.ready
    this.ready = []
    return out
  }

  private flush(): void {
    this.ready.push(this.buf.subarray(0, this.pos))
    this.buf = new Uint8Array(this.chunkBytes)
    this.view = new DataView(this.buf.buffer)
    this.pos = 0
  }
}

/** One buffer from chunks (for small files and tests). */
export function concatChunks(chunks: Iterable<Uint8Array>): Uint8Array {
  const list = [...chunks]
  const out = new Uint8Array(list.reduce((n, c) => n + c.length, 0))
  let at = 0
  for (const c of list) {
    out.set(c, at)
    at += c.length
  }
  return out
}
