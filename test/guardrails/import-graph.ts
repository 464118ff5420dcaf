/**
 * The import graph of the repository's TypeScript, and the checks the dependency rules
 * (dependencies.test.ts) run over it. Parsed with the TypeScript compiler's parser, so an
 * `import … from` inside a comment or a string is not an edge.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { builtinModules } from 'node:module'
import { join, posix } from 'node:path'
import ts from 'typescript'

/**
 * One import. `to` is a repository path ('src/ir/types.ts') for a local file, 'node:fs' for a
 * Node built-in, or the package name for a package ('ethers', 'snarkjs/x' stays as written).
 */
export interface ImportEdge {
  from: string
  to: string
  /** `import type`, `export type`, or every named binding marked `type`, or `typeof import('…')`. */
  typeOnly: boolean
  /** Imported names (the exported name, not a local alias); '*' for a namespace import or `export *`. */
  names: string[]
}

/** File (repository path) → its imports, local ones resolved. */
export type ImportGraph = Map<string, ImportEdge[]>

const SOURCE = /\.(ts|mts|mjs)$/

/** Every source file under `dirs` (repository paths, '/'-separated), declaration files left out. */
export function sourceFiles(root: string, dirs: string[]): string[] {
  const out: string[] = []
  const walk = (dir: string) => {
    for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
      const path = posix.join(dir, entry.name)
      if (entry.isDirectory()) {
        if (entry.name !== 'node_modules' && !entry.name.startsWith('.')) walk(path)
      } else if (SOURCE.test(entry.name) && !entry.name.endsWith('.d.ts')) out.push(path)
    }
  }
  for (const dir of dirs) walk(dir)
  return out.sort()
}

/** The graph of the source files under `dirs` of the repository at `root`. */
export function readGraph(root: string, dirs: string[]): ImportGraph {
  const sources = new Map(sourceFiles(root, dirs).map((f) => [f, readFileSync(join(root, f), 'utf8')]))
  return graphFromSources(sources)
}

/** The graph of in-memory sources (path → text): the self-test builds synthetic graphs with it. */
export function graphFromSources(sources: ReadonlyMap<string, string>): ImportGraph {
  const graph: ImportGraph = new Map()
  for (const [file, text] of sources) {
    const edges = parseImports(file, text).map((e) => ({ ...e, to: resolve(file, e.to, sources) }))
    graph.set(file, edges)
  }
  return graph
}

/** A relative specifier as a repository path: NodeNext writes './x.js' for the source './x.ts'. */
function resolve(from: string, spec: string, files: ReadonlyMap<string, string>): string {
  if (spec.startsWith('.')) {
    const path = posix.normalize(posix.join(posix.dirname(from), spec))
    const asTs = path.replace(/\.js$/, '.ts').replace(/\.mjs$/, '.mts')
    return files.has(asTs) ? asTs : path
  }
  const bare = spec.startsWith('node:') ? spec.slice(5) : spec
  return builtinModules.includes(bare) || builtinModules.includes(bare.split('/')[0]) ? `node:${bare}` : spec
}

/**
 * Static imports and re-exports, dynamic `import('literal')` and `typeof import('literal')`.
 * A dynamic import of a computed specifier cannot be checked statically and is not an edge.
 */
export function parseImports(file: string, text: string): ImportEdge[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS)
  const edges: ImportEdge[] = []
  const add = (spec: ts.Expression | undefined, typeOnly: boolean, names: string[]) => {
    if (spec && ts.isStringLiteralLike(spec)) edges.push({ from: file, to: spec.text, typeOnly, names })
  }
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node)) {
      const clause = node.importClause
      const named = clause?.namedBindings
      const elements = named && ts.isNamedImports(named) ? named.elements : []
      const names = [
        ...(clause?.name ? ['default'] : []),
        ...(named && ts.isNamespaceImport(named) ? ['*'] : []),
        ...elements.map((e) => (e.propertyName ?? e.name).text),
      ]
      const typeOnly =
        !!clause &&
        (clause.isTypeOnly ||
          (!clause.name &&
            elements.length > 0 &&
            elements.every((e) => e.isTypeOnly) &&
            names.length === elements.length))
      add(node.moduleSpecifier, typeOnly, names)
    } else if (ts.isExportDeclaration(node)) {
      const clause = node.exportClause
      const elements = clause && ts.isNamedExports(clause) ? clause.elements : []
      const names = clause && ts.isNamedExports(clause) ? elements.map((e) => (e.propertyName ?? e.name).text) : ['*']
      add(node.moduleSpecifier, node.isTypeOnly || (elements.length > 0 && elements.every((e) => e.isTypeOnly)), names)
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      add(node.arguments[0], false, ['*'])
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      add(node.argument.literal as ts.Expression, true, ['*'])
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
  return edges
}

/** 'src/cli/' matches everything under src/cli; any other pattern matches that one path. */
export function matches(path: string, pattern: string): boolean {
  return pattern.endsWith('/') ? path.startsWith(pattern) : path === pattern
}

/**
 * Every elementary cycle found as "u → v, then the shortest way back from v to u" for each edge
 * u → v inside a strongly connected component, each written once as a → b → … → a starting at
 * its smallest file (so the same cycle always prints the same way).
 */
export function findCycles(graph: ImportGraph, { ignoreTypeOnly }: { ignoreTypeOnly: boolean }): string[][] {
  const next = new Map<string, string[]>()
  for (const [file, edges] of graph)
    next.set(file, [
      ...new Set(edges.filter((e) => graph.has(e.to) && !(ignoreTypeOnly && e.typeOnly)).map((e) => e.to)),
    ])
  const component = stronglyConnected(next)
  const seen = new Set<string>()
  const cycles: string[][] = []
  for (const [u, vs] of next)
    for (const v of vs) {
      if (component.get(u) !== component.get(v)) continue
      const back = shortestPath(next, v, u, (x) => component.get(x) === component.get(u))
      if (!back) continue
      const ring = [u, ...back.slice(0, -1)]
      const start = ring.indexOf([...ring].sort()[0])
      const cycle = [...ring.slice(start), ...ring.slice(0, start)]
      const key = cycle.join(' → ')
      if (!seen.has(key)) {
        seen.add(key)
        cycles.push([...cycle, cycle[0]])
      }
    }
  return cycles.sort((a, b) => a.join().localeCompare(b.join()))
}

/** Tarjan's algorithm: node → component number. Iterative, so deep graphs cannot overflow the stack. */
function stronglyConnected(next: ReadonlyMap<string, string[]>): Map<string, number> {
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const onStack = new Set<string>()
  const stack: string[] = []
  const component = new Map<string, number>()
  let counter = 0
  for (const root of next.keys()) {
    if (index.has(root)) continue
    const work: Array<{ node: string; child: number }> = [{ node: root, child: 0 }]
    index.set(root, counter)
    low.set(root, counter++)
    stack.push(root)
    onStack.add(root)
    while (work.length > 0) {
      const frame = work[work.length - 1]
      const children = next.get(frame.node) ?? []
      if (frame.child < children.length) {
        const w = children[frame.child++]
        if (!index.has(w)) {
          index.set(w, counter)
          low.set(w, counter++)
          stack.push(w)
          onStack.add(w)
          work.push({ node: w, child: 0 })
        } else if (onStack.has(w)) low.set(frame.node, Math.min(low.get(frame.node)!, index.get(w)!))
        continue
      }
      work.pop()
      if (work.length > 0) {
        const parent = work[work.length - 1].node
        low.set(parent, Math.min(low.get(parent)!, low.get(frame.node)!))
      }
      if (low.get(frame.node) === index.get(frame.node)) {
        let w: string
        do {
          w = stack.pop()!
          onStack.delete(w)
          component.set(w, index.get(frame.node)!)
        } while (w !== frame.node)
      }
    }
  }
  return component
}

/** Breadth-first path from → … → to through nodes that satisfy `keep` (both ends included). */
function shortestPath(next: ReadonlyMap<string, string[]>, from: string, to: string, keep: (x: string) => boolean) {
  const parent = new Map<string, string | null>([[from, null]])
  const queue = [from]
  for (let i = 0; i < queue.length; i++) {
    const x = queue[i]
    if (x === to) {
      const path: string[] = []
      for (let at: string | null = x; at !== null; at = parent.get(at)!) path.unshift(at)
      return path
    }
    for (const y of next.get(x) ?? [])
      if (!parent.has(y) && keep(y)) {
        parent.set(y, x)
        queue.push(y)
      }
  }
  return null
}
