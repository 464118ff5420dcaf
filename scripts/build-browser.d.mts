/** Types of scripts/build-browser.mjs for the tests that call it. */
import type { Metafile } from 'esbuild'

export interface BuildBrowserOptions {
  /** Default: dist/. */
  outDir?: string
  /** Replaces the library entry (src/browser/index.ts). */
  entry?: string
  minify?: boolean
  /** Also build the page (dist/web); default true. */
  page?: boolean
}

export function buildBrowser(options?: BuildBrowserOptions): Promise<{ library: Metafile; page?: Metafile }>
