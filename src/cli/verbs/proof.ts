import { type SnarkjsGroth16Proof, calldata as encodeCalldata } from '../../chain/calldata.js'
import { verifyBuildOnChain } from '../../chain/model.js'
import { exportVerifier } from '../../chain/verifier.js'
import { proofPaths } from '../../prove/paths.js'
import { proveModel, runModel } from '../../prove/prove.js'
import { verifyProof } from '../../prove/verify.js'
import { fileError, readInputFile } from '../../util/external.js'
import { terminalProgress } from '../../util/progress.js'
import { FLAG, privateKeyFlag, requiredString, stringFlag, urlFlag } from '../flags.js'
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
    throw new UsageError(`${what} ${path} is not valid JSON`, { cause })
  }
}

export const run: Verb = {
  usage: 'veriml run DIR --input input.json [--out out.json]',
  summary: 'reference executor only: the exact integer outputs, as real values',
  flags: {
    input: FLAG.input,
    out: { type: 'string', help: 'write {"output_data": ...} here' },
  },
  async run(args, flags) {
    const [dir] = positional(args, 1, this.usage)
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
  },
}

export const prove: Verb = {
  usage: 'veriml prove DIR --input input.json --out PROOF_DIR',
  summary: 'Groth16 proof (snarkjs proof.json, public.json) and output.json',
  flags: { input: FLAG.input, out: { type: 'string', help: 'proof folder' } },
  async run(args, flags) {
    const [dir] = positional(args, 1, this.usage)
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
  },
}

export const verify: Verb = {
  usage: 'veriml verify DIR PROOF_DIR [--onchain [--rpc URL] [--private-key KEY]]',
  summary: 'checks a proof off-chain, or on chain through the model registry; exit 0 only if valid',
  flags: {
    onchain: {
      type: 'boolean',
      help: 'verify with the Solidity verifier: an embedded anvil on 127.0.0.1 unless --rpc is given',
    },
    rpc: { type: 'string', help: 'JSON-RPC endpoint with a deployment (veriml deploy) in DIR/deployment.json' },
    'private-key': FLAG['private-key'],
  },
  rpcHint: 'Check the URL, or omit --rpc: `verify --onchain` alone uses an embedded anvil.',
  async run(args, flags) {
    const [dir, proofDir] = positional(args, 2, this.usage)
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
  },
}

export const calldata: Verb = {
  usage: 'veriml calldata PROOF_DIR [--build DIR]',
  summary: 'the ABI-encoded registry call (and the verifier arguments) for any other tool',
  flags: {
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
      const v = await verifyProof({ model: build, proofDir })
      if (!v.valid) throw new UsageError(`the proof does not verify against ${build}: ${v.reason}`)
      if (v.modelId !== o.model_id)
        throw new UsageError(`${pp.output} names model ${o.model_id}, the build is model ${v.modelId}`)
    }
    const c = encodeCalldata(proof as SnarkjsGroth16Proof, signals as string[], o.model_id)
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
}

export const exportVerifierVerb: Verb = {
  usage: 'veriml export-verifier DIR --out FOLDER',
  summary: 'Solidity sources (verifier, registry, example consumer) that compile on their own',
  flags: { out: { type: 'string', help: 'output folder' } },
  async run(args, flags) {
    const [dir] = positional(args, 1, this.usage)
    const outDir = requiredString(flags, 'out', 'FOLDER')
    const r = await exportVerifier({ model: dir, outDir })
    console.log(
      `wrote ${r.files.join(', ')} to ${outDir} (contract ${r.contractName}, ${r.publicSignalCount} public signals)`,
    )
    return 0
  },
}
