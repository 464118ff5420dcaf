/** The proving page's settings (web/main.ts reads them from config.json; `veriml web` and `veriml bundle` write them). */

export interface PageConfig {
  /** The build folder's URL, relative to the page. */
  model: string
  /** JSON-RPC URL (relative to the page when proxied) and registry, when the page may record proofs on chain. */
  chain?: { rpc: string; registry: string; modelId: string }
}
