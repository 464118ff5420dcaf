/**
 * The dependency rules' shapes and the one function that applies them to an import graph.
 * The rules themselves (data, each with its reason) are in dependencies.test.ts.
 */
import { findCycles, type ImportEdge, type ImportGraph, matches } from './import-graph.js'

/** A file the rule does not apply to, and why. */
export interface Exception {
  path: string
  reason: string
}

/** Files matching `files` (minus `except`) must not import anything matching `forbid`, nor `forbidNames` of a package. */
export interface ForbidRule {
  id: string
  reason: string
  files: string[]
  except?: Exception[]
  forbid: string[]
  /** Named imports that are forbidden although the package is not ('*' — a namespace import — counts as all). */
  forbidNames?: { from: string; names: string[] }
}

/** A layer: the files in it (first matching layer wins, so list folders inside folders first). */
export interface Layer {
  name: string
  files: string[]
}

/** Files of layer `from` may import files of their own layer, of `always`, and of `to`; nothing else in `within`. */
export interface LayerRule {
  id: string
  reason: string
  within: string
  layers: Layer[]
  always: string[]
  allowed: Record<string, string[]>
}

export interface CycleRule {
  id: string
  reason: string
  ignoreTypeOnly: boolean
  within: string
}

export interface Rules {
  forbid: ForbidRule[]
  layers: LayerRule
  cycles: CycleRule
}

/** The layer a path belongs to, or undefined. */
export function layerOf(path: string, layers: Layer[]): string | undefined {
  return layers.find((l) => l.files.some((p) => matches(path, p)))?.name
}

function forbidden(rule: ForbidRule, edge: ImportEdge): boolean {
  if (rule.forbid.some((p) => matches(edge.to, p))) return true
  const names = rule.forbidNames
  return !!names && edge.to === names.from && edge.names.some((n) => n === '*' || names.names.includes(n))
}

/**
 * Every violation of `rules` in `graph`, one line each: `rule-id: from → to (detail)` or
 * `rule-id: a → b → a` for a cycle. Lines are stable, so known ones can be listed by text.
 */
export function violations(graph: ImportGraph, rules: Rules): string[] {
  const out: string[] = []
  const edges = [...graph.values()].flat()
  for (const rule of rules.forbid)
    for (const edge of edges) {
      if (!rule.files.some((p) => matches(edge.from, p))) continue
      if (rule.except?.some((e) => matches(edge.from, e.path))) continue
      if (!forbidden(rule, edge)) continue
      const detail = edge.to === rule.forbidNames?.from ? ` (${edge.names.join(', ')})` : ''
      out.push(`${rule.id}: ${edge.from} → ${edge.to}${detail}`)
    }

  const { layers } = rules
  for (const file of graph.keys())
    if (matches(file, layers.within) && !layerOf(file, layers.layers))
      out.push(`${layers.id}: ${file} is in no layer (add it to the table)`)
  for (const edge of edges) {
    if (!matches(edge.from, layers.within) || !matches(edge.to, layers.within)) continue
    const a = layerOf(edge.from, layers.layers)
    const b = layerOf(edge.to, layers.layers)
    if (!a || !b || a === b || layers.always.includes(b) || layers.allowed[a]?.includes(b)) continue
    out.push(`${layers.id}: ${edge.from} → ${edge.to} (${a} may not import ${b})`)
  }

  const inside: ImportGraph = new Map([...graph].filter(([f]) => matches(f, rules.cycles.within)))
  for (const cycle of findCycles(inside, { ignoreTypeOnly: rules.cycles.ignoreTypeOnly }))
    out.push(`${rules.cycles.id}: ${cycle.join(' → ')}`)
  return [...new Set(out)]
}
