import onnxProto from 'onnx-proto'
import { BaseError, type ErrorParameters } from '../errors.js'

const { onnx } = onnxProto
type TensorProto = InstanceType<typeof onnx.TensorProto>

/**
 * Returns the whole external data file `location` (as the tensor's external_data names it);
 * `tensor` is only for the error message. Throws ExternalDataError when it cannot.
 */
export type ExternalDataResolver = (location: string, tensor: string) => Uint8Array

/** A tensor's external data cannot be had: the file is missing, escapes the model's folder, or is too short. */
export class ExternalDataError extends BaseError {
  override name = 'ExternalDataError'
  readonly tensor: string
  readonly file: string
  readonly problem: string
  constructor({
    tensor,
    file,
    problem,
    details,
    cause,
  }: ErrorParameters<{ tensor: string; file: string; problem: string }>) {
    super(`tensor "${tensor}": external data file "${file}" ${problem}`, { details, cause })
    this.tensor = tensor
    this.file = file
    this.problem = problem
  }
}

const EXTERNAL = onnx.TensorProto.DataLocation.EXTERNAL

/** Every tensor a model stores: initializers, and tensor attributes of the top-level nodes. */
function* tensorsOf(proto: InstanceType<typeof onnx.ModelProto>): Generator<TensorProto> {
  const graph = proto.graph
  if (!graph) return
  for (const t of graph.initializer ?? []) yield t as TensorProto
  for (const n of graph.node ?? [])
    for (const a of n.attribute ?? []) {
      if (a.t) yield a.t as TensorProto
      for (const t of a.tensors ?? []) yield t as TensorProto
    }
}

/** The entries of a tensor's external_data (location, offset, length, checksum) as a record. */
function entries(t: TensorProto): Record<string, string> {
  return Object.fromEntries((t.externalData ?? []).map((e) => [e.key ?? '', e.value ?? '']))
}

function byteCount(text: string | undefined, tensor: string, file: string, key: string): number | undefined {
  if (text === undefined || text === '') return undefined
  const n = Number(text)
  // INVARIANT: offsets and lengths are whole non-negative numbers; anything else is a malformed model.
  if (!Number.isSafeInteger(n) || n < 0 || !/^\d+$/.test(text.trim()))
    throw new ExternalDataError({ tensor, file, problem: `has an invalid ${key} "${text}"` })
  return n
}

/**
 * Moves every externally stored tensor's bytes into its raw_data (in place), so the rest of the
 * parser, and onnxruntime given the re-encoded model, see an ordinary self-contained model.
 * Returns how many tensors were external. Without a resolver an external tensor is refused.
 */
export function inlineExternalData(
  proto: InstanceType<typeof onnx.ModelProto>,
  resolver: ExternalDataResolver | undefined,
): number {
  let count = 0
  for (const t of tensorsOf(proto)) {
    if (t.dataLocation !== EXTERNAL) continue
    const tensor = t.name || '(unnamed)'
    const e = entries(t)
    const file = e.location ?? ''
    if (file === '') throw new ExternalDataError({ tensor, file, problem: 'is not named (no "location" entry)' })
    if (!resolver)
      throw new ExternalDataError({
        tensor,
        file,
        problem: 'cannot be read: the model was given as bytes, not as a file',
        details: ['Load the model from its path so veriml can read the data file next to it.'],
      })
    const data = resolver(file, tensor)
    const offset = byteCount(e.offset, tensor, file, 'offset') ?? 0
    const length = byteCount(e.length, tensor, file, 'length') ?? data.length - offset
    // INVARIANT: the slice lies inside the file; a short file must not silently give a short tensor.
    if (offset > data.length || length < 0 || offset + length > data.length)
      throw new ExternalDataError({
        tensor,
        file,
        problem: `holds ${data.length} bytes; the tensor needs bytes ${offset} to ${offset + Math.max(length, 0)}`,
      })
    t.rawData = data.subarray(offset, offset + length)
    t.dataLocation = onnx.TensorProto.DataLocation.DEFAULT
    t.externalData = []
    count++
  }
  return count
}
