import { type SnarkjsGroth16Proof, calldata as encodeCalldata } from '../../chain/calldata.js'
import { verifyBuildOnChain } from '../../chain/model.js'
import { VERIFIER_TEMPLATES, exportVerifier } from '../../chain/verifier.js'
import { proofPaths } from '../../prove/paths.js'
import { proveModel, runModel } from '../../prove/prove.js'
import { verifyProof } from '../../prove/verify.js'
import { fileError, readInputFile } from '../../util/external.js'
import { terminalProgress } from '../../util/progress.js'
import { privateKeyFlag } from '../chain-flags.js'
import { type Flags, choiceFlag, requiredString, stringFlag, urlFlag } from '../flags.js'
import { UsageError, ms, table } from '../format.js'
import { type Verb, positional } from '../verb.js'

/** The proof verbs: run the reference executor, prove, verify, encode calldata, export the verifier. */

/** Input and proof JSON files are small: a larger one is refused before it is read. */
const MAX_JSON_BYTES = 256 * 2 ** 20

async function readJsonFile(path: string, what = 'file'): Promise<unknown> {
  const text = (await readInputFile(path, what, MAX_JSON_BYTES)).toString('utf8')
  try {
    return JSON.parse(text)
  } catch (cause) {
    throw new UsageError({ problem: `${what} ${path} is not valid JSON`, cause })
  }
}

export async function run(args: string[], flags: Flags, verb: Verb): Promise<number> {
  const [dir] = positional(args, 1, verb.usage)
  const inputPath = requiredString(flags, 'input', 'FILE')
  const outPath = stringFlag(flags, 'out', { what: 'FILE' })
  const r = await runModel({ model: dir, input: await readJsonFile(inputPath, 'input') })
  const body = {
    output_data: r.real,
    ...(r.probabilities ? { probabilities: r.probabilities } : {}),
    output_ints: r.outputs.map((o) => o.map(String)),
  }
  if (outPath !== undefined) {
    const { writeJsonAtomic } = await import('../../util/fs.js')
    await writeJsonAtomic(outPath, body).catch((e) => {
      throw fileError(e, outPath, '--out')
    })
  }
  console.log(JSON.stringify(body))
  return 0
}

export async function prove(args: string[], flags: Flags, verb: Verb): Promise<number> {
  const [dir] = positional(args, 1, verb.usage)
  const inputPath = requiredString(flags, 'input', 'FILE')
  const outDir = requiredString(flags, 'out', 'DIR')
  const r = await proveModel({
    model: dir,
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
}

export async function verify(args: string[], flags: Flags, verb: Verb): Promise<number> {
  const [dir, proofDir] = positional(args, 2, verb.usage)
  const rpcUrl = urlFlag(flags, 'rpc')
  if (flags.onchain || rpcUrl) {
    // The embedded chain brings its own funded key: a key flag is only read for --rpc.
    const privateKey = rpcUrl ? privateKeyFlag(flags) : undefined
    const r = await verifyBuildOnChain({ model: dir, proofDir, rpcUrl, privateKey })
    const where = r.embedded ? 'embedded anvil (stopped)' : String(rpcUrl)
    console.log(
      r.accepted
        ? `ACCEPTED on chain ${r.deployment.chainId} (${where}): inference ${r.inferenceId}, gas used ${r.gasUsed}`
        : `REJECTED on chain ${r.deployment.chainId} (${where}): ${r.rejection.shortMessage}`,
    )
    return r.accepted ? 0 : 1
  }
  const r = await verifyProof({ model: dir, proofDir })
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
}

export async function calldata(args: string[], flags: Flags, verb: Verb): Promise<number> {
  const [proofDir] = positional(args, 1, verb.usage)
  const pp = proofPaths(proofDir)
  const [proof, signals, output] = await Promise.all([
    readJsonFile(pp.proof, 'proof'),
    readJsonFile(pp.public, 'public signals'),
    readJsonFile(pp.output, 'output'),
  ])
  if (typeof proof !== 'object' || proof === null || Array.isArray(proof))
    throw new UsageError({ problem: `${pp.proof} is not a snarkjs Groth16 proof object` })
  if (!Array.isArray(signals)) throw new UsageError({ problem: `${pp.public} must be a JSON array of decimal strings` })
  const o = output as { model_id?: unknown; public_signal_count?: unknown; input_signal_count?: unknown } | null
  if (typeof o?.model_id !== 'string' || !/^0x[0-9a-fA-F]{64}$/.test(o.model_id))
    throw new UsageError({ problem: `${pp.output} has no model_id (0x + 64 hex digits)` })
  // The registry would reject a wrong count; calldata refuses to encode it in the first place.
  if (typeof o.public_signal_count === 'number' && o.public_signal_count !== signals.length) {
    throw new UsageError({
      problem: `${pp.public} has ${signals.length} public signals, but the proof was made with ${o.public_signal_count}`,
    })
  }
  const build = stringFlag(flags, 'build', { what: 'DIR' })
  if (build !== undefined) {
    const v = await verifyProof({ model: build, proofDir })
    if (!v.valid) throw new UsageError({ problem: `the proof does not verify against ${build}: ${v.reason}` })
    if (v.modelId !== o.model_id)
      throw new UsageError({ problem: `${pp.output} names model ${o.model_id}, the build is model ${v.modelId}` })
  }
  // A proof made before output.json named its input signal count gets no id (it cannot be computed).
  const inputCount = typeof o.input_signal_count === 'number' ? o.input_signal_count : undefined
  const c = encodeCalldata(proof as SnarkjsGroth16Proof, signals as string[], o.model_id, inputCount)
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
}

export async function exportVerifierVerb(args: string[], flags: Flags, verb: Verb): Promise<number> {
  const [dir] = positional(args, 1, verb.usage)
  const outDir = requiredString(flags, 'out', 'FOLDER')
  const r = await exportVerifier({ model: dir, outDir, verifier: choiceFlag(flags, 'verifier', VERIFIER_TEMPLATES) })
  console.log(
    `wrote ${r.files.join(', ')} to ${outDir} (contract ${r.contractName}, ${r.publicSignalCount} public signals)`,
  )
  return 0
}
