// Reading labelled data: TSV/CSV with and without a header (the SMS Spam Collection as it is), quoted CSV fields,
// JSONL with chosen field names, and every data error a user can make, each naming the file and the line.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { arrayElementLines, detectFormat, parseClassificationData, sortLabels, splitDelimited } from '../../../../src/core/classify/records';
import { readClassificationFile } from '../../../../src/core/classify/read';

const REPO = path.resolve(__dirname, '../../../../..');

/** Asserts that parsing fails with a bad-data message containing every part. */
function refuses(file: string, text: string, parts: (string | RegExp)[], o = {}): void {
  assert.throws(
    () => parseClassificationData(file, text, o),
    (e: Error & { code?: string }) => {
      for (const p of parts) {
        if (typeof p === 'string') assert.ok(e.message.includes(p), `"${e.message}" lacks "${p}"`);
        else assert.match(e.message, p);
      }
      return true;
    },
  );
}

describe('classification data (records)', () => {
  it('reads the SMS Spam Collection as it is: headerless label<TAB>text, label in column 1', async () => {
    const d = await readClassificationFile(path.join(REPO, 'samples/SMSSpamCollection.tsv'));
    assert.equal(d.format, 'tsv');
    assert.equal(d.header, false);
    assert.equal(d.rows.length, 5574);
    assert.equal(d.rows.filter((r) => r.label === 'spam').length, 747);
    assert.equal(d.rows.filter((r) => r.label === 'ham').length, 4827);
    assert.deepEqual(d.rows[0], { label: 'ham', text: 'Go until jurong point, crazy.. Available only in bugis n great world la e buffet... Cine there got amore wat...', line: 1 });
    assert.equal(d.rows[2].label, 'spam');
    assert.equal(d.rows[5573].line, 5574);
  });

  it('finds the label column of a headerless file by its fewer distinct values, in either order', () => {
    const d = parseClassificationData('x.tsv', 'hello there\ta\nbye now\tb\nsee you\ta\n');
    assert.deepEqual(d.rows.map((r) => [r.label, r.text]), [['a', 'hello there'], ['b', 'bye now'], ['a', 'see you']]);
    assert.equal(d.labelColumn, '2');
  });

  it('uses a header row naming the columns, in any order and case, and named fields', () => {
    const csv = 'id,Label,TEXT\n1,pos,"good, really"\n2,neg,bad\n';
    const d = parseClassificationData('r.csv', csv);
    assert.equal(d.header, true);
    assert.deepEqual(d.rows, [{ text: 'good, really', label: 'pos', line: 2 }, { text: 'bad', label: 'neg', line: 3 }]);
    const named = parseClassificationData('r.csv', 'review,stars\nnice,5\nmeh,2\n', { textField: 'review', labelField: 'stars' });
    assert.deepEqual(named.rows.map((r) => r.label), ['5', '2']);
  });

  it('reads quoted CSV fields with commas, doubled quotes and line breaks, keeping each row\'s first line', () => {
    const rows = splitDelimited('q.csv', 'label,text\r\na,"say ""hi"", then\nleave"\r\nb,plain\n', 'csv');
    assert.deepEqual(rows, [
      { cells: ['label', 'text'], line: 1 },
      { cells: ['a', 'say "hi", then\nleave'], line: 2 },
      { cells: ['b', 'plain'], line: 4 },
    ]);
  });

  it('takes columns by number in a file without a header', () => {
    const d = parseClassificationData('n.tsv', '7\tx\tfirst text\n8\ty\tsecond text\n', { labelField: '2', textField: '3' });
    assert.deepEqual(d.rows.map((r) => [r.label, r.text]), [['x', 'first text'], ['y', 'second text']]);
  });

  it('reads JSONL with default and chosen field names; numbers and booleans as labels', () => {
    const d = parseClassificationData('d.jsonl', '{"text":"a b","label":1}\n\n{"text":"c","label":0}\n');
    assert.deepEqual(d.rows, [{ text: 'a b', label: '1', line: 1 }, { text: 'c', label: '0', line: 3 }]);
    const named = parseClassificationData('d.jsonl', '{"review":"fine","ok":true}\n{"review":"no","ok":false}\n', { textField: 'review', labelField: 'ok' });
    assert.deepEqual(named.rows.map((r) => r.label), ['true', 'false']);
  });

  it('reads a JSON array of objects, each example with the line it starts on', () => {
    const text = '[\n  {"text": "a, [b] {c}", "label": "x"},\n  {"label": 2,\n   "text": "say \\"hi\\"\\n"}, {"text":"d","label":"x"}\n]\n';
    const d = parseClassificationData('d.json', text);
    assert.equal(d.format, 'json');
    assert.deepEqual(d.rows, [
      { text: 'a, [b] {c}', label: 'x', line: 2 },
      { text: 'say "hi"\n', label: '2', line: 3 },
      { text: 'd', label: 'x', line: 4 },
    ]);
    // Strings holding brackets, commas, escaped quotes and newlines, and nested values, do not start elements.
    assert.deepEqual(arrayElementLines('[{"a":[1,{"b":"],\\"["}]},\n"x", \n\n 3]'), [1, 2, 4]);
    assert.deepEqual(arrayElementLines('[ ]'), []);
  });

  it('detects the format from the extension, else from the first line', () => {
    assert.equal(detectFormat('a.json', ' [\n{"text":"x"}]'), 'json');
    assert.equal(detectFormat('a.json', '{"text":"x","label":1}\n'), 'jsonl');
    assert.equal(detectFormat('data', '[{"text":"x"}]'), 'json');
    assert.equal(detectFormat('a.TSV', 'x,y'), 'tsv');
    assert.equal(detectFormat('a.ndjson', ''), 'jsonl');
    assert.equal(detectFormat('data', '\n{"text":1}'), 'jsonl');
    assert.equal(detectFormat('data', 'ham\thello'), 'tsv');
    assert.equal(detectFormat('data.txt', 'ham,hello'), 'csv');
  });

  it('orders classes numerically when all are whole numbers, else by code point', () => {
    assert.deepEqual(sortLabels(['10', '2', '-1', '2']), ['-1', '2', '10']);
    assert.deepEqual(sortLabels(['spam', 'ham', 'Zed']), ['Zed', 'ham', 'spam']);
  });

  describe('refuses bad data with the file and line', () => {
    it('a header without the named column, listing the columns', () => {
      refuses('r.csv', 'body,label\nx,a\ny,b\n', ['r.csv:1:', "no column 'text'", "'body'", '--text-field']);
      refuses('r.csv', 'text,kind\nx,a\ny,b\n', ['r.csv:1:', "no column 'label'", "'kind'", '--label-field']);
    });
    it('a named column in a file without a header', () => {
      refuses('sms.tsv', 'ham\thi\nspam\twin\n', ['sms.tsv:1:', "no column 'message'", 'column numbers'], { textField: 'message' });
    });
    it('a headerless file of three columns without column numbers', () => {
      refuses('t.tsv', 'a\tb\tc\n', ['t.tsv:1:', '3 columns', '--label-field 1 --text-field 2']);
    });
    it('an empty text, an empty label', () => {
      refuses('e.tsv', 'ham\thi\nspam\t   \nham\tok\n', ['e.tsv:2:', 'text is empty']);
      refuses('e.csv', 'label,text\na,x\n,y\nb,z\n', ['e.csv:3:', 'label is empty']);
      refuses('e.jsonl', '{"text":"a","label":"x"}\n{"text":"","label":"y"}\n', ['e.jsonl:2:', 'text is empty']);
    });
    it('malformed lines: a missing field, a stray field, an unclosed quote, text after a quote', () => {
      refuses('m.tsv', 'ham\thi\nspam win\nham\tok\n', ['m.tsv:2:', '1 field(s)', 'separated by a tab']);
      refuses('m.tsv', 'ham\thi\nspam\twin\textra\n', ['m.tsv:2:', '3 fields but the first has 2', 'stray tabs']);
      refuses('m.csv', 'label,text\na,x\nb,"never closed\nc,z\n', ['m.csv:3:', 'never closed']);
      refuses('m.csv', 'label,text\na,"x"y\n', ['m.csv:2:', 'after a quoted CSV field']);
    });
    it('JSONL lines that are not objects, lack a field, or hold a non-string text', () => {
      refuses('j.jsonl', '{"text":"a","label":"x"}\n{"text": "b", label: y}\n', ['j.jsonl:2:', 'not valid JSON']);
      refuses('j.jsonl', '{"text":"a","label":"x"}\n[1,2]\n', ['j.jsonl:2:', 'not a JSON object']);
      refuses('j.jsonl', '{"text":"a","label":"x"}\n{"body":"b","label":"y"}\n', ['j.jsonl:2:', "no field 'text'", "'body'"]);
      refuses('j.jsonl', '{"text":"a","label":"x"}\n', ['j.jsonl:1:', "no field 'sms'", "'text'"], { textField: 'sms' }); // a field asked for that the object lacks
      refuses('j.jsonl', '{"text":5,"label":"x"}\n', ['j.jsonl:1:', 'not a string']);
      refuses('j.jsonl', '{"text":"a","label":{"k":1}}\n', ['j.jsonl:1:', 'a label must be']);
    });
    it('JSON arrays that do not parse, are not arrays, or hold a bad element (with its line)', () => {
      refuses('a.json', '[{"text":"a","label":"x"},\n', ['a.json', 'not valid JSON', 'JSONL']);
      refuses('a.json', '[{"text":"a","label":"x"},\n "b"]', ['a.json:2:', 'element 2 of the array is not a JSON object']);
      refuses('a.json', '[{"text":"a","label":"x"},\n\n {"body":"b","label":"y"}]', ['a.json:3:', "no field 'text'", "'body'"]);
      refuses('a.json', '[{"text":"a","label":"x"},\n {"text":"","label":"y"}]', ['a.json:2:', 'text is empty']);
      refuses('a.json', '[]', ['a.json', 'no examples']);
    });
    it('one class only, and a header with no rows', () => {
      refuses('one.tsv', 'ham\thi\nham\tthere\n', ['one.tsv', "every example has the label 'ham'", 'at least two classes']);
      refuses('h.csv', 'label,text\n', ['h.csv', 'no examples']);
    });
  });
});
