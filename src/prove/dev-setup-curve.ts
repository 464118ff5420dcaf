/**
 * BN254 arithmetic for the dev setup: BigInt scalar-field helpers and fixed-base scalar
 * multiplication on ffjavascript's WebAssembly curve code.
 *
 * Why fixed-base combs: every point of a Groth16 key is `s·G1` or `s·G2` for a known scalar
 * `s`. ffjavascript's generic `timesScalar` costs 240 µs (G1) / 790 µs (G2) per point on this
 * machine; a comb table of `d·2^(w·j)·G` turns each product into ⌈254/w⌉ mixed additions
 * (≈1 µs G1, ≈3.6 µs G2 each), about 8× faster. The table lives in the wasm memory of a
 * private single-threaded curve instance, so no worker threads are started and snarkjs's
 * shared `globalThis.curve_bn128` is left untouched.
 */

import { SCALAR_FIELD } from '../util/field.js'
import { importKeepingCurve } from '../shutdown.js'

/** BN254 scalar field order r (the circuit field of circom/snarkjs), under the curve code's name. */
export const FR = SCALAR_FIELD
/** BN254 base field order q. */
export const FQ = 21888242871839275222246405745257275088696311157297823662689037894645226208583n

export function frMul(a: bigint, b: bigint): bigint {
  return (a * b) % FR
}

export function frPow(base: bigint, exponent: bigint): bigint {
  let result = 1n
  let b = base % FR
  let e = exponent
  while (e > 0n) {
    if (e & 1n) result = (result * b) % FR
    b = (b * b) % FR
    e >>= 1n
  }
  return result
}

/** Fermat inversion; `a` must be non-zero mod r. */
export function frInv(a: bigint): bigint {
  return frPow(a, FR - 2n)
}

/**
 * Inverts every element with one field inversion (Montgomery's trick). Inputs must be
 * non-zero: callers invert `tau − ωᵏ`, which is zero only if tau lands in the domain.
 */
export function frBatchInv(values: readonly bigint[]): bigint[] {
  const prefix: bigint[] = new Array(values.length)
  let acc = 1n
  for (let i = 0; i < values.length; i++) {
    prefix[i] = acc
    acc = (acc * values[i]!) % FR
  }
  let inv = frInv(acc)
  const out: bigint[] = new Array(values.length)
  for (let i = values.length - 1; i >= 0; i--) {
    out[i] = (inv * prefix[i]!) % FR
    inv = (inv * values[i]!) % FR
  }
  return out
}

/**
 * L_j(tau) for the size-2^bits domain {ω^j}, in snarkjs's order (index j ↔ ω^j with
 * ω = ffjavascript's `Fr.w[bits]`, the order its FFT and the prover use):
 * L_j(tau) = (tau^N − 1)/N · ω^j/(tau − ω^j).
 */
export function lagrangeAtTau(tau: bigint, bits: number, omega: bigint): bigint[] {
  const size = 2 ** bits
  const omegaPowers: bigint[] = new Array(size)
  let wj = 1n
  for (let j = 0; j < size; j++) {
    omegaPowers[j] = wj
    wj = (wj * omega) % FR
  }
  const inverses = frBatchInv(omegaPowers.map((w) => (tau - w + FR) % FR))
  const factor = (((frPow(tau, BigInt(size)) - 1n + FR) % FR) * frInv(BigInt(size))) % FR
  return omegaPowers.map((w, j) => (((factor * w) % FR) * inverses[j]!) % FR)
}

/** Writes `value` as 32 little-endian bytes (standard, not Montgomery, form). */
export function writeScalarLE(target: Uint8Array, offset: number, value: bigint): void {
  // Four 64-bit limbs: a quarter of the BigInt shifts of a byte loop (this runs per point).
  const view = new DataView(target.buffer, target.byteOffset + offset, 32)
  let v = value
  for (let i = 0; i < 32; i += 8) {
    view.setBigUint64(i, BigInt.asUintN(64, v), true)
    v >>= 64n
  }
}

export function readScalarLE(source: Uint8Array, offset: number, n8: number): bigint {
  let v = 0n
  for (let i = n8 - 1; i >= 0; i--) v = (v << 8n) | BigInt(source[offset + i]!)
  return v
}

type WasmFn = (...args: number[]) => number

/** The parts of ffjavascript's (untyped) curve object the dev setup uses. */
export interface WasmGroup {
  g: Uint8Array
  toAffine(p: Uint8Array): Uint8Array
  timesScalar(p: Uint8Array, scalarLE: Uint8Array): Uint8Array
  toRprLEM(buff: Uint8Array, offset: number, p: Uint8Array): void
  toRprUncompressed(buff: Uint8Array, offset: number, p: Uint8Array): void
  fromRng(rng: unknown): Uint8Array
}

export interface Bn128Curve {
  G1: WasmGroup
  G2: WasmGroup
  Fr: { w: Uint8Array[]; toObject(a: Uint8Array): bigint; s: number }
  tm: {
    memory: WebAssembly.Memory
    u8: Uint8Array
    u32: Uint32Array
    instance: { exports: Record<string, WasmFn> }
    pG1gen: number
    pG2gen: number
  }
}

export interface FfjavascriptModule {
  buildBn128(singleThread: boolean): Promise<Bn128Curve>
  ChaCha: new (seed: number[]) => unknown
}

let modulePromise: Promise<FfjavascriptModule> | undefined
let curvePromise: Promise<Bn128Curve> | undefined

export function loadFfjavascript(): Promise<FfjavascriptModule> {
  // A variable specifier keeps TypeScript from demanding type declarations ffjavascript
  // does not ship; the shape we rely on is `FfjavascriptModule`.
  const specifier: string = 'ffjavascript'
  modulePromise ??= importKeepingCurve(() => import(specifier) as Promise<FfjavascriptModule>)
  return modulePromise
}

/** A private single-threaded BN254 instance (compiled once per process). */
export function loadCurve(): Promise<Bn128Curve> {
  curvePromise ??= loadFfjavascript().then((ff) => ff.buildBn128(true))
  return curvePromise
}

export type GroupName = 'g1' | 'g2'

/** Bytes per coordinate triple/pair: G1 coordinates are in Fq (32 B), G2 in Fq2 (64 B). */
export function pointSizes(group: GroupName): { affine: number; jacobian: number; n8: number } {
  const n8 = group === 'g1' ? 32 : 64
  return { affine: 2 * n8, jacobian: 3 * n8, n8 }
}

/**
 * Bump allocator over the curve's wasm memory that grows the memory on demand. ffjavascript
 * keeps its free pointer at address 0 and its own functions (batchToAffine) allocate scratch
 * above it, so every call leaves `SLACK` bytes of grown memory past the pointer.
 */
export class WasmArena {
  private static readonly SLACK = 8 << 20
  private readonly mark: number

  constructor(readonly curve: Bn128Curve) {
    this.mark = curve.tm.u32[0]!
  }

  get ex(): Record<string, WasmFn> {
    return this.curve.tm.instance.exports
  }

  get u8(): Uint8Array {
    return this.curve.tm.u8
  }

  alloc(length: number): number {
    const tm = this.curve.tm
    const p = (tm.u32[0]! + 7) & ~7
    this.ensure(p + length + WasmArena.SLACK)
    tm.u32[0] = p + length
    return p
  }

  /** Releases everything allocated since construction. */
  release(): void {
    this.curve.tm.u32[0] = this.mark
  }

  private ensure(end: number): void {
    const tm = this.curve.tm
    const have = tm.memory.buffer.byteLength
    if (end <= have) return
    tm.memory.grow(Math.ceil((end - have) / 65536))
    // Growing detaches the old ArrayBuffer; ffjavascript reads tm.u8/tm.u32 on every call.
    tm.u8 = new Uint8Array(tm.memory.buffer)
    tm.u32 = new Uint32Array(tm.memory.buffer)
  }
}

/** Scalars are < r < 2^254, so 254 bits cover every window. */
const SCALAR_BITS = 254

/** Window width minimising table build (windows·2^w additions) plus use (windows per point). */
export function chooseWindowBits(pointCount: number): number {
  let best = 4
  let bestCost = Infinity
  for (let w = 4; w <= 14; w++) {
    const windows = Math.ceil(SCALAR_BITS / w)
    const cost = windows * ((1 << w) + pointCount)
    if (cost < bestCost) {
      best = w
      bestCost = cost
    }
  }
  return best
}

/**
 * Fixed-base comb for the group generator: `table[j][d] = d·2^(w·j)·G` in affine Montgomery
 * form, so `s·G = Σ_j table[j][digit_j(s)]` with one mixed addition per non-zero digit.
 */
export class FixedBaseTable {
  readonly windowBits: number
  readonly windows: number
  private readonly pTable: number
  private readonly sizes: ReturnType<typeof pointSizes>
  private readonly fn: (name: string) => WasmFn

  constructor(
    private readonly arena: WasmArena,
    readonly group: GroupName,
    pointCount: number,
    windowBits = chooseWindowBits(pointCount),
  ) {
    this.windowBits = windowBits
    this.windows = Math.ceil(SCALAR_BITS / this.windowBits)
    this.sizes = pointSizes(group)
    const ex = arena.ex
    this.fn = (name) => ex[`${group}m_${name}`]!
    const entries = 1 << this.windowBits
    const { affine, jacobian } = this.sizes
    this.pTable = arena.alloc(this.windows * entries * affine)
    const pScratch = arena.alloc(entries * jacobian)
    const pBase = arena.alloc(affine)
    const pGen = group === 'g1' ? arena.curve.tm.pG1gen : arena.curve.tm.pG2gen
    // The generator is stored in Jacobian form with z = 1, so its first two coordinates are
    // already its affine form.
    this.fn('copyAffine')(pGen, pBase)
    for (let j = 0; j < this.windows; j++) {
      const addMixed = this.fn('addMixed')
      this.fn('zero')(pScratch)
      for (let d = 1; d < entries; d++) {
        addMixed(pScratch + (d - 1) * jacobian, pBase, pScratch + d * jacobian)
      }
      this.fn('batchToAffine')(pScratch, entries, this.pTable + j * entries * affine)
      // Next window's base: 2^w · base = (2^w − 1)·base + base.
      const pNext = pScratch // entry 0 (zero) is free to reuse as scratch
      addMixed(pScratch + (entries - 1) * jacobian, pBase, pNext)
      this.fn('toAffine')(pNext, pBase)
    }
  }

  /**
   * `scalars[i]·G` for every i, as affine points in little-endian Montgomery form (the
   * layout of zkey/ptau point sections). Scalars must already be reduced mod r.
   * When `uncompressed` is set, also returns the points in snarkjs's hashing form
   * (big-endian uncompressed, `g?m_batchLEMtoU`).
   */
  multiply(scalars: readonly bigint[], uncompressed = false): { lem: Uint8Array; u: Uint8Array | undefined } {
    const { affine, jacobian } = this.sizes
    const lem = new Uint8Array(scalars.length * affine)
    const u = uncompressed ? new Uint8Array(scalars.length * affine) : undefined
    const chunk = 4096
    const arena = this.arena
    const pAcc = arena.alloc(chunk * jacobian)
    const pOut = arena.alloc(chunk * affine)
    const pU = arena.alloc(chunk * affine)
    const bytes = new Uint8Array(32 + 4)
    const w = this.windowBits
    const mask = (1 << w) - 1
    const entries = 1 << w
    const zero = this.fn('zero')
    const addMixed = this.fn('addMixed')
    for (let start = 0; start < scalars.length; start += chunk) {
      const n = Math.min(chunk, scalars.length - start)
      for (let i = 0; i < n; i++) {
        writeScalarLE(bytes, 0, scalars[start + i]!)
        const pPoint = pAcc + i * jacobian
        zero(pPoint)
        for (let j = 0; j < this.windows; j++) {
          const bit = j * w
          const byte = bit >> 3
          const word = bytes[byte]! | (bytes[byte + 1]! << 8) | (bytes[byte + 2]! << 16)
          const digit = (word >>> (bit & 7)) & mask
          if (digit !== 0) addMixed(pPoint, this.pTable + (j * entries + digit) * affine, pPoint)
        }
      }
      this.fn('batchToAffine')(pAcc, n, pOut)
      lem.set(arena.u8.subarray(pOut, pOut + n * affine), start * affine)
      if (u) {
        this.fn('batchLEMtoU')(pOut, n, pU)
        u.set(arena.u8.subarray(pU, pU + n * affine), start * affine)
      }
    }
    return { lem, u }
  }
}
