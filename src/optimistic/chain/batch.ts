import type { ContractTransaction, Signer, TransactionRequest, TransactionResponse } from 'ethers'
import { decodeRevert } from './client.js'
import { GameRevertError } from './errors.js'

/** One transaction an agent wants sent this round. `tag` comes back with its outcome. */
export interface TxIntent<T> {
  /** The contract function, for decoded revert messages. */
  action: string
  /** Builds the call (`contract.fn.populateTransaction(...)`): to, data, value. */
  build(): Promise<ContractTransaction>
  tag: T
}

export type TxOutcome<T> = { tag: T; action: string } & (
  | { state: 'mined'; gasUsed: bigint; calldataBytes: number; hash: string }
  /** Reverted at eth_estimateGas: nothing was sent, nothing was spent. */
  | { state: 'rejected'; error: GameRevertError }
  /** Sent and mined as a revert (reason re-simulated after the fact), or the send itself failed. */
  | { state: 'failed'; error: unknown }
  /** Not sent: an earlier send of the round failed, so its nonce would leave a gap. Retried next round. */
  | { state: 'unsent' }
)

/** How long a round waits for its receipts before reporting them failed and moving on. */
export const RECEIPT_TIMEOUT_MS = 180_000

/** Gas limit = estimate + 25%: the estimate is for the state it ran on, a block later costs may differ slightly. */
const withMargin = (gas: bigint) => gas + gas / 4n

/** Calldata size in bytes, as the chain charges it: (data.length − 2) / 2. */
export const calldataBytesOf = (data: string) => (data.length - 2) / 2

/**
 * Sends the round's transactions of one signer without waiting for each receipt in turn:
 * every call is built and estimated (in parallel; a revert at the estimate costs nothing and
 * is returned as `rejected`), the rest are sent with consecutive nonces from the signer's
 * pending nonce, then all receipts are awaited together. A failed send stops the round (later
 * nonces would wait behind the gap); the next round re-reads the pending nonce. A transaction
 * mined as a revert is re-simulated to name its error (typically a race: another transaction
 * settled the dispute first). Never throws for one transaction's failure.
 */
export async function sendBatch<T>(
  signer: Signer,
  intents: readonly TxIntent<T>[],
  options: { receiptTimeoutMs?: number } = {},
): Promise<TxOutcome<T>[]> {
  if (intents.length === 0) return []
  const provider = signer.provider!
  const from = await signer.getAddress()
  const prepared = await Promise.all(
    intents.map(async (intent) => {
      try {
        const tx = await intent.build()
        return { intent, tx, gas: await provider.estimateGas({ ...tx, from }) }
      } catch (error) {
        return { intent, error: decodeRevert(intent.action, error) }
      }
    }),
  )
  const outcomes: TxOutcome<T>[] = []
  const sent: { intent: TxIntent<T>; tx: ContractTransaction; response: TransactionResponse }[] = []
  let nonce: number | undefined
  let fees: Pick<TransactionRequest, 'gasPrice' | 'maxFeePerGas' | 'maxPriorityFeePerGas'> | undefined
  let sendFailed = false
  for (const p of prepared) {
    const base = { tag: p.intent.tag, action: p.intent.action }
    if (!('tx' in p) || p.tx === undefined) {
      outcomes.push({ ...base, state: 'rejected', error: p.error! })
      continue
    }
    if (sendFailed) {
      outcomes.push({ ...base, state: 'unsent' })
      continue
    }
    try {
      nonce ??= await provider.getTransactionCount(from, 'pending')
      fees ??= await feesOf(signer)
      const response = await signer.sendTransaction({ ...p.tx, ...fees, nonce, gasLimit: withMargin(p.gas!) })
      nonce++
      sent.push({ intent: p.intent, tx: p.tx, response })
    } catch (error) {
      sendFailed = true
      outcomes.push({ ...base, state: 'failed', error })
    }
  }
  await Promise.all(
    sent.map(async ({ intent, tx, response }) => {
      const base = { tag: intent.tag, action: intent.action }
      try {
        // Bounded: a transaction stuck in a mempool must not stall the agent's loop (its nonce stays taken; the next round reads the pending nonce after it).
        const receipt = (await response.wait(1, options.receiptTimeoutMs ?? RECEIPT_TIMEOUT_MS))!
        outcomes.push({
          ...base,
          state: 'mined',
          gasUsed: receipt.gasUsed,
          calldataBytes: calldataBytesOf(response.data),
          hash: receipt.hash,
        })
      } catch (error) {
        outcomes.push({ ...base, state: 'failed', error: await revertReason(signer, from, intent.action, tx, error) })
      }
    }),
  )
  return outcomes
}

/** One fee quote for the whole round (the signer would otherwise ask once per transaction). */
async function feesOf(
  signer: Signer,
): Promise<Pick<TransactionRequest, 'gasPrice' | 'maxFeePerGas' | 'maxPriorityFeePerGas'>> {
  const fee = await signer.provider!.getFeeData()
  if (fee.maxFeePerGas !== null && fee.maxPriorityFeePerGas !== null)
    return { maxFeePerGas: fee.maxFeePerGas, maxPriorityFeePerGas: fee.maxPriorityFeePerGas }
  return fee.gasPrice === null ? {} : { gasPrice: fee.gasPrice }
}

/** A receipt carries no revert reason: replaying the call on the new state names the race that was lost. */
async function revertReason(
  signer: Signer,
  from: string,
  action: string,
  tx: ContractTransaction,
  error: unknown,
): Promise<unknown> {
  try {
    await signer.provider!.call({ ...tx, from })
    return error
  } catch (replayed) {
    const decoded = decodeRevert(action, replayed)
    return decoded.errorName.startsWith('unknown') ? error : decoded
  }
}

/** Reverts that mean "someone else already did it" (the dispute or claim moved on): re-read, never report. */
export const SETTLED_REVERTS: ReadonlySet<string> = new Set([
  'ClaimNotPending',
  'WrongPhase',
  'ClaimSettled',
  'DisputeNotLive',
  'NoMoveToTimeOut',
])
/** Reverts that mean "too early" (a clock or window still running): wait for the next round. */
export const WAITING_REVERTS: ReadonlySet<string> = new Set(['ClockRunning', 'ChallengeWindowOpen', 'DisputesOpen'])

/** How an agent treats a transaction that did not land. */
export function failureKind(error: unknown): 'settled' | 'waiting' | 'error' {
  if (!(error instanceof GameRevertError)) return 'error'
  if (SETTLED_REVERTS.has(error.errorName)) return 'settled'
  return WAITING_REVERTS.has(error.errorName) ? 'waiting' : 'error'
}

/** One line for an error event. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return (error as { shortMessage?: string }).shortMessage ?? error.message
  return String(error)
}
