import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import onnxProto from 'onnx-proto'
import { afterAll, describe, expect, it } from 'vitest'
import { UnsupportedOpsError, lowerOnnx } from '../../src/onnx/lower.js'
import { LoweringError } from '../../src/onnx/ops/common.js'
import { OnnxParseError, parseOnnx } from '../../src/onnx/parse.js'
import { buildModel } from '../../src/onnx/write.js'
import { cliInProcess } from '../helpers/cli.js'

const { onnx } = onnxProto
const T = onnx.AttributeProto.AttributeType
const D = onnx.TensorProto.DataType

/** x [1, 2, 4] → LSTM (activations: STRINGS) → If (then/else: GRAPH) → y; what an RNN export holds. */
function recurrentModel(): Uint8Array {
  const proto = onnx.ModelProto.decode(
    buildModel({
      name: 'recurrent',
      inputs: [{ name: 'x', shape: [1, 2, 4] }],
      outputs: [{ name: 'y', shape: [1, 2, 4] }],
      initializers: [{ name: 'cond', dims: [], data: Uint8Array.of(1), type: 'bool' }],
      nodes: [
        { op: 'Relu', name: 'lstm', inputs: ['x'], outputs: ['h'] },
        { op: 'Relu', name: 'branch', inputs: ['h'], outputs: ['y'] },
      ],
    }),
  )
  const [lstm, branch] = proto.graph!.node!
  lstm.opType = 'LSTM'
  lstm.attribute = [
    onnx.AttributeProto.create({
      name: 'activations',
      type: T.STRINGS,
      strings: ['Sigmoid', 'Tanh', 'Tanh'].map((s) => new TextEncoder().encode(s)),
    }),
    onnx.AttributeProto.create({ name: 'hidden_size', type: T.INT, i: 4 }),
  ]
  branch.opType = 'If'
  branch.input = ['cond']
  const body = onnx.GraphProto.create({ name: 'body', node: [], output: [] })
  branch.attribute = [
    onnx.AttributeProto.create({ name: 'then_branch', type: T.GRAPH, g: body }),
    onnx.AttributeProto.create({ name: 'else_branch', type: T.GRAPH, g: body }),
  ]
  return onnx.ModelProto.encode(proto).finish()
}

/** One Relu carrying `attribute`, for parsing the attribute types no op here reads. */
function withAttribute(attribute: InstanceType<typeof onnx.AttributeProto>, op = 'Relu'): Uint8Array {
  const proto = onnx.ModelProto.decode(
    buildModel({
      name: 'attr',
      inputs: [{ name: 'x', shape: [2, 3] }],
      outputs: [{ name: 'y', shape: [2, 3] }],
      nodes: [{ op: 'Relu', name: 'n', inputs: ['x'], outputs: ['y'] }],
    }),
  )
  proto.graph!.node![0].attribute = [attribute]
  proto.graph!.node![0].opType = op
  return onnx.ModelProto.encode(proto).finish()
}

const tensor = (dims: number[], values: number[] | bigint[], dataType: number, name = '') =>
  onnx.TensorProto.create({
    name,
    dims,
    dataType,
    ...(dataType === D.INT64 ? { int64Data: values.map(Number) } : { floatData: values.map(Number) }),
  })

const dir = mkdtempSync(join(tmpdir(), 'veriml-attributes-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('ONNX attributes of every type', () => {
  it('parses STRINGS and GRAPH attributes, and lowering names If as unsupported (LSTM is lowered: recurrent.ts)', () => {
    const model = parseOnnx(recurrentModel(), 'recurrent.onnx')
    expect(model.nodes[0].attributes.activations).toEqual(['Sigmoid', 'Tanh', 'Tanh'])
    expect(model.nodes[1].attributes.then_branch).toEqual({ opaque: 'graph' })
    expect(() => lowerOnnx(model)).toThrow(UnsupportedOpsError)
    expect(() => lowerOnnx(model)).toThrow(/1 unsupported ONNX node: branch \(If, opset 13\)/)
  })

  it('veriml inspect reports the unsupported ops by name with a non-zero exit, no stack trace', async () => {
    const path = join(dir, 'recurrent.onnx')
    writeFileSync(path, recurrentModel())
    const r = await cliInProcess('inspect', path)
    expect(r.code).not.toBe(0)
    const all = `${r.stdout}\n${r.stderr}`
    expect(all).toMatch(/\bIf\b/)
    expect(all).not.toMatch(/\n\s+at .+:\d+:\d+/)
  })

  it('reads a sparse tensor dense, with linear [NNZ] and coordinate [NNZ, rank] indices alike', () => {
    const values = tensor([3], [1.5, -2, 4], D.FLOAT)
    const linear = onnx.SparseTensorProto.create({ dims: [2, 3], values, indices: tensor([3], [0, 4, 5], D.INT64) })
    const coords = onnx.SparseTensorProto.create({
      dims: [2, 3],
      values,
      indices: tensor([3, 2], [0, 0, 1, 1, 1, 2], D.INT64),
    })
    const dense = [1.5, 0, 0, 0, -2, 4]
    for (const s of [linear, coords]) {
      const m = parseOnnx(
        withAttribute(onnx.AttributeProto.create({ name: 'w', type: T.SPARSE_TENSOR, sparseTensor: s })),
      )
      expect(m.nodes[0].attributes.w).toMatchObject({ dims: [2, 3], data: Float64Array.from(dense) })
    }
    const many = parseOnnx(
      withAttribute(onnx.AttributeProto.create({ name: 'w', type: T.SPARSE_TENSORS, sparseTensors: [linear, coords] })),
    )
    expect((many.nodes[0].attributes.w as { data: Float64Array }[]).map((t) => Array.from(t.data))).toEqual([
      dense,
      dense,
    ])
  })

  it('reads a sparse initializer dense, and a Constant sparse_value lowers to its dense tensor', () => {
    const proto = onnx.ModelProto.decode(
      buildModel({
        name: 'sparse',
        inputs: [{ name: 'x', shape: [2, 3] }],
        outputs: [{ name: 'y', shape: [2, 3] }],
        // `b` is written dense for the writer's checks, then replaced by its sparse form.
        initializers: [{ name: 'b', dims: [2, 3], data: new Float32Array(6) }],
        nodes: [
          { op: 'Constant', name: 'c', inputs: [], outputs: ['c'] },
          { op: 'Add', name: 'add', inputs: ['x', 'c'], outputs: ['y0'] },
          { op: 'Add', name: 'add2', inputs: ['y0', 'b'], outputs: ['y'] },
        ],
      }),
    )
    const sparse = (name: string) =>
      onnx.SparseTensorProto.create({
        dims: [2, 3],
        values: tensor([2], [5, 7], D.FLOAT, name),
        indices: tensor([2], [1, 3], D.INT64),
      })
    proto.graph!.initializer = []
    proto.graph!.sparseInitializer = [sparse('b')]
    proto.graph!.node![0].attribute = [
      onnx.AttributeProto.create({ name: 'sparse_value', type: T.SPARSE_TENSOR, sparseTensor: sparse('') }),
    ]
    const model = parseOnnx(onnx.ModelProto.encode(proto).finish())
    expect(Array.from(model.initializers.get('b')!.data, Number)).toEqual([0, 5, 0, 7, 0, 0])
    const graph = lowerOnnx(model)
    // x + c + b: one affine step whose bias is the two sparse tensors, dense.
    expect(graph.steps.map((s) => s.op.kind)).toEqual(['affine'])
    expect(Array.from((graph.steps[0].op as { bias: Float64Array }).bias)).toEqual([0, 10, 0, 14, 0, 0])
  })

  it('refuses a sparse index outside the tensor', () => {
    const s = onnx.SparseTensorProto.create({
      dims: [2, 3],
      values: tensor([1], [1], D.FLOAT),
      indices: tensor([1], [6], D.INT64),
    })
    expect(() =>
      parseOnnx(withAttribute(onnx.AttributeProto.create({ name: 'w', type: T.SPARSE_TENSOR, sparseTensor: s }))),
    ).toThrow(OnnxParseError)
  })

  it('parses TENSORS and TYPE_PROTO(S) attributes', () => {
    const ts = parseOnnx(
      withAttribute(
        onnx.AttributeProto.create({ name: 'w', type: T.TENSORS, tensors: [tensor([2], [1, 2], D.FLOAT)] }),
      ),
    )
    expect(ts.nodes[0].attributes.w).toMatchObject([{ dims: [2], data: Float64Array.of(1, 2) }])
    const tp = parseOnnx(withAttribute(onnx.AttributeProto.create({ name: 'w', type: T.TYPE_PROTO, tp: {} })))
    expect(tp.nodes[0].attributes.w).toEqual({ opaque: 'type_proto' })
    const tps = parseOnnx(
      withAttribute(onnx.AttributeProto.create({ name: 'w', type: T.TYPE_PROTOS, typeProtos: [{}] })),
    )
    expect(tps.nodes[0].attributes.w).toEqual({ opaque: 'type_protos' })
  })

  it('an attribute of the wrong type is a LoweringError naming node, attribute and the type expected', () => {
    const strings = onnx.AttributeProto.create({
      name: 'alpha',
      type: T.STRINGS,
      strings: [new TextEncoder().encode('x')],
    })
    const model = parseOnnx(withAttribute(strings, 'LeakyRelu'))
    expect(() => lowerOnnx(model)).toThrow(LoweringError)
    expect(() => lowerOnnx(model)).toThrow(
      /node "n" \(LeakyRelu\): attribute "alpha" must be a number, the model gives a list of strings/,
    )
  })
})
