import { expect, it } from 'vitest'
import * as veriml from '../src/index.js'

it('exports the library surface (snapshot: a change here is an API change)', () => {
  expect(Object.keys(veriml).sort()).toMatchSnapshot()
})
