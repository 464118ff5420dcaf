import { readResult } from '../../chain/result.js'
import type { Flags } from '../flags.js'
import { UsageError, table } from '../format.js'
import { type Verb, positional } from '../verb.js'
import { DEFAULT_RPC, out, readJson, tensorsJson } from '../verbs/op-common.js'

/** `veriml result DIR --input input.json`: the statement's record in the registry. Exit 0 whether or not it is settled. */
export async function result(pos: string[], flags: Flags, verb: Verb): Promise<number> {
  const [dir] = positional(pos, 1, verb.usage)
  if (typeof flags.input !== 'string') throw new UsageError({ problem: '--input FILE is required for result' })
  const r = await readResult({
    dir,
    input: await readJson(flags.input),
    rpcUrl: typeof flags.rpc === 'string' ? flags.rpc : DEFAULT_RPC,
    registryAddress: typeof flags.registry === 'string' ? flags.registry : undefined,
  })
  const settled = r.settlement !== 'none'
  out(
    table([
      ['model id', r.modelId],
      ['registry', r.registryAddress],
      ['statement', `${r.statementId} (input commitment ${r.inputCommitment})`],
      ['status', settled ? `settled by ${r.settlement} at ${new Date(r.at! * 1000).toISOString()}` : 'not settled'],
      [
        'outputs',
        settled
          ? `${tensorsJson(r.outputs)} (${r.outputsMatch ? "recorded, equal to the reference executor's" : 'the record holds OTHER outputs'})`
          : `${tensorsJson(r.outputs)} (reference executor; nothing recorded)`,
      ],
    ]),
  )
  return 0
}
