/**
 * circom's `.sym` text: one line `labelIdx,wireIdx,componentIdx,name` per signal, from label 1
 * (the constant one, label and wire 0, has no line), each line ending in "\n". snarkjs reads
 * the wire and the name; the component index only groups names.
 *
 * circom lists every signal, with wire −1 for those its simplification removed, and numbers
 * components by template instance; the builder removes nothing (label = wire) and numbers
 * component paths in order of first use.
 */
import type { ConstraintSystem } from './system.js'

const LINES_PER_CHUNK = 1 << 14

/** The .sym text in chunks of whole lines. */
export function* symChunks(system: ConstraintSystem): Generator<string> {
  let lines: string[] = []
  for (const b of system.signalBlocks()) {
    for (let i = 0; i < b.count; i++) {
      const wire = b.firstWire + i
      lines.push(`${wire},${wire},${b.component},${b.array ? `${b.name}[${i}]` : b.name}\n`)
      if (lines.length === LINES_PER_CHUNK) {
        yield lines.join('')
        lines = []
      }
    }
  }
  if (lines.length > 0) yield lines.join('')
}

export function symText(system: ConstraintSystem): string {
  return [...symChunks(system)].join('')
}
