// A plain ONNX Runtime embedding pipeline, the yardstick for PaperVec's embedder speed:
// Hugging Face tokenizers (truncation 256, pad to the batch's longest), onnxruntime-node 1.29 on
// PaperVec's model.onnx with ORT's default threading and full graph optimization, mean pooling and
// L2 normalization in JS. Batches in input order, as a plain pipeline does.
//
//   ONNXRUNTIME_NODE_INSTALL=skip npm ci --prefix benchmarks/baselines   (its install script would fetch CUDA binaries)
//   node benchmarks/baselines/plain-ort-pipeline.mjs TEXTS.txt OUT.f32 [BATCH]
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import ort from "onnxruntime-node";
import { Tokenizer } from "@anush008/tokenizers";

const here = path.dirname(fileURLToPath(import.meta.url));
const modelDir = path.join(here, "..", "..", "native-models", "out", "all-MiniLM-L6-v2");
const [input, output, batchArg] = process.argv.slice(2);
const batchSize = Number(batchArg || 8);
const texts = fs.readFileSync(input, "utf8").split("\n").filter((l, i, all) => i < all.length - 1 || l.length > 0);

const tokenizer = Tokenizer.fromFile(path.join(modelDir, "tokenizer.json"));
tokenizer.setTruncation(256);
tokenizer.setPadding({ maxLength: undefined });
const session = await ort.InferenceSession.create(path.join(modelDir, "model.onnx"), { graphOptimizationLevel: "all" });

const dim = 384;
const out = new Float32Array(texts.length * dim);
for (let start = 0; start < texts.length; start += batchSize) {
  const batch = texts.slice(start, start + batchSize);
  const encodings = await Promise.all(batch.map(t => tokenizer.encode(t)));
  const seq = Math.max(...encodings.map(e => e.getIds().length));
  const ids = new BigInt64Array(batch.length * seq), mask = new BigInt64Array(batch.length * seq), types = new BigInt64Array(batch.length * seq);
  encodings.forEach((e, r) => e.getIds().forEach((id, t) => { ids[r * seq + t] = BigInt(id); mask[r * seq + t] = 1n; }));
  const result = await session.run({
    input_ids: new ort.Tensor("int64", ids, [batch.length, seq]),
    attention_mask: new ort.Tensor("int64", mask, [batch.length, seq]),
    token_type_ids: new ort.Tensor("int64", types, [batch.length, seq]),
  });
  const hidden = result.last_hidden_state.data;
  for (let r = 0; r < batch.length; r++) {
    const n = encodings[r].getIds().length, row = out.subarray((start + r) * dim, (start + r + 1) * dim);
    for (let t = 0; t < n; t++) for (let d = 0; d < dim; d++) row[d] += hidden[(r * seq + t) * dim + d];
    let norm = 0;
    for (let d = 0; d < dim; d++) norm += row[d] * row[d];
    norm = Math.sqrt(norm);
    for (let d = 0; d < dim; d++) row[d] /= norm;
  }
}
fs.writeFileSync(output, Buffer.from(out.buffer));
