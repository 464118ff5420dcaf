type CurveGlobal = { curve_bn128?: { terminate(): Promise<void> } | null }

/**
 * snarkjs keeps a bn128 curve with worker threads in a global, which keeps the process
 * alive; call this once done with proving or verifying.
 */
export async function shutdown(): Promise<void> {
  const g = globalThis as CurveGlobal
  if (g.curve_bn128) {
    await g.curve_bn128.terminate()
    delete g.curve_bn128
  }
}

/**
 * Imports a module that loads a copy of ffjavascript (there are several in node_modules, one
 * per dependent). Each copy's module init sets `globalThis.curve_bn128 = null`: loaded after
 * another copy built its threaded curve, it would orphan that curve, whose worker threads then
 * keep the process alive past `shutdown()`. The curve is put back.
 */
export async function importKeepingCurve<T>(load: () => Promise<T>): Promise<T> {
  const g = globalThis as CurveGlobal
  const before = g.curve_bn128
  const loaded = await load()
  if (before && !g.curve_bn128) g.curve_bn128 = before
  return loaded
}
