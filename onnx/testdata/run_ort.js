// Runs an ONNX model with ONNX Runtime (onnxruntime-node) for the onnx
// package's tests. Reads JSON from stdin:
//   {"model": "path.onnx", "inputs": {"name": {"dtype": "float32"|"int64", "dims": [...], "data": [...]}}}
// and writes to stdout {"outputs": {"name": {"dims": [...], "data": [...]}}, "metadata": {...}}.
const ort = require('onnxruntime-node');

async function main() {
  let text = '';
  for await (const chunk of process.stdin) text += chunk;
  const req = JSON.parse(text);
  const session = await ort.InferenceSession.create(req.model, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
  });
  const feeds = {};
  for (const [name, t] of Object.entries(req.inputs)) {
    const data = t.dtype === 'int64'
      ? BigInt64Array.from(t.data.map((v) => BigInt(v)))
      : Float32Array.from(t.data);
    feeds[name] = new ort.Tensor(t.dtype, data, t.dims);
  }
  const results = await session.run(feeds);
  const outputs = {};
  for (const [name, t] of Object.entries(results)) {
    outputs[name] = { dims: t.dims, data: Array.from(t.data, Number) };
  }
  process.stdout.write(JSON.stringify({
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    outputs,
  }));
}

main().catch((e) => {
  process.stderr.write(String(e && e.stack ? e.stack : e) + '\n');
  process.exit(1);
});
