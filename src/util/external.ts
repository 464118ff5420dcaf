import { stat } from 'node:fs/promises'
import { readFile } from 'node:fs/promises'
import { BaseError, type ErrorParameters } from '../errors.js'

/**
 * The one place where errors from outside veriml (the file system, ethers, onnxruntime,
 * snarkjs) become typed errors that name what they concern: a path, a flag, a tensor.
 * Call sites wrap what they know more about; `toTypedError` is the CLI's last resort.
 */

const FILE_PROBLEMS: Record<string, string> = {
  ENOENT: 'does not exist',
  EISDIR: 'is a folder, not a file',
  ENOTDIR: 'is not a folder (a file is in the way)',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EEXIST: 'already exists',
  EROFS: 'is on a read-only file system',
  ENOSPC: 'no space left on the device',
  ENOTEMPTY: 'is a folder that is not empty',
  EMFILE: 'too many open files',
  ENAMETOOLONG: 'name too long',
}

/** A file-system operation failed on `path`: says which path, what it was for, and why in words. */
export class FileError extends BaseError {
  override name = 'FileError'
  readonly path: string
  /** What the file was for ("model", "input file"), when the caller said. */
  readonly what?: string
  /** The Node errno code (ENOENT, EISDIR…) the message is worded from. */
  readonly code: string
  constructor(p: ErrorParameters<{ path: string; what?: string; code: string }>) {
    const why = FILE_PROBLEMS[p.code] ?? `failed (${p.code})`
    super(`${p.what ? `${p.what} ` : ''}${p.path}: ${why}`, { details: p.details, cause: p.cause })
    this.path = p.path
    if (p.what !== undefined) this.what = p.what
    this.code = p.code
  }
}

/** A file larger than veriml will load: refused before reading it. */
export class FileTooLargeError extends BaseError {
  override name = 'FileTooLargeError'
  readonly path: string
  readonly what: string
  readonly bytes: number
  readonly limit: number
  constructor(p: ErrorParameters<{ path: string; what: string; bytes: number; limit: number }>) {
    super(`${p.what} ${p.path} is ${p.bytes} bytes, over the ${p.limit}-byte limit`, {
      details: p.details,
      cause: p.cause,
    })
    this.path = p.path
    this.what = p.what
    this.bytes = p.bytes
    this.limit = p.limit
  }
}

interface ErrnoLike {
  code: string
  path?: string
  dest?: string
  syscall?: string
}

export function isErrno(error: unknown): error is Error & ErrnoLike {
  return (
    error instanceof Error &&
    typeof (error as Partial<ErrnoLike>).code === 'string' &&
    /^E[A-Z]+$/.test((error as unknown as ErrnoLike).code)
  )
}

/** A Node errno error as a FileError naming `path` (else the path Node recorded); anything else unchanged. */
export function fileError(error: unknown, path?: string, what?: string): unknown {
  if (error instanceof BaseError || !isErrno(error)) return error
  return new FileError({ path: path ?? error.path ?? '(unknown path)', what, code: error.code })
}

/** Default limit on a file veriml reads whole (models, inputs, proofs): 2 GiB is V8's buffer limit anyway. */
export const MAX_READ_BYTES = 2 ** 31 - 1

/**
 * Reads a whole input file, with the file-system failure named: a folder, a missing file or
 * one over `limit` bytes is a FileError / FileTooLargeError, never a raw ENOENT/EISDIR.
 */
export async function readInputFile(path: string, what: string, limit = MAX_READ_BYTES): Promise<Buffer> {
  if (path === '') throw new FileError({ path: '""', what, code: 'ENOENT', details: ['An empty path was given.'] })
  let size: number
  try {
    const s = await stat(path)
    if (s.isDirectory()) throw new FileError({ path, what, code: 'EISDIR' })
    size = s.size
  } catch (error) {
    throw fileError(error, path, what)
  }
  if (size > limit) throw new FileTooLargeError({ path, what, bytes: size, limit })
  try {
    return await readFile(path)
  } catch (error) {
    throw fileError(error, path, what)
  }
}

/**
 * An ethers error: its one-line `shortMessage` as `problem` and its `code` (the long message
 * quotes arguments and transactions).
 */
export class ChainError extends BaseError {
  override name = 'ChainError'
  readonly problem: string
  readonly code: string
  constructor({ problem, code, details, cause }: ErrorParameters<{ problem: string; code: string }>) {
    super(`${problem} (${code})`, { details, cause })
    this.problem = problem
    this.code = code
  }
}

/**
 * Best-effort typing of an error that escaped every call site: errno errors become FileError,
 * ethers errors keep only their shortMessage. Returns null for anything unrecognised.
 */
export function toTypedError(error: unknown): BaseError | null {
  if (error instanceof BaseError) return error
  if (isErrno(error)) return fileError(error) as FileError
  const e = error as { shortMessage?: unknown; code?: unknown } | null
  if (e && typeof e.shortMessage === 'string' && typeof e.code === 'string')
    return new ChainError({ problem: e.shortMessage, code: e.code })
  return null
}
