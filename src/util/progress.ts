/**
 * Progress for long steps: a live line with elapsed seconds on a terminal, nothing in pipes
 * and CI (so logs stay clean and tests stay quiet).
 */
export interface Progress {
  step<T>(label: string, run: () => Promise<T>): Promise<T>
  info(line: string): void
}

export const silentProgress: Progress = { step: (_, run) => run(), info: () => {} }

export function terminalProgress(stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY || process.env.CI) return silentProgress
  return {
    async step(label, run) {
      const started = Date.now()
      const frames = '⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏'
      let i = 0
      const draw = () =>
        stream.write(`\r\x1b[2K${frames[i++ % frames.length]} ${label} ${((Date.now() - started) / 1000).toFixed(0)}s`)
      draw()
      const timer = setInterval(draw, 120)
      try {
        const result = await run()
        stream.write(`\r\x1b[2K✔ ${label} (${((Date.now() - started) / 1000).toFixed(1)}s)\n`)
        return result
      } catch (error) {
        stream.write(`\r\x1b[2K✖ ${label}\n`)
        throw error
      } finally {
        clearInterval(timer)
      }
    },
    info: (line) => stream.write(`${line}\n`),
  }
}
