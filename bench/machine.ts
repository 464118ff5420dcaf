import { cpus, loadavg } from 'node:os'

/**
 * The machine a bench ran on, for its result file. Other jobs share this machine: the 1-minute
 * load averages at the start (`loadAtStart`, from `loadavg()`) and now say how much (2 cores:
 * load 2 = saturated).
 */
export function machineRecord(loadAtStart: readonly number[]) {
  return {
    cpus: cpus().length,
    cpu: cpus()[0]?.model,
    node: process.version,
    loadAverage1m: { start: loadAtStart[0], end: loadavg()[0] },
  }
}
