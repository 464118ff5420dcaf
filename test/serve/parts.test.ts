import { describe, expect, it } from 'vitest'
import { apiKeyCheck, parseApiKeys } from '../../src/serve/auth.js'
import { jobId } from '../../src/serve/job.js'
import { createMetrics } from '../../src/serve/metrics.js'
import { redact } from '../../src/util/secrets.js'

/** The prover service's pure parts: API keys, job ids, the metrics text. No proof, no server. */
describe('API keys', () => {
  it('reads keys from the env value (comma-separated) and the file (one a line, # comments)', () => {
    expect(parseApiKeys(' alpha-key-1 ,, beta-key-22 ', '# ops\ngamma-key-333\n\n  delta-key-4444  \n')).toEqual([
      'alpha-key-1',
      'beta-key-22',
      'gamma-key-333',
      'delta-key-4444',
    ])
    expect(parseApiKeys(undefined, undefined)).toEqual([])
  })

  it('accepts exactly a configured key, as Bearer or x-api-key, and registers keys as secrets', () => {
    expect(apiKeyCheck([])).toBeUndefined()
    const check = apiKeyCheck(['first-key-abcdef', 'second-key-123456'])!
    expect(check({ authorization: 'Bearer first-key-abcdef' })).toBe(true)
    expect(check({ authorization: 'bearer second-key-123456' })).toBe(true)
    expect(check({ 'x-api-key': 'second-key-123456' })).toBe(true)
    for (const refused of ['first-key-abcde', 'first-key-abcdefg', 'FIRST-KEY-ABCDEF', '', 'Basic first-key-abcdef'])
      expect(check({ authorization: refused.startsWith('Basic') ? refused : `Bearer ${refused}` }), refused).toBe(false)
    expect(check({})).toBe(false)
    expect(redact('key: second-key-123456')).toBe('key: <redacted>')
  })
})

describe('job ids', () => {
  it('are one per model and quantised input', () => {
    const a = jobId('0xAB', [[1n, 2n], [3n]])
    expect(a).toMatch(/^[0-9a-f]{64}$/)
    expect(jobId('0xab', [[1n, 2n], [3n]])).toBe(a)
    expect(jobId('0xac', [[1n, 2n], [3n]])).not.toBe(a)
    expect(jobId('0xab', [[1n], [2n, 3n]])).not.toBe(a)
    expect(jobId('0xab', [[1n, 2n], [4n]])).not.toBe(a)
  })
})

describe('metrics', () => {
  it('writes Prometheus text: depth gauge, done and failed counters, a cumulative prove time histogram', () => {
    const m = createMetrics()
    expect(m.meanProveSeconds()).toBeUndefined()
    m.finished(true, 800)
    m.finished(true, 3000)
    m.finished(false)
    const text = m.text({ waiting: 2, active: 1 })
    expect(text).toContain('veriml_queue_jobs{state="waiting"} 2\nveriml_queue_jobs{state="active"} 1')
    expect(text).toMatch(/^veriml_jobs_done_total 2$/m)
    expect(text).toMatch(/^veriml_jobs_failed_total 1$/m)
    expect(text).toMatch(/^veriml_prove_seconds_bucket\{le="0.5"\} 0$/m)
    expect(text).toMatch(/^veriml_prove_seconds_bucket\{le="1"\} 1$/m)
    expect(text).toMatch(/^veriml_prove_seconds_bucket\{le="5"\} 2$/m)
    expect(text).toMatch(/^veriml_prove_seconds_bucket\{le="\+Inf"\} 2$/m)
    expect(text).toMatch(/^veriml_prove_seconds_sum 3.8$/m)
    expect(text).toMatch(/^veriml_prove_seconds_count 2$/m)
    expect(text).toMatch(/^# TYPE veriml_prove_seconds histogram$/m)
    expect(m.meanProveSeconds()).toBeCloseTo(1.9, 12)
  })
})
