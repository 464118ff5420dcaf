/**
 * In-memory writer for iden3's sectioned binary files (zkey, ptau): a 4-byte ASCII magic,
 * u32 version, u32 section count, then per section u32 id, u64 byte size and the payload,
 * all little-endian (the layout `@iden3/binfileutils` reads).
 */
export class BinFileWriter {
  private readonly chunks: Uint8Array[] = []
  private count = 0

  constructor(
    private readonly magic: string,
    private readonly version: number,
  ) {}

  section(id: number, ...payload: Uint8Array[]): void {
    const size = payload.reduce((sum, p) => sum + p.byteLength, 0)
    const head = new Uint8Array(12)
    const view = new DataView(head.buffer)
    view.setUint32(0, id, true)
    view.setBigUint64(4, BigInt(size), true)
    this.chunks.push(head, ...payload)
    this.count++
  }

  finish(): Uint8Array {
    const head = new Uint8Array(12)
    for (let i = 0; i < 4; i++) head[i] = this.magic.charCodeAt(i)
    const view = new DataView(head.buffer)
    view.setUint32(4, this.version, true)
    view.setUint32(8, this.count, true)
    return Buffer.concat([head, ...this.chunks])
  }
}
