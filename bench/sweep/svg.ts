/**
 * Minimal SVG charts, no dependencies: a scatter/line chart with optional log axes and a
 * grouped bar chart. Coordinates are in SVG user units (px).
 */

export interface Series {
  name: string
  points: [number, number][]
  /** Text drawn next to each point (e.g. the model name). */
  labels?: string[]
}

const W = 720,
  H = 440,
  M = { left: 80, right: 170, top: 40, bottom: 60 }
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b']
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

function fmt(v: number): string {
  const a = Math.abs(v)
  if (a >= 1e6) return `${+(v / 1e6).toPrecision(3)}M`
  if (a >= 1e3) return `${+(v / 1e3).toPrecision(3)}k`
  return `${+v.toPrecision(3)}`
}

interface Axis {
  toPx(v: number): number
  ticks: number[]
}

function axis(values: number[], log: boolean, from: number, to: number): Axis {
  if (log) {
    const lo = Math.floor(Math.log10(Math.min(...values)))
    const hi = Math.ceil(Math.log10(Math.max(...values)))
    const span = Math.max(1, hi - lo)
    const ticks = Array.from({ length: span + 1 }, (_, i) => 10 ** (lo + i))
    return { toPx: (v) => from + ((Math.log10(v) - lo) / span) * (to - from), ticks }
  }
  const hi = Math.max(...values) * 1.1 || 1
  const step = 10 ** Math.floor(Math.log10(hi / 5))
  const nice = [1, 2, 5, 10].map((k) => k * step).find((s) => hi / s <= 6) ?? step * 10
  const ticks = Array.from({ length: Math.floor(hi / nice) + 1 }, (_, i) => i * nice)
  const top = ticks.at(-1)! < hi ? ticks.at(-1)! + nice : ticks.at(-1)!
  if (ticks.at(-1)! < top) ticks.push(top)
  return { toPx: (v) => from + (v / top) * (to - from), ticks }
}

function frame(title: string, xLabel: string, yLabel: string, body: string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${(M.left + W - M.right) / 2}" y="22" text-anchor="middle" font-size="15">${esc(title)}</text>`,
    `<text x="${(M.left + W - M.right) / 2}" y="${H - 14}" text-anchor="middle">${esc(xLabel)}</text>`,
    `<text transform="translate(18 ${(M.top + H - M.bottom) / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`,
    ...body,
    '</svg>\n',
  ].join('\n')
}

function legend(names: string[]): string[] {
  return names.flatMap((n, i) => [
    `<rect x="${W - M.right + 14}" y="${M.top + 18 * i}" width="12" height="12" fill="${COLORS[i % COLORS.length]}"/>`,
    `<text x="${W - M.right + 32}" y="${M.top + 18 * i + 11}">${esc(n)}</text>`,
  ])
}

export function lineChart(p: {
  title: string
  xLabel: string
  yLabel: string
  series: Series[]
  logX?: boolean
  logY?: boolean
}): string {
  const all = p.series.flatMap((s) => s.points)
  const x = axis(
    all.map((q) => q[0]),
    !!p.logX,
    M.left,
    W - M.right,
  )
  const y = axis(
    all.map((q) => q[1]),
    !!p.logY,
    H - M.bottom,
    M.top,
  )
  const body: string[] = []
  for (const t of x.ticks) {
    const px = x.toPx(t).toFixed(1)
    body.push(
      `<line x1="${px}" y1="${M.top}" x2="${px}" y2="${H - M.bottom}" stroke="#ddd"/>`,
      `<text x="${px}" y="${H - M.bottom + 16}" text-anchor="middle">${fmt(t)}</text>`,
    )
  }
  for (const t of y.ticks) {
    const py = y.toPx(t).toFixed(1)
    body.push(
      `<line x1="${M.left}" y1="${py}" x2="${W - M.right}" y2="${py}" stroke="#ddd"/>`,
      `<text x="${M.left - 6}" y="${py}" text-anchor="end" dominant-baseline="middle">${fmt(t)}</text>`,
    )
  }
  body.push(
    `<rect x="${M.left}" y="${M.top}" width="${W - M.left - M.right}" height="${H - M.top - M.bottom}" fill="none" stroke="#333"/>`,
  )
  p.series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length]
    const pts = [...s.points.entries()].sort((a, b) => a[1][0] - b[1][0])
    if (pts.length > 1)
      body.push(
        `<polyline fill="none" stroke="${color}" stroke-width="1.5" points="${pts.map(([, q]) => `${x.toPx(q[0]).toFixed(1)},${y.toPx(q[1]).toFixed(1)}`).join(' ')}"/>`,
      )
    for (const [k, q] of pts) {
      const [px, py] = [x.toPx(q[0]).toFixed(1), y.toPx(q[1]).toFixed(1)]
      body.push(
        `<circle cx="${px}" cy="${py}" r="3.5" fill="${color}"><title>${esc(`${s.labels?.[k] ?? ''} ${fmt(q[0])}, ${fmt(q[1])}`)}</title></circle>`,
      )
      if (s.labels?.[k])
        body.push(
          `<text x="${px}" y="${(Number(py) - 7).toFixed(1)}" font-size="9" fill="#555">${esc(s.labels[k])}</text>`,
        )
    }
  })
  body.push(...legend(p.series.map((s) => s.name)))
  return frame(p.title, p.xLabel, p.yLabel, body)
}

/** One group per category, one bar per series; `values[s][c]` may be null (drawn as "n/a"). */
export function barChart(p: {
  title: string
  yLabel: string
  categories: string[]
  series: { name: string; values: (number | null)[] }[]
  logY?: boolean
}): string {
  const vals = p.series.flatMap((s) => s.values).filter((v): v is number => v !== null && v > 0)
  const y = axis(p.logY ? vals : [0, ...vals], !!p.logY, H - M.bottom, M.top)
  const base = p.logY ? H - M.bottom : y.toPx(0)
  const body: string[] = []
  for (const t of y.ticks) {
    const py = y.toPx(t).toFixed(1)
    body.push(
      `<line x1="${M.left}" y1="${py}" x2="${W - M.right}" y2="${py}" stroke="#ddd"/>`,
      `<text x="${M.left - 6}" y="${py}" text-anchor="end" dominant-baseline="middle">${fmt(t)}</text>`,
    )
  }
  const groupW = (W - M.left - M.right) / p.categories.length
  const barW = (groupW * 0.8) / p.series.length
  p.categories.forEach((c, ci) => {
    const gx = M.left + ci * groupW + groupW * 0.1
    p.series.forEach((s, si) => {
      const v = s.values[ci]
      const bx = (gx + si * barW).toFixed(1)
      if (v === null || v <= 0) {
        body.push(`<text x="${bx}" y="${base - 4}" font-size="8" fill="#999">n/a</text>`)
        return
      }
      const top = y.toPx(v)
      body.push(
        `<rect x="${bx}" y="${top.toFixed(1)}" width="${(barW - 1).toFixed(1)}" height="${(base - top).toFixed(1)}" fill="${COLORS[si % COLORS.length]}"><title>${esc(`${c} ${s.name}: ${v}`)}</title></rect>`,
      )
    })
    body.push(
      `<text transform="translate(${(gx + groupW * 0.4).toFixed(1)} ${H - M.bottom + 12}) rotate(20)" font-size="9">${esc(c)}</text>`,
    )
  })
  body.push(
    `<rect x="${M.left}" y="${M.top}" width="${W - M.left - M.right}" height="${H - M.top - M.bottom}" fill="none" stroke="#333"/>`,
  )
  body.push(...legend(p.series.map((s) => s.name)))
  return frame(p.title, '', p.yLabel, body)
}
