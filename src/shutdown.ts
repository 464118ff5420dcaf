/**
 * snarkjs keeps a bn128 curve with worker threads in a global, which keeps the process
 * alive; call this once done with proving or verifying.
 */
export async function shutdown(): Promise<void> {
  const g = globalThis as { curve_bn128?: { terminate(): Promise<void> } }
  if (g.curve_bn128) {
    await g.curve_bn128.terminate()
    delete g.curve_bn128
  }
}
