/**
 * The direct compile's wire map (`circuit/model.wires`): which pre-O1 signal each wire of the
 * R1CS is, and how many templates each step has, so the prove-time witness pass (build.ts
 * directWitness) stores no constraint, replays no O1 and measures no circom text.
 * Little-endian: magic "vmwires1", u32 pre-O1 signal count, u32 wire count, u32 step count,
 * then one u32 signal id per wire (wire 0: signal 0, the constant one), one u32 per step.
 */
const MAGIC = 'vmwires1'
const HEADER_BYTES = 20

export interface WireMap {
  /** Pre-O1 signals the compile declared. */
  signalCount: number
  /** wires[w]: the pre-O1 signal id of wire w. */
  wires: Int32Array
  /** Templates per step (0: the step has no constraint). */
  stepChunks: readonly number[]
}

export function encodeWireMap({ signalCount, wires, stepChunks }: WireMap): Uint8Array {
  const bytes = new Uint8Array(HEADER_BYTES + 4 * (wires.length + stepChunks.length))
  const view = new DataView(bytes.buffer)
  for (let i = 0; i < MAGIC.length; i++) bytes[i] = MAGIC.charCodeAt(i)
  view.setUint32(8, signalCount, true)
  view.setUint32(12, wires.length, true)
  view.setUint32(16, stepChunks.length, true)
  let at = HEADER_BYTES
  for (const s of wires) at = put(view, at, s)
  for (const c of stepChunks) at = put(view, at, c)
  return bytes
}

const put = (view: DataView, at: number, v: number): number => {
  view.setUint32(at, v, true)
  return at + 4
}

/** The wire map in `bytes`, or a string saying what is wrong with them (the caller names the file). */
export function decodeWireMap(bytes: Uint8Array): WireMap | string {
  if (bytes.length < HEADER_BYTES || String.fromCharCode(...bytes.subarray(0, 8)) !== MAGIC)
    return 'is not a veriml wire map'
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const signalCount = view.getUint32(8, true)
  const count = view.getUint32(12, true)
  const steps = view.getUint32(16, true)
  if (bytes.length !== HEADER_BYTES + 4 * (count + steps))
    return `is truncated (${count} wires, ${steps} steps announced)`
  const wires = new Int32Array(count)
  for (let w = 0; w < count; w++) {
    const s = view.getUint32(HEADER_BYTES + 4 * w, true)
    if (s >= signalCount) return `names signal ${s} of ${signalCount}`
    wires[w] = s
  }
  const stepChunks = Array.from({ length: steps }, (_, i) => view.getUint32(HEADER_BYTES + 4 * (count + i), true))
  return { signalCount, wires, stepChunks }
}
