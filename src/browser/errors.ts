import { BaseError, type BaseErrorParameters } from '../errors.js'

/**
 * A fetched artifact is not the one the build's manifest records (a tampered or truncated
 * zkey, another compile's wasm or wire map), or the manifest does not record it. Nothing is
 * computed from such a file: a foreign zkey would prove against another circuit's keys.
 */
export class ArtifactIntegrityError extends BaseError {
  override name = 'ArtifactIntegrityError'
  /** The artifact's path inside the build folder (`model.zkey`, `circuit/model.wires`). */
  readonly file: string
  readonly url: string
  readonly problem: string
  constructor(p: BaseErrorParameters & { file: string; url: string; problem: string }) {
    super(`${p.file} ${p.problem}: refusing to use it`, {
      details: [
        `Fetched from ${p.url}. Serve the build folder as \`veriml compile\`/\`setup\` left it (or rebuild the site with \`veriml bundle\`).`,
        ...(p.details ?? []),
      ],
      cause: p.cause,
    })
    this.file = p.file
    this.url = p.url
    this.problem = p.problem
  }
}

/** An artifact could not be fetched (HTTP error, network down): names the file and the status. */
export class ArtifactFetchError extends BaseError {
  override name = 'ArtifactFetchError'
  readonly file: string
  readonly url: string
  readonly problem: string
  constructor(p: BaseErrorParameters & { file: string; url: string; problem: string }) {
    super(`${p.file}: ${p.problem} (${p.url})`, { details: p.details, cause: p.cause })
    this.file = p.file
    this.url = p.url
    this.problem = p.problem
  }
}

/** The fetched model cannot be proven in the browser as it is (an optimistic build, no setup, a malformed manifest). */
export class BrowserModelError extends BaseError {
  override name = 'BrowserModelError'
  readonly url: string
  readonly problem: string
  constructor(p: BaseErrorParameters & { url: string; problem: string }) {
    super(`${p.url}: ${p.problem}`, { details: p.details, cause: p.cause })
    this.url = p.url
    this.problem = p.problem
  }
}
