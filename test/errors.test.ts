import { describe, expect, it } from 'vitest'
import { BaseError, type ErrorParameters, walkError } from '../src/errors.js'
import { LoweringError } from '../src/onnx/lower.js'

/** A test error in the house shape: one object, `problem` plus details and cause. */
class StepError extends BaseError {
  override name = 'StepError'
  readonly problem: string
  constructor({ problem, details, cause }: ErrorParameters<{ problem: string }>) {
    super(problem, { details, cause })
    this.problem = problem
  }
}

/** root → middle → inner → deepest (a plain Error): three causes below the root. */
function chainOfThree() {
  const deepest = new Error('ENOENT: no such file')
  const inner = new StepError({ problem: 'inner', cause: deepest })
  const middle = new LoweringError({ node: { name: 'n1', opType: 'Conv' }, problem: 'middle', cause: inner })
  const root = new StepError({ problem: 'root', cause: middle })
  return { root, middle, inner, deepest }
}

describe('BaseError', () => {
  it('keeps shortMessage, details (indented in the message) and cause', () => {
    const cause = new Error('low')
    const e = new StepError({ problem: 'high', details: ['do this'], cause })
    expect(e.shortMessage).toBe('high')
    expect(e.details).toEqual(['do this'])
    expect(e.message).toBe('high\n  do this')
    expect(e.cause).toBe(cause)
    expect(e.problem).toBe('high')
  })

  it('a subclass keeps its named fields and its message', () => {
    const e = new LoweringError({ node: { name: 'conv1', opType: 'Conv' }, problem: 'pads must be symmetric' })
    expect(e).toMatchObject({ node: 'conv1', opType: 'Conv', problem: 'pads must be symmetric' })
    expect(e.message).toBe('node "conv1" (Conv): pads must be symmetric')
    expect('cause' in e).toBe(false)
  })
})

describe('walk without a predicate: the deepest cause', () => {
  it('no cause: the error itself', () => {
    const e = new StepError({ problem: 'alone' })
    expect(e.walk()).toBe(e)
    expect(walkError(e)).toBe(e)
  })

  it('one cause: that cause', () => {
    const cause = new StepError({ problem: 'below' })
    expect(new StepError({ problem: 'top', cause }).walk()).toBe(cause)
  })

  it('three causes: the last, whatever its class', () => {
    const { root, middle, deepest } = chainOfThree()
    expect(root.walk()).toBe(deepest)
    expect(middle.walk()).toBe(deepest)
    expect(walkError(root)).toBe(deepest)
  })

  it('a non-Error cause (a string, a plain object) ends the chain and is returned', () => {
    expect(new StepError({ problem: 'top', cause: 'a string' }).walk()).toBe('a string')
    const plain = { code: 'CALL_EXCEPTION' }
    expect(new StepError({ problem: 'top', cause: plain }).walk()).toBe(plain)
    // A plain object with its own cause is followed like an Error.
    const nested = { cause: 42 }
    expect(walkError({ cause: nested })).toBe(42)
  })

  it('walkError from a root that is not an error returns it', () => {
    expect(walkError('text')).toBe('text')
    expect(walkError(undefined)).toBe(undefined)
    expect(walkError(null)).toBe(null)
  })
})

describe('walk with a predicate: the first match from the root, or null', () => {
  it('matches the root itself first', () => {
    const { root } = chainOfThree()
    expect(root.walk((e) => e instanceof StepError)).toBe(root)
  })

  it('matches in the middle of the chain', () => {
    const { root, middle } = chainOfThree()
    expect(root.walk((e) => e instanceof LoweringError)).toBe(middle)
    expect(walkError(root, (e) => e instanceof LoweringError)).toBe(middle)
  })

  it('matches a plain Error at the bottom', () => {
    const { root, deepest } = chainOfThree()
    expect(root.walk((e) => e instanceof Error && !(e instanceof BaseError))).toBe(deepest)
  })

  it('no match: null', () => {
    const { root } = chainOfThree()
    expect(root.walk((e) => e instanceof RangeError)).toBeNull()
    expect(walkError('text', () => false)).toBeNull()
  })

  it('the predicate sees non-Error causes too', () => {
    const seen: unknown[] = []
    new StepError({ problem: 'top', cause: 'why' }).walk((e) => {
      seen.push(e)
      return false
    })
    expect(seen).toHaveLength(2)
    expect(seen[1]).toBe('why')
  })
})

describe('walk on a cause chain that loops', () => {
  /** a → b → a: built by hand, as a library that re-throws its own cause could. */
  function loop() {
    const a = new Error('a')
    const b = new Error('b', { cause: a })
    Object.defineProperty(a, 'cause', { value: b })
    return { a, b }
  }

  it('stops at the last new link instead of hanging', () => {
    const { a, b } = loop()
    expect(walkError(a)).toBe(b)
    expect(walkError(b)).toBe(a)
  })

  it('a predicate that matches nothing returns null', () => {
    const { a } = loop()
    let calls = 0
    expect(
      walkError(a, () => {
        calls++
        return false
      }),
    ).toBeNull()
    expect(calls).toBe(2)
  })

  it('an error that is its own cause is its own deepest cause', () => {
    const self = new StepError({ problem: 'self' })
    Object.defineProperty(self, 'cause', { value: self })
    expect(self.walk()).toBe(self)
    expect(self.walk((e) => e === 'never')).toBeNull()
  })
})
