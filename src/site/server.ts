/**
 * The proving page's site served (node:http on 127.0.0.1, GET only, nothing outside the site's
 * file list; the JSON-RPC endpoint proxied at /rpc) or written as a static folder, whole or
 * not at all. `veriml web` and `veriml bundle` are these two, with flags.
 */
import { randomBytes } from 'node:crypto'
import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises'
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http'
import { basename, dirname, join, resolve } from 'node:path'
import { BaseError, type BaseErrorParameters } from '../errors.js'
import { sha256 } from '../prove/manifest.js'
import { fileError } from '../util/external.js'
import { VERIML_VERSION } from '../util/versions.js'
import { type Site, mimeType, siteBytes } from './site.js'

/** `--out` of a bundle is a file, or a folder of something else: it is left as it is. */
export class SiteFolderError extends BaseError {
  override name = 'SiteFolderError'
  readonly path: string
  readonly problem: string
  constructor(p: BaseErrorParameters & { path: string; problem: string }) {
    super(`--out ${p.path} ${p.problem}`, {
      details: ['Give a new or empty folder, or a previous `veriml bundle` output to replace.', ...(p.details ?? [])],
      cause: p.cause,
    })
    this.path = p.path
    this.problem = p.problem
  }
}

export interface WebServer {
  url: string
  close(): Promise<void>
}

export interface StartWebServerParameters {
  site: Site
  port?: number
  host?: string
  /** JSON-RPC endpoint proxied at /rpc (same origin: the page needs no CORS from the node). */
  rpcUrl?: string
}

/** Serves `site` until closed; port 0 picks a free one. */
export async function startWebServer(p: StartWebServerParameters): Promise<WebServer> {
  const server = createServer((req, res) => {
    handle(p, req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' })
      res.end(error instanceof Error ? error.message : String(error))
    })
  })
  const host = p.host ?? '127.0.0.1'
  await new Promise<void>((ok, fail) => {
    server.once('error', fail)
    server.listen(p.port ?? 5173, host, () => ok())
  })
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : p.port
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/`,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections()
        server.close(() => ok())
      }),
  }
}

async function handle(p: StartWebServerParameters, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname).replace(/^\/+/, '') || 'index.html'
  if (path === 'rpc' && p.rpcUrl && req.method === 'POST') return proxyRpc(p.rpcUrl, req, res)
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { Allow: 'GET, HEAD' }).end()
    return
  }
  // Only the site's own files: no path is ever joined onto a folder, so `..` reaches nothing.
  const file = p.site.get(path)
  if (!file) {
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end(`not found: /${path}`)
    return
  }
  const bytes = await siteBytes(file)
  res.writeHead(200, {
    'Content-Type': mimeType(path),
    'Content-Length': bytes.byteLength,
    // A rebuilt model must not be mixed with cached artifacts of the old one (the page would refuse them).
    'Cache-Control': 'no-cache',
  })
  res.end(req.method === 'HEAD' ? undefined : bytes)
}

async function proxyRpc(rpcUrl: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const chunks: Buffer[] = []
  for await (const c of req) chunks.push(c as Buffer)
  const upstream = await fetch(rpcUrl, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: Buffer.concat(chunks),
  })
  res.writeHead(upstream.status, { 'Content-Type': 'application/json' })
  res.end(Buffer.from(await upstream.arrayBuffer()))
}

export interface BundleSiteReturnType {
  outDir: string
  files: Record<string, string>
}

/**
 * Writes `site` to `outDir` through a staging folder beside it, renamed into place, with
 * site-manifest.json (every file's sha256). An existing `outDir` is replaced only when it is
 * a previous bundle (it has site-manifest.json) or empty; anything else is refused.
 */
export async function writeSite(site: Site, outDir: string, modelId: string): Promise<BundleSiteReturnType> {
  const target = resolve(outDir)
  const existing = await stat(target).catch(() => null)
  if (existing) {
    const entries = existing.isDirectory() ? await readdir(target) : null
    if (!entries || (entries.length > 0 && !entries.includes('site-manifest.json')))
      throw new SiteFolderError({
        path: outDir,
        problem: `is ${entries ? 'a folder that is not a veriml bundle' : 'a file'}`,
      })
  }
  const staging = join(dirname(target), `.${basename(target)}.staging-${randomBytes(4).toString('hex')}`)
  try {
    const files: Record<string, string> = {}
    for (const [path, file] of site) {
      const bytes = await siteBytes(file)
      const to = join(staging, ...path.split('/'))
      await mkdir(dirname(to), { recursive: true })
      await writeFile(to, bytes)
      files[path] = sha256(bytes)
    }
    const manifest = { generator: `veriml ${VERIML_VERSION}`, modelId, files }
    await writeFile(join(staging, 'site-manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`)
    if (existing) await rm(target, { recursive: true, force: true })
    await rename(staging, target)
    return { outDir: target, files }
  } catch (error) {
    await rm(staging, { recursive: true, force: true })
    throw fileError(error, outDir, '--out')
  }
}
