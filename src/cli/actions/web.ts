/**
 * `veriml web DIR` and `veriml bundle DIR --out SITE`: flags and printing over src/site (the
 * site, its server, its static copy).
 */
import { buildSite } from '../../site/site.js'
import { startWebServer, writeSite } from '../../site/server.js'
import { type Flags, intFlag, requiredString, stringFlag, urlFlag } from '../flags.js'
import { table } from '../format.js'
import { type Verb, positional } from '../verb.js'

export async function web(args: string[], flags: Flags, verb: Verb): Promise<number> {
  const [dir] = positional(args, 1, verb.usage)
  const port = intFlag(flags, 'port', { min: 0, max: 65_535 }) ?? 5173
  const host = stringFlag(flags, 'host', { what: 'HOST' }) ?? '127.0.0.1'
  const rpcUrl = urlFlag(flags, 'rpc')
  const { site, model } = await buildSite(dir, rpcUrl ? { rpc: { url: rpcUrl, proxied: true } } : {})
  const server = await startWebServer({ site, port, host, rpcUrl })
  const { visibility } = model.manifest.layout
  console.log(
    table([
      [
        'model',
        `${model.manifest.modelName} (${model.manifest.constraintCount} constraints), input ${visibility.input}`,
      ],
      ['page', server.url],
      ...(rpcUrl ? [['chain', `${rpcUrl} (proxied at ${server.url}rpc; the node's unlocked account signs)`]] : []),
    ]),
  )
  if (visibility.input === 'public')
    console.log(
      'note: this build has a PUBLIC input: proofs made in the page reveal it (compile with --input-visibility hashed).',
    )
  console.log('Ctrl-C to stop.')
  await new Promise<void>((ok) => {
    process.once('SIGINT', ok)
    process.once('SIGTERM', ok)
  })
  await server.close()
  return 0
}

export async function bundle(args: string[], flags: Flags, verb: Verb): Promise<number> {
  const [dir] = positional(args, 1, verb.usage)
  const outDir = requiredString(flags, 'out', 'DIR')
  const { site, model } = await buildSite(dir)
  const r = await writeSite(site, outDir, model.modelId)
  console.log(
    table([
      ['written', `${r.outDir} (${Object.keys(r.files).length} files + site-manifest.json with their sha256)`],
      ['serve', `any static web server, e.g. \`npx http-server ${outDir}\`; the page loads nothing from elsewhere`],
    ]),
  )
  return 0
}
