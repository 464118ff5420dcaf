/** The sweep's outputs: markdown table and SVG plots from the measured rows. */
import type { OptimisticResult, Skipped, ZkResult } from './measure.js'
import { barChart, lineChart } from './svg.js'

export interface SweepRow {
  name: string
  family: string
  shape: string
  parameters: number
  zk: ZkResult | { error: string }
  optimistic: OptimisticResult | Skipped | { error: string }
  /** The same model with private, Poseidon-committed weights (`--weights hashed`): the in-run baseline. */
  privateWeightsBaseline: ZkResult | Skipped | { error: string }
}

const isZk = (z: SweepRow['zk'] | SweepRow['privateWeightsBaseline']): z is ZkResult => 'constraints' in z
const isOp = (o: SweepRow['optimistic']): o is OptimisticResult => 'claimGas' in o
const n = (v: number) => v.toLocaleString('en-US')
const s = (ms: number) => (ms / 1000).toFixed(2)
const mb = (b: number) => (b / 2 ** 20).toFixed(0)

/** circom's compile of the same source: seconds where it ran, "—" where it was skipped (past its limit), the error otherwise. */
function circomColumn(z: ZkResult): string {
  const c = z.circomCompile
  if (!c || 'skipped' in c) return '—'
  return 'error' in c ? `failed: ${c.error}` : s(c.compileMs)
}

export function markdownTable(rows: SweepRow[]): string {
  const head = [
    'model',
    'shape',
    'params',
    'non-linear act.',
    'R1CS constraints',
    'compiler',
    'compile s',
    'circom compile s',
    'setup s',
    'witness s',
    'prove s',
    'verify ms',
    'peak RSS MB (compile/setup/prove)',
    'proof B (json/raw)',
    'zk verify gas',
    'op claim gas',
    'op rounds',
    'op dispute gas (one-step)',
    'hashed-weights constraints',
    'constraints hashed/constant',
    'hashed-weights prove s',
    'prove hashed/constant',
  ]
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`]
  for (const r of rows) {
    const z = r.zk
    const zk = isZk(z)
      ? [
          n(z.activations),
          n(z.constraints),
          z.compiler ?? 'circom',
          s(z.compileMs),
          circomColumn(z),
          s(z.setupMs),
          s(z.witnessMs),
          s(z.proveMs),
          z.verifyMs.toFixed(0),
          `${mb(z.peakRssBytes.compile)}/${mb(z.peakRssBytes.setup)}/${mb(z.peakRssBytes.prove)}`,
          `${z.proofJsonBytes}/${z.proofRawBytes}`,
          n(z.verifyGas),
        ]
      : [`failed: ${z.error}`, ...Array(11).fill('—')]
    const o = r.optimistic
    const op = isOp(o)
      ? [n(o.claimGas), String(o.rounds), `${n(o.disputeGas)} (${n(o.oneStepGas)})`]
      : ['error' in o ? `failed: ${o.error}` : `skipped: ${o.skipped}`, '—', '—']
    const h = r.privateWeightsBaseline
    const ratio = (a: number, b: number) => `${(a / b).toFixed(1)}×`
    const hashed = isZk(h)
      ? [
          n(h.constraints),
          isZk(z) ? ratio(h.constraints, z.constraints) : '—',
          s(h.proveMs),
          isZk(z) ? ratio(h.proveMs, z.proveMs) : '—',
        ]
      : ['error' in h ? `failed: ${h.error}` : `skipped: ${h.skipped}`, '—', '—', '—']
    lines.push(`| ${[r.name, r.shape, n(r.parameters), ...zk, ...op, ...hashed].join(' | ')} |`)
  }
  return lines.join('\n')
}

/** Where each dispute's one-step landed, and what "rounds" counts. */
export function disputeNotes(rows: SweepRow[]): string {
  const lines = [
    'Optimistic: "op rounds" = transactions of the dispute after the challenge (bisection, reveal, one-step); "op dispute gas" = cheating claim + challenge + all of them, one-step gas in parentheses. One-step per model:',
  ]
  for (const r of rows)
    if (isOp(r.optimistic))
      lines.push(`- ${r.name}: ${r.optimistic.oneStepOp}; ${r.optimistic.traceStates} trace states`)
  return lines.join('\n')
}

export interface Plots {
  'constraints-vs-params.svg': string
  'prove-time-vs-params.svg': string
  'gas-zk-vs-optimistic.svg': string
}

export function plots(rows: SweepRow[]): Plots {
  const families = [...new Set(rows.map((r) => r.family))]
  const series = (
    pick: (r: SweepRow) => SweepRow['privateWeightsBaseline'],
    suffix: string,
    value: (z: ZkResult) => number,
  ) =>
    families
      .map((f) => {
        const rs = rows.filter((r) => r.family === f && isZk(pick(r)))
        return {
          name: `${f}${suffix}`,
          points: rs.map((r) => [r.parameters, value(pick(r) as ZkResult)] as [number, number]),
          labels: rs.map((r) => r.name),
        }
      })
      .filter((x) => x.points.length > 0)
  // Constant weights per family, then the hashed-weights baseline where it ran.
  const byFamily = (value: (z: ZkResult) => number) => [
    ...series((r) => r.zk, '', value),
    ...series((r) => r.privateWeightsBaseline, ' (hashed weights)', value),
  ]
  const cats = rows.map((r) => r.name)
  return {
    'constraints-vs-params.svg': lineChart({
      title: 'R1CS constraints vs parameters (log-log)',
      xLabel: 'parameters',
      yLabel: 'constraints',
      series: byFamily((z) => z.constraints),
      logX: true,
      logY: true,
    }),
    'prove-time-vs-params.svg': lineChart({
      title: 'Groth16 prove time vs parameters (log-log)',
      xLabel: 'parameters',
      yLabel: 'prove ms',
      series: byFamily((z) => z.proveMs),
      logX: true,
      logY: true,
    }),
    'gas-zk-vs-optimistic.svg': barChart({
      title: 'Gas: zk verify vs optimistic claim / whole dispute (log)',
      yLabel: 'gas',
      categories: cats,
      logY: true,
      series: [
        { name: 'zk verifyInference', values: rows.map((r) => (isZk(r.zk) ? r.zk.verifyGas : null)) },
        { name: 'optimistic claim', values: rows.map((r) => (isOp(r.optimistic) ? r.optimistic.claimGas : null)) },
        { name: 'optimistic dispute', values: rows.map((r) => (isOp(r.optimistic) ? r.optimistic.disputeGas : null)) },
      ],
    }),
  }
}
