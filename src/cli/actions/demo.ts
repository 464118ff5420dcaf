import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { readFile } from 'node:fs/promises'
import { verifyBuildOnChain } from '../../chain/model.js'
import { compileModel } from '../../prove/compile.js'
import { proveModel } from '../../prove/prove.js'
import { setupModel } from '../../prove/setup.js'
import { verifyProof } from '../../prove/verify.js'
import { terminalProgress } from '../../util/progress.js'
import { ms, table } from '../format.js'
import type { Flags } from '../flags.js'
import { type Verb, positional } from '../verb.js'
import { UsageError } from '../../errors.js'

/** The package root (src/cli/actions or dist/cli/actions, three up): the bundled model and its data ship there. */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')

/**
 * The demo's build folder: ./build/mnist in the current folder, not in the package (installed,
 * the package is inside node_modules). `npm run demo` runs at the repo root: the same folder.
 */
export const DEMO_BUILD_DIR = join('build', 'mnist')

/** The bundled models the demo runs (`--model`): each trained in TypeScript on the `mnist` package's digits. */
const DEMOS = {
  mlp: {
    title: 'MNIST 784-128-10 MLP, trained by models/train-mnist.ts',
    files: 'mnist-mlp',
    data: 'mnist',
    buildDir: DEMO_BUILD_DIR,
  },
  vit: {
    title: 'MNIST vision transformer (16 patches of 7×7, one attention block), trained by models/train-mnist-vit.ts',
    files: 'mnist-vit',
    data: 'mnist',
    buildDir: join('build', 'vit'),
  },
} as const
export type DemoModel = keyof typeof DEMOS
export const DEMO_MODELS = Object.keys(DEMOS) as DemoModel[]

/**
 * The main job end to end on the bundled MNIST model: compile, dev setup, prove one held-out
 * digit, verify with snarkjs and on a local anvil chain. The input is Poseidon-hashed so the proof has two public signals (cheap to
 * verify on chain); the output (10 logits) is packed into one.
 */
export async function runDemo(which: DemoModel = 'mlp', buildDir: string = DEMOS[which].buildDir): Promise<number> {
  const demo = DEMOS[which]
  const progress = terminalProgress()
  const log = (s: string) => console.log(s)
  const meta = JSON.parse(await readFile(join(ROOT, 'models', `${demo.files}.json`), 'utf8')) as {
    sampleInputLabel: number
    floatTestAccuracy: number
  }
  log(`veriml demo: ${demo.title} on the real digits of the \`mnist\` package\n`)
  const c = await compileModel({
    onnxPath: join(ROOT, 'models', `${demo.files}.onnx`),
    outDir: buildDir,
    calibrationPath: join(ROOT, 'models', 'data', `${demo.data}-calibration.json`),
    visibility: { input: 'hashed', output: 'public' },
    progress,
  })
  const s = await setupModel({ model: c.model, dev: true, progress })
  const input = JSON.parse(await readFile(join(ROOT, 'models', 'data', `${demo.data}-input.json`), 'utf8'))
  const proofDir = join(buildDir, 'proof')
  const p = await proveModel({ model: s.model, input, outDir: proofDir, progress })
  const v = await verifyProof({ model: s.model, proofDir })
  const chain = await progress.step('on-chain verification (embedded anvil on 127.0.0.1)', () =>
    verifyBuildOnChain({ model: s.model, proofDir }),
  )
  const logits = p.real[0]
  const digit = logits.indexOf(Math.max(...logits))
  log(
    table([
      ['model id', c.manifest.modelId],
      ['constraints', c.manifest.constraintCount],
      [
        'compile',
        `${c.reused ? 'reused' : ms(c.manifest.timings.compileMs)}, ${c.manifest.compiler === 'direct' ? 'direct backend' : 'circom'}`,
      ],
      ['setup', `${s.kind} (INSECURE dev keys), ${ms(s.setupMs)}`],
      ['prove', `${ms(p.proveMs)} (witness ${ms(p.witnessMs)})`],
      ['predicted digit', `${digit} (label ${meta.sampleInputLabel})`],
      ['verify (snarkjs)', `${v.valid ? 'VALID' : 'INVALID'} in ${ms(v.verifyMs)}`],
      [
        'verify (on chain)',
        chain.accepted
          ? `ACCEPTED by VerimlRegistry on anvil, ${chain.gasUsed} gas (verifier + record)`
          : `REJECTED: ${chain.rejection.shortMessage}`,
      ],
      [
        'deploy gas',
        `verifier ${chain.deployment.verifier.gasUsed}, registry ${chain.deployment.registry.gasUsed}, register ${chain.deployment.registration.gasUsed}`,
      ],
      ['artifacts', `${buildDir}, proof in ${proofDir}`],
    ]),
  )
  log(
    `\ncheck it without veriml: npx snarkjs groth16 verify ${join(buildDir, 'verification_key.json')} ${join(proofDir, 'public.json')} ${join(proofDir, 'proof.json')}`,
  )
  return v.valid && chain.accepted ? 0 : 1
}

export async function demo(args: string[], flags: Flags, verb: Verb): Promise<number> {
  positional(args, 0, verb.usage)
  const which = typeof flags.model === 'string' ? flags.model : 'mlp'
  if (!DEMO_MODELS.includes(which as DemoModel))
    throw new UsageError({ problem: `--model must be one of ${DEMO_MODELS.join(', ')}; got "${which}"` })
  return runDemo(which as DemoModel)
}
