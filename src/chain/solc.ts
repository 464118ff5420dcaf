import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { isAbsolute, normalize, relative, resolve } from 'node:path'
import { type SolcDiagnostic, SolcCompileError } from './errors.js'

/**
 * Compiler settings recorded next to every deployment, so a verifier contract can be
 * reproduced byte for byte. The compiler is the one bundled in the pinned `solc` npm
 * package (never a downloaded one: the toolkit runs offline).
 */
export interface CompilerSettings {
  version: string
  optimizer: { enabled: boolean; runs: number }
  /** Pinned rather than solc's default so output does not change with the compiler's default fork. */
  evmVersion: string
}

export const OPTIMIZER = { enabled: true, runs: 200 } as const
export const EVM_VERSION = 'cancun'

export interface CompiledContract {
  /** `<source unit>:<contract name>` */
  id: string
  abi: readonly unknown[]
  /** 0x-prefixed creation bytecode. */
  bytecode: string
  deployedBytecode: string
}

export interface CompileSolidityParameters {
  /** Directory that source unit names and imports are resolved against; imports cannot leave it. */
  baseDir: string
  /** Source files relative to `baseDir` (imported files are loaded on demand). */
  files: readonly string[]
}

export interface CompileSolidityReturnType {
  compiler: CompilerSettings
  /** Keyed by contract name; a name defined in two files is keyed `<file>:<name>` only. */
  contracts: Record<string, CompiledContract>
  /** Warnings that did not stop compilation. */
  warnings: readonly SolcDiagnostic[]
}

interface SolcOutputError {
  severity: string
  type: string
  message: string
  formattedMessage?: string
  sourceLocation?: { file: string; start: number; end: number }
}

interface SolcOutput {
  errors?: SolcOutputError[]
  contracts?: Record<
    string,
    Record<string, { abi: unknown[]; evm: { bytecode: { object: string }; deployedBytecode: { object: string } } }>
  >
}

interface SolcModule {
  version(): string
  compile(input: string, callbacks: { import: (path: string) => { contents: string } | { error: string } }): string
}

let solcModule: SolcModule | undefined
function loadSolc(): SolcModule {
  // solc-js is CommonJS and loads a 9 MB emscripten module: load once, on first use.
  solcModule ??= createRequire(import.meta.url)('solc') as SolcModule
  return solcModule
}

export function compilerSettings(): CompilerSettings {
  return { version: loadSolc().version(), optimizer: { ...OPTIMIZER }, evmVersion: EVM_VERSION }
}

/** Compiles Solidity with the bundled solc (standard JSON), resolving imports inside `baseDir`. */
export function compileSolidity({ baseDir, files }: CompileSolidityParameters): CompileSolidityReturnType {
  const root = resolve(baseDir)
  const sourceTexts = new Map<string, string>()
  const readSource = (unit: string): string | undefined => {
    // Source unit names are root-relative; refuse anything that escapes the root so a
    // contract folder cannot pull files from elsewhere on disk.
    const path = resolve(root, normalize(unit))
    const rel = relative(root, path)
    if (rel.startsWith('..') || isAbsolute(rel) || !existsSync(path)) return undefined
    const text = readFileSync(path, 'utf8')
    sourceTexts.set(unit, text)
    return text
  }

  const sources: Record<string, { content: string }> = {}
  for (const file of files) {
    const unit = relative(root, resolve(root, file)).split('\\').join('/')
    const content = readSource(unit)
    if (content === undefined) {
      throw new SolcCompileError({
        diagnostics: [
          { file: unit, line: 0, column: 0, severity: 'error', message: `source file not found under ${root}` },
        ],
      })
    }
    sources[unit] = { content }
  }

  const settings = compilerSettings()
  const input = {
    language: 'Solidity',
    sources,
    settings: {
      optimizer: settings.optimizer,
      evmVersion: settings.evmVersion,
      outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] } },
    },
  }
  let output: SolcOutput
  try {
    const raw = loadSolc().compile(JSON.stringify(input), {
      import: (unit) => {
        const content = readSource(unit)
        return content === undefined ? { error: `not found under ${root}: ${unit}` } : { contents: content }
      },
    })
    output = JSON.parse(raw) as SolcOutput
  } catch (error) {
    throw new SolcCompileError({ diagnostics: [], cause: error })
  }

  const diagnostics = (output.errors ?? []).map((e) => toDiagnostic(e, sourceTexts))
  const errors = diagnostics.filter((d) => d.severity === 'error')
  if (errors.length > 0) throw new SolcCompileError({ diagnostics: errors })

  const contracts: Record<string, CompiledContract> = {}
  const seen = new Map<string, number>()
  for (const [unit, byName] of Object.entries(output.contracts ?? {})) {
    for (const [name, c] of Object.entries(byName)) {
      const id = `${unit}:${name}`
      const compiled = {
        id,
        abi: c.abi,
        bytecode: `0x${c.evm.bytecode.object}`,
        deployedBytecode: `0x${c.evm.deployedBytecode.object}`,
      }
      contracts[id] = compiled
      seen.set(name, (seen.get(name) ?? 0) + 1)
      contracts[name] = compiled
    }
  }
  // A bare name is only a valid key when it is unambiguous.
  for (const [name, count] of seen) if (count > 1) delete contracts[name]
  return { compiler: settings, contracts, warnings: diagnostics.filter((d) => d.severity !== 'error') }
}

/** solc reports byte offsets; people want file:line:column (1-based). */
function toDiagnostic(error: SolcOutputError, sources: Map<string, string>): SolcDiagnostic {
  const location = error.sourceLocation
  let line = 0
  let column = 0
  if (location && location.start >= 0) {
    const text = sources.get(location.file)
    if (text !== undefined) {
      const before = Buffer.from(text).subarray(0, location.start).toString()
      const lines = before.split('\n')
      line = lines.length
      column = lines[lines.length - 1].length + 1
    }
  }
  return {
    file: location?.file ?? '<input>',
    line,
    column,
    severity: error.severity,
    message: `${error.type}: ${error.message}`,
  }
}
