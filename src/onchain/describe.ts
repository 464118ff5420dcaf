import type { IrModel } from '../ir/types.js'
import { encodeProgram } from './encode.js'
import { OnchainEncodeError } from './errors.js'
import { estimateOnchainGas } from './gas.js'

const millions = (gas: number) => `${(gas / 1e6).toFixed(2)}M`

/**
 * One line for `veriml inspect`: whether the whole model runs on chain in one transaction
 * (OnchainModel.run within ONCHAIN_GAS_BUDGET), its estimated gas, and what deploying it costs.
 */
export function describeOnchainFit(model: IrModel): string {
  let estimate: ReturnType<typeof estimateOnchainGas>
  try {
    estimate = estimateOnchainGas(model)
    // A model that fits must also encode: its linear sums checked against int256.
    if (estimate.fits) encodeProgram(model)
  } catch (error) {
    if (error instanceof OnchainEncodeError) return `no: ${error.shortMessage}`
    throw error
  }
  const verdict = estimate.fits ? 'fits' : 'does not fit'
  return (
    `${verdict}: run ≈ ${millions(estimate.run)} gas (budget ${millions(estimate.budget)}: 2^24 per transaction less 15 %); ` +
    `program ${(estimate.programBytes / 1024).toFixed(1)} KiB in ${estimate.chunks} data contract(s), deploy ≈ ${millions(estimate.deploy)} gas`
  )
}
