/** A model input as declared: fixed sizes, and symbolic ones by name ('' for an unnamed unknown). */
export interface DeclaredInput {
  name: string
  dims: (number | string)[]
}

/** The shape of a nested list, read along its first elements (parseInputs checks it is rectangular). */
function nestedShape(v: unknown): number[] {
  const shape: number[] = []
  while (Array.isArray(v)) {
    shape.push(v.length)
    v = v[0]
  }
  return shape
}

/** The list the input file holds for each input, by position (EZKL `input_data`) or by name; null when unreadable. */
function listsOf(json: unknown, inputs: readonly DeclaredInput[]): unknown[] | null {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return null
  const obj = json as Record<string, unknown>
  if (Array.isArray(obj.input_data)) return inputs.map((_, i) => (obj.input_data as unknown[])[i])
  return inputs.map((i) => obj[i.name])
}

/**
 * Sizes of the symbolic input dimensions that an input file (compile's or inspect's samples)
 * shows: a nested list of the input's rank gives them directly, one of rank + 1 is a list of
 * samples of that shape. A flat list does not say its shape, so it binds nothing, and whatever
 * stays unbound is still refused by the parser. A name shown with two sizes is a `conflict`
 * (the parser's SymbolicDimensionError).
 */
export function dimsFromInputFile(
  json: unknown,
  inputs: readonly DeclaredInput[],
): { bound: Record<string, number>; conflict?: { input: string; axis: number; param: string; details: string[] } } {
  const lists = listsOf(json, inputs)
  const bound: Record<string, number> = {}
  const where: Record<string, string> = {}
  if (!lists) return { bound }
  let conflict: { input: string; axis: number; param: string; details: string[] } | undefined
  inputs.forEach((input, i) => {
    const shape = nestedShape(lists[i])
    const r = input.dims.length
    if (r < 2 && shape.length < 2) return
    const dims = shape.length === r ? shape : shape.length === r + 1 ? shape.slice(1) : null
    if (!dims) return
    input.dims.forEach((d, axis) => {
      if (typeof d !== 'string' || d === '') return
      if (Object.hasOwn(bound, d) && bound[d] !== dims[axis]) {
        conflict ??= {
          input: input.name,
          axis,
          param: d,
          details: [`The input file gives "${d}" size ${bound[d]} in ${where[d]} and ${dims[axis]} here.`],
        }
        return
      }
      bound[d] = dims[axis]
      where[d] = `input "${input.name}"`
    })
  })
  return conflict ? { bound, conflict } : { bound }
}
