import { shutdown } from '../../src/shutdown.js'
/**
 * A tiny circom circuit with veriml's public-signal layout, built and set up in seconds, for
 * tests that need real Groth16 proofs (on-chain verification, export, CLI).
 *
 * The "model" is y[i] = x[i]² + shift over private inputs x. Public signals follow veriml's
 * layout: input part (public → packed x, hashed → Poseidon of the packed x, private →
 * nothing), then output part (packed y). Every lane is range-checked with Num2Bits, so the
 * packing is sound, not just well-formed.
 */
import { mkdir, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { type PackLayout, pack, packedElementCount } from '../../src/circuit/packing.js'
import { compileCircom } from '../../src/prove/circom.js'

export type Visibility = 'public' | 'hashed' | 'private'

export interface TinyCircuitSpec {
  /** Also the circom template and file name: letters and digits. */
  name: string
  inputVisibility: Visibility
  inputLayout: PackLayout
  /** count must equal inputLayout.count. */
  outputLayout: PackLayout
  shift: bigint
}

export type { Groth16Proof } from 'snarkjs'

export interface TinyCircuit {
  spec: TinyCircuitSpec
  dir: string
  zkeyPath: string
  wasmPath: string
  verificationKey: unknown
  publicSignalCount: number
  prove(x: readonly bigint[]): Promise<{ proof: import('snarkjs').Groth16Proof; publicSignals: string[] }>
}

export async function loadSnarkjs(): Promise<typeof import('snarkjs')> {
  return import('snarkjs')
}

export async function terminateSnarkjs(): Promise<void> {
  await shutdown()
}

export function tinyModel(x: readonly bigint[], shift: bigint): bigint[] {
  return x.map((v) => v * v + shift)
}

/** A phase-2-ready powers-of-tau file of 2^power (dev only: the toxic waste is known). */
export async function preparePtau(dir: string, power = 8): Promise<string> {
  const snarkjs = await loadSnarkjs()
  await mkdir(dir, { recursive: true })
  const curve = await snarkjs.curves.getCurveFromName('bn128')
  await snarkjs.powersOfTau.newAccumulator(curve, power, join(dir, 'pot_0.ptau'))
  await snarkjs.powersOfTau.contribute(join(dir, 'pot_0.ptau'), join(dir, 'pot_1.ptau'), 'test', 'veriml test entropy')
  const ptau = join(dir, `pot${power}_final.ptau`)
  await snarkjs.powersOfTau.preparePhase2(join(dir, 'pot_1.ptau'), ptau)
  return ptau
}

export function tinyCircom(spec: TinyCircuitSpec): string {
  const { inputLayout: inL, outputLayout: outL } = spec
  if (inL.count !== outL.count) throw new RangeError('tiny circuit: input and output counts differ')
  const n = inL.count
  const lines = [
    'pragma circom 2.1.0;',
    'include "circomlib/circuits/bitify.circom";',
    'include "circomlib/circuits/poseidon.circom";',
    '',
    // Packed element e = Σ_j lane[e·L + j] · 2^(bits·j); coefficients are emitted as literals.
    `template Pack(N, BITS, L, K) {`,
    '  signal input lane[N];',
    '  signal output out[K];',
    '  for (var e = 0; e < K; e++) {',
    '    var acc = 0;',
    '    for (var j = 0; j < L && e * L + j < N; j++) { acc += lane[e * L + j] * (1 << (BITS * j)); }',
    '    out[e] <== acc;',
    '  }',
    '}',
    '',
    `template ${spec.name}() {`,
    `  signal input x[${n}];`,
  ]
  const kIn = packedElementCount(inL)
  const kOut = packedElementCount(outL)
  // Declaration order is public-signal order: input part first, then output part.
  if (spec.inputVisibility === 'public') lines.push(`  signal output inPart[${kIn}];`)
  if (spec.inputVisibility === 'hashed') lines.push('  signal output inPart[1];')
  lines.push(`  signal output outPart[${kOut}];`)
  lines.push(
    `  component inBits[${n}];`,
    `  component outBits[${n}];`,
    `  component inPack = Pack(${n}, ${inL.laneBits}, ${inL.lanesPerElement}, ${kIn});`,
    `  component outPack = Pack(${n}, ${outL.laneBits}, ${outL.lanesPerElement}, ${kOut});`,
    `  signal y[${n}];`,
    `  for (var i = 0; i < ${n}; i++) {`,
    // The lanes are range-checked: a lane outside [0, 2^bits) would alias into its neighbour.
    `    inBits[i] = Num2Bits(${inL.laneBits});`,
    `    inBits[i].in <== x[i] - (${inL.lo});`,
    `    inPack.lane[i] <== x[i] - (${inL.lo});`,
    `    y[i] <== x[i] * x[i] + (${spec.shift});`,
    `    outBits[i] = Num2Bits(${outL.laneBits});`,
    `    outBits[i].in <== y[i] - (${outL.lo});`,
    `    outPack.lane[i] <== y[i] - (${outL.lo});`,
    '  }',
  )
  if (spec.inputVisibility === 'public')
    lines.push(`  for (var e = 0; e < ${kIn}; e++) { inPart[e] <== inPack.out[e]; }`)
  if (spec.inputVisibility === 'hashed') {
    lines.push(
      `  component h = Poseidon(${kIn});`,
      `  for (var e = 0; e < ${kIn}; e++) { h.inputs[e] <== inPack.out[e]; }`,
      '  inPart[0] <== h.out;',
    )
  }
  lines.push(
    `  for (var e = 0; e < ${kOut}; e++) { outPart[e] <== outPack.out[e]; }`,
    '}',
    '',
    `component main = ${spec.name}();`,
    '',
  )
  return lines.join('\n')
}

/** Writes, compiles (circom2 --O2) and sets up the circuit in `dir`, using a prepared `ptau`. */
export async function buildTinyCircuit(spec: TinyCircuitSpec, dir: string, ptau: string): Promise<TinyCircuit> {
  const snarkjs = await loadSnarkjs()
  await mkdir(dir, { recursive: true })
  await writeFile(join(dir, `${spec.name}.circom`), tinyCircom(spec))
  // --O2 folds the linear constraints away, which keeps the Poseidon variant under 2^8.
  await compileCircom(dir, { name: spec.name, optimization: 'O2' })
  const zkeyPath = join(dir, `${spec.name}.zkey`)
  await snarkjs.zKey.newZKey(join(dir, `${spec.name}.r1cs`), ptau, zkeyPath)
  // A too-small ptau makes snarkjs log an error and leave an empty zkey instead of throwing.
  if (((await stat(zkeyPath).catch(() => undefined))?.size ?? 0) === 0) {
    throw new Error(`tiny circuit ${spec.name}: setup left an empty zkey (circuit too large for the ptau?)`)
  }
  const verificationKey = await snarkjs.zKey.exportVerificationKey(zkeyPath)
  const wasmPath = join(dir, `${spec.name}_js`, `${spec.name}.wasm`)
  const publicSignalCount =
    (spec.inputVisibility === 'public'
      ? packedElementCount(spec.inputLayout)
      : spec.inputVisibility === 'hashed'
        ? 1
        : 0) + packedElementCount(spec.outputLayout)
  return {
    spec,
    dir,
    zkeyPath,
    wasmPath,
    verificationKey,
    publicSignalCount,
    async prove(x) {
      // Fail early, with the packing's own message, on inputs outside the declared ranges.
      pack([...x], spec.inputLayout)
      pack(tinyModel(x, spec.shift), spec.outputLayout)
      return snarkjs.groth16.fullProve({ x: x.map(String) }, wasmPath, zkeyPath)
    },
  }
}
