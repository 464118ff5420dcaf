/**
 * Peak VmHWM (MB) of this process's children while `fn` runs, polled every 50 ms: circom2
 * compiles in a child Node process, and its high-water mark is the compiler's memory.
 */
import { readdirSync, readFileSync } from 'node:fs'

export async function childPeakMb<T>(fn: () => Promise<T>): Promise<{ value: T; peakMb: number }> {
  let peak = 0
  const poll = () => {
    for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
      try {
        const status = readFileSync(`/proc/${pid}/status`, 'utf8')
        if (Number(/PPid:\s+(\d+)/.exec(status)?.[1]) !== process.pid) continue
        const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0)
        peak = Math.max(peak, Math.round(kb / 1024))
      } catch {
        // The process ended between the listing and the read.
      }
    }
  }
  const timer = setInterval(poll, 50)
  try {
    const value = await fn()
    poll()
    return { value, peakMb: peak }
  } finally {
    clearInterval(timer)
  }
}
