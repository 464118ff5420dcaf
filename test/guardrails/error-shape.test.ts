import { readFileSync, readdirSync } from 'node:fs'
import { join, relative } from 'node:path'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'

/**
 * Keeps src/errors.ts's convention true: every error class is built from ONE object
 * (`new XError({ field, details, cause })`), and no two exported classes share a name (a
 * duplicate makes `instanceof` on the exported one miss what the other throws).
 */

const ROOT = join(import.meta.dirname, '../..')
const SRC = join(ROOT, 'src')

interface ErrorClass {
  file: string
  name: string
  exported: boolean
  /** Why its constructor breaks the one-object shape, or null when it keeps it. */
  violation: string | null
}

/** A parameter that is one object: destructured, or typed with an object, named or intersection type. */
function isObjectParameter(p: ts.ParameterDeclaration): boolean {
  if (p.dotDotDotToken) return false
  if (ts.isObjectBindingPattern(p.name)) return true
  const t = p.type
  return t !== undefined && (ts.isTypeLiteralNode(t) || ts.isTypeReferenceNode(t) || ts.isIntersectionTypeNode(t))
}

function constructorViolation(c: ts.ClassDeclaration, base: string): string | null {
  const ctor = c.members.find((m): m is ts.ConstructorDeclaration => ts.isConstructorDeclaration(m) && !!m.body)
  if (!ctor)
    // A direct subclass with no constructor is built through BaseError's positional one.
    return base === 'BaseError' ? "no constructor: built with BaseError's (shortMessage, options)" : null
  if (ctor.parameters.length !== 1) return `constructor takes ${ctor.parameters.length} parameters`
  if (!isObjectParameter(ctor.parameters[0])) return 'constructor parameter is not one object'
  return null
}

/** Every class in `text` that extends a class whose name ends in Error. */
function errorClasses(file: string, text: string): ErrorClass[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true)
  const found: ErrorClass[] = []
  const visit = (n: ts.Node) => {
    if (ts.isClassDeclaration(n) && n.name) {
      const ext = n.heritageClauses?.find((h) => h.token === ts.SyntaxKind.ExtendsKeyword)?.types[0]
      const base = ext?.expression.getText(sf)
      const exported = !!n.modifiers?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword)
      // BaseError itself is the one class built positionally.
      if (base?.endsWith('Error') && n.name.text !== 'BaseError')
        found.push({ file, name: n.name.text, exported, violation: constructorViolation(n, base) })
      else if (exported) found.push({ file, name: n.name.text, exported, violation: null })
    }
    ts.forEachChild(n, visit)
  }
  visit(sf)
  return found
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => join(dir, f))
}

const classes = sourceFiles(SRC).flatMap((f) => errorClasses(relative(ROOT, f), readFileSync(f, 'utf8')))

describe('error classes', () => {
  it('the scanner sees a positional constructor, a bare BaseError subclass and a good one', () => {
    const found = errorClasses(
      'x.ts',
      `class AError extends BaseError { constructor(node: string, problem: string) { super(problem) } }
       class BError extends BaseError { override name = 'B' }
       class CError extends BaseError { constructor({ problem }: ErrorParameters<{ problem: string }>) { super(problem) } }
       class DError extends CError {}
       class EError extends BaseError { constructor(problem: string) { super(problem) } }
       class FError extends BaseError { constructor() { super('f') } }
       class GError extends CError { constructor(p: { problem: string }) { super(p) } }`,
    )
    expect(found.map((c) => [c.name, c.violation !== null])).toEqual([
      ['AError', true],
      ['BError', true],
      ['CError', false],
      ['DError', false],
      ['EError', true],
      ['FError', true],
      ['GError', false],
    ])
  })

  it('finds the error classes of src/ (the scan is not empty)', () => {
    expect(classes.filter((c) => c.name === 'LoweringError')).toHaveLength(1)
    expect(classes.length).toBeGreaterThan(50)
  })

  it('every error constructor takes one object (fields, details, cause)', () => {
    expect(classes.filter((c) => c.violation !== null).map((c) => `${c.file}:${c.name}: ${c.violation}`)).toEqual([])
  })

  it('nothing in src/ throws a bare BaseError (every error has a class that names it)', () => {
    const bare = sourceFiles(SRC).filter((f) => /new BaseError\(/.test(readFileSync(f, 'utf8')))
    expect(bare.map((f) => relative(ROOT, f))).toEqual([])
  })

  it('no two exported classes in src/ share a name', () => {
    const files = new Map<string, string[]>()
    for (const c of classes.filter((c) => c.exported)) files.set(c.name, [...(files.get(c.name) ?? []), c.file])
    const duplicates = [...files].filter(([, f]) => f.length > 1).map(([name]) => name)
    expect(duplicates).toEqual([])
  })
})
