// Validation of the lab panel's messages: well-formed ones pass through unchanged, and each kind of
// malformed one is refused with a reason that names the offending field.
import * as assert from 'node:assert/strict';
import { fromPanel, parseFromPanel, parseToPanel, toPanel } from '../../../src/protocol/panel';

function refused(result: { ok: boolean; error?: string }, fragment: string): void {
  assert.equal(result.ok, false, 'expected the message to be refused');
  assert.ok(result.error?.includes(fragment), `reason "${result.error}" should mention "${fragment}"`);
}

const attention = (weights: number[][][], tokens = ['a', 'b']) =>
  toPanel('attention/didCompute', { requestId: 'r1', tokens, weights });

describe('panel protocol', () => {
  it('accepts a well-formed request from the panel and returns it as is', () => {
    const m = fromPanel('generate/start', {
      requestId: 'g1',
      prompt: 'Every effort moves you',
      maxNewTokens: 20,
      temperature: 0.8,
      topK: 40,
      topP: 0.95,
      seed: 123,
      topCandidates: 5,
    });
    const r = parseFromPanel(m);
    assert.ok(r.ok);
    assert.deepEqual(r.value, m);
  });

  it('accepts optional fields left out and empty bodies', () => {
    assert.ok(parseFromPanel({ type: 'ready', body: {} }).ok);
    const r = parseFromPanel({
      type: 'generate/start',
      body: { requestId: 'g', prompt: '', maxNewTokens: 1, temperature: 0, topCandidates: 0 },
    });
    assert.ok(r.ok, r.ok ? '' : r.error);
  });

  it('refuses non-objects, unknown types and extra envelope fields', () => {
    refused(parseFromPanel(null), 'expected an object');
    refused(parseFromPanel('ready'), 'expected an object');
    refused(parseFromPanel({ type: 'train/explode', body: {} }), 'unknown type "train/explode"');
    refused(parseFromPanel({ type: 'toString', body: {} }), 'unknown type');
    refused(parseFromPanel({ type: 'ready', body: {}, extra: 1 }), 'unexpected field extra');
    // A host-to-panel type is not a valid panel-to-host message.
    refused(parseFromPanel({ type: 'editor/didSelect', body: { text: 'x' } }), 'unknown type');
  });

  it('names the field that is missing, mistyped, out of range or unexpected', () => {
    const good = { requestId: 'g', prompt: 'hi', maxNewTokens: 5, temperature: 1, topCandidates: 3 };
    refused(parseFromPanel({ type: 'generate/start', body: { ...good, prompt: undefined } }), 'body.prompt: missing');
    refused(parseFromPanel({ type: 'generate/start', body: { ...good, prompt: 7 } }), 'body.prompt: expected a string');
    refused(parseFromPanel({ type: 'generate/start', body: { ...good, maxNewTokens: 0 } }), 'maxNewTokens: expected at least 1, got 0');
    refused(parseFromPanel({ type: 'generate/start', body: { ...good, maxNewTokens: 2.5 } }), 'whole number');
    refused(parseFromPanel({ type: 'generate/start', body: { ...good, temperature: NaN } }), 'finite number');
    refused(parseFromPanel({ type: 'generate/start', body: { ...good, topP: 0 } }), 'topP: must be above 0');
    refused(parseFromPanel({ type: 'generate/start', body: { ...good, topK: -3 } }), 'topK');
    refused(parseFromPanel({ type: 'generate/start', body: { ...good, evil: true } }), 'body.evil: unexpected field');
    refused(parseFromPanel({ type: 'ready', body: { a: 1 } }), 'unexpected field');
  });

  it('refuses text past its size limit', () => {
    refused(parseFromPanel({ type: 'editor/insert', body: { text: 'x'.repeat(200_001) } }), 'longer than 200000');
    assert.ok(parseFromPanel({ type: 'editor/insert', body: { text: 'x'.repeat(200_000) } }).ok);
  });

  it('accepts training events and refuses a NaN loss or a negative step', () => {
    const s = { runId: 'run-1', step: 3, totalSteps: 10, loss: 4.2, lr: 3e-4, tokensSeen: 768, tokensPerSec: 900 };
    assert.ok(parseToPanel(toPanel('train/didReportStep', s)).ok);
    refused(parseToPanel({ type: 'train/didReportStep', body: { ...s, loss: NaN } }), 'loss: expected a finite number');
    refused(parseToPanel({ type: 'train/didReportStep', body: { ...s, step: -1 } }), 'step: expected at least 0, got -1');
    refused(parseToPanel({ type: 'train/didReplay', body: { steps: [s, { ...s, lr: 'x' }], evals: [] } }), 'steps[1].lr');
    refused(parseToPanel({ type: 'train/didChangeState', body: { runId: null, state: 'dancing' } }), 'expected one of');
  });

  it('accepts attention maps whose shape matches the tokens', () => {
    // 2 layers × 2 heads, T = 2, causal: row 0 attends only to itself.
    const head = [1, 0, 0.25, 0.75];
    assert.ok(parseToPanel(attention([[head, head], [head, head]])).ok);
  });

  it('refuses attention maps with a wrong size, ragged heads or weights outside [0, 1]', () => {
    const head = [1, 0, 0.25, 0.75];
    refused(parseToPanel(attention([[head, [1, 0, 0.5]]])), 'weights[0][1]: expected 4 values for 2 tokens');
    refused(parseToPanel(attention([[head, head], [head]])), 'weights[1]: expected 2 heads');
    refused(parseToPanel(attention([[[1, 0, 1.5, 0]]])), 'expected at most 1, got 1.5');
    refused(parseToPanel(attention([[[1, 0, -0.1, 0]]])), 'expected at least 0, got -0.1');
    refused(parseToPanel(attention([], ['a'])), 'no layers');
    refused(parseToPanel(attention([[[]]], [])), 'tokens: empty');
    const T = 420; // 12 maps of 420² = 2.12M weights, above the 2M a message may carry
    const big = Array.from({ length: 12 }, () => [new Array(T * T).fill(0)]);
    refused(parseToPanel(attention(big, new Array(T).fill('t'))), 'use a shorter text');
  });

  it('refuses data windows whose input and target lists differ in length', () => {
    const w = { index: 0, inputIds: [1, 2], targetIds: [2, 3], inputTokens: ['a', 'b'], targetTokens: ['b', 'c'] };
    const body = { requestId: 'd', maxLength: 2, stride: 2, totalTokens: 9, totalWindows: 4, offset: 0, windows: [w] };
    assert.ok(parseToPanel(toPanel('data/didPreview', body)).ok);
    refused(
      parseToPanel({ type: 'data/didPreview', body: { ...body, windows: [{ ...w, targetIds: [2] }] } }),
      'windows[0]: input and target lists differ',
    );
  });

  it('accepts model info with no checkpoint and refuses a fractional layer count', () => {
    const info = {
      name: 'tiny',
      config: { vocabSize: 50257, contextLength: 64, embDim: 64, nHeads: 2, nLayers: 2, dropRate: 0, qkvBias: true, tiedHead: true },
      parameters: 3_322_000,
      memory: { weightsBytes: 1, trainingBytes: 2, inferenceBytes: 3 },
      backend: 'cpu',
      checkpointPath: null,
      tokenizer: 'gpt2',
    };
    assert.ok(parseToPanel(toPanel('model/didChange', { info })).ok);
    assert.ok(parseToPanel(toPanel('model/didChange', { info: null })).ok);
    refused(
      parseToPanel({ type: 'model/didChange', body: { info: { ...info, config: { ...info.config, nLayers: 1.5 } } } }),
      'config.nLayers: expected a whole number',
    );
  });
});
