import { parseArgs } from 'node:util'
import type { InputVisibility, OutputVisibility } from '../circuit/emit.js'
import type { WeightVisibility } from '../circuit/weights.js'
import { inspectModel } from '../inspect.js'
import { quantizeOnnxFile } from '../quantize/qdq-file.js'
import { compileModel } from '../prove/compile.js'
import { BUILD_TARGETS, type BuildTarget } from '../prove/manifest.js'
import { proveModel, runModel } from '../prove/prove.js'
import { loadCompiled, setupModel } from '../prove/setup.js'
import { beaconSetup, contributeSetup, verifySetup } from '../prove/ceremony.js'
import { proofPaths } from '../prove/paths.js'
import { startAnvil } from '../chain/anvil.js'
import { type SnarkjsGroth16Proof, calldata } from '../chain/calldata.js'
import { deployBuild, verifyBuildOnChain } from '../chain/model.js'
import { exportVerifier } from '../chain/verifier.js'
import { verifyProof } from '../prove/verify.js'
import { shutdown } from '../shutdown.js'
import { terminalProgress } from '../util/progress.js'
import { runDemo } from './demo.js'
import { OP_OPTIONS, OP_USAGE, opHelp, runOp } from './verbs/op.js'
import { UsageError, describeError, ms, table } from './format.js'
import {
  type Flags,
  addressFlag,
  choiceFlag,
  dimsFlag,
  intFlag,
  privateKeyFlag,
  requiredString,
  secretValues,
  stringFlag,
  urlFlag,
} from './flags.js'
import { fileError, readInputFile } from '../util/external.js'
import { redact, registerSecret } from '../util/secrets.js'

const DEFAULT_CALIBRATION_NOTE =
  'NOTE: no --calibration given: inputs are assumed uniform in [-1, 1); run and prove refuse inputs outside that range. Pass --calibration samples.json with real inputs.'

interface Verb {
  usage: string
  summary: string
  options: Record<string, { type: 'string' | 'boolean'; help: string }>
  run(args: string[], flags: Flags): Promise<number>
  /** `--help` text when it depends on the arguments (a verb with subcommands); default `verbHelp`. */
  help?(args: string[]): string
}

const INPUT_VIS = ['public', 'hashed', 'private'] as const
const OUTPUT_VIS = ['public', 'hashed'] as const
const WEIGHTS = ['constant', 'hashed'] as const
/** Bit widths the quantiser and the field arithmetic support (the emitter proves bounds below 2^253). */
const MIN_BITS = 2
const MAX_BITS = 32

/** Input and proof JSON files are small: a larger one is refused before it is read. */
const MAX_JSON_BYTES = 256 * 2 ** 20

async function readJsonFile(path: string, what = 'file'): Promise<unknown> {
  const text = (await readInputFile(path, what, MAX_JSON_BYTES)).toString('utf8')
  try {
    return JSON.parse(text)
  } catch (cause) {
    throw new UsageError(`${what} ${path} is not valid JSON`, { cause })
  }
}

const usageError = (message: string): never => {
  throw new UsageError(message)
}

/** A hex string flag (0x optional). */
function hexFlag(flags: Flags, name: string, what: string): string | undefined {
  const v = stringFlag(flags, name, { what })
  if (v !== undefined && !/^(0x)?[0-9a-fA-F]+$/.test(v))
    throw new UsageError(`--${name} must be hexadecimal; got "${v}"`)
  return v
}

const positional = (args: string[], n: number, usage: string) => {
  if (args.length !== n)
    throw new UsageError(`expected ${n} argument${n === 1 ? '' : 's'}, got ${args.length}`, {
      details: [`usage: ${usage}`],
    })
  return args
}

const VERBS: Record<string, Verb> = {
  inspect: {
    usage: 'veriml inspect model.onnx [--calibration samples.json] [--dim N=1]',
    summary: 'ops, shapes, parameter count, what is supported, and the estimated circuit cost',
    options: {
      calibration: { type: 'string', help: 'calibration samples (JSON) for the cost and accuracy estimate' },
      dim: { type: 'string', help: 'sizes of symbolic input dimensions: NAME=SIZE[,NAME=SIZE…] (e.g. N=1)' },
    },
    async run(args, flags) {
      const [path] = positional(args, 1, this.usage)
      const r = await inspectModel({
        onnxPath: path,
        calibrationPath: stringFlag(flags, 'calibration', { what: 'FILE' }),
        dims: dimsFlag(flags),
      })
      console.log(r.text)
      return r.unsupported.length > 0 ? 1 : 0
    },
  },
  quantize: {
    usage: 'veriml quantize model.onnx --calibration samples.json --out model.int8.onnx [--full-range-weights]',
    summary: 'static int8 quantisation to standard QDQ ONNX (per-channel weights, calibrated activations)',
    options: {
      calibration: {
        type: 'string',
        help: 'calibration samples: EZKL {"input_data": [[...]]} with samples concatenated',
      },
      out: { type: 'string', help: 'the QDQ model to write' },
      'full-range-weights': {
        type: 'boolean',
        help: "weights in [-127, 127] instead of onnxruntime's reduce_range [-64, 64] (which avoids its int16 saturation on CPUs without VNNI)",
      },
    },
    async run(args, flags) {
      const [onnxPath] = positional(args, 1, this.usage)
      if (flags.calibration === undefined || flags.out === undefined)
        throw new UsageError('--calibration FILE and --out FILE are required', { details: [`usage: ${this.usage}`] })
      const r = await quantizeOnnxFile({
        onnxPath,
        calibrationPath: requiredString(flags, 'calibration', 'FILE'),
        outPath: requiredString(flags, 'out', 'FILE'),
        weightRange: flags['full-range-weights'] ? 'full' : 'reduced',
        progress: terminalProgress(),
      })
      console.log(
        table([
          [
            'quantised nodes',
            r.weights.map((w) => `${w.node} (${w.channels} channel${w.channels === 1 ? '' : 's'})`).join(', ') ||
              'none',
          ],
          [
            'activations',
            r.tensors.map((t) => `${t.tensor} ${t.type} scale ${t.scale.toPrecision(4)} zp ${t.zeroPoint}`).join('; '),
          ],
          ['calibration', `${r.calibrationSamples} samples`],
          [
            'int8 vs float (onnxruntime)',
            `max |error| ${r.agreement.maxAbsError.toPrecision(3)}, argmax agreement ${(100 * r.agreement.argmaxAgreement).toFixed(1)}% over ${r.agreement.samples} calibration samples`,
          ],
          ['written', `${r.outPath} (${r.bytes} bytes)`],
        ]),
      )
      return 0
    },
  },
  compile: {
    usage:
      'veriml compile model.onnx --out DIR [--target zk|optimistic] [--calibration samples.json] [--input-visibility public|hashed|private] [--output-visibility public|hashed] [--weights constant|hashed]',
    summary: 'ONNX → integer IR → circom circuit → r1cs and witness generator',
    options: {
      out: { type: 'string', help: 'build folder' },
      calibration: {
        type: 'string',
        help: 'calibration samples: EZKL {"input_data": [[...]]} with samples concatenated',
      },
      'input-visibility': { type: 'string', help: 'public (packed, default) | hashed (Poseidon) | private' },
      'output-visibility': { type: 'string', help: 'public (packed, default) | hashed (Poseidon)' },
      'activation-bits': { type: 'string', help: 'bits per activation (default 8)' },
      'weight-bits': { type: 'string', help: 'bits per weight (default 8)' },
      weights: {
        type: 'string',
        help: 'constant (circuit constants, default) | hashed (private inputs, Poseidon commitment as the last public signal)',
      },
      force: { type: 'boolean', help: 'recompile even if nothing changed' },
      target: {
        type: 'string',
        help: 'zk (circuit for setup/prove, default) | optimistic (the integer IR only, for `veriml op`: no circom)',
      },
      dim: { type: 'string', help: 'sizes of symbolic input dimensions: NAME=SIZE[,NAME=SIZE…] (e.g. N=1)' },
    },
    async run(args, flags) {
      const [onnxPath] = positional(args, 1, this.usage)
      const bits = (name: string) => intFlag(flags, name, { min: MIN_BITS, max: MAX_BITS })
      if (choiceFlag<BuildTarget>(flags, 'target', BUILD_TARGETS) === 'optimistic') {
        const zkOnly = ['input-visibility', 'output-visibility', 'weights'].filter((f) => flags[f] !== undefined)
        if (zkOnly.length > 0)
          throw new UsageError(`${zkOnly.map((f) => `--${f}`).join(', ')} only apply to --target zk`, {
            details: [`usage: ${this.usage}`],
          })
        const r = await compileModel({
          onnxPath,
          outDir: requiredString(flags, 'out', 'DIR'),
          target: 'optimistic',
          calibrationPath: stringFlag(flags, 'calibration', { what: 'FILE' }),
          force: Boolean(flags.force),
          activationBits: bits('activation-bits'),
          weightBits: bits('weight-bits'),
          dims: dimsFlag(flags),
          progress: terminalProgress(),
        })
        console.log(
          table([
            ['model id', r.manifest.modelId],
            ['target', 'optimistic (no circuit: `veriml op deploy` next)'],
            ['calibration', r.manifest.options.calibration],
            [
              'quantisation',
              `max |error| ${r.accuracy.maxAbsError.toPrecision(3)}, argmax agreement ${(100 * r.accuracy.argmaxAgreement).toFixed(1)}% over ${r.accuracy.samples} samples`,
            ],
            ['compile', r.reused ? 'reused (nothing changed)' : ms(r.manifest.timings.compileMs)],
          ]),
        )
        if (r.manifest.options.calibration.startsWith('default')) console.log(DEFAULT_CALIBRATION_NOTE)
        return 0
      }
      const r = await compileModel({
        onnxPath,
        outDir: requiredString(flags, 'out', 'DIR'),
        calibrationPath: stringFlag(flags, 'calibration', { what: 'FILE' }),
        force: Boolean(flags.force),
        visibility: {
          input: choiceFlag<InputVisibility>(flags, 'input-visibility', INPUT_VIS),
          output: choiceFlag<OutputVisibility>(flags, 'output-visibility', OUTPUT_VIS),
        },
        weights: choiceFlag<WeightVisibility>(flags, 'weights', WEIGHTS),
        activationBits: bits('activation-bits'),
        weightBits: bits('weight-bits'),
        dims: dimsFlag(flags),
        progress: terminalProgress(),
      })
      const m = r.manifest
      console.log(
        table([
          ['model id', m.modelId],
          ['constraints', m.constraintCount],
          ['public signals', m.layout.count],
          [
            'visibility',
            `input ${m.layout.visibility.input}, output ${m.layout.visibility.output}, weights ${m.layout.weights ? 'hashed' : 'constant'}`,
          ],
          ...(m.layout.weights
            ? [
                [
                  'weight commitment',
                  `${m.layout.weights.commitment} (Poseidon over ${m.layout.weights.values} weights and biases, last public signal)`,
                ] as [string, string],
              ]
            : []),
          ['calibration', m.options.calibration],
          [
            'quantisation',
            `max |error| ${r.accuracy.maxAbsError.toPrecision(3)}, argmax agreement ${(100 * r.accuracy.argmaxAgreement).toFixed(1)}% over ${r.accuracy.samples} samples`,
          ],
          ['compile', r.reused ? 'reused (nothing changed)' : ms(m.timings.compileMs)],
        ]),
      )
      // Said out loud: with no samples the scales fit inputs in [-1, 1), and run/prove refuse any input outside it.
      if (m.options.calibration.startsWith('default')) console.log(DEFAULT_CALIBRATION_NOTE)
      return 0
    },
  },
  setup: {
    usage:
      'veriml setup DIR [--dev | --ptau FILE [--ptau-hash HEX]] (no flag: a cached ceremony ptau) | setup contribute DIR [--name N] [--entropy E] | setup beacon DIR --hash HEX [--iterations N] | setup verify DIR',
    summary: 'Groth16 keys (--dev fast and INSECURE; --ptau a ceremony file) and phase-2 contribute / beacon / verify',
    options: {
      dev: { type: 'boolean', help: 'fast local setup; its keys are insecure by construction' },
      ptau: { type: 'string', help: 'ceremony .ptau file, prepared for phase 2' },
      'ptau-hash': {
        type: 'string',
        help: "pinned blake2b-512 (hex) of the --ptau file, from the ceremony's published list",
      },
      force: { type: 'boolean', help: 'redo even if keys exist' },
      name: { type: 'string', help: 'contribute/beacon: name recorded in the key' },
      entropy: { type: 'string', help: 'contribute: extra entropy (default: random)' },
      hash: { type: 'string', help: 'beacon: the beacon value, hex' },
      iterations: { type: 'string', help: 'beacon: log2 of the hash iterations, 10 … 63 (default 10)' },
    },
    async run(args, flags) {
      const insecureNote =
        'WARNING: dev keys are INSECURE (the toxic waste was known while they were made). Never use them for anything of value.'
      const sub = args[0]
      if (sub === 'contribute' || sub === 'beacon') {
        const [, dir] = positional(args, 2, this.usage)
        const name = stringFlag(flags, 'name', { what: 'NAME' })
        const r =
          sub === 'contribute'
            ? await contributeSetup({ dir, name, entropy: stringFlag(flags, 'entropy', { what: 'string' }) })
            : await beaconSetup({
                dir,
                name,
                beaconHashHex: hexFlag(flags, 'hash', 'HEX') ?? usageError('--hash HEX is required for a beacon'),
                iterationsExp: intFlag(flags, 'iterations', { min: 10, max: 63 }),
              })
        console.log(
          table([
            ['step', `${r.contribution.kind} "${r.contribution.name}"`],
            ['contribution hash', r.contribution.contributionHash],
            ['contributions', String(r.record.contributions.length)],
            ['time', ms(r.stepMs)],
            ['zkey sha256', r.record.zkeySha256],
          ]),
        )
        if (r.insecure)
          console.log(
            'WARNING: these are dev keys: they stay INSECURE after any contribution, because the phase-1 tau was known when they were made. Use --ptau with a ceremony file for real keys.',
          )
        return 0
      }
      if (sub === 'verify') {
        const [, dir] = positional(args, 2, this.usage)
        const r = await verifySetup({ dir })
        console.log(
          table([
            ['ptau', r.ptauPath],
            ['contributions', r.contributions.map((c) => `${c.kind} "${c.name}"`).join(', ') || 'none'],
            ['time', ms(r.verifyMs)],
          ]),
        )
        console.log(
          r.valid
            ? 'setup OK: snarkjs zkey verify accepts the key and its contribution chain'
            : `setup INVALID:\n  ${r.problems.join('\n  ')}`,
        )
        if (r.insecure) console.log(insecureNote)
        return r.valid ? 0 : 1
      }
      const [dir] = positional(args, 1, this.usage)
      const ptauPath = stringFlag(flags, 'ptau', { what: 'FILE' })
      if (flags.dev && ptauPath !== undefined)
        throw new UsageError(
          '--dev and --ptau conflict: choose fast insecure dev keys (--dev) or a ceremony file (--ptau FILE)',
        )
      const ptauBlake2b = hexFlag(flags, 'ptau-hash', 'HEX')
      if (flags.dev && ptauBlake2b !== undefined)
        throw new UsageError('--dev and --ptau-hash conflict: dev keys use no ceremony file')
      const r = await setupModel({
        dir,
        dev: Boolean(flags.dev),
        ptauPath,
        ptauBlake2b,
        force: Boolean(flags.force),
        progress: terminalProgress(),
      })
      console.log(
        table([
          ['setup', r.kind],
          ['time', ms(r.setupMs)],
          ['zkey sha256', r.zkeySha256],
        ]),
      )
      if (r.insecure) console.log(insecureNote)
      return 0
    },
  },
  run: {
    usage: 'veriml run DIR --input input.json [--out out.json]',
    summary: 'reference executor only: the exact integer outputs, as real values',
    options: {
      input: { type: 'string', help: 'input JSON' },
      out: { type: 'string', help: 'write {"output_data": ...} here' },
    },
    async run(args, flags) {
      const [dir] = positional(args, 1, this.usage)
      const inputPath = requiredString(flags, 'input', 'FILE')
      const outPath = stringFlag(flags, 'out', { what: 'FILE' })
      const r = await runModel(dir, await readJsonFile(inputPath, 'input'))
      const body = {
        output_data: r.real,
        ...(r.probabilities ? { probabilities: r.probabilities } : {}),
        output_ints: r.outputs.map((o) => o.map(String)),
      }
      if (outPath !== undefined) {
        const { writeJsonAtomic } = await import('../util/fs.js')
        await writeJsonAtomic(outPath, body).catch((e) => {
          throw fileError(e, outPath, '--out')
        })
      }
      console.log(JSON.stringify(body))
      return 0
    },
  },
  prove: {
    usage: 'veriml prove DIR --input input.json --out PROOF_DIR',
    summary: 'Groth16 proof (snarkjs proof.json, public.json) and output.json',
    options: { input: { type: 'string', help: 'input JSON' }, out: { type: 'string', help: 'proof folder' } },
    async run(args, flags) {
      const [dir] = positional(args, 1, this.usage)
      const inputPath = requiredString(flags, 'input', 'FILE')
      const outDir = requiredString(flags, 'out', 'DIR')
      const r = await proveModel({
        dir,
        input: await readJsonFile(inputPath, 'input'),
        outDir,
        progress: terminalProgress(),
      })
      const rounded = (v: (number[] | null)[]) => JSON.stringify(v.map((o) => o?.map((e) => Number(e.toPrecision(4)))))
      console.log(
        table([
          ['output', rounded(r.real)],
          ...(r.probabilities
            ? [['probabilities (float, from the proven logits)', rounded(r.probabilities)] as [string, string]]
            : []),
          ['witness', ms(r.witnessMs)],
          ['prove', ms(r.proveMs)],
          ['written', `${outDir}/proof.json, public.json, output.json`],
        ]),
      )
      return 0
    },
  },
  verify: {
    usage: 'veriml verify DIR PROOF_DIR [--onchain [--rpc URL] [--private-key KEY]]',
    summary: 'checks a proof off-chain, or on chain through the model registry; exit 0 only if valid',
    options: {
      onchain: {
        type: 'boolean',
        help: 'verify with the Solidity verifier: an embedded anvil on 127.0.0.1 unless --rpc is given',
      },
      rpc: { type: 'string', help: 'JSON-RPC endpoint with a deployment (veriml deploy) in DIR/deployment.json' },
      'private-key': { type: 'string', help: 'sender key (else env VERIML_PRIVATE_KEY); never printed' },
    },
    async run(args, flags) {
      const [dir, proofDir] = positional(args, 2, this.usage)
      const rpcUrl = urlFlag(flags, 'rpc')
      if (flags.onchain || rpcUrl) {
        // The embedded chain brings its own funded key: a key flag is only read for --rpc.
        const privateKey = rpcUrl ? privateKeyFlag(flags) : undefined
        const r = await verifyBuildOnChain({ dir, proofDir, rpcUrl, privateKey })
        const where = r.embedded ? 'embedded anvil (stopped)' : String(rpcUrl)
        console.log(
          r.accepted
            ? `ACCEPTED on chain ${r.deployment.chainId} (${where}): inference ${r.inferenceId}, gas used ${r.gasUsed}`
            : `REJECTED on chain ${r.deployment.chainId} (${where}): ${r.rejection.shortMessage}`,
        )
        return r.accepted ? 0 : 1
      }
      const r = await verifyProof(dir, proofDir)
      console.log(
        r.valid
          ? `valid proof for model ${r.modelId}${r.outputs ? `; outputs ${JSON.stringify(r.outputs.map((o) => o.map(String)))}` : ''}`
          : `INVALID: ${r.reason}`,
      )
      if (r.valid)
        console.log(
          `checked: proof.json and public.json against ${dir}/verification_key.json (its hash recorded at setup); output.json: ${r.outputFile === 'absent' ? 'absent, nothing else vouched for' : r.outputFile}`,
        )
      return r.valid ? 0 : 1
    },
  },
  node: {
    usage: 'veriml node [--port 8545] [--block-time 1]',
    summary: 'a persistent local chain (anvil on 127.0.0.1), like `hardhat node`',
    options: {
      port: { type: 'string', help: 'port, 1..65535 (default 8545)' },
      'block-time': {
        type: 'string',
        help: 'seconds between mined blocks (default 1; 0: a block per transaction only). Interval mining keeps the clock moving on a quiet node, so windows and move timeouts expire',
      },
    },
    async run(args, flags) {
      positional(args, 0, this.usage)
      const integer = (name: string, fallback: number, min: number, max: number) => {
        const v = flags[name] ?? String(fallback)
        if (typeof v !== 'string' || !/^\d+$/.test(v) || Number(v) < min || Number(v) > max)
          throw new UsageError(`--${name} must be an integer in ${min}..${max}; got "${String(v)}"`, {
            details: [`usage: ${this.usage}`],
          })
        return Number(v)
      }
      const port = integer('port', 8545, 1, 65_535)
      const blockTime = integer('block-time', 1, 0, 86_400)
      const node = await startAnvil({ port, blockTime: blockTime === 0 ? undefined : blockTime })
      console.log(
        `anvil listening on ${node.rpcUrl} (chain id ${node.chainId}, ${blockTime === 0 ? 'a block per transaction' : `a block every ${blockTime} s`}); funded dev accounts (anvil's public test mnemonic):`,
      )
      for (const a of node.accounts.slice(0, 3)) console.log(`  ${a.address}`)
      console.log('Ctrl-C to stop.')
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve)
        process.once('SIGTERM', resolve)
      })
      await node.stop()
      return 0
    },
  },
  deploy: {
    usage: 'veriml deploy DIR --rpc URL [--private-key KEY] [--registry ADDRESS] [--allow-insecure-setup]',
    summary: 'deploys the verifier (and a registry), registers the model, writes DIR/deployment.json',
    options: {
      rpc: { type: 'string', help: 'JSON-RPC endpoint' },
      'private-key': { type: 'string', help: 'deployer key (else env VERIML_PRIVATE_KEY); never printed' },
      registry: { type: 'string', help: 'register in this existing registry instead of deploying one' },
      'allow-insecure-setup': { type: 'boolean', help: 'allow dev keys on a non-local chain' },
    },
    async run(args, flags) {
      const [dir] = positional(args, 1, this.usage)
      if (flags.rpc === undefined)
        throw new UsageError('--rpc URL is required (or use `verify --onchain` for the embedded chain)')
      const rpcUrl = urlFlag(flags, 'rpc', { required: true })!
      const privateKey = privateKeyFlag(flags)
      const d = await deployBuild({
        dir,
        rpcUrl,
        privateKey,
        registryAddress: addressFlag(flags, 'registry'),
        allowInsecureSetup: Boolean(flags['allow-insecure-setup']),
      })
      console.log(
        table([
          ['chain id', String(d.chainId)],
          ['registry', `${d.registry.address}${d.registry.reused ? ' (existing)' : ` (gas ${d.registry.gasUsed})`}`],
          ['verifier', `${d.verifier.address} (gas ${d.verifier.gasUsed})`],
          ['registered', `model ${d.modelId} (gas ${d.registration.gasUsed})`],
          ['written', `${dir}/deployment.json`],
        ]),
      )
      return 0
    },
  },
  calldata: {
    usage: 'veriml calldata PROOF_DIR [--build DIR]',
    summary: 'the ABI-encoded registry call (and the verifier arguments) for any other tool',
    options: {
      build: { type: 'string', help: 'check the proof off-chain against this build first (refuses an invalid one)' },
    },
    async run(args, flags) {
      const [proofDir] = positional(args, 1, this.usage)
      const pp = proofPaths(proofDir)
      const [proof, signals, output] = await Promise.all([
        readJsonFile(pp.proof, 'proof'),
        readJsonFile(pp.public, 'public signals'),
        readJsonFile(pp.output, 'output'),
      ])
      if (typeof proof !== 'object' || proof === null || Array.isArray(proof))
        throw new UsageError(`${pp.proof} is not a snarkjs Groth16 proof object`)
      if (!Array.isArray(signals)) throw new UsageError(`${pp.public} must be a JSON array of decimal strings`)
      const o = output as { model_id?: unknown; public_signal_count?: unknown } | null
      if (typeof o?.model_id !== 'string' || !/^0x[0-9a-fA-F]{64}$/.test(o.model_id))
        throw new UsageError(`${pp.output} has no model_id (0x + 64 hex digits)`)
      // The registry would reject a wrong count; calldata refuses to encode it in the first place.
      if (typeof o.public_signal_count === 'number' && o.public_signal_count !== signals.length) {
        throw new UsageError(
          `${pp.public} has ${signals.length} public signals, but the proof was made with ${o.public_signal_count}`,
        )
      }
      const build = stringFlag(flags, 'build', { what: 'DIR' })
      if (build !== undefined) {
        const v = await verifyProof(build, proofDir)
        if (!v.valid) throw new UsageError(`the proof does not verify against ${build}: ${v.reason}`)
        if (v.modelId !== o.model_id)
          throw new UsageError(`${pp.output} names model ${o.model_id}, the build is model ${v.modelId}`)
      }
      const c = calldata(proof as SnarkjsGroth16Proof, signals as string[], o.model_id)
      console.log(
        JSON.stringify(
          {
            verifyInference: c.data,
            verifyProof: c.verifierData,
            a: c.a,
            b: c.b,
            c: c.c,
            pubSignals: c.pubSignals,
            inferenceId: c.inferenceId,
          },
          (_, v) => (typeof v === 'bigint' ? v.toString() : v),
          2,
        ),
      )
      return 0
    },
  },
  'export-verifier': {
    usage: 'veriml export-verifier DIR --out FOLDER',
    summary: 'Solidity sources (verifier, registry, example consumer) that compile on their own',
    options: { out: { type: 'string', help: 'output folder' } },
    async run(args, flags) {
      const [dir] = positional(args, 1, this.usage)
      const outDir = requiredString(flags, 'out', 'FOLDER')
      const m = await loadCompiled(dir, ['zkey'])
      const r = await exportVerifier({
        buildDir: dir,
        modelId: m.modelId,
        modelName: m.modelName,
        outDir,
        insecure: m.setup?.insecure,
      })
      console.log(
        `wrote ${r.files.join(', ')} to ${outDir} (contract ${r.contractName}, ${r.publicSignalCount} public signals)`,
      )
      return 0
    },
  },
  op: {
    usage: OP_USAGE,
    summary: 'the optimistic path: deploy the fraud-proof game, claim, challenge, watch, status, demo',
    options: OP_OPTIONS,
    run: (args, flags) => runOp(args, flags),
    help: opHelp,
  },
  demo: {
    usage: 'veriml demo',
    summary: 'the whole flow on the bundled MNIST model',
    options: {},
    run: () => runDemo(),
  },
}

function help(): string {
  return [
    'veriml — verifiable ML inference (zkML with Groth16)',
    '',
    'usage: veriml <command> [options]   (veriml <command> --help for details)',
    '',
    table(Object.entries(VERBS).map(([name, v]) => [`  ${name}`, v.summary])),
  ].join('\n')
}

function verbHelp(v: Verb): string {
  const opts = Object.entries(v.options).map(([k, o]) => [`  --${k}${o.type === 'string' ? ' VALUE' : ''}`, o.help])
  return [`usage: ${v.usage}`, '', v.summary, ...(opts.length ? ['', table(opts)] : [])].join('\n')
}

/** CLI entry: returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(help())
    return name ? 0 : 1
  }
  const verb = VERBS[name]
  if (!verb) {
    console.error(`error: unknown command "${name}"\n\n${help()}`)
    return 2
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(verb.help ? verb.help(rest) : verbHelp(verb))
    return 0
  }
  // Before anything can fail: whatever is printed from here on is redacted of these.
  for (const v of secretValues(rest)) registerSecret(v)
  registerSecret(process.env.VERIML_PRIVATE_KEY)
  try {
    const { values, positionals } = parseArgs({
      args: rest,
      options: verb.options,
      allowPositionals: true,
      strict: true,
    })
    return await verb.run(positionals, values)
  } catch (error) {
    const usage =
      error instanceof Error &&
      'code' in error &&
      String((error as { code: unknown }).code).startsWith('ERR_PARSE_ARGS')
    console.error(usage ? redact(`error: ${(error as Error).message}\nusage: ${verb.usage}`) : describeError(error))
    return usage || error instanceof UsageError ? 2 : 1
  } finally {
    await shutdown()
  }
}
