import * as assert from 'node:assert/strict';
import { collateInstructions, encodeExample, IGNORE_INDEX } from '../../../../src/core/instruct/collate';
import { formatExample, formatPrompt, formatQuery } from '../../../../src/core/instruct/prompt';
import { getTokenizer } from '../../../../src/core/tokenizer';

const EOT = 50256;
const X = IGNORE_INDEX;

function rows(a: Int32Array, B: number, T: number): number[][] {
  return Array.from({ length: B }, (_, b) => Array.from(a.subarray(b * T, (b + 1) * T)));
}

describe('instruction batches (the book’s custom_collate_fn)', () => {
  // The book's own example of section 7.3: token lists [0..4], [5, 6], [7, 8, 9].
  const batch = [
    { ids: [0, 1, 2, 3, 4], promptLength: 3 },
    { ids: [5, 6], promptLength: 1 },
    { ids: [7, 8, 9], promptLength: 2 },
  ];

  it('pads with <|endoftext|>, shifts by one and keeps only the first end token as a target', () => {
    const b = collateInstructions(batch, { padId: EOT });
    assert.equal(b.batchSize, 3);
    assert.equal(b.seqLen, 5);
    assert.deepEqual(rows(b.inputs, 3, 5), [
      [0, 1, 2, 3, 4],
      [5, 6, EOT, EOT, EOT],
      [7, 8, 9, EOT, EOT],
    ]);
    assert.deepEqual(rows(b.targets, 3, 5), [
      [1, 2, 3, 4, EOT],
      [6, EOT, X, X, X],
      [8, 9, EOT, X, X],
    ]);
  });

  it('with maskPrompt also ignores the targets before promptLength − 1 (exercise 7.2)', () => {
    const b = collateInstructions(batch, { padId: EOT, maskPrompt: true });
    assert.deepEqual(rows(b.inputs, 3, 5), [
      [0, 1, 2, 3, 4],
      [5, 6, EOT, EOT, EOT],
      [7, 8, 9, EOT, EOT],
    ]);
    assert.deepEqual(rows(b.targets, 3, 5), [
      [X, X, 3, 4, EOT],
      [6, EOT, X, X, X],
      [X, 9, EOT, X, X],
    ]);
  });

  it('cuts inputs and targets to the allowed length after masking', () => {
    const b = collateInstructions(batch, { padId: EOT, maxLength: 3 });
    assert.equal(b.seqLen, 3);
    assert.deepEqual(rows(b.inputs, 3, 3), [[0, 1, 2], [5, 6, EOT], [7, 8, 9]]);
    assert.deepEqual(rows(b.targets, 3, 3), [[1, 2, 3], [6, EOT, X], [8, 9, EOT]]);
  });

  it('masks an end token that is part of the text after the first one, as the book’s mask does', () => {
    const b = collateInstructions([{ ids: [1, EOT, 2], promptLength: 0 }, { ids: [3, 4, 5, 6], promptLength: 0 }], { padId: EOT });
    assert.deepEqual(rows(b.targets, 2, 4), [[EOT, 2, X, X], [4, 5, 6, EOT]]);
  });

  it('tokenizes a record as the book: the whole text, and the prompt alone for its length', () => {
    const tok = getTokenizer('gpt2');
    const r = { instruction: 'Rewrite the sentence.', input: 'The cat sat.', output: 'The cat was sitting.' };
    const e = encodeExample(tok, 'alpaca', r);
    assert.deepEqual(e.ids, tok.encode(formatExample('alpaca', r)));
    assert.equal(e.promptLength, tok.encode(formatPrompt('alpaca', r)).length);
    // The response header starts with "\n\n", its own token, so the prompt's tokens are a prefix of the whole.
    assert.deepEqual(e.ids.slice(0, e.promptLength), tok.encode(formatPrompt('alpaca', r)));
    // Generation starts from the prompt and header; their tokens are a prefix of the training text's.
    const q = tok.encode(formatQuery('alpaca', r));
    assert.deepEqual(e.ids.slice(0, q.length), q);
    assert.equal(tok.decode(e.ids.slice(q.length)), 'The cat was sitting.');
  });
});
