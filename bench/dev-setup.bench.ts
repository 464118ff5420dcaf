/**
 * Dev setup vs snarkjs's standard Groth16 setup, same circuits, same process.
 *
 *   npx tsx bench/dev-setup.bench.ts
 *
 * Circuits are MLP-shaped (constant-weight dense layers = wide linear constraints, squaring
 * activations, bit-decomposition range checks), generated here and compiled with circom2:
 * - "mid": 196-32-10, domain 2^11: devSetup vs newAccumulator + contribute + preparePhase2 +
 *   newZKey (+ zkey contribute, which the dev key's random delta corresponds to).
 * - "mnist": 784-128-10, ≈8.1k constraints, ≈110k coefficients, domain 2^13: devSetup only
 *   (the snarkjs flow would need preparePhase2 at 2^13, several minutes).
 * Each dev zkey is checked by proving and verifying once.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { devSetup, type DevSetupReturnType } from '../src/prove/dev-setup.js'
import { compileCircom } from '../src/prove/circom.js'

type Snarkjs = typeof import('snarkjs')

interface MlpShape {
  name: string
  nIn: number
  nHidden: number
  nOut: number
  inBits: number
  hiddenBits: number
}

const MID: MlpShape = { name: 'mid', nIn: 196, nHidden: 32, nOut: 10, inBits: 4, hiddenBits: 28 }
const MNIST: MlpShape = { name: 'mnist', nIn: 784, nHidden: 128, nOut: 10, inBits: 4, hiddenBits: 30 }

/** Deterministic small weights (0 … 126) so reruns compile the same circuit. */
function weight(seed: number): number {
  return Math.imul(seed ^ 0x9e3779b9, 2654435761) >>> 25
}

/** `((t0+t1)+(t2+t3))…`: circom2 compiles balanced sums near-linearly, flat ones overflow. */
function balanced(terms: string[]): string {
  if (terms.length === 1) return terms[0]!
  const mid = terms.length >> 1
  return `(${balanced(terms.slice(0, mid))}+${balanced(terms.slice(mid))})`
}

function mlpCircuit(s: MlpShape): string {
  const lines = [
    'pragma circom 2.0.0;',
    'template Mlp() {',
    `  signal input x[${s.nIn}];`,
    `  signal output y[${s.nOut}];`,
    `  signal xb[${s.nIn}][${s.inBits}];`,
    `  for (var i = 0; i < ${s.nIn}; i++) {`,
    '    var acc = 0;',
    `    for (var b = 0; b < ${s.inBits}; b++) {`,
    '      xb[i][b] <-- (x[i] >> b) & 1;',
    '      xb[i][b] * (xb[i][b] - 1) === 0;',
    '      acc += xb[i][b] * (1 << b);',
    '    }',
    '    acc === x[i];',
    '  }',
    `  signal h[${s.nHidden}];`,
  ]
  for (let j = 0; j < s.nHidden; j++) {
    const terms = Array.from({ length: s.nIn }, (_, i) => `${weight(j * s.nIn + i)}*x[${i}]`)
    lines.push(`  h[${j}] <== ${balanced(terms)};`)
  }
  lines.push(
    `  signal hb[${s.nHidden}][${s.hiddenBits}];`,
    `  signal a[${s.nHidden}];`,
    `  for (var j = 0; j < ${s.nHidden}; j++) {`,
    '    var acc = 0;',
    `    for (var b = 0; b < ${s.hiddenBits}; b++) {`,
    '      hb[j][b] <-- (h[j] >> b) & 1;',
    '      hb[j][b] * (hb[j][b] - 1) === 0;',
    '      acc += hb[j][b] * (1 << b);',
    '    }',
    '    acc === h[j];',
    '    a[j] <== h[j] * h[j];',
    '  }',
  )
  for (let k = 0; k < s.nOut; k++) {
    const terms = Array.from({ length: s.nHidden }, (_, j) => `${weight(1_000_003 + k * s.nHidden + j)}*a[${j}]`)
    lines.push(`  y[${k}] <== ${balanced(terms)};`)
  }
  lines.push('}', 'component main = Mlp();', '')
  return lines.join('\n')
}

async function compile(dir: string, s: MlpShape): Promise<{ r1cs: string; wasm: string; compileMs: number }> {
  const t0 = performance.now()
  await compileCircom(dir, { name: s.name })
  return {
    r1cs: join(dir, `${s.name}.r1cs`),
    wasm: join(dir, `${s.name}_js`, `${s.name}.wasm`),
    compileMs: performance.now() - t0,
  }
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now()
  const value = await fn()
  return [value, performance.now() - t0]
}

async function proveAndVerify(snarkjs: Snarkjs, s: MlpShape, wasm: string, zkey: string): Promise<boolean> {
  const input = { x: Array.from({ length: s.nIn }, (_, i) => String((i * 7) % 16)) }
  const { proof, publicSignals } = await snarkjs.groth16.fullProve(input, wasm, zkey)
  return snarkjs.groth16.verify(await snarkjs.zKey.exportVerificationKey(zkey), publicSignals, proof)
}

const sec = (ms: number): string => `${(ms / 1000).toFixed(2)} s`

async function main(): Promise<void> {
  const snarkjs: Snarkjs = await import('snarkjs')
  const dir = await mkdtemp(join(tmpdir(), 'veriml-dev-setup-bench-'))
  try {
    for (const s of [MID, MNIST]) await writeFile(join(dir, `${s.name}.circom`), mlpCircuit(s))
    const mid = await compile(dir, MID)
    const mnist = await compile(dir, MNIST)

    // --- mid circuit: dev setup vs snarkjs ---
    const [devMid, devMidMs] = await timed(() => devSetup({ r1csPath: mid.r1cs, zkeyPath: join(dir, 'mid-dev.zkey') }))
    const [, devMidPtauMs] = await timed(() =>
      devSetup({ r1csPath: mid.r1cs, zkeyPath: join(dir, 'mid-dev2.zkey'), ptauPath: join(dir, 'mid-dev.ptau') }),
    )
    const power = Math.log2(devMid.domainSize)
    const curve = await snarkjs.curves.getCurveFromName('bn128')
    const [, newAccMs] = await timed(() => snarkjs.powersOfTau.newAccumulator(curve, power, join(dir, 'p0.ptau')))
    const [, contribMs] = await timed(() =>
      snarkjs.powersOfTau.contribute(join(dir, 'p0.ptau'), join(dir, 'p1.ptau'), 'bench', 'bench entropy'),
    )
    const [, prepareMs] = await timed(() =>
      snarkjs.powersOfTau.preparePhase2(join(dir, 'p1.ptau'), join(dir, 'pf.ptau')),
    )
    const [, newZKeyMs] = await timed(() =>
      snarkjs.zKey.newZKey(mid.r1cs, join(dir, 'pf.ptau'), join(dir, 'mid-0.zkey')),
    )
    const [, zkeyContribMs] = await timed(() =>
      snarkjs.zKey.contribute(join(dir, 'mid-0.zkey'), join(dir, 'mid-1.zkey'), 'bench', 'bench entropy'),
    )
    const snarkjsMs = newAccMs + contribMs + prepareMs + newZKeyMs + zkeyContribMs
    const midOk = await proveAndVerify(snarkjs, MID, mid.wasm, join(dir, 'mid-dev.zkey'))

    // --- MNIST-sized circuit: dev setup alone ---
    const [devMnist, devMnistMs] = await timed(() =>
      devSetup({ r1csPath: mnist.r1cs, zkeyPath: join(dir, 'mnist-dev.zkey') }),
    )
    const [devMnistPtau, devMnistPtauMs] = await timed(() =>
      devSetup({ r1csPath: mnist.r1cs, zkeyPath: join(dir, 'mnist-dev2.zkey'), ptauPath: join(dir, 'mnist-dev.ptau') }),
    )
    const mnistOk = await proveAndVerify(snarkjs, MNIST, mnist.wasm, join(dir, 'mnist-dev.zkey'))

    const describe = (r: DevSetupReturnType) =>
      `${r.nConstraints} constraints, ${r.nCoefficients} coefficients, ${r.nVars} wires, domain 2^${Math.log2(r.domainSize)}`
    const out = [
      `## Dev setup vs snarkjs Groth16 setup (${new Date().toISOString().slice(0, 10)}, node ${process.version})`,
      '',
      `mid circuit (${MID.nIn}-${MID.nHidden}-${MID.nOut}): ${describe(devMid)}; compile ${sec(mid.compileMs)}`,
      '',
      '| step | time |',
      '| --- | ---: |',
      `| snarkjs powersOfTau.newAccumulator (2^${power}) | ${sec(newAccMs)} |`,
      `| snarkjs powersOfTau.contribute | ${sec(contribMs)} |`,
      `| snarkjs powersOfTau.preparePhase2 | ${sec(prepareMs)} |`,
      `| snarkjs zKey.newZKey | ${sec(newZKeyMs)} |`,
      `| snarkjs zKey.contribute | ${sec(zkeyContribMs)} |`,
      `| **snarkjs total** | **${sec(snarkjsMs)}** |`,
      `| **veriml devSetup (zkey only)** | **${sec(devMidMs)}** |`,
      `| veriml devSetup (zkey + prepared ptau) | ${sec(devMidPtauMs)} |`,
      `| ratio snarkjs / devSetup (zkey only) | ${(snarkjsMs / devMidMs).toFixed(1)}× |`,
      `| ratio snarkjs / devSetup (with ptau) | ${(snarkjsMs / devMidPtauMs).toFixed(1)}× |`,
      '',
      `mnist-sized circuit (${MNIST.nIn}-${MNIST.nHidden}-${MNIST.nOut}): ${describe(devMnist)}; compile ${sec(mnist.compileMs)}`,
      '',
      '| step | time |',
      '| --- | ---: |',
      `| veriml devSetup (zkey only) | ${sec(devMnistMs)} |`,
      `| veriml devSetup (zkey + prepared ptau 2^${devMnistPtau.ptauPower}) | ${sec(devMnistPtauMs)} |`,
      '',
      `dev keys prove and verify with snarkjs: mid ${midOk}, mnist ${mnistOk}`,
    ]
    console.log(out.join('\n'))
    if (!midOk || !mnistOk) process.exitCode = 1
  } finally {
    await rm(dir, { recursive: true, force: true })
    await (globalThis as { curve_bn128?: { terminate(): Promise<void> } }).curve_bn128?.terminate()
  }
}

await main()
