/**
 * The sweep compiles with the direct backend; this measures what circom takes on the same
 * circuit source in the same run (issue 15's "circom compile s" column), where circom can
 * still compile it.
 */
import { copyFile, mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { compileCircom } from '../../src/prove/circom.js'
import type { IrModel } from '../../src/ir/types.js'
import { PAST_CIRCOM_LIMIT } from '../compile/models.js'
import { withPeakMemory } from './memory.js'

/**
 * Past this many weight terms circom is not started: it needed 4.0 GB of its 4 GiB for 790k
 * terms and ran out on 1.07M (issue 15), and a compile near the limit takes minutes.
 */
export const CIRCOM_WEIGHT_TERM_LIMIT = 2 ** 20

export type CircomCompile = { compileMs: number; peakRssBytes: number } | { skipped: string } | { error: string }

export const weightTerms = (ir: IrModel) =>
  ir.steps.reduce((n, s) => n + (s.op.op === 'linear' ? s.op.vals.length : 0), 0)

/** circom on the circuit source a compile wrote (`circuitPath`), in a folder of its own beside `dir`. */
export async function measureCircomCompile(
  name: string,
  terms: number,
  circuitPath: string,
  dir: string,
): Promise<CircomCompile> {
  if (PAST_CIRCOM_LIMIT[name]) return { skipped: `past the limit: ${PAST_CIRCOM_LIMIT[name]}` }
  if (terms > CIRCOM_WEIGHT_TERM_LIMIT)
    return { skipped: `${terms.toLocaleString('en-US')} weight terms > 2^20 (circom's 4 GiB)` }
  const circomDir = `${dir}.circom-compile`
  await rm(circomDir, { recursive: true, force: true })
  await mkdir(circomDir, { recursive: true })
  try {
    await copyFile(circuitPath, join(circomDir, 'model.circom'))
    const [compiled, memory] = await withPeakMemory(() => compileCircom(circomDir))
    return { compileMs: Math.round(compiled.compileMs), peakRssBytes: memory.peakRssBytes }
  } catch (e) {
    return { error: e instanceof Error ? ((e as { shortMessage?: string }).shortMessage ?? e.message) : String(e) }
  } finally {
    await rm(circomDir, { recursive: true, force: true })
  }
}
