import type { ScaleResult } from './measure.js'

const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`
const n = (v: number) => v.toLocaleString('en')
const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`

/** The markdown report of the optimistic scale benchmark. */
export function scaleReport(
  results: ScaleResult[],
  failures: { name: string; error: string }[],
  meta: { date: string; node: string; cpus: number; loadAverage?: number[] },
): string {
  const lines = [
    `# Optimistic path at scale (${meta.date})`,
    '',
    `Node ${meta.node}, ${meta.cpus} cores${meta.loadAverage ? ` (load average at the end ${meta.loadAverage.join(', ')}: times are wall clock on a shared machine)` : ''}. \`node --import tsx bench/optimistic-scale.ts\`. Each model in its own process (peak RSS is the`,
    "process's). Compile: `compile --target optimistic` (parse, lower, quantise, bounds, IR, accuracy vs onnxruntime; no circuit).",
    'Load: ir.json + parameter commitment. Claim: quantise the input, execute, commit the trace. The dispute: a cheater shifts',
    'one element of the longest linear/max row by 1 (later steps recomputed), the honest challenger disputes, both sides',
    "played by the honest agents to the end on anvil; gas and calldata from each transaction's receipt.",
    '',
    '| model | parameters | compile | load | claim | peak RSS | claim gas (calldata) | largest dispute tx | largest proof tx | max dispute calldata | dispute gas | rounds | outcome |',
    '|---|---:|---:|---:|---:|---:|---:|---|---|---:|---:|---:|---|',
  ]
  for (const r of results) {
    const l = r.dispute.largest,
      p = r.dispute.largestProof
    lines.push(
      `| ${r.name} (${r.shape}) | ${n(r.parameters)} | ${s(r.compileMs)} | ${s(r.loadMs)} | ${s(r.claimMs)} | ${n(r.peakRssMb)} MB | ${n(r.claim.gas)} (${kb(r.claim.calldataBytes)}) | ${l.fn}: ${n(l.gas)} gas, ${kb(l.calldataBytes)} | ${p.fn} (${p.stepKind}): ${n(p.gas)} gas, ${kb(p.calldataBytes)} | ${kb(r.dispute.maxCalldataBytes)} | ${n(r.dispute.totalGas)} | ${r.dispute.rounds} | ${r.dispute.challengerWon ? `cheater loses, claim ${r.dispute.claimStatus}` : `NOT RESOLVED for the challenger (${r.dispute.claimStatus})`} |`,
    )
  }
  lines.push(
    '',
    '## The lie and the dispute',
    '',
    '| model | steps | widest state | lie at | row terms | dispute transactions (gas) | budget.ts worst (bound) |',
    '|---|---:|---:|---|---:|---|---|',
  )
  for (const r of results) {
    const moves = [r.dispute.challenge, ...r.dispute.moves]
    const counts = new Map<string, { k: number; gas: number; max: number }>()
    for (const m of moves) {
      const c = counts.get(m.fn) ?? { k: 0, gas: 0, max: 0 }
      c.k++
      c.gas += m.gas
      c.max = Math.max(c.max, m.gas)
      counts.set(m.fn, c)
    }
    const summary = [...counts].map(([fn, c]) => `${fn}×${c.k} (max ${n(c.max)})`).join(', ')
    lines.push(
      `| ${r.name} | ${r.steps} | ${n(r.widestState)} | step ${r.lie.stepIndex} ${r.lie.kind} "${r.lie.origin}", element ${r.lie.element} | ${n(r.lie.terms)} | ${summary} | ${r.budget.tx} ${r.budget.origin ?? ''}: ≤ ${n(r.budget.gasBound)} gas, ${kb(r.budget.calldataBytes)}${r.budget.fits ? '' : ' — OVER BUDGET'} |`,
    )
  }
  if (failures.length > 0) lines.push('', '## Failures', '', ...failures.map((f) => `- ${f.name}: ${f.error}`))
  return `${lines.join('\n')}\n`
}
