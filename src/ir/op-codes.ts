import type { OpKind } from './types.js'

/**
 * Op kind numbers, as `IntegerOps.KIND_*` (verifier-contracts/optimistic/IntegerOps.sol): the
 * codes both Solidity executors read — the optimistic one-step's step headers and the on-chain
 * model's program. A new primitive fails to type-check here.
 */
export const OP_KIND: { [K in OpKind]: number } = {
  linear: 0,
  requant: 1,
  gather: 2,
  max: 3,
  lookup: 4,
  mul: 5,
  div: 6,
  isqrt: 7,
}
