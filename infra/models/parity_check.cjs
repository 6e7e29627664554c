// Runs parity fixtures (test/fixtures/parity/<prefix>*/) through onnxruntime-node and prints
// max |onnx - pytorch| per output; exit 1 above 1e-4.
// Usage (repo root): node infra/models/parity_check.cjs [packDir] [fixturesDir] [prefix: segmenter-|embedder-|""]
const fs = require('fs');
const path = require('path');
const ort = require(path.resolve('node_modules/onnxruntime-node'));

const pack = process.argv[2] || 'models/shapes-tiny';
const root = process.argv[3] || 'test/fixtures/parity';
const prefix = process.argv[4] || '';
const ARRAYS = { float32: Float32Array, int64: BigInt64Array, int32: Int32Array };

function load(dir, t) {
  const buf = fs.readFileSync(path.join(dir, t.file));
  const copy = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
  return new ort.Tensor(t.dtype, new ARRAYS[t.dtype](copy), t.shape);
}

(async () => {
  let worst = 0;
  for (const name of fs.readdirSync(root).filter((d) => d.startsWith(prefix))) {
    const dir = path.join(root, name);
    const meta = JSON.parse(fs.readFileSync(path.join(dir, 'meta.json'), 'utf8'));
    const session = await ort.InferenceSession.create(path.join(pack, meta.model));
    const feeds = Object.fromEntries(meta.inputs.map((t) => [t.name, load(dir, t)]));
    const result = await session.run(feeds);
    for (const t of meta.outputs) {
      const want = load(dir, t).data;
      const got = result[t.name];
      if (JSON.stringify(got.dims) !== JSON.stringify(t.shape)) throw new Error(`${name}/${t.name} shape ${got.dims}`);
      let diff = 0;
      for (let i = 0; i < want.length; i++) diff = Math.max(diff, Math.abs(want[i] - got.data[i]));
      worst = Math.max(worst, diff);
      console.log(`${name} ${t.name} [${t.shape}] max|diff| = ${diff.toExponential(3)}`);
    }
  }
  console.log(`worst ${worst.toExponential(3)}`);
  process.exit(worst <= 1e-4 ? 0 : 1);
})();
