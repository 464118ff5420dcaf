import { FLAG } from '../flags.js'
import { lazyVerb, type Verb } from '../verb.js'

/** The prover service's verbs (issue 18): usage, summary and flags. What they do is in actions/serve.ts. */

const concurrency = { type: 'string', help: 'proofs at once in this process (default 1)' } as const
const jobTimeout = { type: 'string', help: 'seconds a job may prove before it fails (default 600; 0: none)' } as const

export const serve: Verb = lazyVerb(
  {
    usage:
      'veriml serve DIR… [--port 8080] [--host 127.0.0.1] [--redis URL] [--concurrency N] [--max-queued N] [--job-timeout S] [--ttl S] [--api-keys-file F] [--rpc URL [--private-key KEY]]',
    summary: 'an HTTP prover: POST /v1/models/ID/proofs, GET /v1/jobs/ID (embedded queue, or BullMQ on Redis)',
    flags: {
      port: { type: 'string', help: 'TCP port (default 8080; 0: any free port)' },
      host: { type: 'string', help: 'address to listen on (default 127.0.0.1)' },
      redis: {
        type: 'string',
        help: 'queue jobs in this Redis (redis://HOST:PORT) for `veriml worker` processes; without it, proofs run in this process',
      },
      concurrency,
      'max-queued': { type: 'string', help: 'jobs waiting or proving before submissions get 429 (default 100)' },
      'job-timeout': jobTimeout,
      ttl: { type: 'string', help: 'seconds a finished job and its proof are kept (default 3600)' },
      'api-keys-file': {
        type: 'string',
        help: 'accepted API keys, one a line (also env VERIML_API_KEYS, comma-separated); none: the API is open',
      },
      rpc: {
        ...FLAG.rpc,
        help: 'JSON-RPC endpoint for `?onchain=true`: proofs sent to the registry in each DIR/deployment.json',
      },
      'private-key': FLAG['private-key'],
    },
  },
  async () => (await import('../actions/serve.js')).serve,
)

export const worker: Verb = lazyVerb(
  {
    usage: 'veriml worker DIR… --redis URL [--concurrency N] [--job-timeout S] [--lock-timeout S]',
    summary: 'proves the jobs a `veriml serve --redis` node queues; run one or more, on any machines',
    flags: {
      redis: { type: 'string', help: 'the Redis the API node queues jobs in (redis://HOST:PORT)' },
      concurrency,
      'job-timeout': jobTimeout,
      'lock-timeout': {
        type: 'string',
        help: 'seconds after which a job of a dead worker goes to another (default 30)',
      },
    },
  },
  async () => (await import('../actions/serve.js')).worker,
)
