import { describe, expect, it } from 'vitest'
import { resolveAnvilBinary, startAnvil } from '../../src/chain/anvil.js'
import { AnvilNotFoundError, AnvilStartError, RpcUnreachableError } from '../../src/chain/errors.js'
import { connect, rpcRequest } from '../../src/chain/rpc.js'

describe('startAnvil', () => {
  it('starts on loopback with funded dev accounts and stops for good', async () => {
    const anvil = await startAnvil()
    try {
      expect(anvil.rpcUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
      expect(await anvil.provider.getBlockNumber()).toBe(0)
      expect((await anvil.provider.getNetwork()).chainId).toBe(anvil.chainId)
      expect(await anvil.provider.getBalance(anvil.accounts[0].address)).toBeGreaterThan(0n)
      expect(anvil.accounts[0].address).toBe('0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266')
    } finally {
      await anvil.stop()
    }
    await expect(rpcRequest(anvil.rpcUrl, 'eth_chainId', [], 500)).rejects.toThrow()
    expect(() => process.kill(anvil.pid, 0)).toThrow()
    await anvil.stop() // idempotent
  })

  it('runs two nodes side by side on different ports', async () => {
    const [a, b] = await Promise.all([startAnvil({ chainId: 1337 }), startAnvil()])
    try {
      expect(a.port).not.toBe(b.port)
      expect(BigInt((await rpcRequest(a.rpcUrl, 'eth_chainId')) as string)).toBe(1337n)
    } finally {
      await Promise.all([a.stop(), b.stop()])
    }
  })

  it('fails clearly when the binary is missing', async () => {
    await expect(startAnvil({ binaryPath: '/nonexistent/anvil' })).rejects.toThrow(AnvilStartError)
    const arch = Object.getOwnPropertyDescriptor(process, 'arch') as PropertyDescriptor
    Object.defineProperty(process, 'arch', { value: 'mips' })
    try {
      expect(() => resolveAnvilBinary()).toThrow(AnvilNotFoundError)
    } finally {
      Object.defineProperty(process, 'arch', arch)
    }
  })

  it('fails when the port is taken', async () => {
    const a = await startAnvil()
    try {
      await expect(startAnvil({ port: a.port, startTimeoutMs: 5_000 })).rejects.toThrow(AnvilStartError)
    } finally {
      await a.stop()
    }
  })
})

describe('connect', () => {
  it('reports an unreachable endpoint', async () => {
    await expect(connect('http://127.0.0.1:9', { timeoutMs: 1_000 })).rejects.toThrow(RpcUnreachableError)
  })
})
