import { join } from 'node:path'

/** Every artifact of a compiled model, by name: the one place that knows the folder layout. */
export function artifactPaths(dir: string) {
  const circuitDir = join(dir, 'circuit')
  return {
    dir,
    manifest: join(dir, 'manifest.json'),
    onnx: join(dir, 'model.onnx'),
    ir: join(dir, 'ir.json'),
    /** Quantisation report and float-yardstick figures written at compile time. */
    report: join(dir, 'report.json'),
    circuitDir,
    circuit: join(circuitDir, 'model.circom'),
    r1cs: join(circuitDir, 'model.r1cs'),
    /** Signal names of the r1cs (circom writes it beside; the direct backend too). */
    sym: join(circuitDir, 'model.sym'),
    /** The direct backend's wire map (circuit/direct/wires.ts): its prove-time witness pass needs it. */
    wires: join(circuitDir, 'model.wires'),
    wasm: join(circuitDir, 'model_js', 'model.wasm'),
    /** circom's JS driver of the wasm witness generator. */
    witnessJs: join(circuitDir, 'model_js', 'witness_calculator.js'),
    zkey: join(dir, 'model.zkey'),
    ptau: join(dir, 'pot.ptau'),
    verificationKey: join(dir, 'verification_key.json'),
    verifier: join(dir, 'Verifier.sol'),
    deployment: join(dir, 'deployment.json'),
    /** The Solidity sources `deploy` exports and compiles (verifier, registry, example consumer). */
    contracts: join(dir, 'contracts'),
    /** Where the optimistic game of this model lives (`veriml op deploy`). */
    optimistic: join(dir, 'optimistic.json'),
  }
}

export function proofPaths(dir: string) {
  return {
    dir,
    proof: join(dir, 'proof.json'),
    public: join(dir, 'public.json'),
    output: join(dir, 'output.json'),
  }
}

export type ArtifactPaths = ReturnType<typeof artifactPaths>
