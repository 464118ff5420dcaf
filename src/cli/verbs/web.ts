import { lazyVerb, type Verb } from '../verb.js'
import { FLAG } from '../flags.js'

/** The browser verbs (issue 19): usage, summary and flags. What they do is in actions/web.ts, imported when one runs. */

export const web: Verb = lazyVerb(
  {
    usage: 'veriml web DIR [--port 5173] [--host 127.0.0.1] [--rpc URL]',
    summary: 'serves a page that proves this model in the browser (the input never leaves the device)',
    flags: {
      port: { type: 'string', help: 'port, 0..65535 (default 5173; 0: any free port)' },
      host: { type: 'string', help: 'address to listen on (default 127.0.0.1)' },
      rpc: {
        ...FLAG.rpc,
        help: 'a node with the build deployed (DIR/deployment.json) and an unlocked account: the page records proofs there',
      },
    },
    rpcHint: 'Check --rpc, or start a local chain with `veriml node` and deploy the build there.',
    arity: 1,
  },
  async () => (await import('../actions/web.js')).web,
)

export const bundle: Verb = lazyVerb(
  {
    usage: 'veriml bundle DIR --out SITE_DIR',
    summary: 'the proving page and the model as a static folder any web server can host',
    flags: { out: { type: 'string', help: 'site folder (new, empty, or a previous bundle to replace)' } },
    arity: 1,
  },
  async () => (await import('../actions/web.js')).bundle,
)
