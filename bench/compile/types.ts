/** What bench/direct-vs-circom.ts passes to bench/compile/run-one.ts and gets back. */
import type { Compiler } from '../../src/prove/direct.js'
import type { R1csCounts } from './r1cs-counts.js'

export interface RunOneParameters {
  backend: Compiler
  onnxPath: string
  calibrationPath?: string
  inputPath: string
  outDir: string
  resultPath: string
  /** Also dev setup, prove and verify through this build. */
  prove: boolean
}

export const BENCH_VISIBILITY = { input: 'public', output: 'public' } as const

export interface RunOneResult extends R1csCounts {
  backend: Compiler
  /** Σ weights of the IR's linear ops (a conv counts each output position's kernel). */
  weightTerms: number
  /** The backend's own part: the direct R1CS write, or circom + its wasm witness generator. */
  backendCompileS: number
  /** The whole `compileModel`: import, quantise, emit, float yardstick (onnxruntime), backend. */
  wholeCompileS: number
  /** Seconds of compile's progress steps by label (the backend, the float yardstick). */
  compileStagesS: Record<string, number>
  /** RSS of this process before the compile (node, tsx and the modules loaded). */
  baseRssMb: number
  /** This process's peak RSS once the compile is done (the direct backend compiles in it). */
  compileProcessPeakMb: number
  /** Peak RSS of the compiler child (circom as wasm, then wat2wasm); 0 for direct. */
  compilerChildPeakMb: number
  /** Loading the witness generator and computing one witness (what `prove` pays). */
  witnessS: number
  setupS?: number
  proveS?: number
  verified?: boolean
  /** This process's peak RSS at the end (setup and prove included). */
  finalPeakMb: number
}
