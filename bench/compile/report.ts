/** The compile benchmark's markdown table (bench/direct-vs-circom.ts). */
import type { RunOneResult } from './types.js'

/** Both ran: same counts and wire names, on the same wires or permuted; or not. */
export type SameSystem = 'same' | 'permuted' | 'different'

export type BackendOutcome = RunOneResult | { error: string; details?: string[] } | { notRun: string }

export interface CompileRow {
  name: string
  shape: string
  parameters: number
  direct: BackendOutcome
  circom: BackendOutcome
  sameSystem?: SameSystem
  /** Wall time of this row's children, seconds. */
  rowS: number
}

export const ran = (o: BackendOutcome): o is RunOneResult => 'backend' in o
const n = (v: number) => v.toLocaleString('en-US')
/** circom colours its errors: ESC [ … m sequences. */
const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g')

/** A tool's first stderr line says more than its exit code ("Could not write the output in the given path"). */
function stderrHead(details: string[] | undefined): string {
  const tail = details?.find((d) => d.startsWith('stderr'))
  const line = tail?.split('\n')[1]?.replace(ANSI, '').trim()
  return line ? `: ${line}` : ''
}
const why = (o: BackendOutcome) =>
  'error' in o ? `failed: ${o.error}${stderrHead(o.details)}` : 'notRun' in o ? `not run: ${o.notRun}` : ''
const ratio = (a: number, b: number) => `${(a / b).toFixed(a / b >= 10 ? 0 : 1)}×`

const SAME: Record<SameSystem, string> = { same: 'yes', permuted: 'yes, wires permuted', different: '**NO**' }

export const HEAD = [
  'model',
  'shape',
  'params',
  'weight terms',
  'constraints',
  'wires',
  'non-zero coeff.',
  'direct compile s (R1CS / whole)',
  'direct peak MB',
  'circom compile s (circom / whole)',
  'circom peak MB',
  'circom / direct (R1CS; whole)',
  'witness s direct / circom wasm',
  'dev setup s (direct)',
  'prove s (direct)',
  'same system',
]

export function compileTable(rows: CompileRow[]): string {
  const lines = [`| ${HEAD.join(' | ')} |`, `|${HEAD.map(() => '---').join('|')}|`]
  for (const r of rows) {
    const { direct: d, circom: c } = r
    const counts = ran(d) ? d : ran(c) ? c : null
    const cells = [
      r.name,
      r.shape,
      n(r.parameters),
      counts ? n(counts.weightTerms) : '—',
      counts ? n(counts.constraints) : '—',
      counts ? n(counts.wires) : '—',
      counts ? n(counts.nonZeroCoefficients) : '—',
      ran(d) ? `${d.backendCompileS.toFixed(2)} / ${d.wholeCompileS.toFixed(2)}` : why(d),
      ran(d) ? n(d.compileProcessPeakMb) : '—',
      ran(c) ? `${c.backendCompileS.toFixed(1)} / ${c.wholeCompileS.toFixed(1)}` : why(c),
      ran(c) ? n(c.compilerChildPeakMb) : '—',
      ran(d) && ran(c)
        ? `${ratio(c.backendCompileS, d.backendCompileS)}; ${ratio(c.wholeCompileS, d.wholeCompileS)}`
        : '—',
      `${ran(d) ? d.witnessS.toFixed(2) : '—'} / ${ran(c) ? c.witnessS.toFixed(2) : '—'}`,
      ran(d) && d.setupS !== undefined ? d.setupS.toFixed(1) : '—',
      ran(d) && d.proveS !== undefined ? `${d.proveS.toFixed(1)}${d.verified ? '' : ' (NOT verified)'}` : '—',
      r.sameSystem ? SAME[r.sameSystem] : '—',
    ]
    lines.push(`| ${cells.join(' | ')} |`)
  }
  return lines.join('\n')
}
