/**
 * Exact arithmetic for the fixed-scale (QDQ) quantiser: float64 values as dyadic rationals
 * n·2^e, the common factor of one row of an affine map, and the fold of a requantisation
 * multiplier into integer weights.
 */

/** v = n · 2^e exactly; n is odd, or 0 (then e = 0). */
export interface Dyadic {
  n: bigint
  e: number
}

const view = new DataView(new ArrayBuffer(8))

export function toDyadic(v: number): Dyadic {
  if (!Number.isFinite(v)) throw new RangeError(`${v} is not a finite number`)
  if (v === 0) return { n: 0n, e: 0 }
  view.setFloat64(0, v)
  const hi = view.getUint32(0),
    lo = view.getUint32(4)
  const biased = (hi >>> 20) & 0x7ff
  let n = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo)
  let e: number
  if (biased === 0) e = -1074
  else {
    n |= 1n << 52n
    e = biased - 1075
  }
  while ((n & 1n) === 0n) {
    n >>= 1n
    e++
  }
  return { n: v < 0 ? -n : n, e }
}

const abs = (x: bigint) => (x < 0n ? -x : x)
function gcd(a: bigint, b: bigint): bigint {
  a = abs(a)
  b = abs(b)
  while (b) [a, b] = [b, a % b]
  return a
}

/** round(num / den) to nearest, ties to even; den > 0. */
export function divRound(num: bigint, den: bigint): bigint {
  let q = num / den,
    r = num % den
  if (r < 0n) {
    q -= 1n
    r += den
  }
  const twice = 2n * r
  if (twice > den || (twice === den && (q & 1n) === 1n)) q += 1n
  return q
}

/**
 * One row written as factor · integers: coefs[k] ≈ g · ints[k], g > 0. `exact` when equality
 * holds exactly for the float64 values; otherwise every |coefs[k] - g·ints[k]| is at most
 * 2^-44 of the row's largest |coef| (far below onnxruntime's own float32 requantisation).
 */
export interface RowFactor {
  g: number
  ints: bigint[]
  exact: boolean
}

const SMALL = 2 ** 24
const LARGE = 2n ** 40n
const TOLERANCE = 2 ** -44

/** Exact: the gcd of the dyadic representations. */
function exactFactor(coefs: readonly number[]): { g: number; ints: bigint[] } {
  const ds = coefs.map(toDyadic)
  const emin = Math.min(...ds.filter((d) => d.n !== 0n).map((d) => d.e))
  const N = ds.map((d) => (d.n === 0n ? 0n : d.n << BigInt(d.e - emin)))
  const G = N.reduce(gcd, 0n)
  // G divides the odd numerator at emin, so G < 2^53 and g = G·2^emin is a float64 exactly.
  return { g: Number(G) * 2 ** emin, ints: N.map((x) => x / G) }
}

/** p/q within tol of x with q ≤ qmax (continued fractions), or null. */
function rational(x: number, qmax: number, tol: number): [number, number] | null {
  let [h0, h1, k0, k1] = [0, 1, 1, 0]
  let r = x
  for (let i = 0; i < 64; i++) {
    const a = Math.floor(r)
    ;[h0, h1] = [h1, a * h1 + h0]
    ;[k0, k1] = [k1, a * k1 + k0]
    if (k1 > qmax) return null
    if (Math.abs(x - h1 / k1) <= tol) return [h1, k1]
    const frac = r - a
    if (frac === 0) return null
    r = 1 / frac
  }
  return null
}

/**
 * Small integers from ratios to the largest coefficient. The float64 product of a float32
 * activation scale, a float32 weight scale and an 8-bit weight needs up to 57 bits, so the
 * fused coefficients of a QDQ Conv are rounded and have no exact small common factor; their
 * ratios, though, are ratios of the small integer weights, which continued fractions recover.
 */
function rationalFactor(coefs: readonly number[]): { g: number; ints: bigint[] } | null {
  let r = 0
  coefs.forEach((c, k) => {
    if (Math.abs(c) > Math.abs(coefs[r])) r = k
  })
  const pq: [number, number][] = []
  let L = 1
  for (const c of coefs) {
    const f = c === 0 ? ([0, 1] as [number, number]) : rational(c / coefs[r], 1 << 16, TOLERANCE)
    if (!f) return null
    pq.push(f)
    L = (L / gcdNumber(L, f[1])) * f[1]
    if (L > SMALL) return null
  }
  const g = Math.abs(coefs[r]) / L
  const sign = coefs[r] < 0 ? -1 : 1
  const ints = pq.map(([p, q]) => BigInt(sign * p * (L / q)))
  return { g, ints }
}

function gcdNumber(a: number, b: number): number {
  while (b) [a, b] = [b, a % b]
  return a
}

function within(coefs: readonly number[], f: { g: number; ints: bigint[] }): boolean {
  const top = Math.max(...coefs.map(Math.abs))
  return coefs.every((c, k) => Math.abs(c - f.g * Number(f.ints[k])) <= TOLERANCE * top)
}

/**
 * The cheapest faithful factorisation of one row, in order: the exact dyadic gcd when its
 * integers are small (QLinearMatMul / MatMulInteger rows, power-of-two scales); small ratios
 * (rounded QDQ Conv rows); the exact gcd up to 2^40; else a fixed fine grid g = 2^-E with
 * 45 bits below the largest coefficient (rows that are no small multiple of one factor:
 * unrelated scales, float weights folded from BatchNormalization).
 */
export function rowFactor(coefs: readonly number[]): RowFactor {
  if (coefs.every((c) => c === 0)) return { g: 1, ints: coefs.map(() => 0n), exact: true }
  const exact = exactFactor(coefs)
  const maxInt = exact.ints.reduce((m, x) => (abs(x) > m ? abs(x) : m), 0n)
  if (maxInt <= BigInt(SMALL)) return { ...exact, exact: true }
  const small = rationalFactor(coefs)
  if (small && within(coefs, small)) return { ...small, exact: false }
  if (maxInt <= LARGE) return { ...exact, exact: true }
  const top = Math.max(...coefs.map(Math.abs))
  // The grid 2^-E is at most 2^-45 of the largest |coef|: rounding to it errs by at most 2^-46 of it.
  const E = 45 - Math.ceil(Math.log2(top))
  return { g: 2 ** -E, ints: coefs.map((c) => BigInt(Math.round(c * 2 ** E))), exact: false }
}

export interface FoldedRows {
  /** Integer weights per row (same CSR layout as the input) and biases. */
  vals: bigint[]
  bias: bigint[]
  shift: number
  /** Rows whose bias was rounded to the accumulator grid (not an exact multiple). */
  roundedBiases: number
}

/**
 * Folds per-row multipliers into integer weights with one common shift:
 * row j's value / outScale ≈ (Σ vals·x + bias) / 2^shift, where the multiplier
 * M_j = float32(g_j / outScale) = m_j · 2^-s_j (onnxruntime's float32 requantisation scale)
 * becomes m_j · 2^(shift - s_j) on row j's integers. Common powers of two are cancelled so the
 * shift (and the requant gadget's range check) is as small as the rows allow.
 */
export function foldRows(rows: { ints: bigint[]; g: number; bias: number }[], outScale: number): FoldedRows {
  const mult = rows.map((r) => toDyadic(Math.fround(r.g / outScale)))
  for (const [j, m] of mult.entries())
    if (m.n <= 0n)
      throw new RangeError(`row ${j}: requantisation multiplier ${rows[j].g}/${outScale} is zero in float32`)
  let shift = Math.max(0, ...mult.map((m) => -m.e))
  const fold = (at: number) => {
    const vals: bigint[] = [],
      bias: bigint[] = []
    let rounded = 0
    rows.forEach((r, j) => {
      const up = BigInt(at + mult[j].e)
      for (const a of r.ints) vals.push((a * mult[j].n) << up)
      // bias / g · m · 2^(at - s_j), rounded to the nearest integer when not exact.
      const b = toDyadic(r.bias),
        g = toDyadic(r.g)
      const t = at + mult[j].e + b.e - g.e
      const num = b.n * mult[j].n * (t >= 0 ? 1n << BigInt(t) : 1n)
      const den = g.n * (t < 0 ? 1n << BigInt(-t) : 1n)
      const q = divRound(num, den)
      if (q * den !== num) rounded++
      bias.push(q)
    })
    return { vals, bias, rounded }
  }
  let f = fold(shift)
  // A rounded bias errs by at most 2^-(shift+1) output units: keep that below 2^-25.
  if (f.rounded > 0 && shift < 24) {
    shift = 24
    f = fold(shift)
  }
  // Dividing every integer by a common 2^k leaves (Σ vals·x + bias) / 2^shift unchanged.
  let common = shift
  for (const v of [...f.vals, ...f.bias]) {
    if (v === 0n || common === 0) continue
    let z = 0
    while (z < common && ((v >> BigInt(z)) & 1n) === 0n) z++
    common = Math.min(common, z)
  }
  const k = BigInt(common)
  return {
    vals: f.vals.map((v) => v >> k),
    bias: f.bias.map((v) => v >> k),
    shift: shift - common,
    roundedBiases: f.rounded,
  }
}
