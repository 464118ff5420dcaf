import { readFileSync, realpathSync, statSync } from 'node:fs'
import { basename, dirname, isAbsolute, relative, resolve, sep } from 'node:path'
import { isErrno, readInputFile } from '../util/external.js'
import { type ExternalDataResolver, ExternalDataError } from './external.js'
import { LIMITS } from './limits.js'
import { type OnnxModel, type ParseOnnxOptions, parseOnnxSelfContained } from './parse.js'

/**
 * Reads external data files from the model's own folder only: a model is untrusted input, and
 * a `location` of `/etc/passwd` or `../../secret` must not make veriml read (and hash, and copy
 * into a build) a file the user never meant to hand over. Each file is read once.
 */
export function folderResolver(modelPath: string): ExternalDataResolver {
  const folder = resolve(dirname(modelPath))
  const cache = new Map<string, Uint8Array>()
  const outside = (base: string, path: string) => {
    const rel = relative(base, path)
    return rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)
  }
  const refuse = (tensor: string, location: string) =>
    new ExternalDataError({
      tensor,
      file: location,
      problem: "lies outside the model's folder",
      details: ['External data must sit next to the model (a relative path inside its folder).'],
    })
  return (location, tensor) => {
    const path = resolve(folder, location)
    // INVARIANT: the data file lies inside the model's folder (no absolute path, no `..` out of it).
    if (isAbsolute(location) || outside(folder, path)) throw refuse(tensor, location)
    // A symbolic link inside the folder may still point out of it: its target must stay inside too.
    let real: string | undefined
    try {
      real = realpathSync(path)
    } catch {
      // Missing: reported below with the read error.
    }
    if (real !== undefined && outside(realpathSync(folder), real)) throw refuse(tensor, location)
    const cached = cache.get(path)
    if (cached) return cached
    let data: Uint8Array
    try {
      const stat = statSync(path)
      if (stat.isDirectory())
        throw new ExternalDataError({ tensor, file: location, problem: 'is a folder, not a file' })
      if (stat.size > LIMITS.modelBytes)
        throw new ExternalDataError({
          tensor,
          file: location,
          problem: `is ${stat.size} bytes, over veriml's limit of ${LIMITS.modelBytes} (modelBytes)`,
        })
      data = readFileSync(path)
    } catch (cause) {
      if (cause instanceof ExternalDataError) throw cause
      throw new ExternalDataError({
        tensor,
        file: location,
        problem:
          isErrno(cause) && cause.code === 'ENOENT'
            ? 'does not exist'
            : `cannot be read (${isErrno(cause) ? cause.code : String(cause)})`,
        details: [`It should be next to ${basename(modelPath)}, in ${folder}.`],
        cause,
      })
    }
    cache.set(path, data)
    return data
  }
}

export interface ReadOnnxFileReturnType {
  model: OnnxModel
  /** The model as one self-contained protobuf (external data inlined): for onnxruntime, hashing and copying. */
  bytes: Uint8Array
  /** Symbolic input dimensions bound from `options.inputFile` (the explicit `dims` not included). */
  inferredDims: Record<string, number>
}

/** Reads and parses an ONNX file, its external data (`model.onnx.data`) from the same folder. */
export async function readOnnxFile(
  path: string,
  options: Omit<ParseOnnxOptions, 'externalData'> = {},
): Promise<ReadOnnxFileReturnType> {
  const bytes = new Uint8Array(await readInputFile(path, 'model', LIMITS.modelBytes))
  return parseOnnxSelfContained(bytes, basename(path), { ...options, externalData: folderResolver(path) })
}
