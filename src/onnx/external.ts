import { createHash } from 'node:crypto'
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

const HEX_DIGEST = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/

/**
 * Checks a tensor's `checksum` entry. ONNX's proto calls it "the SHA1 digest of the file named by
 * location" and writers in the wild store SHA-256 hex, over the file or the tensor's own bytes: any of
 * those four matching is accepted; a digest that matches none means the weights are not the ones
 * the model was saved with (onnxruntime does not check it; a swapped data file would otherwise
 * change what is proven without a word). `fileDigests` caches the whole file's digests per location.
 */
function checkChecksum(
  declared: string,
  slice: Uint8Array,
  file: string,
  data: Uint8Array,
  tensor: string,
  fileDigests: Map<string, string>,
): void {
  const want = declared.trim().toLowerCase()
  if (!HEX_DIGEST.test(want))
    throw new ExternalDataError({
      tensor,
      file,
      problem: `has a checksum "${declared}" that is neither a SHA-1 nor a SHA-256 hex digest`,
    })
  const algorithm = want.length === 40 ? 'sha1' : 'sha256'
  const key = `${algorithm}:${file}`
  let whole = fileDigests.get(key)
  if (whole === undefined) fileDigests.set(key, (whole = createHash(algorithm).update(data).digest('hex')))
  if (whole === want || createHash(algorithm).update(slice).digest('hex') === want) return
  throw new ExternalDataError({
    tensor,
    file,
    problem: `does not match the tensor's ${algorithm === 'sha1' ? 'SHA-1' : 'SHA-256'} checksum ${want}`,
    details: [
      "The data file is not the one the model was saved with (neither the whole file nor the tensor's bytes hash to it): re-export the model, or remove the checksum entry if the data file was changed on purpose.",
    ],
  })
}

/**
 * Moves every externally stored tensor's bytes into its raw_data (in place), so the rest of the
 * parser, and onnxruntime given the re-encoded model, see an ordinary self-contained model.
 * Returns how many tensors were external. Without a resolver an external tensor is refused; a
 * `checksum` entry is verified (checkChecksum).
 */
export function inlineExternalData(
  proto: InstanceType<typeof onnx.ModelProto>,
  resolver: ExternalDataResolver | undefined,
): number {
  let count = 0
  const fileDigests = new Map<string, string>()
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
    const slice = data.subarray(offset, offset + length)
    if (e.checksum) checkChecksum(e.checksum, slice, file, data, tensor, fileDigests)
    t.rawData = slice
    t.dataLocation = onnx.TensorProto.DataLocation.DEFAULT
    t.externalData = []
    count++
  }
  return count
}
