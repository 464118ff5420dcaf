/**
 * Peak resident memory while a piece of work runs: this process's RSS plus that of its
 * direct children (circom2 compiles in a child Node process), sampled every `everyMs`.
 * Sampling runs on the event loop, so a long synchronous stretch is seen only at its ends;
 * `process.resourceUsage().maxRSS` (this process, whole lifetime) is kept alongside.
 */
import { readdirSync, readFileSync } from 'node:fs'

function rssOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) * 1024 : 0
  } catch {
    return 0 // the child exited between listing and reading
  }
}

function childPids(): number[] {
  const pids: number[] = []
  try {
    for (const task of readdirSync(`/proc/${process.pid}/task`)) {
      const text = readFileSync(`/proc/${process.pid}/task/${task}/children`, 'utf8').trim()
      if (text) pids.push(...text.split(/\s+/).map(Number))
    }
  } catch {
    // no /proc (not Linux): children are not counted
  }
  return pids
}

/** Bytes: this process + its children, right now. */
export function currentRss(): number {
  return process.memoryUsage().rss + childPids().reduce((a, pid) => a + rssOf(pid), 0)
}

export interface PeakMemory {
  /** Largest sampled RSS of this process and its children, bytes. */
  peakRssBytes: number
}

export async function withPeakMemory<T>(run: () => Promise<T>, everyMs = 50): Promise<[T, PeakMemory]> {
  let peak = currentRss()
  const timer = setInterval(() => {
    peak = Math.max(peak, currentRss())
  }, everyMs)
  try {
    const result = await run()
    peak = Math.max(peak, currentRss())
    return [result, { peakRssBytes: peak }]
  } finally {
    clearInterval(timer)
  }
}
