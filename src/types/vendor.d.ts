// Minimal typings for the untyped zk packages veriml uses (only the calls made here).

declare module 'snarkjs' {
  export type FileOrBuffer = string | Uint8Array | { type: 'mem'; data?: Uint8Array }
  export interface Groth16Proof {
    pi_a: string[]
    pi_b: string[][]
    pi_c: string[]
    protocol: string
    curve: string
  }
  export const groth16: {
    prove(
      zkey: FileOrBuffer,
      witness: FileOrBuffer,
      logger?: unknown,
    ): Promise<{ proof: Groth16Proof; publicSignals: string[] }>
    fullProve(
      input: Record<string, unknown>,
      wasm: FileOrBuffer,
      zkey: FileOrBuffer,
      logger?: unknown,
    ): Promise<{ proof: Groth16Proof; publicSignals: string[] }>
    verify(vkey: unknown, publicSignals: string[], proof: Groth16Proof, logger?: unknown): Promise<boolean>
    exportSolidityCallData(proof: Groth16Proof, publicSignals: string[]): Promise<string>
  }
  export const wtns: {
    calculate(input: Record<string, unknown>, wasm: FileOrBuffer, wtns: FileOrBuffer, options?: unknown): Promise<void>
    check(r1cs: FileOrBuffer, wtns: FileOrBuffer, logger?: unknown): Promise<boolean>
    exportJson(wtns: FileOrBuffer): Promise<bigint[]>
  }
  export const zKey: {
    newZKey(r1cs: FileOrBuffer, ptau: FileOrBuffer, zkey: FileOrBuffer, logger?: unknown): Promise<unknown>
    exportVerificationKey(zkey: FileOrBuffer, logger?: unknown): Promise<Record<string, unknown>>
    exportSolidityVerifier(zkey: FileOrBuffer, templates: Record<string, string>, logger?: unknown): Promise<string>
    verifyFromR1cs(r1cs: FileOrBuffer, ptau: FileOrBuffer, zkey: FileOrBuffer, logger?: unknown): Promise<boolean>
    verifyFromInit(init: FileOrBuffer, ptau: FileOrBuffer, zkey: FileOrBuffer, logger?: unknown): Promise<boolean>
    contribute(
      zkeyIn: FileOrBuffer,
      zkeyOut: FileOrBuffer,
      name: string,
      entropy: string,
      logger?: unknown,
    ): Promise<Uint8Array>
    beacon(
      zkeyIn: FileOrBuffer,
      zkeyOut: FileOrBuffer,
      name: string,
      beaconHash: string,
      numIterationsExp: number,
      logger?: unknown,
    ): Promise<Uint8Array>
  }
  export const powersOfTau: {
    newAccumulator(curve: unknown, power: number, file: FileOrBuffer, logger?: unknown): Promise<unknown>
    contribute(
      oldPtau: FileOrBuffer,
      newPtau: FileOrBuffer,
      name: string,
      entropy: string,
      logger?: unknown,
    ): Promise<unknown>
    preparePhase2(oldPtau: FileOrBuffer, newPtau: FileOrBuffer, logger?: unknown): Promise<unknown>
    verify(ptau: FileOrBuffer, logger?: unknown): Promise<boolean>
  }
  export const curves: {
    getCurveFromName(name: string): Promise<unknown>
  }
  export const r1cs: {
    info(
      r1cs: FileOrBuffer,
      logger?: unknown,
    ): Promise<{ nConstraints: number; nVars: number; nOutputs: number; nPubInputs: number; nPrvInputs: number }>
  }
}

declare module 'circomlibjs' {
  interface Field {
    toObject(v: unknown): bigint
    e(v: bigint | number | string): unknown
  }
  export interface PoseidonFn {
    (inputs: readonly (bigint | number)[]): unknown
    F: Field
  }
  export function buildPoseidon(): Promise<PoseidonFn>
}
