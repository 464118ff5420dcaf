import { createProverService, startWorker } from '../../serve/service.js'
import { readApiKeys } from '../../serve/auth.js'
import { registerSecret } from '../../util/secrets.js'
import { privateKeyFlag } from '../chain-flags.js'
import { type Flags, intFlag, stringFlag, urlFlag } from '../flags.js'
import { UsageError } from '../format.js'
import type { Verb } from '../verb.js'

/** `veriml serve` and `veriml worker`: parse flags, start, print one line, run until SIGINT/SIGTERM. */

export async function serve(dirs: string[], flags: Flags, verb: Verb): Promise<number> {
  requireDirs(dirs, verb)
  const redisUrl = redisFlag(flags)
  const apiKeys = await readApiKeys({ file: stringFlag(flags, 'api-keys-file', { what: 'FILE' }) })
  const rpcUrl = urlFlag(flags, 'rpc')
  // Checked now (a malformed key is a usage error at start, not a failed job later).
  const privateKey = rpcUrl === undefined ? undefined : privateKeyFlag(flags)
  const service = await createProverService({
    models: dirs,
    port: intFlag(flags, 'port', { min: 0, max: 65535 }) ?? 8080,
    host: stringFlag(flags, 'host', { what: 'ADDRESS' }) ?? '127.0.0.1',
    redisUrl,
    concurrency: intFlag(flags, 'concurrency', { min: 1, max: 256 }) ?? 1,
    apiKeys,
    ...(rpcUrl === undefined ? {} : { onchain: { rpcUrl, privateKey } }),
    queue: {
      ...optional('maxQueued', intFlag(flags, 'max-queued', { min: 1, max: 1_000_000 })),
      ...optional('timeoutSeconds', intFlag(flags, 'job-timeout', { min: 0, max: 86_400 })),
      ...optional('ttlSeconds', intFlag(flags, 'ttl', { min: 1, max: 30 * 86_400 })),
    },
  })
  const mode = redisUrl ? `jobs in ${printable(redisUrl)}` : 'embedded queue'
  const onchain = rpcUrl ? `, on-chain via ${rpcUrl}` : ''
  const keys = apiKeys.length > 0 ? `, ${apiKeys.length} API key${apiKeys.length === 1 ? '' : 's'}` : ''
  console.log(
    `veriml serve: ${service.url} (${dirs.length} model${dirs.length === 1 ? '' : 's'}, ${mode}${keys}${onchain})`,
  )
  await untilSignal()
  await service.close()
  return 0
}

export async function worker(dirs: string[], flags: Flags, verb: Verb): Promise<number> {
  requireDirs(dirs, verb)
  const redisUrl = redisFlag(flags)
  if (redisUrl === undefined)
    throw new UsageError({ problem: '--redis URL is required', details: [`usage: ${verb.usage}`] })
  const concurrency = intFlag(flags, 'concurrency', { min: 1, max: 256 }) ?? 1
  const handle = await startWorker({
    models: dirs,
    redisUrl,
    concurrency,
    timeoutSeconds: intFlag(flags, 'job-timeout', { min: 0, max: 86_400 }),
    lockSeconds: intFlag(flags, 'lock-timeout', { min: 1, max: 3600 }),
  })
  console.log(
    `veriml worker: proving ${dirs.length} model${dirs.length === 1 ? '' : 's'} from ${printable(redisUrl)} (concurrency ${concurrency})`,
  )
  await untilSignal()
  // Waits for the proofs in flight: a job cut short would wait for its lock to expire.
  await handle.close()
  return 0
}

function requireDirs(dirs: string[], verb: Verb): void {
  if (dirs.length === 0)
    throw new UsageError({ problem: 'expected one or more build folders', details: [`usage: ${verb.usage}`] })
}

/** --redis: a redis:// or rediss:// URL; its password is registered as a secret, so it is never printed. */
function redisFlag(flags: Flags): string | undefined {
  const v = stringFlag(flags, 'redis', { what: 'URL' })
  if (v === undefined) return undefined
  let url: URL | undefined
  try {
    url = new URL(v)
  } catch {}
  if (!url || !['redis:', 'rediss:'].includes(url.protocol))
    throw new UsageError({ problem: '--redis must be a URL like redis://127.0.0.1:6379' })
  if (url.password) registerSecret(decodeURIComponent(url.password))
  return v
}

/** The URL without its credentials. */
function printable(url: string): string {
  const u = new URL(url)
  u.username = ''
  u.password = ''
  return u.toString()
}

const optional = <K extends string, V>(key: K, value: V | undefined) =>
  (value === undefined ? {} : { [key]: value }) as Partial<Record<K, V>>

function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
      resolve()
    }
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
  })
}
