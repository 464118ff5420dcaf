import { createRequire } from 'node:module'
import { BaseError } from '../src/errors.js'

/** One 28×28 digit, row-major, pixel intensities in 0..1. */
export interface Sample {
  pixels: Float32Array
  label: number
}

export interface MnistSplit {
  train: Sample[]
  test: Sample[]
}

export const MNIST_PIXELS = 28 * 28
export const MNIST_SPLIT_SEED = 20240611
export const MNIST_TRAIN_SIZE = 8000
export const MNIST_TEST_SIZE = 2000

/** The `mnist` package's per-class accessor; we only use the deterministic parts. */
interface MnistDigitClass {
  length: number
  get(index: number): number[]
}

/**
 * mulberry32: a 32-bit PRNG, so splits and weights are reproducible from one recorded seed.
 * Math.random cannot be seeded, which is why `mnist.set()` is avoided.
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Fisher–Yates in place, driven by a seeded generator. */
export function shuffleInPlace<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[items[i], items[j]] = [items[j], items[i]]
  }
  return items
}

export class MnistDataError extends BaseError {
  override name = 'MnistDataError'
  readonly expected: number
  readonly actual: number

  constructor({ expected, actual }: { expected: number; actual: number }) {
    super(`the mnist package holds ${actual} digits, expected ${expected}`, {
      details: ['The fixed split depends on the package contents; check the installed `mnist` version (1.1.0).'],
    })
    this.expected = expected
    this.actual = actual
  }
}

let cached: MnistSplit | undefined

/**
 * All 10,000 digits of the `mnist` package, shuffled with MNIST_SPLIT_SEED and split
 * 8,000 train / 2,000 test. The same split every call, on every machine.
 */
export function loadMnist(): MnistSplit {
  // Decoding the package's JSON takes about a second, so the split is built once; callers
  // get their own arrays (free to reorder) over shared, read-only samples.
  if (cached) return { train: cached.train.slice(), test: cached.test.slice() }
  // The package is CommonJS without types; createRequire keeps it out of the ESM loader.
  const mnist = createRequire(import.meta.url)('mnist') as MnistDigitClass[]
  const all: Sample[] = []
  for (let label = 0; label < 10; label++) {
    const digits = mnist[label]
    for (let i = 0; i < digits.length; i++) {
      all.push({ pixels: Float32Array.from(digits.get(i)), label })
    }
  }
  if (all.length !== MNIST_TRAIN_SIZE + MNIST_TEST_SIZE) {
    throw new MnistDataError({ expected: MNIST_TRAIN_SIZE + MNIST_TEST_SIZE, actual: all.length })
  }
  shuffleInPlace(all, seededRandom(MNIST_SPLIT_SEED))
  cached = { train: all.slice(0, MNIST_TRAIN_SIZE), test: all.slice(MNIST_TRAIN_SIZE) }
  return { train: cached.train.slice(), test: cached.test.slice() }
}
