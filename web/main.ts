/**
 * The proving page: draw (or pick) a digit, see the reference executor's prediction at once,
 * prove in a Web Worker, verify here, and optionally record the proof on chain. The model's
 * URL and the chain settings come from config.json (written by `veriml web` / `veriml bundle`).
 */
import {
  type BrowserModel,
  type BrowserVerifyReturnType,
  loadModel,
  recordOnChain,
  runModel,
  verifyProof,
} from '../src/browser/index.js'
import type { PageConfig, ProveStep, WorkerMessage } from './protocol.js'

const SIDE = 28
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T

/** What the last prove produced: read by the tests and shown in the page. */
export interface PageResult {
  proof: unknown
  publicSignals: string[]
  /** The digit the page showed when Prove was pressed (the reference executor's). */
  predicted: number
  /** The digit decoded from the proof's public signals (null: hashed outputs). */
  proven: number | null
  valid: boolean
  witnessMs: number
  proveMs: number
  totalMs: number
  threads: number
  hardwareConcurrency: number
}
declare global {
  interface Window {
    verimlResult?: PageResult
    verimlError?: string
  }
}

const pad = $<HTMLCanvasElement>('pad')
const ctx = pad.getContext('2d', { willReadFrequently: true })!
const small = Object.assign(document.createElement('canvas'), { width: SIDE, height: SIDE })
const smallCtx = small.getContext('2d', { willReadFrequently: true })!
let pixels = new Array<number>(SIDE * SIDE).fill(0)
let model: BrowserModel
let config: PageConfig
let predicted = -1

function showError(message: string): void {
  window.verimlError = message
  $('error').textContent = message
  for (const li of $('steps').querySelectorAll('li.active')) li.classList.remove('active')
  ;($('prove') as HTMLButtonElement).disabled = false
}

const argmax = (v: readonly number[]) => v.indexOf(Math.max(...v))

/** The reference executor on the current pixels: the prediction, at once, in this thread. */
/** The model's input: the canvas's pixels (a 28×28 model), else the JSON typed in the page. */
let currentInput = (): unknown => ({ input_data: [pixels] })

function predict(): void {
  let run: ReturnType<typeof runModel>
  try {
    run = runModel({ model, input: currentInput() })
  } catch (error) {
    // A half-typed or wrong-shaped input: said where the prediction goes, Prove stays possible once it parses.
    $('prediction').textContent = '?'
    $('prediction').dataset.digit = ''
    $('bars').textContent = error instanceof Error ? error.message.split('\n')[0] : String(error)
    return
  }
  const scores = run.probabilities?.[0] ?? softmax(run.real[0])
  predicted = argmax(run.real[0])
  const el = $('prediction')
  el.textContent = String(predicted)
  el.dataset.digit = String(predicted)
  $('bars').replaceChildren(
    ...scores.flatMap((p, d) => {
      const label = Object.assign(document.createElement('span'), { textContent: String(d) })
      const bar = document.createElement('div')
      bar.className = 'bar'
      bar.style.width = `${Math.max(1, Math.round(p * 100))}%`
      return [label, bar]
    }),
  )
}

function softmax(v: readonly number[]): number[] {
  const m = Math.max(...v)
  const e = v.map((x) => Math.exp(x - m))
  const s = e.reduce((a, b) => a + b, 0)
  return e.map((x) => x / s)
}

/** The 280×280 drawing averaged down to 28×28 intensities in 0..1 (the MNIST form). */
function pixelsFromPad(): number[] {
  smallCtx.imageSmoothingEnabled = true
  smallCtx.imageSmoothingQuality = 'high'
  smallCtx.clearRect(0, 0, SIDE, SIDE)
  smallCtx.drawImage(pad, 0, 0, SIDE, SIDE)
  const data = smallCtx.getImageData(0, 0, SIDE, SIDE).data
  return Array.from({ length: SIDE * SIDE }, (_, i) => Math.round((data[4 * i] / 255) * 1000) / 1000)
}

function paintPixels(values: readonly number[]): void {
  const image = smallCtx.createImageData(SIDE, SIDE)
  values.forEach((v, i) => {
    const g = Math.round(v * 255)
    image.data.set([g, g, g, 255], 4 * i)
  })
  smallCtx.putImageData(image, 0, 0)
  ctx.imageSmoothingEnabled = false
  ctx.drawImage(small, 0, 0, pad.width, pad.height)
}

function clearPad(): void {
  ctx.fillStyle = '#000'
  ctx.fillRect(0, 0, pad.width, pad.height)
  pixels = pixelsFromPad()
  predict()
}

function setupDrawing(): void {
  let last: { x: number; y: number } | null = null
  let pending = false
  const at = (e: PointerEvent) => {
    const r = pad.getBoundingClientRect()
    return { x: ((e.clientX - r.left) * pad.width) / r.width, y: ((e.clientY - r.top) * pad.height) / r.height }
  }
  const stroke = (to: { x: number; y: number }) => {
    ctx.strokeStyle = '#fff'
    ctx.lineWidth = 22
    ctx.lineCap = 'round'
    ctx.lineJoin = 'round'
    ctx.beginPath()
    ctx.moveTo((last ?? to).x, (last ?? to).y)
    ctx.lineTo(to.x, to.y)
    ctx.stroke()
    last = to
    // One prediction per frame while drawing: the executor is fast, the pointer faster.
    if (pending) return
    pending = true
    requestAnimationFrame(() => {
      pending = false
      pixels = pixelsFromPad()
      predict()
    })
  }
  pad.addEventListener('pointerdown', (e) => {
    pad.setPointerCapture(e.pointerId)
    last = null
    ;($('digits') as HTMLSelectElement).value = ''
    stroke(at(e))
  })
  pad.addEventListener('pointermove', (e) => {
    if (last) stroke(at(e))
  })
  const end = () => {
    last = null
    pixels = pixelsFromPad()
    predict()
  }
  pad.addEventListener('pointerup', end)
  pad.addEventListener('pointercancel', end)
  $('clear').addEventListener('click', clearPad)
}

/** A model that does not take one 28×28 image gets a JSON box instead of the canvas. */
function setupJsonInput(): void {
  pad.hidden = true
  $('pad-controls').hidden = true
  $('input-box').hidden = false
  const box = $<HTMLTextAreaElement>('input-json')
  box.value = JSON.stringify({
    input_data: model.ir.inputs.map((i) => new Array(i.shape.reduce((a, b) => a * b, 1)).fill(0)),
  })
  currentInput = () => JSON.parse(box.value)
  box.addEventListener('input', predict)
  predict()
}

const takesImage = () =>
  model.ir.inputs.length === 1 && model.ir.inputs[0].shape.reduce((a, b) => a * b, 1) === SIDE * SIDE

async function setupDigits(): Promise<void> {
  const select = $<HTMLSelectElement>('digits')
  const { digits } = (await (await fetch('digits.json')).json()) as { digits: { label: number; pixels: number[] }[] }
  for (const [i, d] of digits.entries()) select.append(new Option(`held-out digit (label ${d.label})`, String(i)))
  select.addEventListener('change', () => {
    const d = digits[Number(select.value)]
    if (!d) return
    // The digit's own pixels are the input (not the canvas's rendering of them).
    pixels = d.pixels
    paintPixels(pixels)
    predict()
  })
}

function describePrivacy(): void {
  const { input, output } = model.manifest.layout.visibility
  const el = $('privacy')
  const inputLine =
    input === 'public'
      ? 'This build makes the input PUBLIC: the proof’s public signals contain your drawing, so it leaves this device with the proof.'
      : input === 'hashed'
        ? 'Your drawing never leaves this device: the proof carries only its Poseidon hash.'
        : 'Your drawing never leaves this device: the proof reveals nothing about it.'
  el.classList.toggle('public', input === 'public')
  el.innerHTML = `<strong>What leaves this device:</strong> the proof and its ${model.manifest.layout.count} public signals only (${output === 'public' ? 'the model’s output' : 'a hash of the output'}${input === 'hashed' ? ', the input’s hash' : input === 'public' ? ', the input' : ''}${model.manifest.layout.weights ? ', the weight commitment' : ''}). ${inputLine} The witness and the proof are computed here, in a Web Worker; nothing is sent anywhere unless you record the proof on chain.`
}

function setStep(step: ProveStep | 'verifying' | 'done'): void {
  const order = ['loading', 'witness', 'proving', 'verifying']
  const at = step === 'done' ? order.length : order.indexOf(step)
  for (const li of $('steps').querySelectorAll('li')) {
    const i = order.indexOf(li.dataset.step ?? '')
    li.className = i < at ? 'done' : i === at ? 'active' : ''
  }
}

/**
 * Whether snarkjs proves on the worker's thread alone: `?threads=1` or `?threads=all` in the
 * URL; by default one thread on 2 cores or fewer, where its Web Workers only add copying
 * (measured in bench/results/browser-*.md), all of them otherwise.
 */
function singleThread(): boolean {
  const asked = new URLSearchParams(location.search).get('threads')
  return asked === '1' || (asked !== 'all' && navigator.hardwareConcurrency <= 2)
}

/**
 * The prover worker, kept between proves: the model's artifacts (checked once), the witness
 * generator and snarkjs's curve stay loaded, so a second proof pays for proving only.
 */
let prover: Worker | null = null
const proverWorker = (): Worker => {
  prover ??= new Worker('./worker.js', { type: 'module' })
  return prover
}
function stopWorker(): void {
  prover?.terminate()
  prover = null
}

/**
 * Starts the worker and has it fetch and check every artifact as soon as the page is up:
 * once that is done, proving works offline. A failure (a tampered key, a broken worker) is
 * shown at once; the next Prove starts a fresh worker and tries again.
 */
function warmUp(): void {
  const worker = proverWorker()
  const failed = (message: string) => {
    stopWorker()
    showError(message)
  }
  worker.onerror = (e) => {
    e.preventDefault()
    failed(`The prover (Web Worker) failed: ${e.message || 'it could not be started'}`)
  }
  worker.onmessage = (event: MessageEvent<WorkerMessage>) => {
    if (event.data.type === 'error') failed(event.data.message)
    else if (event.data.type === 'loaded')
      // The page verifies with its own copy of the verification key: fetched (and checked) now too.
      model.verificationKey().then(
        () => {
          document.body.dataset.keys = 'loaded'
        },
        (error: unknown) => showError(error instanceof Error ? error.message : String(error)),
      )
  }
  worker.postMessage({ type: 'load', model: config.model })
}

function prove(): void {
  const button = $<HTMLButtonElement>('prove')
  button.disabled = true
  window.verimlResult = undefined
  window.verimlError = undefined
  $('error').textContent = ''
  $('result').textContent = ''
  $('chain').textContent = ''
  const shown = predicted
  const started = performance.now()
  const timer = setInterval(() => {
    $('elapsed').textContent = `${((performance.now() - started) / 1000).toFixed(1)} s`
  }, 100)
  const worker = proverWorker()
  const finish = (failed = false) => {
    clearInterval(timer)
    // A failed worker is not reused: the next Prove starts a fresh one.
    if (failed) stopWorker()
    $('elapsed').textContent = `${((performance.now() - started) / 1000).toFixed(2)} s`
  }
  // A worker that fails to load or throws outside a message (a broken bundle, out of memory) is reported, not waited on.
  worker.onerror = (e) => {
    e.preventDefault()
    finish(true)
    showError(`The prover (Web Worker) failed: ${e.message || 'it could not be started'}`)
  }
  worker.onmessageerror = () => {
    finish(true)
    showError('The prover (Web Worker) sent a message that could not be read.')
  }
  worker.onmessage = (event: MessageEvent<WorkerMessage>) => {
    const m = event.data
    if (m.type === 'loaded') return
    if (m.type === 'step') setStep(m.step)
    else if (m.type === 'error') {
      finish(true)
      showError(m.message)
    } else {
      setStep('verifying')
      verifyProof({ model, proof: m.proof, publicSignals: m.publicSignals })
        .then((v) => {
          finish()
          setStep('done')
          showResult(m, v, shown, performance.now() - started)
          button.disabled = false
        })
        .catch((error: unknown) => {
          finish()
          showError(error instanceof Error ? error.message : String(error))
        })
    }
  }
  let input: unknown
  try {
    input = currentInput()
  } catch (error) {
    finish()
    showError(`The input is not valid JSON: ${error instanceof Error ? error.message : String(error)}`)
    return
  }
  worker.postMessage({ type: 'prove', model: config.model, input, singleThread: singleThread() })
}

function showResult(
  m: Extract<WorkerMessage, { type: 'proved' }>,
  v: BrowserVerifyReturnType,
  shown: number,
  totalMs: number,
): void {
  const proven = v.outputs ? argmax(v.outputs[0].map(Number)) : null
  window.verimlResult = {
    proof: m.proof,
    publicSignals: m.publicSignals,
    predicted: shown,
    proven,
    valid: v.valid,
    witnessMs: m.witnessMs,
    proveMs: m.proveMs,
    totalMs,
    threads: m.threads,
    hardwareConcurrency: m.hardwareConcurrency,
  }
  const el = $('result')
  el.dataset.valid = String(v.valid)
  el.innerHTML = `<div class="${v.valid ? 'ok' : ''}">${v.valid ? 'Proof VALID' : 'Proof INVALID'}${proven === null ? '' : `: the model outputs ${proven}`}</div>
    <div>witness ${m.witnessMs.toFixed(0)} ms, proving ${m.proveMs.toFixed(0)} ms (${m.threads} thread${m.threads === 1 ? '' : 's'}), verify ${v.verifyMs.toFixed(0)} ms</div>
    <div class="mono">public signals: ${m.publicSignals.join(', ')}</div>`
  if (config.chain && v.valid) {
    const chain = config.chain
    const send = Object.assign(document.createElement('button'), { type: 'button', textContent: 'Record on chain' })
    send.addEventListener('click', () => {
      send.disabled = true
      $('chain').append(' sending…')
      recordOnChain({
        rpc: new URL(chain.rpc, location.href).href,
        registry: chain.registry,
        modelId: chain.modelId,
        proof: m.proof,
        publicSignals: m.publicSignals,
      })
        .then((r) => {
          $('chain').innerHTML =
            `<div class="ok">Recorded by the registry</div><div class="mono">tx ${r.txHash}</div><div>gas ${r.gasUsed} (block ${r.blockNumber}, from ${r.from})</div>`
        })
        .catch((error: unknown) => showError(error instanceof Error ? error.message : String(error)))
    })
    $('chain').replaceChildren(send)
  }
}

async function start(): Promise<void> {
  config = (await (await fetch('config.json')).json()) as PageConfig
  model = await loadModel(config.model)
  const m = model.manifest
  $('model-line').textContent =
    `${m.modelName}: ${m.constraintCount.toLocaleString()} constraints, model id ${m.modelId.slice(0, 10)}…${m.setup?.insecure ? ' (INSECURE dev setup)' : ''}`
  describePrivacy()
  if (takesImage()) {
    setupDrawing()
    clearPad()
    await setupDigits()
  } else setupJsonInput()
  $('prove').addEventListener('click', prove)
  warmUp()
  ;($('prove') as HTMLButtonElement).disabled = false
  document.body.dataset.ready = 'true'
}

start().catch((error: unknown) => showError(error instanceof Error ? error.message : String(error)))
