import { ParamType } from 'ethers'
import { abi, STEP_HEADER, type StepHeader, stepHeaderLeaf } from '../../src/optimistic/abi.js'
import type { Hex } from '../../src/util/hex.js'
import { merkleTree } from '../../src/optimistic/merkle.js'
import type { ParamsCommitment } from '../../src/optimistic/params.js'

/** A decoded body as a plain object, by its ABI type (ethers' toObject loses empty arrays). */
const shaped = (type: ParamType, v: unknown): unknown =>
  type.isTuple()
    ? Object.fromEntries(type.components.map((c, i) => [c.name, shaped(c, (v as unknown[])[i])]))
    : type.isArray()
      ? Array.from(v as unknown[], (x) => shaped(type.arrayChildren, x))
      : v

/** A one-step proof `(kind, header, headerPath, body)` with a body of ABI `type`, the body already plain (re-encodable after edits). */
export const decodeProof = (type: string, proof: Hex) => {
  const [kind, header, headerPath, body] = abi.decode(['uint8', STEP_HEADER, 'bytes32[]', type], proof)
  return [kind, header, headerPath, shaped(ParamType.from(type), body)] as const
}

/** Inverse of `decodeProof`: a forged proof from edited parts. */
export const encodeProof = (type: string, kind: unknown, header: unknown, headerPath: unknown, body: unknown) =>
  abi.encode(['uint8', STEP_HEADER, 'bytes32[]', type], [kind, header, headerPath, body])

/** The commitment with step `s`'s header replaced, the parameter tree rebuilt: as if the model had committed to it. */
export function withHeader(params: ParamsCommitment, s: number, header: StepHeader): ParamsCommitment {
  const headers = params.headers.map((h, i) => (i === s ? header : h))
  const headerTree = merkleTree(headers.map(stepHeaderLeaf))
  return { ...params, headers, headerTree, paramsRoot: headerTree.root }
}
