/**
 * The proving page's site: what `veriml web` serves and `veriml bundle` writes. One list of
 * files (site paths → where the bytes come from) built from a build folder, so the served
 * site and the static one are the same: the page bundle (dist/web, built by
 * scripts/build-browser.mjs), config.json, the Poseidon table, and the build's artifacts the
 * browser needs under model/ (each checked against the manifest here, and again by the page).
 */
import { readFile, readdir, stat } from 'node:fs/promises'
import { join, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ARTIFACT_FILES, POSEIDON_FILE } from '../browser/model.js'
import { loadDeployment } from '../chain/deploy.js'
import { hashesAnything } from '../circuit/direct/hash.js'
import { type ZkModel, loadModel } from '../model.js'
import { type ArtifactName, checkArtifacts } from '../prove/build-folder.js'
import { MissingArtifactError } from '../prove/errors.js'
import type { PageConfig } from '../browser/page.js'

/** The package root: dist/site/ or src/site/ up two. */
const ROOT = fileURLToPath(new URL('../../', import.meta.url))
/** The built page (scripts/build-browser.mjs). */
export const PAGE_DIR = join(ROOT, 'dist', 'web')
const PAGE_FILES = ['index.html', 'main.js', 'worker.js', 'digits.json']
/** Where the site puts the build folder. */
const MODEL_PREFIX = 'model/'

/** A file of the site: bytes held, or a file on disk read when served or copied. */
export type SiteFile = { bytes: Uint8Array } | { path: string }
export type Site = Map<string, SiteFile>

export interface SiteOptions {
  /** A node to record proofs on (its unlocked dev account signs); the build must be deployed there (DIR/deployment.json). */
  rpc?: { url: string; proxied: boolean }
}

/**
 * The site for the build in `dir`: refused (the CLI's usual errors) unless it is a zk build
 * with a setup whose artifacts match its manifest, and unless the page is built.
 */
export async function buildSite(dir: string, options: SiteOptions = {}): Promise<{ site: Site; model: ZkModel }> {
  const model = await loadModel(dir, { target: 'zk' })
  const { manifest, paths } = model
  if (!manifest.setup)
    throw new MissingArtifactError({
      path: paths.zkey,
      hint: `no proving key: run \`veriml setup ${dir} --dev\` (or --ptau FILE) first.`,
    })
  const direct = manifest.compiler === 'direct'
  const needed: ArtifactName[] = [...(direct ? ['wires' as const] : ['wasm' as const, 'witnessJs' as const])]
  await checkArtifacts(dir, manifest, [...needed, 'zkey', 'verificationKey'])
  const site: Site = new Map()
  for (const f of PAGE_FILES) {
    const path = join(PAGE_DIR, f)
    await stat(path).catch((cause: unknown) => {
      throw new MissingArtifactError({
        path,
        hint: 'the proving page is not built: run `npm run build` (tsc, then scripts/build-browser.mjs).',
        cause,
      })
    })
    site.set(f, { path })
  }
  const files = [
    ARTIFACT_FILES.manifest,
    ARTIFACT_FILES.ir,
    ...(direct ? [ARTIFACT_FILES.wires] : [ARTIFACT_FILES.wasm, ARTIFACT_FILES.witnessJs]),
    ARTIFACT_FILES.zkey,
    ARTIFACT_FILES.verificationKey,
  ]
  for (const f of files) site.set(MODEL_PREFIX + f, { path: join(dir, ...f.split('/')) })
  if (direct && hashesAnything(manifest.layout.visibility, manifest.layout.weights ? 'hashed' : 'constant'))
    site.set(MODEL_PREFIX + POSEIDON_FILE, { bytes: await poseidonJson() })
  const config: PageConfig = { model: MODEL_PREFIX }
  if (options.rpc) {
    const deployment = await loadDeployment(paths.deployment)
    config.chain = {
      rpc: options.rpc.proxied ? 'rpc' : options.rpc.url,
      registry: deployment.registry.address,
      modelId: deployment.modelId,
    }
  }
  site.set('config.json', { bytes: new TextEncoder().encode(`${JSON.stringify(config, null, 2)}\n`) })
  return { site, model }
}

/** circomlibjs's Poseidon constants as JSON (the direct witness's hash tables), loaded as the Node prove loads them. */
async function poseidonJson(): Promise<Uint8Array> {
  const entry = import.meta.resolve('circomlibjs')
  const module = (await import(new URL('./src/poseidon_constants_opt.js', entry).href)) as { default: unknown }
  return new TextEncoder().encode(JSON.stringify(module.default))
}

/** A static folder (a `veriml bundle` output) as a site: every file under it. */
export async function siteFromFolder(folder: string): Promise<Site> {
  const site: Site = new Map()
  for (const entry of await readdir(folder, { recursive: true, withFileTypes: true }))
    if (entry.isFile()) {
      const path = join(entry.parentPath, entry.name)
      site.set(relative(folder, path).split(sep).join('/'), { path })
    }
  return site
}

export const siteBytes = async (file: SiteFile): Promise<Uint8Array> =>
  'bytes' in file ? file.bytes : new Uint8Array(await readFile(file.path))

const MIME: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  json: 'application/json',
  wasm: 'application/wasm',
  png: 'image/png',
  css: 'text/css; charset=utf-8',
}

/** The Content-Type of a site path (application/wasm for the witness generator: browsers compile it streaming only then). */
export const mimeType = (path: string): string =>
  MIME[path.slice(path.lastIndexOf('.') + 1)] ?? 'application/octet-stream'
