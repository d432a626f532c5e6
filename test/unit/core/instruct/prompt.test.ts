import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { formatExample, formatPrompt, formatQuery, promptStyleOf } from '../../../../src/core/instruct/prompt';
import { parseInstructionData, splitInstructions } from '../../../../src/core/instruct/records';
import { isLlmLabError } from '../../../../src/core/errors';

const withInput = { instruction: 'Identify the correct spelling of the following word.', input: 'Ocassion', output: "The correct spelling is 'Occasion.'" };
const noInput = { instruction: "What is an antonym of 'complicated'?", input: '', output: "An antonym of 'complicated' is 'simple'." };

describe('prompt styles', () => {
  it('alpaca is the book’s text: preamble, instruction, input only when present, response', () => {
    assert.equal(
      formatExample('alpaca', withInput),
      'Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n' +
        '### Instruction:\nIdentify the correct spelling of the following word.\n\n' +
        '### Input:\nOcassion\n\n' +
        "### Response:\nThe correct spelling is 'Occasion.'",
    );
    assert.equal(
      formatPrompt('alpaca', noInput),
      'Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n' +
        "### Instruction:\nWhat is an antonym of 'complicated'?",
    );
    assert.equal(formatQuery('alpaca', noInput), formatPrompt('alpaca', noInput) + '\n\n### Response:\n');
  });

  it('phi3 is exercise 7.1’s: <|user|>, the input on the next line, <|assistant|>:', () => {
    assert.equal(
      formatExample('phi3', withInput),
      "<|user|>\nIdentify the correct spelling of the following word.\nOcassion\n<|assistant|>:\nThe correct spelling is 'Occasion.'",
    );
    assert.equal(formatExample('phi3', noInput), "<|user|>\nWhat is an antonym of 'complicated'?\n<|assistant|>:\nAn antonym of 'complicated' is 'simple'.");
  });

  it('takes the default for no style and refuses an unknown one', () => {
    assert.equal(promptStyleOf(undefined), 'alpaca');
    assert.equal(promptStyleOf('phi3'), 'phi3');
    assert.throws(() => promptStyleOf('chatml'), (e) => isLlmLabError(e) && /chatml.*alpaca or phi3/.test(e.message));
  });
});

describe('instruction data', () => {
  it('reads the book’s instruction-data.json and splits it 85/10/5 as the book: 935 / 110 test / 55 validation', () => {
    const file = path.join(__dirname, '../../../../../samples/instruction-data.json');
    const records = parseInstructionData(fs.readFileSync(file, 'utf8'), file);
    assert.equal(records.length, 1100);
    const s = splitInstructions(records);
    assert.equal(s.train.length, 935);
    assert.equal(s.test.length, 110);
    assert.equal(s.val.length, 55);
    assert.equal(s.test[0], records[935]);
    assert.equal(s.val[0], records[1045]);
    assert.deepEqual(records[0], {
      instruction: 'Evaluate the following phrase by transforming it into the spelling given.',
      input: 'freind --> friend',
      output: 'The spelling of the given phrase "freind" is incorrect, the correct spelling is "friend".',
    });
  });

  it('reads JSON Lines, with a missing input as empty', () => {
    const text = '{"instruction":"a","input":"b","output":"c"}\n\n{"instruction":"d","output":"e"}\n';
    assert.deepEqual(parseInstructionData(text, 'x.jsonl'), [
      { instruction: 'a', input: 'b', output: 'c' },
      { instruction: 'd', input: '', output: 'e' },
    ]);
  });

  it('names the file and the line or record of bad data', () => {
    const bad = (text: string, re: RegExp): void => assert.throws(() => parseInstructionData(text, 'd.json'), (e) => isLlmLabError(e) && e.code === 'bad-data' && re.test(e.message));
    bad('{"instruction":"a","output":"c"}\n{"instruction":"a"}\n', /d\.json, line 2: "output" is missing/);
    bad('{"instruction":"a","output":"c"}\nnot json\n', /d\.json, line 2: not valid JSON/);
    bad('[{"instruction":"a","output":"c"},{"instruction":"","output":"c"}]', /d\.json, record 2: "instruction" is empty/);
    bad('[{"instruction":"a","output":3}]', /record 1: "output" is not a string/);
    bad('[1, 2', /not valid JSON/);
    bad('', /holds no records/);
  });
});
