/**
 * The service's metrics in Prometheus' text exposition format, written by hand (three
 * series need no client library): queue depth, jobs done and failed, prove time histogram.
 * On an API node with --redis the counts are of the jobs it saw end (BullMQ's queue events).
 */

/** Upper bounds of the prove time histogram, in seconds. */
const BUCKETS = [0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300]

export interface ServiceMetrics {
  finished(ok: boolean, proveMs?: number): void
  /** Mean prove time in seconds so far (undefined before the first proof). */
  meanProveSeconds(): number | undefined
  text(depth: { waiting: number; active: number }): string
}

export function createMetrics(): ServiceMetrics {
  let done = 0
  let failed = 0
  let sum = 0
  let count = 0
  const counts = BUCKETS.map(() => 0)
  return {
    finished(ok, proveMs) {
      if (!ok) {
        failed++
        return
      }
      done++
      if (proveMs === undefined) return
      const s = proveMs / 1000
      sum += s
      count++
      BUCKETS.forEach((b, i) => {
        if (s <= b) counts[i]++
      })
    },
    meanProveSeconds: () => (count === 0 ? undefined : sum / count),
    text(depth) {
      return [
        '# HELP veriml_queue_jobs Proof jobs in the queue, by state.',
        '# TYPE veriml_queue_jobs gauge',
        `veriml_queue_jobs{state="waiting"} ${depth.waiting}`,
        `veriml_queue_jobs{state="active"} ${depth.active}`,
        '# HELP veriml_jobs_done_total Proof jobs completed.',
        '# TYPE veriml_jobs_done_total counter',
        `veriml_jobs_done_total ${done}`,
        '# HELP veriml_jobs_failed_total Proof jobs failed (after their retries).',
        '# TYPE veriml_jobs_failed_total counter',
        `veriml_jobs_failed_total ${failed}`,
        '# HELP veriml_prove_seconds Groth16 prove time per job (snarkjs, after the witness).',
        '# TYPE veriml_prove_seconds histogram',
        ...BUCKETS.map((b, i) => `veriml_prove_seconds_bucket{le="${b}"} ${counts[i]}`),
        `veriml_prove_seconds_bucket{le="+Inf"} ${count}`,
        `veriml_prove_seconds_sum ${sum}`,
        `veriml_prove_seconds_count ${count}`,
        '',
      ].join('\n')
    },
  }
}
