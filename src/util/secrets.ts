/**
 * Secrets (private keys) this process was given, so that nothing printed can carry them.
 * The CLI registers every key flag and VERIML_PRIVATE_KEY before a verb runs; the error
 * printer passes everything it prints through `redact`. Defence in depth: the key-taking
 * code already keeps keys out of messages and causes (src/chain/rpc.ts `walletFor`).
 */
const secrets = new Set<string>()

/** Shortest registered fragment worth hiding: shorter strings would redact ordinary words. */
const MIN_SECRET_CHARS = 8

export function registerSecret(value: string | undefined): void {
  if (value === undefined) return
  const trimmed = value.trim()
  if (trimmed.length < MIN_SECRET_CHARS) return
  secrets.add(trimmed)
  // The same key without its 0x prefix, as ethers or a hex dump may print it.
  const body = trimmed.replace(/^0x/i, '')
  if (body.length >= MIN_SECRET_CHARS) secrets.add(body)
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/**
 * Replaces every registered secret (case-insensitively) with `<redacted>`, then any hex run
 * of 20 or more digits that shares 20 digits with a registered secret: a key with a digit
 * added, dropped or changed still carries most of the secret.
 */
export function redact(text: string): string {
  let out = text
  for (const s of [...secrets].sort((a, b) => b.length - a.length))
    out = out.replace(new RegExp(escapeRegExp(s), 'gi'), '<redacted>')
  if (secrets.size === 0) return out
  const bodies = [...secrets].map((s) => s.toLowerCase())
  return out.replace(/(0x)?[0-9a-fA-F]{20,}/g, (run) => {
    const r = run.toLowerCase().replace(/^0x/, '')
    for (const b of bodies)
      for (let i = 0; i + 20 <= b.length; i++) if (r.includes(b.slice(i, i + 20))) return '<redacted>'
    return run
  })
}
